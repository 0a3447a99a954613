"""Payments both ways between the portal's ledger and the consultancy's Odoo, each once.

Portal → Odoo: a payment recorded in the portal (by hand, Webpay, a credit) is registered on
the Odoo invoice with Odoo's payment wizard on the configured journal; the wizard's memo is our
marker, which becomes the payment's `ref` and is looked up before the wizard runs again. A
refund is an outbound customer payment (the money left the bank), keyed the same way.

Odoo → portal: the read-back compares what Odoo shows paid on the invoice (total less residual)
with what the portal knows Odoo has (portal payments already registered there, and payments
first seen in Odoo). More in Odoo is a payment made there (a bank statement reconciled): it is
recorded in the portal's ledger through billing.ledger, keyed by the move and Odoo's paid total
(unique), under the invoice's row lock. While a portal payment of the invoice is not yet in
Odoo, the invoice is not compared (its amount would be counted twice).
"""

from __future__ import annotations

from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q, Sum

from billing import ledger
from billing.models import Invoice, InvoiceStatus, Payment, PaymentMethod
from billing.money import quantize
from billing.services import decimals_of
from books import partners, rules
from books.context import MOVE, Pass
from books.documents import mirror, read_move
from books.models import BooksDocument, BooksPush, PushKind, PushState
from books.runs import NeedsAttention, PushWaits, Report
from portal import clock

PAYMENT = "account.payment"
OPEN = (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID)


def _pushed_document(invoice: Invoice) -> BooksDocument:
    doc = BooksDocument.objects.filter(invoice=invoice, odoo_id__isnull=False).first()
    if doc is None:
        raise PushWaits("invoice_not_in_odoo")
    return doc


def _journal(ctx: Pass) -> int:
    if not ctx.connection.payment_journal_id:
        raise NeedsAttention("no_payment_journal")
    return ctx.connection.payment_journal_id


def _find(ctx: Pass, marker: str) -> dict | None:
    rows = ctx.gateway.search_read(PAYMENT, [["ref", "=", marker]], ["state"])
    return rows[0] if rows else None


def push_payment(ctx: Pass, push: BooksPush, report: Report) -> int:
    payment = push.payment
    doc = _pushed_document(payment.invoice)
    marker = rules.payment_marker(payment.public_id.hex, payment.invoice.display_number)
    found = _find(ctx, marker)
    if found:
        report.add("adopted", kind="payment", push=push, odoo_id=found["id"], reason="adopted")
        return found["id"]
    row = read_move(ctx, doc.odoo_id)
    if row["state"] != "posted":
        raise PushWaits("invoice_draft_in_odoo", row["name"])
    residual = Decimal(str(row["amount_residual"]))
    if residual < payment.amount:  # Odoo got (some of) this money otherwise: registering it would count it twice
        raise NeedsAttention("odoo_residual_lower", f"{residual} < {payment.amount} {payment.invoice.currency}")
    context = {"active_model": MOVE, "active_ids": [doc.odoo_id]}
    values = {
        "amount": float(payment.amount),
        "payment_date": payment.paid_on.isoformat(),
        "journal_id": _journal(ctx),
        "communication": marker,
    }
    wizard = ctx.gateway.create("account.payment.register", [values], context=context)
    action = ctx.gateway.call("account.payment.register", "action_create_payments", wizard, context=context)
    report.add("created", kind="payment", push=push, odoo_id=action["res_id"], message=payment.get_method_display())
    mirror(ctx, doc, read_move(ctx, doc.odoo_id))
    return action["res_id"]  # a window action on the new payment, not an id


def push_refund(ctx: Pass, push: BooksPush, report: Report) -> int:
    """Money given back (a Webpay refund): an outbound customer payment on the payment journal.
    It is left for the accountant to reconcile in Odoo (whether the invoice is owed again is theirs to say)."""
    refund = push.payment
    _pushed_document(refund.invoice)
    marker = rules.payment_marker(refund.public_id.hex, refund.invoice.display_number, refund=True)
    found = _find(ctx, marker)
    if found is None:
        values = {
            "payment_type": "outbound",
            "partner_type": "customer",
            "partner_id": partners.ensure_partner(ctx, refund.invoice.company, report),
            "amount": float(-refund.amount),
            "date": refund.paid_on.isoformat(),
            "journal_id": _journal(ctx),
            "ref": marker,
        }
        if currency := ctx.currency_id(refund.invoice.currency):
            values["currency_id"] = currency
        found = {"id": ctx.gateway.create(PAYMENT, [values])[0], "state": "draft"}
        report.add("created", kind="refund", push=push, odoo_id=found["id"], reason="refund_not_reconciled")
    if found["state"] == "draft":
        ctx.gateway.call(PAYMENT, "action_post", [found["id"]])
    return found["id"]


# ---------------------------------------------------------------- Odoo → portal


def read_back(doc: BooksDocument, row: dict, report: Report) -> None:
    """Record in the portal what Odoo shows paid beyond what the portal knows Odoo has."""
    invoice = doc.invoice
    if invoice.credit_note_for_id or row["state"] != "posted" or row["move_type"] != "out_invoice":
        return
    if row["payment_state"] == "reversed":
        if invoice.status != InvoiceStatus.VOID:
            _attention(doc, report, "reversed_in_odoo", row["name"])
        return
    decimals = decimals_of(invoice.currency)
    paid = quantize(Decimal(str(row["amount_total"])) - Decimal(str(row["amount_residual"])), decimals)
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if BooksPush.objects.filter(invoice=invoice, kind=PushKind.PAYMENT).exclude(state=PushState.DONE).exists():
            report.add("waiting", kind="payment", invoice=invoice, odoo_id=doc.odoo_id, reason="payments_not_in_odoo")
            return
        delta = paid - _known_to_odoo(invoice)
        if delta == 0:
            _clear(doc)
        elif delta < 0:
            _attention(doc, report, "odoo_paid_less", f"{paid} {invoice.currency}")
        elif invoice.status not in OPEN or delta > invoice.balance:
            _attention(doc, report, "odoo_paid_more", f"{delta} > {invoice.balance} {invoice.currency}")
        else:
            _record(doc, invoice, row, delta, paid, report)


def _known_to_odoo(invoice: Invoice) -> Decimal:
    """Portal payments registered in Odoo by a push, and payments first seen in Odoo."""
    pushed = Q(books_push__kind=PushKind.PAYMENT, books_push__state=PushState.DONE)
    seen = Q(gateway_ref__startswith=rules.ODOO_PAYMENT_REF)
    return Payment.objects.filter(invoice=invoice).filter(pushed | seen).aggregate(s=Sum("amount"))["s"] or Decimal(0)


def _record(doc: BooksDocument, invoice: Invoice, row: dict, amount: Decimal, paid: Decimal, report: Report) -> None:
    try:
        with transaction.atomic():
            payment = ledger.payment_record(
                actor=None,
                invoice=invoice,
                paid_on=clock.today(),
                amount=amount,
                method=PaymentMethod.TRANSFER,
                reference=f"Odoo {row['name']}",
                gateway_ref=rules.odoo_payment_ref(doc.odoo_id, str(paid)),
            )
    except IntegrityError:  # this very observation was recorded already
        return
    _clear(doc)
    report.add("recorded", kind="payment", invoice=invoice, odoo_id=doc.odoo_id, message=str(payment.amount))


def _attention(doc: BooksDocument, report: Report, code: str, message: str) -> None:
    if doc.attention != code:
        report.add("attention", kind="document", invoice=doc.invoice, odoo_id=doc.odoo_id, reason=code, message=message)
    BooksDocument.objects.filter(pk=doc.pk).update(attention=code, attention_message=message[:300])


def _clear(doc: BooksDocument) -> None:
    if doc.attention in ("reversed_in_odoo", "odoo_paid_less", "odoo_paid_more"):
        BooksDocument.objects.filter(pk=doc.pk).update(attention="", attention_message="")
