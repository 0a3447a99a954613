"""Reads for billing pages, scoped to the acting user through their engagements."""

from __future__ import annotations

from django.db.models import QuerySet

from billing.models import Invoice, InvoiceStatus, PaymentMilestone, Quote, QuoteStatus
from engagements.models import Engagement
from engagements.panels import Panel
from engagements.selectors import engagement_list_for_user
from portal.models import Role, User

CLIENT_QUOTE_STATUSES = [QuoteStatus.SENT, QuoteStatus.ACCEPTED, QuoteStatus.DECLINED, QuoteStatus.EXPIRED]


def quote_list_for_user(user: User) -> QuerySet[Quote]:
    quotes = Quote.objects.filter(engagement__in=engagement_list_for_user(user)).select_related("engagement__company")
    if user.role == Role.CLIENT:
        quotes = quotes.filter(status__in=CLIENT_QUOTE_STATUSES)
    return quotes


def invoice_list_for_user(user: User) -> QuerySet[Invoice]:
    invoices = Invoice.objects.filter(engagement__in=engagement_list_for_user(user))
    if user.role == Role.CLIENT:
        invoices = invoices.exclude(status=InvoiceStatus.DRAFT)
    return invoices.select_related("engagement")


def engagement_money_panel(engagement: Engagement, user: User) -> Panel | None:
    """The quotes, milestones and invoices block of the engagement page (three queries)."""
    if engagement.status == "lead":
        return None
    quotes = list(quote_list_for_user(user).filter(engagement=engagement).prefetch_related("lines"))
    invoices = list(invoice_list_for_user(user).filter(engagement=engagement))
    milestones = list(PaymentMilestone.objects.filter(engagement=engagement, quote__status=QuoteStatus.ACCEPTED))
    return Panel(
        "billing/_engagement_panel.html",
        {
            "quotes": quotes,
            "invoices": invoices,
            "milestones": milestones,
            "engagement": engagement,
            "can_quote": user.role == Role.STAFF and engagement.status in ("diagnosis", "quoted"),
        },
    )
