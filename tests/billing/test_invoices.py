"""Invoices: gapless numbers under concurrency, immutability, PDFs rendered after commit, the PDF sandbox."""

import threading
from decimal import Decimal

import django_q.conf
import pytest
from django.db import connection, connections, transaction
from django_q.models import OrmQ

from billing import pdf
from billing import services as billing
from billing.models import ImmutableError, Invoice, InvoiceCounter, InvoiceStatus
from portal.errors import DomainError

THREADS, PER_THREAD = 8, 50


def _draft(company) -> Invoice:
    return Invoice.objects.create(
        series="T",
        company=company,
        currency="CLP",
        **Invoice.client_snapshot(company),
        tax_rate=Decimal("0.19"),
        subtotal=Decimal(100),
        tax=Decimal(19),
        total=Decimal(119),
    )


class _Injected(Exception):
    pass


@pytest.mark.django_db(transaction=True)
def test_eight_concurrent_issuers_get_gapless_unique_numbers_even_with_rollbacks(andes, monkeypatch):
    assert connection.vendor == "postgresql"
    # As in production, the PDF tasks go to the broker queue instead of running inline.
    monkeypatch.setattr(django_q.conf.Conf, "SYNC", False)
    drafts = [_draft(andes).pk for _ in range(THREADS * PER_THREAD)]
    failures: list[str] = []
    rolled_back: list[int] = []
    barrier = threading.Barrier(THREADS)

    def issuer(n: int) -> None:
        try:
            barrier.wait()
            for i, pk in enumerate(drafts[n * PER_THREAD : (n + 1) * PER_THREAD]):
                try:
                    with transaction.atomic():
                        billing.invoice_issue(invoice=Invoice(pk=pk))
                        if i % 10 == 3:  # a failure after the number was taken
                            raise _Injected
                except _Injected:
                    rolled_back.append(pk)
                except Exception as exc:  # any other failure is a bug
                    failures.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=issuer, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    issued = sorted(Invoice.objects.filter(series="T", status=InvoiceStatus.ISSUED).values_list("number", flat=True))
    assert failures == []
    assert len(rolled_back) == THREADS * 5
    assert issued == list(range(1, THREADS * PER_THREAD - len(rolled_back) + 1))  # no gap, no duplicate
    assert InvoiceCounter.objects.get(series="T").last_number == len(issued)
    assert Invoice.objects.filter(pk__in=rolled_back, status=InvoiceStatus.DRAFT, number__isnull=True).count() == 40
    # One PDF task per issued invoice was queued, none for the rolled-back ones.
    assert OrmQ.objects.count() == len(issued)


@pytest.mark.django_db
class TestImmutability:
    def test_an_issued_invoice_cannot_be_deleted(self, andes):
        invoice = billing.invoice_issue(invoice=_draft(andes))
        with pytest.raises(ImmutableError):
            invoice.delete()
        assert Invoice.objects.filter(pk=invoice.pk).exists()

    def test_a_draft_can_be_deleted(self, andes):
        _draft(andes).delete()
        assert not Invoice.objects.exists()

    def test_issuing_twice_keeps_the_first_number(self, andes):
        invoice = billing.invoice_issue(invoice=_draft(andes))
        again = billing.invoice_issue(invoice=invoice)
        assert again.number == invoice.number and InvoiceCounter.objects.get().last_number == 1

    def test_the_snapshot_survives_company_edits(self, andes):
        invoice = billing.invoice_issue(invoice=_draft(andes))
        andes.legal_name = "Otro Nombre SpA"
        andes.save()
        invoice.refresh_from_db()
        assert invoice.client_name == "Andes SpA"


@pytest.mark.django_db
class TestInvoicePdf:
    def test_the_pdf_is_rendered_after_commit_and_is_stable(self, andes, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            invoice = billing.invoice_issue(invoice=_draft(andes))
        invoice.refresh_from_db()
        first = invoice.pdf.open("rb").read()
        assert first.startswith(b"%PDF") and invoice.pdf_rendered_at is not None
        assert billing.invoice_pdf_bytes(invoice) == first  # re-rendering gives the same document

    def test_no_pdf_is_rendered_for_a_rolled_back_issue(self, andes, django_capture_on_commit_callbacks):
        draft = _draft(andes)
        with django_capture_on_commit_callbacks() as callbacks, pytest.raises(_Injected), transaction.atomic():
            billing.invoice_issue(invoice=draft)
            raise _Injected
        assert callbacks == []


PROBE = """<!DOCTYPE html><html><head>
<style>@import url("https://evil.example/x.css");</style>
<link rel="stylesheet" href="http://169.254.169.254/latest/meta-data/">
<link rel="attachment" href="file:///etc/passwd">
</head><body><h1>Factura</h1>
<img src="file:///etc/passwd"><img src="http://169.254.169.254/latest/meta-data/iam">
<a rel="attachment" href="file:///etc/hostname">adjunto</a>
</body></html>"""


def test_the_pdf_sandbox_fetches_nothing_and_embeds_nothing(monkeypatch):
    fetched: list[str] = []
    original = pdf.StaticOnlyFetcher.fetch

    def spy(self, url, headers=None):
        fetched.append(url)
        return original(self, url, headers)

    monkeypatch.setattr(pdf.StaticOnlyFetcher, "fetch", spy)
    from weasyprint import HTML

    data = HTML(string=PROBE, base_url=pdf.BASE_URL, url_fetcher=pdf.StaticOnlyFetcher()).write_pdf()
    assert data.startswith(b"%PDF")
    assert b"/EmbeddedFile" not in data and b"root:" not in data
    # Every URL went through our fetcher and none was served.
    assert any("passwd" in url for url in fetched) and any("169.254" in url for url in fetched)


def test_user_text_is_escaped_in_documents():
    from django.template.loader import render_to_string

    html = render_to_string(
        "billing/pdf/quote.html",
        {
            "quote": type(
                "Q",
                (),
                {
                    "engagement": type("E", (), {"code": "E-1", "title": "<b>x</b>"})(),
                    "version": 1,
                    "valid_until": None,
                    "currency": "CLP",
                    "subtotal": 1,
                    "tax": 0,
                    "total": 1,
                    "tax_rate": 0,
                    "milestone_plan": [],
                    "policy_text": "",
                },
            )(),
            "lines": [
                type(
                    "L",
                    (),
                    {"description": "<img src=file:///etc/passwd>", "quantity": 1, "unit_price": 1, "amount": 1},
                )()
            ],
            "company": None,
            "consultancy": {},
            "static": pdf.BASE_URL,
        },
    )
    assert "<img src=file:///etc/passwd>" not in html and "&lt;img" in html


@pytest.mark.django_db
class TestCreditNotes:
    def test_voiding_issues_a_numbered_credit_note(self, andes, sam):
        invoice = billing.invoice_issue(invoice=_draft(andes))
        note = billing.invoice_void(actor=sam, invoice=invoice, reason="Error en el monto")
        invoice.refresh_from_db()
        assert invoice.status == InvoiceStatus.VOID and note.credit_note_for == invoice
        assert (invoice.number, note.number) == (1, 2) and note.total == invoice.total

    def test_a_paid_invoice_cannot_be_voided(self, andes, sam):
        from billing import ledger

        invoice = billing.invoice_issue(invoice=_draft(andes))
        ledger.payment_record(
            actor=sam, invoice=invoice, paid_on=invoice.issue_date, amount=Decimal(10), method="transfer"
        )
        with pytest.raises(DomainError):
            billing.invoice_void(actor=sam, invoice=invoice, reason="x")
        assert Invoice.objects.count() == 1
