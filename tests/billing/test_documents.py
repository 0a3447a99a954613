"""Milestone documents an accountant accepts: exact sums per quote, percentages from the plan,
no document for 0, and names (HTML and PDF) that do not claim to be Chilean tax documents."""

import io
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from pypdf import PdfReader

from billing import services as billing
from billing.models import Invoice, InvoiceStatus, PaymentMilestone, QuoteStatus
from engagements import rules
from engagements import services as lifecycle
from tests.billing.fixtures import accept
from tests.engagements.fixtures import DIAGNOSIS

pytestmark = pytest.mark.django_db

NOT_TAX_WORDS = re.compile(r"\bfacturas?\b|\bnotas? de cr[eé]dito\b|4E\+1|3E\+1", re.IGNORECASE)


@pytest.fixture
def accept_quote(quoted, sam, carla, alice):
    """accept_quote(unit_price, tax_rate=None, currency="CLP") -> the accepted quote of `quoted`."""
    lifecycle.diagnosis_save(actor=carla, engagement=quoted, values=DIAGNOSIS, complete=True)

    def build(unit_price: str, tax_rate: Decimal | None = None, currency: str = "CLP"):
        quote = billing.quote_create(
            actor=sam,
            engagement=quoted,
            currency=currency,
            tax_rate=tax_rate,
            lines=[billing.LineInput("Integración", Decimal(1), Decimal(unit_price))],
        )
        quote = billing.quote_send(actor=sam, quote=quote)
        accept(quote, alice)
        quote.refresh_from_db()
        assert quote.status == QuoteStatus.ACCEPTED
        return quote

    return build


def _run_to_close(engagement, carla) -> None:
    for phase in rules.PHASES[:-1]:
        lifecycle.phase_complete(actor=carla, engagement=engagement, phase=phase, reason="prueba de documentos")
    lifecycle.engagement_close(actor=carla, engagement=engagement, reason="Puesta en marcha")


def _pdf_text(invoice: Invoice) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(billing.invoice_pdf_bytes(invoice))).pages)


@pytest.mark.parametrize(
    ("unit_price", "currency", "tax_rate"),
    [("100003", "CLP", None), ("2740000", "CLP", None), ("999.97", "USD", None), ("1234.57", "USD", Decimal(0))],
)
def test_the_three_documents_add_up_to_the_quote(accept_quote, carla, unit_price, currency, tax_rate):
    quote = accept_quote(unit_price, tax_rate, currency)
    _run_to_close(quote.engagement, carla)
    documents = list(Invoice.objects.filter(engagement=quote.engagement).order_by("number"))
    assert len(documents) == 3
    assert sum(d.subtotal for d in documents) == quote.subtotal
    assert sum(d.tax for d in documents) == quote.tax
    assert sum(d.total for d in documents) == quote.total
    assert all(d.subtotal + d.tax == d.total and d.lines.get().amount == d.subtotal for d in documents)


def test_an_awkward_clp_total_no_longer_loses_a_peso_of_iva(accept_quote, carla):
    quote = accept_quote("100003")  # IVA 19.001: split per document it came to 19.000
    _run_to_close(quote.engagement, carla)
    assert [i.tax for i in Invoice.objects.order_by("number")] == [Decimal(7600), Decimal(5700), Decimal(5701)]


def test_percentages_come_from_the_plan_on_the_page_and_in_the_pdf(client, accept_quote, alice):
    accept_quote("2740000")
    invoice = Invoice.objects.get()
    assert invoice.lines.get().description.startswith("40\u00a0% al confirmar el alcance")
    client.force_login(alice)
    page = client.get(reverse("billing:invoice", args=[invoice.public_id])).content.decode()
    panel = client.get(reverse("engagements:detail", args=[invoice.engagement.code])).content.decode()
    assert "40\u00a0% al confirmar" in page and "E+" not in page
    assert "40\u00a0%" in panel and "30\u00a0%" in panel and "E+" not in panel
    text = _pdf_text(invoice)
    assert re.search(r"40\s%\sal confirmar el alcance", text) and "E+" not in text


def test_a_milestone_of_zero_gets_no_document_and_is_settled(accept_quote, carla):
    quote = accept_quote("2")  # 2 CLP, IVA 0: 40 % and 30 % are 0, the last 30 % is 2
    assert [m.amount for m in quote.milestones.order_by("order")] == [Decimal(0), Decimal(0), Decimal(2)]
    first = PaymentMilestone.objects.get(quote=quote, order=0)
    assert first.reached_at is not None and first.settled_at is not None and not Invoice.objects.exists()
    _run_to_close(quote.engagement, carla)
    assert list(Invoice.objects.values_list("total", flat=True)) == [Decimal(2)]
    assert quote.engagement.events.filter(kind="milestone.nothing_to_collect").count() == 2


def test_documents_say_payment_request_and_non_tax_never_invoice(client, accept_quote, sam):
    accept_quote("2740000")
    request = Invoice.objects.get()
    void = billing.invoice_void(actor=sam, invoice=request, reason="Monto equivocado")
    client.force_login(sam)
    for document, title in ((request, "Solicitud de pago"), (void, "Anulación")):
        page = client.get(reverse("billing:invoice", args=[document.public_id]), HTTP_ACCEPT_LANGUAGE="es")
        html = page.content.decode()
        assert f"{title} {document.display_number}" in html and "Documento no tributario" in html
        assert not NOT_TAX_WORDS.search(html), NOT_TAX_WORDS.search(html)
        text = _pdf_text(document)
        assert title in text and "Documento no tributario" in text.replace("DOCUMENTO NO TRIBUTARIO", "")
        assert not NOT_TAX_WORDS.search(text), NOT_TAX_WORDS.search(text)
    void.refresh_from_db()
    assert void.status == InvoiceStatus.PAID and "Anula la solicitud de pago" in void.lines.get().description


def test_the_finance_page_names_payment_requests(client, accept_quote, alice):
    accept_quote("2740000")
    client.force_login(alice)
    html = client.get(reverse("billing:finance")).content.decode()
    assert "Solicitudes de pago y créditos" in html and "documentos no tributarios" in html
    assert not NOT_TAX_WORDS.search(html), NOT_TAX_WORDS.search(html)
