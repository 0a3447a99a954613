"""Pages work under the strict Content-Security-Policy in headless Chromium:
no violation is reported, Bootstrap's JavaScript runs, htmx loads without
injecting styles."""

import pytest

from tests.browser.helpers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_client_uses_the_portal_with_no_csp_violation(live_server, page, violations, engagement, alice):
    page.goto(f"{live_server.url}/accounts/login/")
    assert "script-src 'self'" in page.request.get(page.url).headers["content-security-policy"]
    sign_in(page, live_server.url, alice.email)
    page.goto(f"{live_server.url}/portal/e/{engagement.code}/")
    # Bootstrap's JavaScript (a static file) runs: the account menu opens.
    page.click("nav .dropdown-toggle")
    assert page.locator("nav .dropdown-menu").is_visible()
    page.click("nav .dropdown-menu >> text=Mis sesiones")  # where am I signed in?
    assert page.locator("table.table tbody tr").count() == 1 and page.locator("table .badge").inner_text() == "Actual"
    assert violations == []


def test_staff_use_the_portal_and_the_admin_with_no_csp_violation(live_server, page, violations, engagement, sam):
    sign_in(page, live_server.url, sam.email, totp=True)
    for path in (f"/portal/e/{engagement.code}/", "/admin/", "/admin/password_change/", "/accounts/2fa/"):
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200, path
    assert violations == []


def test_htmx_loads_under_the_csp_without_injecting_styles(live_server, page, violations):
    page.goto(f"{live_server.url}/accounts/login/")
    styles_before = page.locator("style").count()
    page.add_script_tag(url=f"{live_server.url}/static/django_htmx/htmx-2.min.js")
    page.wait_for_function("() => window.htmx !== undefined")
    assert page.evaluate("() => [htmx.config.includeIndicatorStyles, htmx.config.allowEval]") == [False, False]
    assert page.locator("style").count() == styles_before
    assert violations == []
