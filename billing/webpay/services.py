"""Paying a CLP payment request with Webpay Plus: start, return, reconcile, refund.

Exactly once: every path that can settle an attempt (the browser's return, a reload, a second
click, the reconciliation sweep, a second worker) locks the attempt's row first and does
nothing once the attempt is final; the payment's unique `gateway_ref` is the last guard. The
Transbank call is made while the row is locked (at most WEBPAY["timeout"] seconds), so a racer
waits and then reads the outcome instead of asking Transbank again.

Only the token comes from the browser; amounts, buy order and outcome are what Transbank
answers to our own server-side commit or status call, checked against the attempt.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing import ledger
from billing.models import Invoice, InvoiceStatus, Payment, PaymentMethod, WebpayAttempt, WebpayStatus
from billing.webpay.gateway import Transaction, WebpayRefused, WebpayUnavailable, gateway, is_enabled
from engagements import services as lifecycle
from portal import clock
from portal.audit import Code, audit_record
from portal.errors import DomainError
from portal.models import User
from portal.notifications import email_enqueue, staff_addresses

PAY_OFF = _("Online payment is not available for this payment request. Pay by bank transfer.")
PAY_NOTHING_DUE = _("This payment request has nothing left to pay.")
PAY_UNAVAILABLE = _("Webpay did not answer. Nothing was charged: try again in a few minutes.")
PAY_REFUSED = _("Webpay could not start the payment. Nothing was charged: try again later or pay by bank transfer.")
REFUND_NOT_WEBPAY = _("Only a Webpay payment can be refunded through Webpay.")
REFUND_REFUSED = _("Transbank refused the refund: %(message)s")
REFUND_UNKNOWN = _(
    "Transbank did not answer, so the refund may or may not have been made. "
    "Check the transaction in Transbank's portal before trying again."
)

CURRENCY = "CLP"  # Webpay Plus charges Chilean pesos only
OPEN = (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID)
REUSE_WINDOW = timedelta(minutes=4)  # a token lives 5 minutes: a second click reuses a fresh one
SWEEP_AFTER = timedelta(minutes=15)  # the payment form gives up after 5-10 minutes
STATUS_WINDOW = timedelta(days=7)  # Transbank answers status for 7 days after creation
CLOSING = {
    "aborted": WebpayStatus.ABORTED,
    "timeout": WebpayStatus.TIMED_OUT,
    "form_error": WebpayStatus.FORM_ERROR,
}


def can_pay(invoice: Invoice) -> bool:
    """Whether the page offers "Pagar con Webpay" for this payment request."""
    return (
        is_enabled()
        and invoice.currency == CURRENCY
        and invoice.credit_note_for_id is None
        and invoice.status in OPEN
        and invoice.balance > 0
    )


# ---------------------------------------------------------------- start


@transaction.atomic
def attempt_start(*, user: User, invoice: Invoice, return_url: str, request: HttpRequest | None) -> WebpayAttempt:
    """Create a Webpay transaction for the balance due (the invoice row is locked meanwhile, so
    a double click reuses the first attempt while its token is fresh)."""
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if not can_pay(invoice):
        raise DomainError(PAY_NOTHING_DUE if invoice.status not in OPEN or invoice.balance <= 0 else PAY_OFF)
    fresh = invoice.webpay_attempts.filter(
        status=WebpayStatus.PENDING, user=user, amount=invoice.balance, created_at__gte=timezone.now() - REUSE_WINDOW
    ).first()
    if fresh is not None:
        return fresh
    buy_order = f"{invoice.display_number}-{secrets.token_hex(4)}"  # 8 + 1 + 8 chars, at most 26
    session_id = secrets.token_hex(16)
    try:
        created = gateway().create(
            buy_order=buy_order, session_id=session_id, amount=int(invoice.balance), return_url=return_url
        )
    except WebpayUnavailable as exc:
        raise DomainError(PAY_UNAVAILABLE) from exc
    except WebpayRefused as exc:
        raise DomainError(PAY_REFUSED) from exc
    attempt = WebpayAttempt.objects.create(
        invoice=invoice,
        user=user,
        buy_order=buy_order,
        session_id=session_id,
        token=created.token,
        redirect_url=created.url,
        amount=invoice.balance,
    )
    _history(attempt, "invoice.webpay_started", Code.WEBPAY_STARTED, actor=user, request=request)
    return attempt


# ---------------------------------------------------------------- the browser comes back


@dataclass(frozen=True)
class ReturnParams:
    """What Webpay sends to the return URL (query string or form body, see `of`)."""

    token_ws: str = ""
    tbk_token: str = ""
    buy_order: str = ""
    session_id: str = ""

    @classmethod
    def of(cls, data) -> ReturnParams:
        def get(name: str) -> str:
            return str(data.get(name, "")).strip()[:100]

        return cls(get("token_ws"), get("TBK_TOKEN"), get("TBK_ORDEN_COMPRA"), get("TBK_ID_SESION"))

    @property
    def case(self) -> str:
        """Transbank's four return cases: normal end, aborted, error on the form, timeout."""
        if self.token_ws and self.tbk_token:
            return "form_error"
        if self.token_ws:
            return "commit"
        if self.tbk_token:
            return "aborted"
        return "timeout" if self.buy_order and self.session_id else ""


def attempt_for_return(params: ReturnParams) -> WebpayAttempt | None:
    """The attempt the browser names: by its token, or (timeout case, no token) by buy order and
    session id together. Unknown -> None."""
    attempts = WebpayAttempt.objects.all()
    if params.case in ("commit", "form_error"):
        return attempts.filter(token=params.token_ws).first()
    if params.case == "aborted":
        return attempts.filter(token=params.tbk_token).first()
    if params.case == "timeout":
        return attempts.filter(buy_order=params.buy_order, session_id=params.session_id).first()
    return None


def attempt_return(params: ReturnParams) -> WebpayAttempt | None:
    """Settle the attempt the browser came back for: commit on a normal end, otherwise ask
    status (never commit an aborted or timed-out transaction)."""
    attempt = attempt_for_return(params)
    if attempt is None:
        return None
    if params.case == "commit":
        return attempt_commit(attempt_id=attempt.pk)
    return attempt_check(attempt_id=attempt.pk, unpaid=CLOSING[params.case])


@transaction.atomic
def attempt_commit(*, attempt_id: int) -> WebpayAttempt:
    attempt = WebpayAttempt.objects.select_for_update().get(pk=attempt_id)
    if attempt.is_final:
        return attempt
    invoice = Invoice.objects.select_for_update().get(pk=attempt.invoice_id)
    if invoice.status not in OPEN or invoice.balance < attempt.amount:
        # Paid otherwise meanwhile: not confirming the transaction means it is not charged.
        return _close(attempt, WebpayStatus.BALANCE_CHANGED, "balance changed before commit")
    try:
        result = gateway().commit(attempt.token)
    except WebpayRefused as exc:
        # Already committed (a crashed request, another worker), aborted or expired: ask.
        return _check(attempt, invoice, unpaid=WebpayStatus.REJECTED, note=exc.message)
    except WebpayUnavailable as exc:
        return _unconfirmed(attempt, f"commit: {exc}")
    return _apply(attempt, invoice, result, unpaid=WebpayStatus.REJECTED)


@transaction.atomic
def attempt_check(*, attempt_id: int, unpaid: str) -> WebpayAttempt:
    """Settle an attempt from Transbank's status (no commit); `unpaid` is how it ends if the
    transaction was not paid."""
    attempt = WebpayAttempt.objects.select_for_update().get(pk=attempt_id)
    if attempt.is_final:
        return attempt
    invoice = Invoice.objects.select_for_update().get(pk=attempt.invoice_id)
    return _check(attempt, invoice, unpaid=unpaid)


def _check(attempt: WebpayAttempt, invoice: Invoice, *, unpaid: str, note: str = "") -> WebpayAttempt:
    try:
        result = gateway().status(attempt.token)
    except WebpayRefused as exc:
        if timezone.now() - attempt.created_at > STATUS_WINDOW:  # it may have been paid: a person looks
            return _review(attempt, f"status past Transbank's 7 days: {exc.message}")
        return _close(attempt, unpaid, f"status: {exc.message}")
    except WebpayUnavailable as exc:
        return _unconfirmed(attempt, f"{note} status: {exc}".strip())
    return _apply(attempt, invoice, result, unpaid=unpaid)


def _apply(attempt: WebpayAttempt, invoice: Invoice, result: Transaction, *, unpaid: str) -> WebpayAttempt:
    """Record what Transbank says happened. Approved means AUTHORIZED with response code 0, and
    it must be our buy order and our amount; anything else is never a payment."""
    attempt.checked_at = timezone.now()
    attempt.response_code = result.response_code
    attempt.authorization_code, attempt.card_last4 = result.authorization_code[:6], result.card_last4
    attempt.payment_type, attempt.installments = result.payment_type[:2], result.installments
    if result.approved:
        if result.buy_order != attempt.buy_order or result.amount != attempt.amount:
            return _review(attempt, f"authorized {result.amount} for {result.buy_order}: not this attempt")
        if invoice.status not in OPEN or invoice.balance < attempt.amount:
            return _review(attempt, "authorized, but the payment request no longer owes this amount")
        return _paid(attempt, invoice)
    if result.status == "INITIALIZED":  # never paid: the client left the form or it expired
        return _close(attempt, unpaid, "not paid")
    return _close(attempt, WebpayStatus.REJECTED if result.status == "FAILED" else WebpayStatus.CLOSED, result.status)


def _paid(attempt: WebpayAttempt, invoice: Invoice) -> WebpayAttempt:
    installments = f" · {attempt.installments} cuotas" if attempt.installments else ""
    payment = ledger.payment_record(
        actor=None,
        invoice=invoice,
        paid_on=clock.today(),
        amount=attempt.amount,
        method=PaymentMethod.WEBPAY,
        reference=f"{attempt.buy_order} aut. {attempt.authorization_code} · ****{attempt.card_last4}{installments}",
        gateway_ref=f"webpay:{attempt.buy_order}",
    )
    attempt.payment = payment
    return _finish(attempt, WebpayStatus.PAID, "", Code.WEBPAY_PAID)


def _close(attempt: WebpayAttempt, status: str, detail: str) -> WebpayAttempt:
    return _finish(attempt, status, detail, Code.WEBPAY_CLOSED)


def _review(attempt: WebpayAttempt, detail: str) -> WebpayAttempt:
    attempt = _finish(attempt, WebpayStatus.REVIEW, detail, Code.WEBPAY_REVIEW)
    email_enqueue(to=staff_addresses(), template="webpay_review", context={"attempt": attempt})
    return attempt


def _finish(attempt: WebpayAttempt, status: str, detail: str, code: str) -> WebpayAttempt:
    attempt.status, attempt.detail = status, detail[:300]
    attempt.finished_at = attempt.checked_at = timezone.now()
    attempt.save()
    kind = "invoice.webpay_paid" if status == WebpayStatus.PAID else "invoice.webpay_closed"
    _history(attempt, kind, code, actor=None, request=None)
    return attempt


def _unconfirmed(attempt: WebpayAttempt, detail: str) -> WebpayAttempt:
    """Transbank did not answer: the attempt stays pending for the next return or the sweep."""
    attempt.detail, attempt.checked_at = detail[:300], timezone.now()
    attempt.save(update_fields=["detail", "checked_at"])
    audit_record(code=Code.WEBPAY_UNCONFIRMED, target=attempt.buy_order, data=_audit_data(attempt))
    return attempt


def _audit_data(attempt: WebpayAttempt) -> dict:
    return {
        "invoice": attempt.invoice.display_number,
        "amount": str(attempt.amount),
        "status": attempt.status,
        "detail": attempt.detail,
    }


def _history(attempt: WebpayAttempt, kind: str, code: str, *, actor: User | None, request) -> None:
    """The attempt in the document's history (the engagement's timeline) and the audit trail."""
    invoice = attempt.invoice
    if invoice.engagement_id:
        lifecycle.event_record(
            invoice.engagement,
            kind,
            actor=actor,
            data={"number": invoice.display_number, "amount": str(attempt.amount), "status": attempt.status},
        )
    audit_record(code=code, request=request, actor=actor, target=attempt.buy_order, data=_audit_data(attempt))


# ---------------------------------------------------------------- reconciliation


def reconcile_sweep(*, now: datetime) -> int:
    """Settle or close the attempts whose browser never came back (safe to run twice: each
    attempt is locked and skipped once final). Returns how many reached a final status."""
    settled = 0
    due = WebpayAttempt.objects.filter(status=WebpayStatus.PENDING, created_at__lte=now - SWEEP_AFTER)
    for pk in due.values_list("pk", flat=True):
        if attempt_check(attempt_id=pk, unpaid=WebpayStatus.CLOSED).is_final:
            settled += 1
    return settled


# ---------------------------------------------------------------- refunds


@transaction.atomic
def payment_refund(*, actor: User, payment: Payment, amount: Decimal) -> Payment:
    """Staff give back (all or part of) a Webpay payment: Transbank's refund call, then the
    ledger. The payment's row stays locked meanwhile, so two refunds cannot both pass the check."""
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    attempt = WebpayAttempt.objects.filter(payment=payment).first()
    if attempt is None or payment.refund_of_id:
        raise DomainError(REFUND_NOT_WEBPAY)
    ledger.refund_check(payment, amount)
    try:
        result = gateway().refund(attempt.token, int(amount))
    except WebpayRefused as exc:
        raise DomainError(REFUND_REFUSED % {"message": exc.message or exc.status}) from exc
    except WebpayUnavailable as exc:
        raise DomainError(REFUND_UNKNOWN) from exc
    reference = f"Anulación {result.type} {attempt.buy_order} {result.authorization_code}".strip()
    refund = ledger.payment_refund_record(actor=actor, payment=payment, amount=amount, reference=reference)
    audit_record(
        code=Code.WEBPAY_REFUNDED,
        actor=actor,
        target=attempt.buy_order,
        data={**_audit_data(attempt), "refunded": str(amount), "type": result.type},
    )
    return refund
