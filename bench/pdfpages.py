"""Count the pages WeasyPrint lays out for a document of ours."""

from django.template.loader import render_to_string
from django.utils import translation
from weasyprint import HTML

from billing import pdf
from billing.models import Invoice
from portal.rut import format_rut


def invoice_pages(invoice: Invoice) -> int:
    with translation.override("es"):
        html = render_to_string(
            "billing/pdf/invoice.html",
            {
                "invoice": invoice,
                "lines": list(invoice.lines.all()),
                "client_rut": format_rut(invoice.client_rut),
                "consultancy": pdf.settings.CONSULTANCY,
                "static": pdf.BASE_URL,
            },
        )
    return len(HTML(string=html, base_url=pdf.BASE_URL, url_fetcher=pdf.StaticOnlyFetcher()).render().pages)
