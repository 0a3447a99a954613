"""Pure rules of the books: markers Odoo stores, back-off, the read-back cursor.

Nothing here imports Django or the project (like engagements/rules.py and billing/money.py).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

RETRY_LIMIT = 10  # attempts in a row (about a day of back-off); then a person looks
RETRY_BASE, RETRY_CAP = timedelta(minutes=2), timedelta(hours=6)
CURSOR_OVERLAP = timedelta(minutes=10)  # re-read the last minutes: a slow Odoo transaction commits late
ODOO_TIME = "%Y-%m-%d %H:%M:%S"  # how Odoo reads and compares datetimes (UTC)
ODOO_PAYMENT_REF = "odoo:"  # Payment.gateway_ref of a payment first seen in Odoo
INVOICE_CODE, EXEMPT_CODE, CREDIT_NOTE_CODE = "33", "34", "61"  # SII document types


def retry_delay(attempt: int, rng=random.random) -> timedelta:
    """Exponential back-off from 2 minutes, capped at 6 hours, ±20 % jitter (pushes that failed
    together, because Odoo was down, do not all come back in the same second)."""
    return min(RETRY_CAP, RETRY_BASE * 2 ** (attempt - 1)) * (0.8 + 0.4 * rng())


def odoo_vat(compact_rut: str) -> str:
    """The RUT as Odoo stores it in `vat` (base_vat removes the dots): "771234569" -> "77123456-9"."""
    rut = compact_rut.replace(".", "").replace("-", "").upper()
    return f"{rut[:-1]}-{rut[-1]}"


def partner_marker(company_public_hex: str) -> str:
    """Our key on the partner (its `ref`), for a company whose RUT was changed there."""
    return f"PORTAL-C-{company_public_hex[:12].upper()}"


def payment_marker(public_hex: str, document_number: str, *, refund: bool = False) -> str:
    """Our key on a payment (the wizard's memo becomes the payment's `ref`): looked up before any create."""
    return f"PORTAL-{'R' if refund else 'P'}-{public_hex[:12].upper()} {document_number}"


def document_code(tax_rate) -> str:
    """SII type of a payment request: 33 (factura electrónica), 34 when exempt (no IVA)."""
    return EXEMPT_CODE if not tax_rate else INVOICE_CODE


def odoo_payment_ref(move_id: int, paid_total: str) -> str:
    """A payment seen in Odoo: the move and what Odoo showed paid in all, so one observation is
    recorded once whatever pass sees it."""
    return f"{ODOO_PAYMENT_REF}{move_id}:{paid_total}"


def cursor_since(cursor: str, overlap: timedelta = CURSOR_OVERLAP) -> str:
    """The write_date to read from: the cursor less an overlap (idempotent re-reads are cheap)."""
    return (datetime.strptime(cursor[:19], ODOO_TIME) - overlap).strftime(ODOO_TIME)


def latest(cursor: str, write_dates: list[str]) -> str:
    """The new cursor: the latest write_date seen, never going back."""
    return max([cursor, *write_dates]) if write_dates else cursor
