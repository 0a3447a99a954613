"""The finance CSV exports (staff): invoices and payments, in the request's language.

The format (formula cells neutralised, BOM, Spanish separators) is portal.exports'."""

from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _

from billing.models import Invoice, Payment
from portal.exports import Column, csv_response
from portal.rut import format_rut

INVOICE_COLUMNS = [
    Column(_("Number"), lambda i: i.display_number),
    Column(_("Issue date"), lambda i: i.issue_date),
    Column(_("Due date"), lambda i: i.due_date),
    Column(_("Client"), lambda i: i.client_name),
    Column(_("Engagement"), lambda i: i.engagement.title if i.engagement_id else ""),
    Column(_("RUT"), lambda i: format_rut(i.client_rut) if i.client_rut else ""),
    Column(_("Currency"), lambda i: i.currency),
    Column(_("Net"), lambda i: i.subtotal),
    Column(_("VAT"), lambda i: i.tax),
    Column(_("Total"), lambda i: i.total),
    Column(_("Amount paid"), lambda i: i.paid_amount),
    Column(_("Status"), lambda i: i.get_status_display()),
]

PAYMENT_COLUMNS = [
    Column(_("Payment date"), lambda p: p.paid_on),
    Column(_("Document"), lambda p: p.invoice.display_number),
    Column(_("Client"), lambda p: p.invoice.client_name),
    Column(_("Engagement"), lambda p: p.invoice.engagement.title if p.invoice.engagement_id else ""),
    Column(_("Currency"), lambda p: p.invoice.currency),
    Column(_("Amount"), lambda p: p.amount),
    Column(_("Method"), lambda p: p.get_method_display()),
    Column(_("Reference"), lambda p: p.reference),
]


def invoices_csv(invoices: QuerySet[Invoice], filename: str) -> HttpResponse:
    return csv_response(filename, INVOICE_COLUMNS, invoices)


def payments_csv(payments: QuerySet[Payment], filename: str) -> HttpResponse:
    return csv_response(filename, PAYMENT_COLUMNS, payments)
