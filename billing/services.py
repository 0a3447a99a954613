"""Every write of the money side: quotes, acceptance, milestones, invoices.

Lifecycle events reach billing through engagements.hooks (registered in
BillingConfig.ready): scope confirmed → 40%, configuration completed → 30%,
closed → 30%. They run inside the engagement's transition transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop
from django_q.tasks import async_task

from billing import hooks, money, pdf
from billing.models import (
    Invoice,
    InvoiceCounter,
    InvoiceLine,
    InvoiceStatus,
    PaymentMilestone,
    Quote,
    QuoteAcceptance,
    QuoteKind,
    QuoteLine,
    QuoteStatus,
)
from engagements import rules
from engagements import services as lifecycle
from engagements.models import ChangeRequest, Diagnosis, Engagement
from portal import clock
from portal.audit import client_ip
from portal.errors import DomainError
from portal.models import User
from portal.notifications import email_enqueue
from portal.rut import format_rut

# Timeline reasons billing writes, stored in English and read translated (engagements.reasons).
QUOTE_SENT = gettext_noop("quote sent")
QUOTE_ACCEPTED = gettext_noop("quote accepted")

QUOTE_NEEDS_DIAGNOSIS = _("A quote can only be issued once the diagnosis is complete.")
QUOTE_NO_LINES = _("Add at least one line.")
QUOTE_NOT_DRAFT = _("This quote was already issued and cannot change; revise it to make a new version.")
QUOTE_NOT_OPEN = _("This quote can no longer be accepted or declined.")
QUOTE_EXPIRED = _("This quote has expired. Ask the consultancy for a new one.")
QUOTE_TAMPERED = _("The document you accepted does not match the issued quote. Reload the page and try again.")
QUOTE_NAME_REQUIRED = _("Type your full name and accept the commercial policy.")
QUOTE_REASON_REQUIRED = _("Tell us why you decline the quote.")
LINE_QUANTITY = _("Quantities must be greater than zero.")
LINE_PRECISION = _("%(currency)s amounts allow %(decimals)d decimals.")
LINE_NEGATIVE = _("Prices cannot be negative.")
UNKNOWN_CURRENCY = _("Unknown currency.")
HOURS_REQUIRED = _("An hour bank needs the number of hours.")


def decimals_of(currency: str) -> int:
    try:
        return settings.CURRENCY_DECIMALS[currency]
    except KeyError as exc:
        raise DomainError(UNKNOWN_CURRENCY, field="currency") from exc


# ---------------------------------------------------------------- quotes


@dataclass(frozen=True)
class LineInput:
    description: str
    quantity: Decimal
    unit_price: Decimal


def _priced_lines(lines: list[LineInput], currency: str) -> list[QuoteLine]:
    decimals = decimals_of(currency)
    priced = []
    for order, line in enumerate(lines):
        if line.quantity <= 0:
            raise DomainError(LINE_QUANTITY)
        if line.unit_price < 0:
            raise DomainError(LINE_NEGATIVE)
        if not money.has_precision(line.unit_price, decimals):
            raise DomainError(LINE_PRECISION % {"currency": currency, "decimals": decimals})
        amount = money.line_amount(line.quantity, line.unit_price, decimals)
        priced.append(
            QuoteLine(
                order=order,
                description=line.description.strip(),
                quantity=line.quantity,
                unit_price=line.unit_price,
                amount=amount,
            )
        )
    if not priced:
        raise DomainError(QUOTE_NO_LINES)
    return priced


def _plan_with_amounts(plan: list[dict], total: Decimal, decimals: int) -> list[dict]:
    amounts = money.split(total, [Decimal(str(step["percent"])) for step in plan], decimals)
    return [{**step, "amount": str(amount)} for step, amount in zip(plan, amounts, strict=True)]


def _plan_for(engagement: Engagement, kind: str) -> list[dict]:
    if kind == QuoteKind.SERVICE:
        return list(engagement.terms.milestone_plan)
    # Add-ons and hour banks: 100% on acceptance by default.
    return [
        {
            "code": "on_acceptance",
            "percent": 100,
            "event": "accepted",
            "label_es": "al aceptar la cotización",
            "label_en": "on acceptance",
        }
    ]


def quote_refusal(engagement: Engagement, kind: str = QuoteKind.SERVICE):
    """Why a quote of this kind cannot be written yet, or None. The service quote needs the complete
    diagnosis; an add-on or hour bank comes from a classified change request and needs nothing more."""
    if kind != QuoteKind.SERVICE:
        return None
    try:
        diagnosis = engagement.diagnosis  # select_related by the engagement page: no query there
    except Diagnosis.DoesNotExist:
        return QUOTE_NEEDS_DIAGNOSIS
    return None if diagnosis.is_complete else QUOTE_NEEDS_DIAGNOSIS


@transaction.atomic
def quote_create(
    *,
    actor: User,
    engagement: Engagement,
    lines: list[LineInput],
    currency: str = "CLP",
    tax_rate: Decimal | None = None,
    valid_until: date | None = None,
    kind: str = QuoteKind.SERVICE,
    family=None,
    version: int = 1,
    change_request: ChangeRequest | None = None,
    hours: Decimal | None = None,
) -> Quote:
    """A draft quote with its lines priced and totals stored (the sum of the rounded lines).

    Add-ons and hour banks quote a classified change request; an hour bank
    states its hours (session time beyond the included minutes draws from it).
    """
    if kind == QuoteKind.HOUR_BANK and (hours is None or hours <= 0):
        raise DomainError(HOURS_REQUIRED, field="hours")
    refusal = quote_refusal(engagement, kind)
    if refusal:
        raise DomainError(refusal)
    decimals = decimals_of(currency)
    rate = Decimal(settings.DEFAULT_TAX_RATE) if tax_rate is None else tax_rate
    priced = _priced_lines(lines, currency)
    subtotal = sum((line.amount for line in priced), Decimal(0))
    tax = money.tax_amount(subtotal, rate, decimals)
    quote = Quote.objects.create(
        engagement=engagement,
        kind=kind,
        currency=currency,
        tax_rate=rate,
        valid_until=valid_until or clock.today() + timedelta(days=settings.QUOTE_VALID_DAYS),
        milestone_plan=_plan_with_amounts(_plan_for(engagement, kind), subtotal + tax, decimals),
        policy_text=engagement.terms.policy_es,
        subtotal=subtotal,
        tax=tax,
        total=subtotal + tax,
        version=version,
        change_request=change_request,
        hours=hours if kind == QuoteKind.HOUR_BANK else None,
        **({"family": family} if family else {}),
    )
    for line in priced:
        line.quote = quote
    QuoteLine.objects.bulk_create(priced)
    return quote


def quote_pdf_bytes(quote: Quote) -> bytes:
    return pdf.render(
        "billing/pdf/quote.html",
        {
            "quote": quote,
            "lines": list(quote.lines.all()),
            "company": quote.engagement.company,
            "tax_percent": quote.tax_rate * 100,
        },
    )


@transaction.atomic
def quote_send(*, actor: User, quote: Quote) -> Quote:
    """Issue the quote: render and freeze its PDF, supersede older versions, tell the client."""
    quote = Quote.objects.select_for_update(of=("self",)).select_related("engagement__company").get(pk=quote.pk)
    if quote.status != QuoteStatus.DRAFT:
        raise DomainError(QUOTE_NOT_DRAFT)
    data = quote_pdf_bytes(quote)
    quote.pdf.save(
        f"{quote.engagement.code}-v{quote.version}-{quote.public_id.hex[:8]}.pdf", ContentFile(data), save=False
    )
    now = timezone.now()
    quote.pdf_sha256, quote.status, quote.sent_at, quote.sent_by = pdf.sha256(data), QuoteStatus.SENT, now, actor
    quote.save(update_fields=["pdf", "pdf_sha256", "status", "sent_at", "sent_by"])
    # A newer version, or a new service quote for the same engagement, replaces what the client had.
    replaced = Quote.objects.filter(status=QuoteStatus.SENT).exclude(pk=quote.pk)
    replaced = replaced.filter(family=quote.family) | (
        replaced.filter(engagement=quote.engagement, kind=QuoteKind.SERVICE)
        if quote.kind == QuoteKind.SERVICE
        else replaced.none()
    )
    replaced.update(status=QuoteStatus.SUPERSEDED, closed_at=now)
    if quote.kind == QuoteKind.SERVICE and quote.engagement.status == rules.DIAGNOSIS:
        lifecycle.engagement_mark_quoted(actor=actor, engagement=quote.engagement, reason=QUOTE_SENT)
    lifecycle.event_record(quote.engagement, "quote.sent", actor=actor, data={"version": quote.version})
    email_enqueue(
        to=lifecycle.client_addresses(quote.engagement),
        template="quote_sent",
        context={"engagement": quote.engagement, "quote": quote},
    )
    return quote


@transaction.atomic
def quote_revise(*, actor: User, quote: Quote, lines: list[LineInput], valid_until: date | None = None) -> Quote:
    """A new draft version of the same quote; the old one stays as issued until the new one is sent."""
    latest = Quote.objects.filter(family=quote.family).aggregate(v=Max("version"))["v"]
    return quote_create(
        actor=actor,
        engagement=quote.engagement,
        lines=lines,
        currency=quote.currency,
        tax_rate=quote.tax_rate,
        valid_until=valid_until,
        kind=quote.kind,
        family=quote.family,
        version=latest + 1,
        change_request=quote.change_request,
        hours=quote.hours,
    )


def _lock_open_quote(quote: Quote) -> Quote:
    quote = Quote.objects.select_for_update(of=("self",)).select_related("engagement").get(pk=quote.pk)
    if quote.status != QuoteStatus.SENT:
        raise DomainError(QUOTE_EXPIRED if quote.status == QuoteStatus.EXPIRED else QUOTE_NOT_OPEN)
    if quote.valid_until < clock.today():
        raise DomainError(QUOTE_EXPIRED)
    return quote


@transaction.atomic
def quote_accept(
    *, user: User, quote: Quote, full_name: str, accepted_policy: bool, shown_sha256: str, request: HttpRequest | None
) -> QuoteAcceptance:
    """The client accepts the exact PDF they were shown; scope is confirmed in the same transaction."""
    quote = _lock_open_quote(quote)
    if not full_name.strip() or not accepted_policy:
        raise DomainError(QUOTE_NAME_REQUIRED)
    service_quotes = Quote.objects.filter(engagement=quote.engagement, kind=QuoteKind.SERVICE).exclude(pk=quote.pk)
    if quote.kind == QuoteKind.SERVICE and service_quotes.filter(status=QuoteStatus.ACCEPTED).exists():
        raise DomainError(QUOTE_NOT_OPEN)  # the service is bought once per engagement
    if shown_sha256 != quote.pdf_sha256:
        raise DomainError(QUOTE_TAMPERED)
    acceptance = QuoteAcceptance.objects.create(
        quote=quote,
        user=user,
        full_name=full_name.strip(),
        accepted_policy=True,
        ip_address=client_ip(request),
        user_agent=(request.META.get("HTTP_USER_AGENT", "") if request else "")[:300],
        pdf_sha256=quote.pdf_sha256,
    )
    quote.status, quote.closed_at = QuoteStatus.ACCEPTED, timezone.now()
    quote.save(update_fields=["status", "closed_at"])
    lifecycle.event_record(quote.engagement, "quote.accepted", actor=user, data={"version": quote.version})
    milestones_create(quote=quote)
    if quote.kind == QuoteKind.SERVICE:
        service_quotes.filter(status=QuoteStatus.SENT).update(status=QuoteStatus.SUPERSEDED, closed_at=timezone.now())
        lifecycle.engagement_confirm_scope(engagement=quote.engagement, actor=None, reason=QUOTE_ACCEPTED)
    else:
        milestones_reach(engagement=quote.engagement, event="accepted", quote=quote)
    return acceptance


@transaction.atomic
def quote_decline(*, user: User, quote: Quote, reason: str) -> Quote:
    quote = _lock_open_quote(quote)
    if not reason.strip():
        raise DomainError(QUOTE_REASON_REQUIRED, field="reason")
    quote.status, quote.declined_reason, quote.closed_at = QuoteStatus.DECLINED, reason.strip(), timezone.now()
    quote.save(update_fields=["status", "declined_reason", "closed_at"])
    lifecycle.event_record(quote.engagement, "quote.declined", actor=user, reason=reason.strip())
    return quote


def quote_expire_sweep(*, today: date) -> int:
    """Expire quotes past their validity, but only those still "sent" (never an accepted or declined one)."""
    expired = 0
    for pk in Quote.objects.filter(status=QuoteStatus.SENT, valid_until__lt=today).values_list("pk", flat=True):
        with transaction.atomic():
            quote = Quote.objects.select_for_update().get(pk=pk)
            if quote.status == QuoteStatus.SENT and quote.valid_until < today:
                quote.status, quote.closed_at = QuoteStatus.EXPIRED, timezone.now()
                quote.save(update_fields=["status", "closed_at"])
                expired += 1
    return expired


# ---------------------------------------------------------------- milestones


def milestones_create(*, quote: Quote) -> list[PaymentMilestone]:
    rows = [
        PaymentMilestone(
            engagement=quote.engagement,
            quote=quote,
            order=order,
            code=step["code"],
            event=step["event"],
            percent=Decimal(str(step["percent"])),
            label_es=step["label_es"],
            label_en=step["label_en"],
            amount=Decimal(step["amount"]),
            currency=quote.currency,
        )
        for order, step in enumerate(quote.milestone_plan)
    ]
    return PaymentMilestone.objects.bulk_create(rows)


def milestones_reach(*, engagement: Engagement, event: str, quote: Quote | None = None) -> list[Invoice]:
    """Mark the milestones of accepted quotes waiting for `event` as reached and issue a payment
    request for each (`quote`: only that quote's, e.g. an add-on accepted now). A milestone of 0
    (a total of 1 or 2 CLP split 40/30/30) needs no document: it is settled at once."""
    invoices = []
    pending = PaymentMilestone.objects.select_for_update().filter(
        engagement=engagement, event=event, reached_at__isnull=True, quote__status=QuoteStatus.ACCEPTED
    )
    if quote is not None:
        pending = pending.filter(quote=quote)
    for milestone in pending.select_related("quote"):
        now = timezone.now()
        milestone.reached_at = now
        if milestone.amount == 0:
            milestone.settled_at = now
            milestone.save(update_fields=["reached_at", "settled_at"])
            lifecycle.event_record(
                engagement,
                "milestone.nothing_to_collect",
                actor=None,
                data={"percent": money.percent_text(milestone.percent), "label": milestone.label_es},
            )
            continue
        milestone.save(update_fields=["reached_at"])
        invoices.append(invoice_for_milestone(milestone=milestone))
    return invoices


# Hook subscribers (registered in BillingConfig.ready; search for the hook names).


def on_scope_confirmed(*, engagement: Engagement, actor: User | None) -> None:
    milestones_reach(engagement=engagement, event="scope_confirmed")


def on_phase_completed(*, engagement: Engagement, phase: str, actor: User | None) -> None:
    milestones_reach(engagement=engagement, event=f"phase_completed:{phase}")


def on_closed(*, engagement: Engagement, actor: User | None) -> None:
    milestones_reach(engagement=engagement, event="closed")


# ---------------------------------------------------------------- payment requests


def _percent_label(milestone: PaymentMilestone) -> str:
    return f"{money.percent_text(milestone.percent)}\u00a0% {milestone.label_es} · {milestone.engagement.title}"


def milestone_net_and_tax(milestone: PaymentMilestone) -> tuple[Decimal, Decimal]:
    """The milestone's share of the quote's net and tax. The tax is allocated
    across the quote's milestones (money.allocate_tax, remainder on the last),
    so the documents of a quote add up to its net, tax and total exactly."""
    quote = milestone.quote
    siblings = list(quote.milestones.order_by("order").values_list("pk", "amount"))
    taxes = money.allocate_tax(quote.tax, [amount for _pk, amount in siblings], decimals_of(quote.currency))
    tax = taxes[[pk for pk, _amount in siblings].index(milestone.pk)]
    return milestone.amount - tax, tax


def invoice_for_milestone(*, milestone: PaymentMilestone) -> Invoice:
    """A payment request for one milestone: one line with the milestone's net share."""
    quote, company = milestone.quote, milestone.engagement.company
    net, tax = milestone_net_and_tax(milestone)
    invoice = Invoice.objects.create(
        series=settings.INVOICE_SERIES,
        company=company,
        engagement=milestone.engagement,
        milestone=milestone,
        currency=milestone.currency,
        **Invoice.client_snapshot(company),
        tax_rate=quote.tax_rate,
        subtotal=net,
        tax=tax,
        total=milestone.amount,
    )
    InvoiceLine.objects.create(
        invoice=invoice, order=0, description=_percent_label(milestone), quantity=Decimal(1), unit_price=net, amount=net
    )
    if not settings.MILESTONE_INVOICE_DRAFT:
        invoice = invoice_issue(invoice=invoice)
    return invoice


@transaction.atomic
def invoice_issue(*, invoice: Invoice) -> Invoice:
    """Give the invoice its number from the series' counter row, locked in this
    same transaction: a rollback also rolls the counter back (no gaps), and two
    issuers queue on the row lock (no duplicates, no failed issues)."""
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.status != InvoiceStatus.DRAFT:
        return invoice
    InvoiceCounter.objects.get_or_create(series=invoice.series)
    counter = InvoiceCounter.objects.select_for_update().get(series=invoice.series)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    today = clock.today()
    invoice.number, invoice.status, invoice.issued_at = counter.last_number, InvoiceStatus.ISSUED, timezone.now()
    invoice.issue_date, invoice.due_date = today, today + timedelta(days=settings.INVOICE_DUE_DAYS)
    invoice.save(update_fields=["number", "status", "issued_at", "issue_date", "due_date"])
    transaction.on_commit(lambda: async_task("billing.tasks.invoice_pdf_render", invoice.pk))
    hooks.run(hooks.INVOICE_ISSUED, invoice=invoice)
    if invoice.engagement_id and invoice.credit_note_for_id:  # a void asks for no payment: no "issued" mail
        lifecycle.event_record(
            invoice.engagement,
            "invoice.voided",
            actor=None,
            data={"number": invoice.display_number, "voids": invoice.credit_note_for.display_number},
        )
    elif invoice.engagement_id:
        lifecycle.event_record(
            invoice.engagement,
            "invoice.issued",
            actor=None,
            data={"number": invoice.display_number, "total": str(invoice.total), "currency": invoice.currency},
        )
        email_enqueue(
            to=[invoice.client_email],
            template="invoice_issued",
            context={"engagement": invoice.engagement, "invoice": invoice},
        )
    return invoice


INVOICE_TEMPLATE = "billing/pdf/invoice.html"


def invoice_pdf_context(invoice: Invoice) -> dict:
    return {
        "invoice": invoice,
        "lines": list(invoice.lines.all()),
        "client_rut": format_rut(invoice.client_rut),
        "bank": settings.BANK_TRANSFER,  # how to pay, on every payment request
    }


def invoice_pdf_bytes(invoice: Invoice) -> bytes:
    return pdf.render(INVOICE_TEMPLATE, invoice_pdf_context(invoice))


def invoice_render_pdf(*, invoice_id: int) -> Invoice:
    """Render and store the PDF (task body). Safe to run twice: same bytes."""
    invoice = Invoice.objects.select_related("engagement").get(pk=invoice_id)
    if invoice.status == InvoiceStatus.DRAFT:
        return invoice
    data = invoice_pdf_bytes(invoice)
    if invoice.pdf:
        invoice.pdf.delete(save=False)
    invoice.pdf.save(f"{invoice.display_number}-{invoice.public_id.hex[:8]}.pdf", ContentFile(data), save=False)
    invoice.pdf_rendered_at = timezone.now()
    Invoice.objects.filter(pk=invoice.pk).update(pdf=invoice.pdf.name, pdf_rendered_at=invoice.pdf_rendered_at)
    return invoice


VOID_PAID = _("This payment request has payments: record a credit for the client instead of voiding it.")
VOID_NOT_ISSUED = _("Only an issued, unpaid payment request can be voided.")


@transaction.atomic
def invoice_void(*, actor: User, invoice: Invoice, reason: str) -> Invoice:
    """Void an issued payment request with an "anulación": a document with its own
    number that cancels it (issued documents never change or disappear)."""
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.status != InvoiceStatus.ISSUED:
        raise DomainError(VOID_PAID if invoice.paid_amount else VOID_NOT_ISSUED)
    if not reason.strip():
        raise DomainError(lifecycle.REASON_REQUIRED, field="reason")
    note = Invoice.objects.create(
        series=invoice.series,
        company=invoice.company,
        engagement=invoice.engagement,
        credit_note_for=invoice,
        currency=invoice.currency,
        client_name=invoice.client_name,
        client_rut=invoice.client_rut,
        client_address=invoice.client_address,
        client_email=invoice.client_email,
        tax_rate=invoice.tax_rate,
        subtotal=invoice.subtotal,
        tax=invoice.tax,
        total=invoice.total,
    )
    InvoiceLine.objects.create(
        invoice=note,
        order=0,
        description=f"Anula la solicitud de pago {invoice.display_number}: {reason.strip()}"[:300],
        quantity=Decimal(1),
        unit_price=invoice.subtotal,
        amount=invoice.subtotal,
    )
    note = invoice_issue(invoice=note)
    # A void settles itself: it is not a payment request.
    Invoice.objects.filter(pk=note.pk).update(status=InvoiceStatus.PAID, paid_amount=note.total)
    invoice.status = InvoiceStatus.VOID
    invoice.save(update_fields=["status"])
    hooks.run(hooks.INVOICE_VOIDED, invoice=invoice, credit_note=note)
    return note
