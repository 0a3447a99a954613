"""The client accepts a quote in headless Chromium and downloads the first invoice's PDF."""

from pathlib import Path

import pytest

from billing.models import Invoice
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def test_the_client_accepts_a_quote_and_downloads_the_first_invoice(live_server, page, sent_quote, alice):
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_login", alice.email)
    page.fill("#id_password", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    page.goto(f"{live_server.url}/portal/quotes/{sent_quote.public_id}/")
    page.fill("input[name=full_name]", "Alice Andes")
    page.check("input[name=accepted_policy]")
    page.screenshot(path=str(ARTIFACTS / "quote-before-accept.png"), full_page=True)
    page.click("form[action$='/accept/'] button[type=submit]")
    page.wait_for_url(f"{live_server.url}/portal/e/{sent_quote.engagement.code}/#billing")

    invoice = Invoice.objects.get()  # its PDF task ran after commit (inline in tests)
    assert invoice.display_number in page.content()
    with page.expect_download() as download_info:
        page.click(f"a[href$='/invoices/{invoice.public_id}/pdf/']")
    path = download_info.value.path()
    assert Path(path).read_bytes().startswith(b"%PDF")
    page.screenshot(path=str(ARTIFACTS / "engagement-after-accept.png"), full_page=True)
