"""Payments and credits: every write that moves money after a payment request exists.

Credits (R3): at an administrative close the portal proposes the unexecuted
balance (money.credit_proposal: payments received - value of the work
executed, from the phases completed and the hour-bank time used) and keeps
its arithmetic; staff confirm or adjust it with a reason; it is valid for
`credit_validity_months` calendar months from the close date and can pay
later payment requests of the same company. Every movement is a CreditEntry
(created, applied, expired).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from billing import hooks, money
from billing.models import (
    Credit,
    CreditEntry,
    CreditStatus,
    Invoice,
    InvoiceStatus,
    LedgerKind,
    Payment,
    PaymentMethod,
    PaymentMilestone,
    Quote,
    QuoteKind,
    QuoteStatus,
)
from billing.selectors import session_overage_minutes
from billing.services import decimals_of
from billing.templatetags.money_tags import money as format_money
from engagements import rules
from engagements import services as lifecycle
from engagements.models import Engagement, PhasePlan
from portal import clock
from portal.errors import DomainError
from portal.models import User
from portal.notifications import email_enqueue, staff_addresses

OVERPAYMENT = gettext_noop("overpayment of %(number)s")  # a credit's reason (engagements.reasons)

PAYMENT_NOT_OPEN = _("This payment request does not accept payments (it is a draft, paid or void).")
PAYMENT_POSITIVE = _("The amount must be greater than zero.")
PAYMENT_OVER_BALANCE = _(
    "The amount is larger than the balance of %(balance)s. "
    "Tick “record the excess as credit” to keep the difference as a credit."
)
PAYMENT_PRECISION = _("%(currency)s amounts allow %(decimals)d decimals.")
REFUND_OVER = _("At most %(amount)s of this payment can be given back.")
CREDIT_NOT_ACTIVE = _("This credit cannot be used (it is not active).")
CREDIT_EXPIRED = _("This credit expired on %(date)s.")
CREDIT_OVER_BALANCE = _("The credit has only %(balance)s left.")
CREDIT_OTHER_COMPANY = _("A credit can only pay payment requests of the same client company and currency.")
CREDIT_REASON_REQUIRED = _("Explain why the amount differs from the proposal.")
CREDIT_NOT_PROPOSED = _("This credit was already decided.")
CREDIT_NEGATIVE = _("The credit cannot be negative.")

REMINDER_LIMIT = 3
REMINDER_EVERY_DAYS = 7
CREDIT_WARNING_DAYS = 15


def _check_amount(amount: Decimal, currency: str) -> None:
    if amount <= 0:
        raise DomainError(PAYMENT_POSITIVE, field="amount")
    decimals = decimals_of(currency)
    if not money.has_precision(amount, decimals):
        raise DomainError(PAYMENT_PRECISION % {"currency": currency, "decimals": decimals}, field="amount")


def _settle(invoice: Invoice, amount: Decimal) -> None:
    """Add `amount` (negative for a refund) to what the invoice has received."""
    invoice.paid_amount += amount
    if invoice.paid_amount >= invoice.total:
        invoice.status = InvoiceStatus.PAID
    else:
        invoice.status = InvoiceStatus.PARTIALLY_PAID if invoice.paid_amount > 0 else InvoiceStatus.ISSUED
    invoice.save(update_fields=["paid_amount", "status"])
    if invoice.status == InvoiceStatus.PAID and invoice.milestone_id:
        PaymentMilestone.objects.filter(pk=invoice.milestone_id, settled_at__isnull=True).update(
            settled_at=timezone.now()
        )


def _lock_open_invoice(invoice: Invoice) -> Invoice:
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.status not in (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID):
        raise DomainError(PAYMENT_NOT_OPEN)
    return invoice


# ---------------------------------------------------------------- payments


@transaction.atomic
def payment_record(
    *,
    actor: User,
    invoice: Invoice,
    paid_on: date,
    amount: Decimal,
    method: str,
    reference: str = "",
    excess_to_credit: bool = False,
    gateway_ref: str | None = None,
) -> Payment:
    """Record money received. More than the balance is refused unless staff
    choose to keep the excess as a credit for the company. `gateway_ref` names a
    gateway's transaction: unique, so it is recorded once."""
    invoice = _lock_open_invoice(invoice)
    _check_amount(amount, invoice.currency)
    excess = amount - invoice.balance
    if excess > 0 and not excess_to_credit:
        shown = format_money(invoice.balance, invoice.currency)
        raise DomainError(PAYMENT_OVER_BALANCE % {"balance": shown}, field="amount")
    applied = amount - max(excess, Decimal(0))
    payment = Payment.objects.create(
        invoice=invoice,
        paid_on=paid_on,
        amount=applied,
        method=method,
        reference=reference.strip(),
        recorded_by=actor,
        gateway_ref=gateway_ref,
    )
    _settle(invoice, applied)
    if excess > 0:
        _credit_activate(
            Credit(
                company=invoice.company,
                engagement=invoice.engagement,
                currency=invoice.currency,
                proposed_amount=excess,
                reason=OVERPAYMENT % {"number": invoice.display_number},
            ),
            amount=excess,
            start=paid_on,
            actor=actor,
        )
    _invoice_event(invoice, "invoice.payment_recorded", actor=actor, amount=applied)
    hooks.run(hooks.PAYMENT_RECORDED, payment=payment)
    return payment


def _invoice_event(invoice: Invoice, kind: str, *, actor: User | None, amount: Decimal) -> None:
    if invoice.engagement_id:
        lifecycle.event_record(
            invoice.engagement,
            kind,
            actor=actor,
            data={"number": invoice.display_number, "amount": str(amount), "currency": invoice.currency},
        )


def refundable(payment: Payment) -> Decimal:
    """What is left of a payment to give back: its amount less the refunds already recorded."""
    given_back = payment.refunds.aggregate(s=Sum("amount"))["s"] or Decimal(0)
    return payment.amount + given_back  # refunds are negative


def refund_check(payment: Payment, amount: Decimal) -> None:
    """Refuse an amount that is not positive, not in the currency's unit, or more than is left."""
    currency = payment.invoice.currency
    _check_amount(amount, currency)
    left = refundable(payment)
    if payment.amount <= 0 or amount > left:
        raise DomainError(REFUND_OVER % {"amount": format_money(max(left, Decimal(0)), currency)}, field="amount")


@transaction.atomic
def payment_refund_record(*, actor: User, payment: Payment, amount: Decimal, reference: str = "") -> Payment:
    """Money given back for a payment (e.g. a card refund): a negative payment linked to it.
    The invoice's balance grows again and its status follows (paid -> partially paid -> issued)."""
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    invoice = Invoice.objects.select_for_update().get(pk=payment.invoice_id)
    refund_check(payment, amount)
    refund = Payment.objects.create(
        invoice=invoice,
        paid_on=clock.today(),
        amount=-amount,
        method=payment.method,
        reference=reference.strip()[:100],
        recorded_by=actor,
        refund_of=payment,
    )
    _settle(invoice, -amount)
    _invoice_event(invoice, "invoice.payment_refunded", actor=actor, amount=amount)
    hooks.run(hooks.PAYMENT_REFUNDED, refund=refund)
    return refund


# ---------------------------------------------------------------- credits


def _hour_bank_use(engagement: Engagement, currency: str) -> money.HourBankUse:
    banks = Quote.objects.filter(
        engagement=engagement, kind=QuoteKind.HOUR_BANK, status=QuoteStatus.ACCEPTED, currency=currency
    ).aggregate(total=Sum("total"), hours=Sum("hours"))
    minutes = int((banks["hours"] or 0) * 60)
    used = min(session_overage_minutes(engagement), minutes)
    return money.HourBankUse(total=banks["total"] or Decimal(0), minutes=minutes, used_minutes=used)


def credit_proposal(engagement: Engagement) -> tuple[str, money.CreditProposal]:
    """R3 for an engagement: (currency, arithmetic). Payments count when made on
    the payment requests of its service and hour-bank quotes in the service's
    currency, without those made with credit; add-ons are outside the rule
    (staff adjust for them with a reason)."""
    service = Quote.objects.filter(engagement=engagement, kind=QuoteKind.SERVICE, status=QuoteStatus.ACCEPTED).first()
    currency = service.currency if service else "CLP"
    paid = Payment.objects.filter(
        invoice__engagement=engagement,
        invoice__currency=currency,
        invoice__milestone__quote__kind__in=[QuoteKind.SERVICE, QuoteKind.HOUR_BANK],
    ).exclude(method=PaymentMethod.CREDIT).aggregate(s=Sum("amount"))["s"] or Decimal(0)
    completed = PhasePlan.objects.filter(engagement=engagement, completed_at__isnull=False).values_list(
        "phase", flat=True
    )
    return currency, money.credit_proposal(
        paid=paid,
        service_total=service.total if service else Decimal(0),
        executed_percent=rules.executed_share(completed, engagement.terms.phase_weights),
        hours=_hour_bank_use(engagement, currency),
        decimals=decimals_of(currency),
    )


def on_admin_closed(*, engagement: Engagement, actor: User | None, reason: str) -> None:
    """Hook ADMIN_CLOSED: propose the credit with its arithmetic; staff decide (credit_confirm)."""
    currency, proposal = credit_proposal(engagement)
    Credit.objects.create(
        company=engagement.company,
        engagement=engagement,
        currency=currency,
        proposed_amount=proposal.amount,
        basis=proposal.as_basis(),
        status=CreditStatus.PROPOSED,
    )
    email_enqueue(to=staff_addresses(), template="credit_proposed", context={"engagement": engagement})


def _credit_activate(credit: Credit, *, amount: Decimal, start: date, actor: User | None) -> Credit:
    months = credit.engagement.terms.credit_validity_months if credit.engagement_id else 6
    credit.amount = credit.balance = amount
    credit.status, credit.starts_on = CreditStatus.ACTIVE, start
    credit.valid_until = rules.add_months(start, months)
    credit.save()
    CreditEntry.objects.create(credit=credit, kind=LedgerKind.CREATED, amount=amount, actor=actor, note=credit.reason)
    return credit


@transaction.atomic
def credit_confirm(*, actor: User, credit: Credit, amount: Decimal, reason: str = "") -> Credit:
    """Staff confirm the proposed credit, or adjust it with a reason. Zero dismisses it."""
    credit = Credit.objects.select_for_update(of=("self",)).select_related("engagement__terms").get(pk=credit.pk)
    if credit.status != CreditStatus.PROPOSED:
        raise DomainError(CREDIT_NOT_PROPOSED)
    if amount < 0:
        raise DomainError(CREDIT_NEGATIVE, field="amount")
    _check_precision(amount, credit.currency)
    if amount != credit.proposed_amount and not reason.strip():
        raise DomainError(CREDIT_REASON_REQUIRED, field="reason")
    credit.reason = reason.strip()
    if amount == 0:
        credit.status = CreditStatus.DISMISSED
        credit.save(update_fields=["status", "reason"])
        return credit
    close = credit.engagement.status_changed_at if credit.engagement_id else timezone.now()
    credit = _credit_activate(credit, amount=amount, start=clock.local_date(close), actor=actor)
    lifecycle.event_record(
        credit.engagement,
        "credit.created",
        actor=actor,
        data={"amount": str(amount), "currency": credit.currency, "valid_until": credit.valid_until.isoformat()},
    )
    email_enqueue(
        to=lifecycle.client_addresses(credit.engagement),
        template="credit_created",
        context={"engagement": credit.engagement, "credit": credit},
    )
    return credit


def _check_precision(amount: Decimal, currency: str) -> None:
    decimals = decimals_of(currency)
    if not money.has_precision(amount, decimals):
        raise DomainError(PAYMENT_PRECISION % {"currency": currency, "decimals": decimals}, field="amount")


@transaction.atomic
def credit_apply(*, actor: User, credit: Credit, invoice: Invoice, amount: Decimal) -> Payment:
    """Pay (part of) a later payment request of the same company with a credit."""
    credit = Credit.objects.select_for_update().get(pk=credit.pk)
    invoice = _lock_open_invoice(invoice)
    _check_amount(amount, invoice.currency)
    if credit.company_id != invoice.company_id or credit.currency != invoice.currency:
        raise DomainError(CREDIT_OTHER_COMPANY)
    if credit.status != CreditStatus.ACTIVE:
        raise DomainError(CREDIT_NOT_ACTIVE)
    if clock.today() > credit.valid_until:
        raise DomainError(CREDIT_EXPIRED % {"date": credit.valid_until.strftime("%d-%m-%Y")})
    if amount > credit.balance or amount > invoice.balance:
        left = format_money(min(credit.balance, invoice.balance), invoice.currency)
        raise DomainError(CREDIT_OVER_BALANCE % {"balance": left}, field="amount")
    payment = Payment.objects.create(
        invoice=invoice,
        paid_on=clock.today(),
        amount=amount,
        method=PaymentMethod.CREDIT,
        reference=f"credit {credit.public_id.hex[:8]}",
        recorded_by=actor,
    )
    _settle(invoice, amount)
    credit.balance -= amount
    if credit.balance == 0:
        credit.status = CreditStatus.USED
    credit.save(update_fields=["balance", "status"])
    CreditEntry.objects.create(credit=credit, kind=LedgerKind.APPLIED, amount=-amount, invoice=invoice, actor=actor)
    hooks.run(hooks.PAYMENT_RECORDED, payment=payment)
    return payment


def credit_expire_sweep(*, today: date) -> int:
    """Expire what is left of credits after their last valid day; warn before. Safe to run twice."""
    expired = 0
    for pk in Credit.objects.filter(status=CreditStatus.ACTIVE, valid_until__lt=today).values_list("pk", flat=True):
        with transaction.atomic():
            credit = Credit.objects.select_for_update().get(pk=pk)
            if credit.status != CreditStatus.ACTIVE or credit.valid_until >= today:
                continue
            CreditEntry.objects.create(credit=credit, kind=LedgerKind.EXPIRED, amount=-credit.balance)
            credit.status, credit.balance = CreditStatus.EXPIRED, Decimal(0)
            credit.save(update_fields=["status", "balance"])
            expired += 1
    _warn_expiring(today)
    return expired


def _warn_expiring(today: date) -> None:
    soon = Credit.objects.filter(
        status=CreditStatus.ACTIVE,
        expiry_warned_at__isnull=True,
        valid_until__lte=today + timedelta(days=CREDIT_WARNING_DAYS),
        valid_until__gte=today,
    ).select_related("company")
    for credit in soon:
        with transaction.atomic():
            if Credit.objects.filter(pk=credit.pk, expiry_warned_at__isnull=True).update(
                expiry_warned_at=timezone.now()
            ):
                email_enqueue(to=[credit.company.billing_email], template="credit_expiring", context={"credit": credit})


def invoice_reminder_sweep(*, now: datetime) -> int:
    """Remind overdue invoices every REMINDER_EVERY_DAYS days, at most REMINDER_LIMIT times."""
    today = clock.local_date(now)
    due = Invoice.objects.filter(
        status__in=[InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID],
        due_date__lt=today,
        reminders_sent__lt=REMINDER_LIMIT,
    )
    sent = 0
    for invoice in due:
        if invoice.last_reminder_at and (now - invoice.last_reminder_at).days < REMINDER_EVERY_DAYS:
            continue
        with transaction.atomic():
            claimed = Invoice.objects.filter(pk=invoice.pk, reminders_sent=invoice.reminders_sent).update(
                reminders_sent=invoice.reminders_sent + 1, last_reminder_at=now
            )
            if claimed:
                email_enqueue(to=[invoice.client_email], template="invoice_reminder", context={"invoice": invoice})
                sent += 1
    return sent
