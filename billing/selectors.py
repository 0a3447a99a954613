"""Reads for billing pages, scoped to the acting user."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import TruncMonth
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from billing.models import (
    Credit,
    CreditStatus,
    Invoice,
    InvoiceStatus,
    Payment,
    Quote,
    QuoteKind,
    QuoteStatus,
    WebpayAttempt,
)
from billing.services import quote_refusal
from billing.templatetags.money_tags import money
from engagements import rules
from engagements.models import ChangeRequest, Engagement, Session
from engagements.panels import Flag, HomePart, Need, Panel
from engagements.selectors import engagement_list_for_user
from engagements.services.lifecycle import business_tz
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


# What a list of payment requests shows of each (the finance page): not the lines, addresses or PDF data.
LIST_FIELDS = (
    "public_id", "series", "number", "engagement", "engagement__code", "engagement__title", "client_name",
    "currency", "total", "paid_amount", "issue_date", "due_date", "status", "credit_note_for_id", "pdf",
)  # fmt: skip


def invoice_filter(
    queryset: QuerySet[Invoice], *, today: date, status: str = "", company: str = "", overdue: bool = False
) -> QuerySet[Invoice]:
    if status in InvoiceStatus.values:
        queryset = queryset.filter(status=status)
    if company:
        try:
            queryset = queryset.filter(company__public_id=uuid.UUID(company))
        except ValueError:  # not an id of ours: nothing matches
            return queryset.none()
    if overdue:
        queryset = queryset.filter(status__in=OPEN, due_date__lt=today)
    return queryset


def _by_currency(queryset: QuerySet, amount) -> list[tuple[str, Decimal]]:
    """Money of different currencies is never added together: one total per currency."""
    rows = queryset.values("currency").annotate(s=Sum(amount)).order_by("currency")
    return [(row["currency"], row["s"] or Decimal(0)) for row in rows]


AGE_BUCKETS = ((None, 0), (1, 30), (31, 60), (61, 90), (91, None))  # days past due: not due, ..., over 90
MONTHS_SHOWN = 6


def _aging(open_invoices: QuerySet[Invoice], today: date) -> list[dict]:
    """What is receivable per currency, by days past due (one query): [{currency, buckets: [5 amounts]}]."""
    balance = F("total") - F("paid_amount")
    sums = {}
    for n, (low, high) in enumerate(AGE_BUCKETS):
        if low is None:
            window = Q(due_date__gte=today)
        else:
            window = Q(due_date__lte=today - timedelta(days=low))
            if high is not None:
                window &= Q(due_date__gte=today - timedelta(days=high))
        sums[f"b{n}"] = Sum(balance, filter=window)
    rows = open_invoices.values("currency").annotate(**sums).order_by("currency")
    return [
        {"currency": r["currency"], "buckets": [r[f"b{n}"] or Decimal(0) for n in range(len(AGE_BUCKETS))]}
        for r in rows
    ]


def _months(today: date) -> list[date]:
    first = today.replace(day=1)
    months = [first]
    for _n in range(MONTHS_SHOWN - 1):
        months.append((months[-1] - timedelta(days=1)).replace(day=1))
    return months[::-1]


def _issued_and_collected(today: date) -> list[dict]:
    """Per currency and month (the last six): the total of the payment requests issued and the money
    received (refunds subtract). Two queries."""
    months = _months(today)
    issued = (
        Invoice.objects.exclude(status=InvoiceStatus.DRAFT)
        .filter(credit_note_for__isnull=True, issue_date__gte=months[0])
        .annotate(month=TruncMonth("issue_date"))
        .values("month", "currency")
        .annotate(total=Sum("total"))
    )
    collected = (
        Payment.objects.filter(paid_on__gte=months[0])
        .annotate(month=TruncMonth("paid_on"))
        .values("month", "invoice__currency")
        .annotate(total=Sum("amount"))
    )
    table: dict[str, dict[date, list[Decimal]]] = {}
    for row in issued:
        table.setdefault(row["currency"], {m: [Decimal(0), Decimal(0)] for m in months})[row["month"]][0] = row["total"]
    for row in collected:
        per = table.setdefault(row["invoice__currency"], {m: [Decimal(0), Decimal(0)] for m in months})
        per[row["month"]][1] = row["total"]
    return [{"currency": c, "months": [(m, *v) for m, v in sorted(per.items())]} for c, per in sorted(table.items())]


def finance_overview(today: date) -> dict:
    """Staff figures: receivables (by age), overdue, issued and collected per month, credits."""
    open_invoices = Invoice.objects.filter(status__in=OPEN, credit_note_for__isnull=True)
    active = Credit.objects.filter(status=CreditStatus.ACTIVE).select_related("company")
    return {
        "receivable": _by_currency(open_invoices, F("total") - F("paid_amount")),
        "overdue": _by_currency(open_invoices.filter(due_date__lt=today), F("total") - F("paid_amount")),
        "aging": _aging(open_invoices, today),
        "monthly": _issued_and_collected(today),
        "credits_outstanding": _by_currency(active, "balance"),
        "credits_expiring": list(active.filter(valid_until__lte=today + timedelta(days=30))),
        "credits_proposed": list(Credit.objects.filter(status=CreditStatus.PROPOSED).select_related("engagement")),
    }


def invoice_totals(invoices: QuerySet[Invoice]) -> list[dict]:
    """The totals of a list, per currency (never added across currencies): what was asked (a
    cancellation counts negative) and what is still open."""
    return list(
        invoices.values("currency")
        .annotate(
            asked=Sum("total", filter=Q(credit_note_for__isnull=True) & ~Q(status=InvoiceStatus.VOID)),
            open=Sum(F("total") - F("paid_amount"), filter=Q(status__in=OPEN, credit_note_for__isnull=True)),
            n=Count("id"),
        )
        .order_by("currency")
    )


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


def page_annotations(queryset: QuerySet[Engagement], user: User) -> QuerySet[Engagement]:
    """What the money panel needs to know before reading anything (engagements.panels.register_annotations):
    quotes waiting for the client, credits, hours bought. Subqueries of the engagement's own query."""
    from engagements.selectors import count_of

    waiting = Quote.objects.filter(engagement=OuterRef("pk"), status=QuoteStatus.SENT)
    hours = (
        Quote.objects.filter(engagement=OuterRef("pk"), kind=QuoteKind.HOUR_BANK, status=QuoteStatus.ACCEPTED)
        .order_by()
        .values("engagement")
        .annotate(h=Sum("hours"))
        .values("h")[:1]
    )
    credits = Credit.objects.filter(engagement=OuterRef("pk"))
    if user.role == Role.CLIENT:
        credits = credits.exclude(status__in=[CreditStatus.PROPOSED, CreditStatus.DISMISSED])
    return queryset.annotate(
        billing_quotes_waiting=count_of(waiting),
        billing_credits=count_of(credits),
        billing_hours=Subquery(hours),
    )


@dataclass(frozen=True)
class MilestoneRow:
    percent: Decimal
    label: str
    amount: Decimal
    currency: str
    invoice: Invoice | None  # None until the milestone is reached


def _milestones(invoices: list[Invoice]) -> list[MilestoneRow]:
    """The accepted service quote's plan, each milestone with its payment request once reached: read
    from the payment requests (and their milestone and quote), without a query of their own."""
    by_code = {i.milestone.code: i for i in invoices if i.milestone_id and i.milestone.quote.kind == QuoteKind.SERVICE}
    quote = next((i.milestone.quote for i in by_code.values()), None)
    if quote is None:
        return []
    english = translation.get_language() == "en"
    return [
        MilestoneRow(
            Decimal(str(m["percent"])),
            m["label_en"] if english else m["label_es"],
            Decimal(str(m.get("amount", 0))),
            quote.currency,
            by_code.get(m["code"]),
        )
        for m in quote.milestone_plan
    ]


def engagement_money_panel(engagement: Engagement, user: User) -> Panel | None:
    """The quotes, milestones, payment requests and credits of the engagement page: one query (its
    payment requests with their milestones and quotes); the quotes, credits and hour bank only when
    the engagement's own query (page_annotations) says there are some to show."""
    if engagement.status == "lead":
        return None
    staff = user.role == Role.STAFF
    invoices = list(invoice_list_for_user(user).filter(engagement=engagement).select_related("milestone__quote"))
    quote_shown = staff or engagement.status in ("diagnosis", "quoted") or engagement.billing_quotes_waiting
    if quote_shown:
        quotes = list(quote_list_for_user(user).filter(engagement=engagement))
    else:  # the accepted quotes, through their payment requests
        quotes = list({i.milestone.quote.pk: i.milestone.quote for i in invoices if i.milestone_id}.values())
    can_quote = staff and engagement.status in ("diagnosis", "quoted")
    refusal = quote_refusal(engagement) if can_quote else None
    return Panel(
        "billing/_engagement_panel.html",
        {
            "quotes": quotes,
            "invoices": invoices,
            "milestones": _milestones(invoices),
            "credits": list(credit_list_for_user(user).filter(engagement=engagement))
            if engagement.billing_credits
            else [],
            "hour_bank": hour_bank(engagement) if engagement.billing_hours else None,
            "to_quote": list(
                ChangeRequest.objects.filter(
                    engagement=engagement,
                    classification__in=[QuoteKind.ADD_ON, QuoteKind.HOUR_BANK],
                    quote__isnull=True,
                )
            )
            if staff and engagement.all_changes
            else [],
            "engagement": engagement,
            "can_quote": can_quote and refusal is None,
            "quote_refusal": refusal if can_quote else None,
        },
    )


# ---------------------------------------------------------------- the client's home (engagements.panels.register_home)

OWED_SHOWN = 6


def _open_documents(engagement_ids) -> QuerySet[Invoice]:
    """Payment requests with something left to pay (a cancellation asks for nothing), of engagements
    already scoped to the person: a plain filter on their ids, the busiest page's cheapest query."""
    return Invoice.objects.filter(
        engagement_id__in=engagement_ids, status__in=OPEN, credit_note_for__isnull=True, total__gt=F("paid_amount")
    )


def client_home_part(user: User, engagements: dict[int, Engagement], now) -> HomePart:
    """What the client owes (due and overdue per currency, the first documents, how to pay) and the
    quotes waiting for their answer: three queries."""
    if user.role != Role.CLIENT:
        return HomePart()
    tz = business_tz()
    today = rules.local_date(now, tz)
    ids = list(engagements)  # the client's engagements (engagements.selectors.home: scoped to the user)
    documents = _open_documents(ids)
    totals = [
        {"currency": row["currency"], "due": row["due"], "overdue": row["overdue"] or Decimal(0), "n": row["n"]}
        for row in documents.values("currency")
        .annotate(
            n=Count("id"),
            due=Sum(F("total") - F("paid_amount")),
            overdue=Sum(F("total") - F("paid_amount"), filter=Q(due_date__lt=today)),
        )
        .order_by("currency")
    ]
    shown = list(
        documents.only(
            "public_id", "series", "number", "engagement_id", "currency", "total", "paid_amount", "due_date", "status",
            "credit_note_for_id",
        ).order_by("due_date", "number")[:OWED_SHOWN]
    )  # fmt: skip
    for invoice in shown:
        invoice.engagement = engagements[invoice.engagement_id]
    count = sum(row["n"] for row in totals)
    quotes = list(
        Quote.objects.filter(engagement_id__in=ids, status=QuoteStatus.SENT)
        .only("public_id", "engagement_id", "version", "total", "currency", "sent_at", "created_at")
        .order_by("sent_at")
    )
    needs = tuple(
        Need(
            kind="quote",
            title=_("Quote v%(version)s: %(total)s") % {"version": q.version, "total": money(q.total, q.currency)},
            engagement=engagements[q.engagement_id],
            days=rules.days_between(q.sent_at or q.created_at, now, tz),
            url=reverse("billing:quote", args=[q.public_id]),
            action=_("Read and accept"),
        )
        for q in quotes
    )
    owe = Panel(
        "billing/_home_owe.html",
        {"totals": totals, "documents": shown, "count": count, "today": today, "bank": settings.BANK_TRANSFER},
    )
    return HomePart(owe=owe, needs=needs)


# ---------------------------------------------------------------- flags on the staff pipeline (panels.register_flags)


def worklist_flags(user: User, engagement_ids: list[int]) -> dict[int, list]:
    """Staff only: overdue payment requests, draft quotes not sent, credits to decide (three queries)."""
    if user.role != Role.STAFF or not engagement_ids:
        return {}
    today = rules.local_date(timezone.now(), business_tz())
    flags: dict[int, list] = {}
    overdue = Invoice.objects.filter(
        engagement_id__in=engagement_ids, status__in=OPEN, due_date__lt=today, credit_note_for__isnull=True
    )
    for pk, n in overdue.values("engagement_id").annotate(n=Count("id")).values_list("engagement_id", "n"):
        label = ngettext("%(n)d payment request overdue", "%(n)d payment requests overdue", n) % {"n": n}
        flags.setdefault(pk, []).append(Flag("overdue", label, 3, "billing"))
    drafts = Quote.objects.filter(engagement_id__in=engagement_ids, status=QuoteStatus.DRAFT)
    for pk in set(drafts.values_list("engagement_id", flat=True)):
        flags.setdefault(pk, []).append(Flag("quote_draft", _("Quote drafted, not sent"), 2, "billing"))
    proposed = Credit.objects.filter(engagement_id__in=engagement_ids, status=CreditStatus.PROPOSED)
    for pk in set(proposed.values_list("engagement_id", flat=True)):
        flags.setdefault(pk, []).append(Flag("credit", _("Credit to decide"), 3, "billing"))
    return flags
