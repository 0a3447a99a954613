"""The consultancy's books wired to a fake Odoo with account + l10n_cl on loopback.

`books` is the fake (FakeOdoo with the accounting installed) and its URL; `connected` saves the
connection and the settings as staff would (journals 1 and 6, products 30-32, the 19 % tax 1).
`issue(company, ...)` issues a payment request and runs what its commit enqueues (tasks run
inline in the tests unless a test starts a real cluster).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.test import TestCase

from billing import ledger
from billing import services as billing
from billing.models import Invoice, InvoiceLine, Payment
from books import services
from books.demo import SETTINGS
from books.models import BooksConnection, BooksDocument, BooksPush
from tests.fakes.odoo import FakeOdoo, FakeOdooServer
from tests.fakes.odoo_books import Accounting, install


@dataclass
class Books:
    odoo: FakeOdoo
    accounting: Accounting
    url: str

    def records(self, model: str, **where) -> list[dict]:
        rows = self.odoo.data[model].values()
        return [r for r in rows if all(r.get(k) == v for k, v in where.items())]

    def invoices(self, ref: str) -> list[dict]:
        return self.records("account.move", move_type="out_invoice", ref=ref)


def unreachable() -> str:
    """An address where nothing listens any more (a server started and stopped): Odoo is down."""
    with FakeOdooServer(FakeOdoo()) as probe:
        return probe.url


def committed():
    """Run what the block enqueues after commit (the push task, inline in the tests)."""
    return TestCase.captureOnCommitCallbacks(execute=True)


def connect(url: str, actor, *, api_key: str = "admin", **overrides) -> BooksConnection:
    services.connection_save(actor=actor, url=url, database="lab", login="admin", company_id=1, api_key=api_key)
    return services.settings_save(actor=actor, **{**SETTINGS, **overrides})


@pytest.fixture
def books(settings):
    settings.BOOKS_ODOO_TIMEOUT = 5
    odoo = FakeOdoo()
    accounting = install(odoo)
    with FakeOdooServer(odoo) as server:
        yield Books(odoo, accounting, server.url)


@pytest.fixture
def connected(books, sam) -> Books:
    connect(books.url, sam)
    return books


def draft(company, *, net="1000000", tax_rate="0.19", currency="CLP", description="Hito 40% integración") -> Invoice:
    net, rate = Decimal(net), Decimal(tax_rate)
    tax = (net * rate).quantize(Decimal(1) if currency == "CLP" else Decimal("0.01"))
    invoice = Invoice.objects.create(
        series="F",
        company=company,
        currency=currency,
        **Invoice.client_snapshot(company),
        tax_rate=rate,
        subtotal=net,
        tax=tax,
        total=net + tax,
    )
    InvoiceLine.objects.create(
        invoice=invoice, order=0, description=description, quantity=Decimal(1), unit_price=net, amount=net
    )
    return invoice


def accept(quote, user) -> None:
    """The client accepts the quote (its payment request is issued and what the commit enqueues runs)."""
    with committed():
        billing.quote_accept(
            user=user, quote=quote, full_name="Alice", accepted_policy=True, shown_sha256=quote.pdf_sha256, request=None
        )


def issue(company, **kwargs) -> Invoice:
    with committed():
        invoice = billing.invoice_issue(invoice=draft(company, **kwargs))
    invoice.refresh_from_db()
    return invoice


def pay(invoice: Invoice, amount, *, actor=None, method="transfer") -> Payment:
    with committed():
        return ledger.payment_record(
            actor=actor, invoice=invoice, paid_on=invoice.issue_date, amount=Decimal(amount), method=method
        )


def document(invoice: Invoice) -> BooksDocument:
    return BooksDocument.objects.get(invoice=invoice)


def push_of(invoice: Invoice, kind: str = "invoice") -> BooksPush:
    return BooksPush.objects.get(invoice=invoice, kind=kind)


@pytest.fixture
def in_a_while():
    """A moment after every back-off of a first or second attempt (what the retry schedule sees)."""
    from datetime import timedelta

    from django.utils import timezone

    return timezone.now() + timedelta(hours=7)
