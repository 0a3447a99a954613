"""A client signs in through headless Chromium and switches language."""

from pathlib import Path

import pytest

from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def test_a_client_signs_in_and_switches_to_english(live_server, page, alice):
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(f"{live_server.url}/portal/")
    assert "/accounts/login/" in page.url
    assert page.locator("html").get_attribute("lang") == "es"
    # Bootstrap is served from our own static files: the navbar is styled.
    assert page.locator("nav.navbar").evaluate("el => getComputedStyle(el).display") == "flex"

    page.fill("#id_login", alice.email)
    page.fill("#id_password", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/portal/")
    assert "Andes SpA" in page.content()
    page.screenshot(path=str(ARTIFACTS / "client-dashboard-es.png"), full_page=True)

    page.click("button[name=language][value=en]")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Sign out" in page.content()


def test_the_mobile_layout_collapses_the_menu(live_server, page, alice):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/accounts/login/")
    assert page.locator(".navbar-toggler").is_visible()
    page.screenshot(path=str(ARTIFACTS / "login-mobile.png"))
