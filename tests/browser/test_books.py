"""Staff connect the consultancy's Odoo in headless Chromium, send a payment request to it, and its
client sees the Odoo folio and downloads the legal PDF: all under the strict CSP."""

from pathlib import Path

import pytest

from books.models import BooksConnection
from tests.browser.helpers import sign_in
from tests.fakes.odoo import FakeOdoo, FakeOdooServer
from tests.fakes.odoo_books import install

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def odoo_url(settings):
    settings.BOOKS_ODOO_TIMEOUT = 5
    odoo = FakeOdoo()
    install(odoo)
    with FakeOdooServer(odoo) as server:
        yield server.url


def test_staff_set_up_the_books_and_the_client_downloads_the_legal_invoice(
    live_server, page, violations, odoo_url, first_invoice, sam, alice, browser
):
    base = live_server.url
    sign_in(page, base, sam.email, totp=True)
    page.goto(f"{base}/portal/finance/")
    page.click("text=Abrir la contabilidad")
    page.fill("#id_url", odoo_url)
    page.fill("#id_database", "lab")
    page.fill("#id_login", "admin")
    page.fill("#id_api_key", "admin")
    page.click("button[name=save_connection]")
    assert "Conexión guardada" in page.content() and "admin" not in page.locator("#id_api_key").input_value()
    page.click("text=Probar la conexión")
    page.wait_for_selector("text=Conectado, con los permisos que necesita la contabilidad.")
    page.check("#id_active")
    for field, value in {"payment_journal_id": "6", "service_product_id": "30", "service_tax_id": "1"}.items():
        page.fill(f"#id_{field}", value)
    page.click("button[name=save_settings]")
    assert BooksConnection.objects.get().active
    page.goto(f"{base}/portal/invoices/{first_invoice.public_id}/")
    page.click("text=Enviar a Odoo")  # issued before the books were on
    panel = page.locator("#odoo")
    assert "FAC 000001" in panel.inner_text() and "Validada" in panel.inner_text()
    assert violations == []

    client = browser.new_context().new_page()
    client.on("console", lambda message: "Content Security Policy" in message.text and violations.append(message.text))
    sign_in(client, base, alice.email)
    client.goto(f"{base}/portal/invoices/{first_invoice.public_id}/")
    assert "FAC 000001" in client.locator("#odoo").inner_text()
    with client.expect_download() as download:
        client.click("text=Descargar la factura tributaria (PDF)")
    assert download.value.suggested_filename == "FAC-000001.pdf"
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF")
    assert violations == []
