"""The Chilean fields go to Odoo only where the Chilean localisation is installed; the SII status
is read only where its field exists (l10n_cl_edi, Enterprise). Without l10n_cl the fake refuses
those fields as Odoo does ("Invalid field"), so a push that succeeds there sent none of them."""

import pytest

from books.models import PushState
from tests.books.conftest import Books, connect, document, issue, push_of
from tests.fakes.odoo import FakeOdoo, FakeOdooServer
from tests.fakes.odoo_books import install

pytestmark = pytest.mark.django_db


@pytest.fixture
def plain(settings):
    """An Odoo with account but without l10n_cl (no RUT type, no SII document types)."""
    settings.BOOKS_ODOO_TIMEOUT = 5
    odoo = FakeOdoo()
    accounting = install(odoo, l10n_cl=False)
    with FakeOdooServer(odoo) as server:
        yield Books(odoo, accounting, server.url)


def test_with_l10n_cl_the_partner_has_the_rut_type_and_the_invoice_its_sii_document_type(connected, andes):
    invoice = issue(andes)
    [partner] = connected.records("res.partner", vat="76543210-3")
    assert partner["l10n_latam_identification_type_id"] == [4, "RUT"]
    assert partner["l10n_cl_sii_taxpayer_type"] == "1"
    [move] = connected.invoices(invoice.display_number)
    assert move["l10n_latam_document_type_id"] == [1, "(33) Electronic Invoice"]
    assert document(invoice).sii_status == ""  # Community: no l10n_cl_dte_status field, never asked for


def test_without_l10n_cl_no_chilean_field_is_sent_and_the_invoice_is_still_pushed(plain, andes, sam):
    connect(plain.url, sam)
    invoice = issue(andes)
    assert push_of(invoice).state == PushState.DONE, push_of(invoice).message
    [partner] = plain.records("res.partner", vat="76543210-3")
    assert not {"l10n_latam_identification_type_id", "l10n_cl_sii_taxpayer_type"} & set(partner)
    [move] = plain.invoices(invoice.display_number)
    assert not [name for name in move if name.startswith("l10n_")]
    assert move["name"] == f"INV/{invoice.issue_date.year}/00001" and move["state"] == "posted"
    doc = document(invoice)
    assert (doc.folio, doc.document_code, doc.document_number) == (move["name"], "", "")


def test_the_sii_status_is_read_and_shown_where_the_field_exists(books, andes, sam, client):
    books.accounting.sii = True
    books.odoo.data["ir.model.fields"][9999] = {
        "id": 9999,
        "model": "account.move",
        "name": "l10n_cl_dte_status",
        "ttype": "selection",
    }
    connect(books.url, sam)
    invoice = issue(andes)
    assert document(invoice).sii_status == "not_sent"
    client.force_login(sam)
    page = client.get(f"/portal/invoices/{invoice.public_id}/").content.decode()
    assert "FAC 000001" in page and "Aún no enviada al SII" in page
