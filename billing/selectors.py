"""Reads for billing pages, scoped to the acting user."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.db.models import F, QuerySet, Sum
from django.db.models.functions import TruncMonth

from billing.models import (
    Credit,
    CreditStatus,
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentMilestone,
    Quote,
    QuoteKind,
    QuoteStatus,
    WebpayAttempt,
)
from engagements.models import ChangeRequest, Engagement, Session
from engagements.panels import Panel
from engagements.selectors import engagement_list_for_user
from portal.models import Role, User

CLIENT_QUOTE_STATUSES = [QuoteStatus.SENT, QuoteStatus.ACCEPTED, QuoteStatus.DECLINED, QuoteStatus.EXPIRED]
OPEN = [InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID]


def quote_list_for_user(user: User) -> QuerySet[Quote]:
    quotes = Quote.objects.filter(engagement__in=engagement_list_for_user(user)).select_related("engagement__company")
    if user.role == Role.CLIENT:
        quotes = quotes.filter(status__in=CLIENT_QUOTE_STATUSES)
    return quotes


def invoice_list_for_user(user: User) -> QuerySet[Invoice]:
    """Staff: every invoice. Others: those of the engagements they may see (clients: not drafts)."""
    if user.role == Role.STAFF:
        return Invoice.objects.select_related("engagement", "company")
    invoices = Invoice.objects.filter(engagement__in=engagement_list_for_user(user))
    if user.role == Role.CLIENT:
        invoices = invoices.exclude(status=InvoiceStatus.DRAFT)
    return invoices.select_related("engagement", "company")


def payment_list_for_user(user: User) -> QuerySet[Payment]:
    return Payment.objects.filter(invoice__in=invoice_list_for_user(user)).select_related("invoice")


def webpay_attempt_list_for_user(user: User) -> QuerySet[WebpayAttempt]:
    """Webpay attempts of the payment requests the user may see (another company's: none)."""
    return WebpayAttempt.objects.filter(invoice__in=invoice_list_for_user(user)).select_related("invoice", "payment")


def credit_list_for_user(user: User) -> QuerySet[Credit]:
    credits = Credit.objects.select_related("company", "engagement")
    if user.role == Role.STAFF:
        return credits
    if user.role == Role.CLIENT:
        hidden = [CreditStatus.PROPOSED, CreditStatus.DISMISSED]
        return credits.filter(company__memberships__user=user).exclude(status__in=hidden)
    return credits.none()


def invoice_filter(
    queryset: QuerySet[Invoice], *, today: date, status: str = "", company: str = "", overdue: bool = False
) -> QuerySet[Invoice]:
    if status in InvoiceStatus.values:
        queryset = queryset.filter(status=status)
    if company:
        queryset = queryset.filter(company__public_id=company)
    if overdue:
        queryset = queryset.filter(status__in=OPEN, due_date__lt=today)
    return queryset


def _by_currency(queryset: QuerySet, amount) -> list[tuple[str, Decimal]]:
    """Money of different currencies is never added together: one total per currency."""
    rows = queryset.values("currency").annotate(s=Sum(amount)).order_by("currency")
    return [(row["currency"], row["s"] or Decimal(0)) for row in rows]


def finance_overview(today: date) -> dict:
    """Staff figures: receivables, overdue, issued per month, credits outstanding and expiring."""
    open_invoices = Invoice.objects.filter(status__in=OPEN)
    active = Credit.objects.filter(status=CreditStatus.ACTIVE).select_related("company")
    return {
        "receivable": _by_currency(open_invoices, F("total") - F("paid_amount")),
        "overdue": _by_currency(open_invoices.filter(due_date__lt=today), F("total") - F("paid_amount")),
        "per_month": list(
            Invoice.objects.exclude(status=InvoiceStatus.DRAFT)
            .annotate(month=TruncMonth("issue_date"))
            .values("month", "currency")
            .annotate(total=Sum("total"))
            .order_by("-month")[:12]
        ),
        "credits_outstanding": _by_currency(active, "balance"),
        "credits_expiring": list(active.filter(valid_until__lte=today + timedelta(days=30))),
        "credits_proposed": list(Credit.objects.filter(status=CreditStatus.PROPOSED).select_related("engagement")),
    }


def session_overage_minutes(engagement: Engagement) -> int:
    """Logged session time beyond the included minutes (what hour banks cover)."""
    used = Session.objects.filter(engagement=engagement, log_published_at__isnull=False).aggregate(
        m=Sum("minutes_used")
    )["m"]
    return max(0, (used or 0) - engagement.terms.included_minutes)


def hour_bank(engagement: Engagement) -> dict | None:
    """Hours bought in accepted hour-bank quotes, and what session overage took from them."""
    bought = Quote.objects.filter(
        engagement=engagement, kind=QuoteKind.HOUR_BANK, status=QuoteStatus.ACCEPTED
    ).aggregate(h=Sum("hours"))["h"]
    if not bought:
        return None
    overage = session_overage_minutes(engagement)
    bank_minutes = int(bought * 60)
    return {
        "hours": bought,
        "used_minutes": min(overage, bank_minutes),
        "remaining_minutes": max(0, bank_minutes - overage),
        "uncovered_minutes": max(0, overage - bank_minutes),
    }


def engagement_money_panel(engagement: Engagement, user: User) -> Panel | None:
    """The quotes, milestones, invoices and credits block of the engagement page (four queries)."""
    if engagement.status == "lead":
        return None
    return Panel(
        "billing/_engagement_panel.html",
        {
            "quotes": list(quote_list_for_user(user).filter(engagement=engagement)),
            "invoices": list(invoice_list_for_user(user).filter(engagement=engagement)),
            "milestones": list(
                PaymentMilestone.objects.filter(engagement=engagement, quote__status=QuoteStatus.ACCEPTED)
            ),
            "credits": list(credit_list_for_user(user).filter(engagement=engagement)),
            "hour_bank": hour_bank(engagement),
            "to_quote": list(
                ChangeRequest.objects.filter(
                    engagement=engagement,
                    classification__in=[QuoteKind.ADD_ON, QuoteKind.HOUR_BANK],
                    quote__isnull=True,
                )
            )
            if user.role == Role.STAFF
            else [],
            "engagement": engagement,
            "can_quote": user.role == Role.STAFF and engagement.status in ("diagnosis", "quoted"),
        },
    )
