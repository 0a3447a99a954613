"""Every write of the books: the connection, the pushes (from billing's hooks), the passes.

Billing's lifecycle reaches the books through billing.hooks (registered in BooksConfig.ready):
a payment request issued, voided, a payment recorded or refunded. Each subscriber records one
BooksPush in the same transaction and enqueues its task after commit, so issuing a document
never waits on Odoo and never fails because Odoo is down: the push waits and retries.

A push is taken by one worker at a time (a lease on its row), attempted, and ends done,
pending with its next attempt after a back-off, or "needs attention" with a reason.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Case, IntegerField, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_q.tasks import async_task

from billing.models import Invoice, InvoiceStatus, Payment
from books import documents, payments, rules
from books.context import Pass
from books.models import (
    PUSH_ORDER,
    BooksConnection,
    BooksDocument,
    BooksPush,
    BooksRun,
    Health,
    PushKind,
    PushState,
)
from books.odoo import READ_BATCH, GatewayError, PermanentError, batches, capabilities, open_gateway
from books.runs import NeedsAttention, PushStop, PushWaits, Report, RunInProgress, run_finish, run_start
from portal.audit import Code, audit_record
from portal.errors import DomainError
from portal.models import User

logger = logging.getLogger(__name__)
PAUSING = ("odoo_auth", "odoo_database")  # refused credentials: retrying only locks the user out
STOPPING = ("odoo_unreachable", "odoo_timeout", "odoo_http")  # Odoo is down: the rest of the pass waits too
PULL_PDF_BATCH = 20  # PDFs fetched per read-back for posted documents that have none yet
PUSH_TASK = "books.tasks.push"
NOT_ISSUED = _("Only an issued payment request or credit note can be sent to Odoo.")
NOT_CONFIGURED = _("Set up the connection to the consultancy's Odoo first.")
ALREADY_SENT = _("This document is already in the books' queue.")


def connection() -> BooksConnection | None:
    return BooksConnection.objects.first()


# ---------------------------------------------------------------- the connection


@transaction.atomic
def connection_save(
    *, actor: User, url: str, database: str, login: str, company_id: int, api_key: str = ""
) -> BooksConnection:
    """Save the consultancy's Odoo. A secret is bound to where it was saved for: changing the
    address or the database clears the stored key (it is never sent to the new destination)."""
    current = BooksConnection.objects.select_for_update().filter(pk=1).first() or BooksConnection()
    url, database = url.strip().rstrip("/"), database.strip()
    moved = bool(current.pk and current.url) and (current.url, current.database) != (url, database)
    if moved or api_key:
        current.api_key = api_key
        current.pdf_via_portal = False
    if moved:
        current.pull_cursor, current.odoo_major, current.last_check = "", None, {}
    current.url, current.database, current.login, current.company_id = url, database, login.strip(), company_id
    current.health = Health.UNKNOWN
    current.save()
    if api_key:  # pushes that waited on a refused key try the new one
        resume_paused()
    audit_record(
        code=Code.BOOKS_CONNECTION_SAVED,
        actor=actor,
        target=current.url,
        data={"database": database, "key_changed": bool(api_key), "key_cleared": moved and not api_key},
    )
    return current


SETTINGS = (
    "active",
    "post_invoices",
    "sale_journal_id",
    "payment_journal_id",
    "service_product_id",
    "service_tax_id",
    "add_on_product_id",
    "add_on_tax_id",
    "hour_bank_product_id",
    "hour_bank_tax_id",
)


@transaction.atomic
def settings_save(*, actor: User, **values) -> BooksConnection:
    current = BooksConnection.objects.select_for_update().filter(pk=1).first()
    if current is None:
        raise DomainError(NOT_CONFIGURED)
    for name in SETTINGS:
        setattr(current, name, values[name])
    current.save(update_fields=list(SETTINGS))
    audit_record(code=Code.BOOKS_SETTINGS_SAVED, actor=actor, data={name: values[name] for name in SETTINGS})
    return current


def check_request() -> None:
    """Staff asked for a check: it runs in the worker (several calls to Odoo), the page follows it."""
    BooksConnection.objects.filter(pk=1).update(check_requested_at=timezone.now())
    transaction.on_commit(lambda: async_task("books.tasks.connection_check"))


def resume_paused() -> None:
    """A check passed: pushes that waited on refused credentials go now, not at their back-off."""
    BooksPush.objects.filter(state=PushState.PENDING, reason_code__in=PAUSING).update(next_attempt_at=None)
    transaction.on_commit(lambda: async_task("books.tasks.retry_due"))


def _mark_unhealthy(error: GatewayError) -> None:
    if error.code in PAUSING:
        BooksConnection.objects.filter(pk=1).update(health=Health.FAILING)


# ---------------------------------------------------------------- billing's hooks


def _books_on() -> bool:
    """Whether a new document goes to the books: the connection is set and switched on."""
    current = connection()
    return current is not None and current.active and bool(current.api_key)


def _enqueue(push: BooksPush) -> BooksPush:
    transaction.on_commit(lambda: async_task(PUSH_TASK, push.pk))
    return push


def on_invoice_issued(*, invoice: Invoice) -> None:
    """Hook INVOICE_ISSUED: a payment request becomes a customer invoice (a credit note is pushed
    by the void, INVOICE_VOIDED)."""
    if invoice.credit_note_for_id is None and _books_on():
        BooksDocument.objects.get_or_create(invoice=invoice)
        _enqueue(BooksPush.objects.create(kind=PushKind.INVOICE, invoice=invoice))


def on_invoice_voided(*, invoice: Invoice, credit_note: Invoice) -> None:
    """Hook INVOICE_VOIDED: the credit note reverses the invoice there, if the books have the invoice."""
    if BooksDocument.objects.filter(invoice=invoice).exists():
        BooksDocument.objects.get_or_create(invoice=credit_note)
        _enqueue(BooksPush.objects.create(kind=PushKind.VOID, invoice=credit_note))


def on_payment_recorded(*, payment: Payment) -> None:
    """Hook PAYMENT_RECORDED: registered on the Odoo invoice, unless it came from Odoo."""
    if (payment.gateway_ref or "").startswith(rules.ODOO_PAYMENT_REF):
        return
    if BooksDocument.objects.filter(invoice_id=payment.invoice_id).exists():
        _enqueue(BooksPush.objects.create(kind=PushKind.PAYMENT, invoice_id=payment.invoice_id, payment=payment))


def on_payment_refunded(*, refund: Payment) -> None:
    if BooksDocument.objects.filter(invoice_id=refund.invoice_id).exists():
        _enqueue(BooksPush.objects.create(kind=PushKind.REFUND, invoice_id=refund.invoice_id, payment=refund))


@transaction.atomic
def document_send(*, actor: User, invoice: Invoice) -> BooksPush:
    """Staff send a payment request issued before the books were switched on (its payments follow)."""
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.status == InvoiceStatus.DRAFT or invoice.credit_note_for_id:
        raise DomainError(NOT_ISSUED)
    if connection() is None:
        raise DomainError(NOT_CONFIGURED)
    if BooksPush.objects.filter(invoice=invoice, kind=PushKind.INVOICE).exists():
        raise DomainError(ALREADY_SENT)
    BooksDocument.objects.get_or_create(invoice=invoice)
    push = _enqueue(BooksPush.objects.create(kind=PushKind.INVOICE, invoice=invoice))
    for payment in invoice.payments.filter(amount__gt=0, books_push__isnull=True).exclude(
        gateway_ref__startswith=rules.ODOO_PAYMENT_REF
    ):
        _enqueue(BooksPush.objects.create(kind=PushKind.PAYMENT, invoice=invoice, payment=payment))
    audit_record(code=Code.BOOKS_DOCUMENT_SENT, actor=actor, target=invoice.display_number)
    return push


# ---------------------------------------------------------------- pushes


HANDLERS: dict[str, Callable[[Pass, BooksPush, Report], int | None]] = {
    PushKind.INVOICE: documents.push_invoice,
    PushKind.VOID: documents.push_void,
    PushKind.PAYMENT: payments.push_payment,
    PushKind.REFUND: payments.push_refund,
}


def _claim(push_ids: list[int], now) -> list[BooksPush]:
    """Take the pending pushes no other worker holds (a lease, not a long transaction: a push makes
    several calls to Odoo), in the order a payment needs: invoices, voids, payments, refunds."""
    claimed, lease = [], timedelta(seconds=settings.BOOKS_LEASE_SECONDS)
    for pk in push_ids:
        free = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
        if BooksPush.objects.filter(free, pk=pk, state=PushState.PENDING).update(lease_until=now + lease):
            claimed.append(pk)
    order = Case(*[When(kind=kind, then=Value(i)) for i, kind in enumerate(PUSH_ORDER)], output_field=IntegerField())
    pushes = BooksPush.objects.filter(pk__in=claimed).select_related("invoice__company", "payment")
    return list(pushes.order_by(order, "created_at", "id"))


def pushes_run(*, push_ids: list[int], trigger: str = BooksRun.Trigger.EVENT) -> BooksRun | None:
    """One pass over these pushes (those still pending and free). None when the books are off,
    paused by refused credentials, or nothing was left to take."""
    current = connection()
    if current is None or not current.active or current.health == Health.FAILING:
        return None
    pushes = _claim(push_ids, timezone.now())
    if not pushes:
        return None
    run, report, calls, failure = run_start(kind=BooksRun.Kind.PUSH, trigger=trigger), Report(), 0, ""
    try:
        with open_gateway(current) as gateway:
            ctx = Pass(gateway, capabilities(gateway), current)
            failure = _attempt_all(ctx, pushes, report)
            calls = gateway.calls
    except GatewayError as error:  # reaching or logging into Odoo failed: every push of the pass waits
        failure = f"{error.code}: {error}"
        _mark_unhealthy(error)
        for push in pushes:
            if push.lease_until is not None:
                _wait(push, error.code, str(error), report)
    return run_finish(run=run, report=report, calls=calls, summary=failure, failed=bool(failure))


def _attempt_all(ctx: Pass, pushes: list[BooksPush], report: Report) -> str:
    for index, push in enumerate(pushes):
        stop = _attempt(ctx, push, report)
        if stop is not None:  # Odoo went down or refused us: the others wait without trying
            for rest in pushes[index + 1 :]:
                _wait(rest, stop.code, str(stop), report)
            return f"{stop.code}: {stop}"
    return ""


def _attempt(ctx: Pass, push: BooksPush, report: Report) -> GatewayError | None:
    try:
        push.odoo_id = HANDLERS[push.kind](ctx, push, report)
    except PushWaits as wait:
        _wait(push, wait.code, wait.message, report)
    except NeedsAttention as stop:
        _attention(push, stop, report)
    except PermanentError as error:
        if error.code in PAUSING:
            _mark_unhealthy(error)
            _wait(push, error.code, str(error), report)
            return error
        _attention(push, PushStop(error.code, str(error)), report)
    except GatewayError as error:  # retryable, or a write that may have been applied: looked up next time
        _wait(push, error.code, str(error), report)
        return error if error.code in STOPPING else None
    except Exception as error:  # never leave a push leased: it would block until the lease ends
        logger.exception("books push %s failed", push.public_id)
        _attention(push, PushStop("unexpected_error", type(error).__name__), report)
    else:
        _done(push)
    return None


def _done(push: BooksPush) -> None:
    push.state, push.done_at, push.lease_until, push.next_attempt_at = PushState.DONE, timezone.now(), None, None
    push.reason_code, push.message, push.attempts = "", "", push.attempts + 1
    push.save(
        update_fields=[
            "state",
            "done_at",
            "lease_until",
            "next_attempt_at",
            "reason_code",
            "message",
            "attempts",
            "odoo_id",
        ]
    )


def _wait(push: BooksPush, code: str, message: str, report: Report) -> None:
    """Try again after a back-off; past RETRY_LIMIT attempts in a row a person looks."""
    push.attempts += 1
    if push.attempts >= rules.RETRY_LIMIT:
        return _attention(push, PushStop(code, message), report, exhausted=True)
    push.next_attempt_at = timezone.now() + rules.retry_delay(push.attempts)
    push.reason_code, push.message, push.lease_until = code[:64], message[:2000], None
    push.save(update_fields=["attempts", "next_attempt_at", "reason_code", "message", "lease_until"])
    report.add("waiting", kind=push.kind, push=push, reason=code, message=message)


def _attention(push: BooksPush, stop: PushStop, report: Report, *, exhausted: bool = False) -> None:
    push.state, push.lease_until, push.next_attempt_at = PushState.ATTENTION, None, None
    push.reason_code = f"{stop.code},retries_exhausted" if exhausted else stop.code
    push.message = stop.message[:2000]
    push.save(update_fields=["state", "lease_until", "next_attempt_at", "reason_code", "message", "attempts"])
    report.add("attention", kind=push.kind, push=push, reason=push.reason_code, message=stop.message)


def retry_due(*, now=None) -> BooksRun | None:
    """Pending pushes whose next attempt is due (or never tried: the task was lost), in one pass."""
    now = now or timezone.now()
    due = BooksPush.objects.filter(state=PushState.PENDING).filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )
    return pushes_run(push_ids=list(due.values_list("pk", flat=True)), trigger=BooksRun.Trigger.RETRY)


@transaction.atomic
def push_retry(*, actor: User, push: BooksPush) -> BooksPush:
    """Staff fixed the cause (a setting, a partner in Odoo): the push goes again, attempts from zero."""
    push = BooksPush.objects.select_for_update().get(pk=push.pk)
    if push.state == PushState.DONE:
        return push
    push.state, push.attempts, push.next_attempt_at, push.lease_until = PushState.PENDING, 0, None, None
    push.save(update_fields=["state", "attempts", "next_attempt_at", "lease_until"])
    audit_record(code=Code.BOOKS_PUSH_RETRIED, actor=actor, target=str(push.public_id), data={"kind": push.kind})
    return _enqueue(push)


@transaction.atomic
def push_handled(*, actor: User, push: BooksPush) -> BooksPush:
    """Staff did it by hand in Odoo: the push is closed as done without writing anything there."""
    push = BooksPush.objects.select_for_update().get(pk=push.pk)
    if push.state != PushState.ATTENTION:
        return push
    push.state, push.done_at, push.message = PushState.DONE, timezone.now(), f"handled by hand: {push.message}"[:2000]
    push.save(update_fields=["state", "done_at", "message"])
    audit_record(code=Code.BOOKS_PUSH_HANDLED, actor=actor, target=str(push.public_id), data={"kind": push.kind})
    return push


# ---------------------------------------------------------------- the read-back


def pull_run(*, trigger: str = BooksRun.Trigger.SCHEDULE) -> BooksRun | None:
    """Read back the invoices Odoo changed since the cursor (less an overlap): folio, states, SII
    status, payments made there; then the PDFs of posted documents that have none yet."""
    current = connection()
    if current is None or not current.active or current.health == Health.FAILING:
        return None
    try:
        run = run_start(kind=BooksRun.Kind.PULL, trigger=trigger)
    except RunInProgress:
        return None
    report, calls, failure = Report(), 0, ""
    try:
        with open_gateway(current) as gateway:
            ctx = Pass(gateway, capabilities(gateway), current)
            _pull(ctx, report, pdf_retry=trigger == BooksRun.Trigger.MANUAL)
            calls = gateway.calls
    except (GatewayError, PushStop) as error:
        failure = f"{error.code}: {error}"
        if isinstance(error, GatewayError):
            _mark_unhealthy(error)
    return run_finish(run=run, report=report, calls=calls, summary=failure, failed=bool(failure))


def _pull(ctx: Pass, report: Report, *, pdf_retry: bool) -> None:
    docs = {d.odoo_id: d for d in BooksDocument.objects.filter(odoo_id__isnull=False).select_related("invoice")}
    cursor = ctx.connection.pull_cursor
    seen: list[str] = []
    for chunk in batches(sorted(docs), READ_BATCH):
        domain = [["id", "in", chunk]] + ([["write_date", ">", rules.cursor_since(cursor)]] if cursor else [])
        rows = ctx.gateway.search_read(
            "account.move", domain, documents.move_fields(ctx), order="write_date asc, id asc"
        )
        for row in rows:
            doc = docs[row["id"]]
            changed = documents.mirror(ctx, doc, row)
            report.add("updated" if changed else "unchanged", kind="document", invoice=doc.invoice, odoo_id=doc.odoo_id)
            payments.read_back(doc, row, report)
            documents.fetch_pdf(ctx, doc, report)
            seen.append(row["write_date"])
    # Posted documents without their PDF; one Odoo refused already waits for a manual read-back
    # (e.g. once wkhtmltopdf is installed there) instead of failing every quarter of an hour.
    missing = BooksDocument.objects.filter(state="posted", pdf="", odoo_id__isnull=False).select_related("invoice")
    if not pdf_retry:
        missing = missing.filter(pdf_problem="")
    for doc in missing[:PULL_PDF_BATCH]:
        documents.fetch_pdf(ctx, doc, report)
    BooksConnection.objects.filter(pk=1).update(pull_cursor=rules.latest(cursor, seen))
