"""The client's home: four answers above the fold, per engagement and in total.

What do I owe (billing's part), what do you need from me, when will it be done, what happens
next. A fixed set of queries whatever the number of engagements, requests, sessions or steps:
one per kind of row, each bounded, none per engagement.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from engagements import panels, rules
from engagements.models import ChecklistItem, ChecklistStatus, Engagement, FormalRequest, NextStep, Session
from engagements.services.lifecycle import business_tz
from portal.access import companies_for_user
from portal.models import User

NEXT_STEPS_SHOWN = 6
NOT_STARTED = {
    rules.ACTIVE: gettext_lazy(
        "The 4 to 6 weeks start once the access and information of the checklist are delivered."
    ),
    rules.QUOTED: gettext_lazy("Starts when you accept the quote and deliver the access."),
    rules.DIAGNOSIS: gettext_lazy("In diagnosis: the quote comes next."),
}


def _day(day: date | None) -> str:
    return date_format(day, "SHORT_DATE_FORMAT") if day else "—"


RUNNING = (rules.DIAGNOSIS, rules.QUOTED, rules.ACTIVE, rules.WAITING)


@dataclass
class When:
    """Answer 3 for one engagement: the estimate, or why there is none yet."""

    window: rules.EstimateWindow
    health: str | None
    waiting_since: date | None = None
    waiting_for: str = ""  # the subject of the request the wait is about
    admin_close_from: date | None = None

    HEALTH = {
        rules.ON_TRACK: gettext_lazy("On track"),
        rules.AT_RISK: gettext_lazy("At risk"),
        rules.LATE: gettext_lazy("Late"),
        rules.PAUSED: gettext_lazy("Paused"),
    }

    @property
    def health_label(self) -> str:
        return str(self.HEALTH.get(self.health or "", ""))

    def short(self, status: str) -> str:
        """One line for the table of engagements (the answer card has the whole sentence)."""
        if self.health == rules.PAUSED:
            return _("waiting on you since %(date)s") % {"date": _day(self.waiting_since)}
        if self.window.starts:
            return _("between %(start)s and %(end)s") % {
                "start": _day(self.window.earliest_end),
                "end": _day(self.window.latest_end),
            }
        return str(NOT_STARTED.get(status, ""))


@dataclass
class HomeEngagement:
    engagement: Engagement
    when: When
    next_session: Session | None
    needs: int = 0

    @property
    def when_short(self) -> str:
        return self.when.short(self.engagement.status)

    @property
    def needs_text(self) -> str:
        return ngettext("%(counter)s item", "%(counter)s items", self.needs) % {"counter": self.needs}


@dataclass
class ClientHome:
    running: list[HomeEngagement]
    ended: list[Engagement]
    needs: list[panels.Need]
    next_session: Session | None
    next_steps: list[NextStep]
    owe: list[panels.Panel] = field(default_factory=list)
    credit_months: int = 6
    company: object = None  # the client's company (portal.ClientCompany)

    @property
    def waiting_on_us(self) -> bool:
        return any(row.when.health == rules.PAUSED for row in self.running)


def _engagements(user: User) -> QuerySet[Engagement]:
    from engagements.selectors import engagement_list_for_user

    return (
        engagement_list_for_user(user)
        .select_related("terms", "company")
        .only(
            "company__public_id",
            "company__legal_name",
            "code",
            "title",
            "status",
            "phase",
            "progress_percent",
            "status_changed_at",
            "scope_confirmed_at",
            "waiting_since",
            "waiting_for_id",
            "wait_periods",
            "company_id",
            "terms__estimate_min_weeks",
            "terms__estimate_max_weeks",
            "terms__close_after_days",
            "terms__wait_after_days",
            "terms__warn_before_wait_days",
            "terms__warn_before_close_days",
            "terms__credit_validity_months",
        )
        .order_by("status_changed_at")
    )


def _when(engagement: Engagement, items: list[ChecklistItem], requests: dict[int, FormalRequest], now, tz) -> When:
    from engagements.selectors import access_complete_on, wait_periods

    today = rules.local_date(now, tz)
    scope = rules.local_date(engagement.scope_confirmed_at, tz) if engagement.scope_confirmed_at else None
    window = rules.estimate_window(
        scope_confirmed=scope,
        access_complete=access_complete_on(items, tz),
        wait_periods=wait_periods(engagement, now, tz),
        min_weeks=engagement.terms.estimate_min_weeks,
        max_weeks=engagement.terms.estimate_max_weeks,
    )
    when = When(window, rules.estimate_health(window, today, engagement.progress_percent, engagement.status))
    if engagement.status == rules.WAITING and engagement.waiting_since is not None:
        about = requests.get(engagement.waiting_for_id) if engagement.waiting_for_id else None
        when.waiting_since = rules.local_date(engagement.waiting_since, tz)
        when.waiting_for = about.subject if about else ""
        when.admin_close_from = rules.r2_fires_on(engagement.waiting_since, tz, engagement.terms.wait_rules)
    return when


def _request_needs(requests: list[FormalRequest], by_id: dict[int, Engagement], now, tz) -> list[panels.Need]:
    return [
        panels.Need(
            kind="request",
            title=r.subject,
            engagement=by_id[r.engagement_id],
            days=rules.days_between(r.sent_at, now, tz),
            url=reverse("engagements:detail", args=[by_id[r.engagement_id].code]) + "#requests",
            action=_("Answer"),
        )
        for r in requests
    ]


def _deliverable_needs(items: list[ChecklistItem], by_id: dict[int, Engagement], now, tz) -> list[panels.Need]:
    needs = []
    for item in items:
        engagement = by_id[item.engagement_id]
        if engagement.status not in (rules.ACTIVE, rules.WAITING):
            continue
        if item.status not in (ChecklistStatus.PENDING, ChecklistStatus.RETURNED):
            continue
        since = item.verified_at if item.status == ChecklistStatus.RETURNED and item.verified_at else None
        since = since or engagement.scope_confirmed_at or engagement.status_changed_at
        needs.append(
            panels.Need(
                kind="deliverable",
                title=item.get_kind_display(),
                engagement=engagement,
                days=rules.days_between(since, now, tz),
                url=reverse("engagements:detail", args=[engagement.code]) + f"#item-{item.public_id}",
                action=_("Deliver"),
            )
        )
    return needs


def client_home(user: User, now: datetime | None = None) -> ClientHome:
    now, tz = now or timezone.now(), business_tz()
    engagements = list(_engagements(user))
    by_id = {e.pk: e for e in engagements}
    running = [e for e in engagements if e.status in RUNNING]
    running_ids = [e.pk for e in running]
    requests = list(
        FormalRequest.objects.filter(engagement_id__in=running_ids, answered_at__isnull=True)
        .only("engagement_id", "subject", "sent_at")
        .order_by("sent_at")
    )
    items = list(
        ChecklistItem.objects.filter(engagement_id__in=running_ids)
        .only("engagement_id", "public_id", "kind", "status", "required_for_access", "delivered_at", "verified_at")
        .order_by("order")
    )
    upcoming = list(
        Session.objects.filter(engagement_id__in=running_ids, scheduled_at__gte=now, log_published_at__isnull=True)
        .only("public_id", "engagement_id", "number", "title_es", "title_en", "scheduled_at", "video_link")
        .order_by("scheduled_at")
    )
    steps = list(
        NextStep.objects.filter(engagement_id__in=running_ids, done_at__isnull=True)
        .only("engagement_id", "description", "owner", "due_date")
        .order_by("due_date", "pk")[:NEXT_STEPS_SHOWN]
    )
    for step in steps:
        step.engagement = by_id[step.engagement_id]
    items_of: dict[int, list[ChecklistItem]] = {pk: [] for pk in running_ids}
    for item in items:
        items_of[item.engagement_id].append(item)
    next_of: dict[int, Session] = {}
    for session in upcoming:
        session.engagement = by_id[session.engagement_id]
        next_of.setdefault(session.engagement_id, session)
    open_by_id = {r.pk: r for r in requests}
    needs = _request_needs(requests, by_id, now, tz) + _deliverable_needs(items, by_id, now, tz)
    parts = panels.home_parts(user, by_id, now)
    for part in parts:
        needs.extend(part.needs)
    needs.sort(key=lambda need: -need.days)
    count = {pk: 0 for pk in by_id}
    for need in needs:
        count[need.engagement.pk] += 1
    rows = [
        HomeEngagement(e, _when(e, items_of[e.pk], open_by_id, now, tz), next_of.get(e.pk), count[e.pk])
        for e in running
    ]
    return ClientHome(
        running=rows,
        ended=[e for e in engagements if e.status in rules.TERMINAL],
        needs=needs,
        next_session=upcoming[0] if upcoming else None,
        next_steps=steps,
        owe=[part.owe for part in parts if part.owe is not None],
        credit_months=engagements[0].terms.credit_validity_months if engagements else 6,
        company=engagements[0].company if engagements else companies_for_user(user).first(),
    )
