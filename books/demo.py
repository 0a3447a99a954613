"""Demo wiring (seed_demo, after billing's demo): the consultancy's books in the simulated Odoo
that `make run` starts on port 8069 (tests/fakes/odoo_books.py: account + l10n_cl). The issued
payment requests are queued for it; the worker pushes them as soon as it starts, and each shows
its Odoo folio (FAC 00000n) and the legal PDF. Idempotent."""

import os
from typing import TextIO

from billing.models import Invoice, InvoiceStatus
from books import services
from books.models import BooksConnection, BooksPush
from portal.models import User

ODOO_URL = os.environ.get("DEMO_ODOO_URL", "http://127.0.0.1:8069")
SETTINGS = {
    "active": True,
    "post_invoices": True,
    "sale_journal_id": 1,
    "payment_journal_id": 6,
    "service_product_id": 30,
    "service_tax_id": 1,
    "add_on_product_id": 31,
    "add_on_tax_id": 1,
    "hour_bank_product_id": 32,
    "hour_bank_tax_id": 1,
}
SENT = [InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID, InvoiceStatus.PAID]


def seed(out: TextIO) -> list[str]:
    staff = User.objects.get(email="staff@demo.test")
    if not BooksConnection.objects.exists():
        services.connection_save(
            actor=staff, url=ODOO_URL, database="lab", login="admin", company_id=1, api_key="admin"
        )
        services.settings_save(actor=staff, **SETTINGS)
    pushed = BooksPush.objects.filter(kind="invoice").values("invoice")
    waiting = Invoice.objects.filter(status__in=SENT, credit_note_for__isnull=True).exclude(pk__in=pushed)
    for invoice in waiting.order_by("number"):
        services.document_send(actor=staff, invoice=invoice)
    out.write(f"Books: {BooksPush.objects.count()} pushes to the simulated Odoo {ODOO_URL}.\n")
    return [f"{'staff':<10} the consultancy's books: /portal/books/ (payment requests as Odoo invoices, FAC 00000n)"]
