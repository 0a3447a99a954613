"""Reads for engagement pages, always scoped to the acting user.

Every page's queries are a fixed set whatever the amount of data: lists are
prefetched (sliced per engagement where only the latest matter), never
fetched per row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, Min, OuterRef, Q, QuerySet, Subquery, prefetch_related_objects
from django.db.models.functions import Coalesce
from django.utils import timezone

from engagements import panels, rules
from engagements.models import (
    Attachment,
    ChangeRequest,
    ChecklistItem,
    ChecklistStatus,
    Engagement,
    EngagementEvent,
    FormalRequest,
    InternalNote,
    NextStep,
    PhasePlan,
    Session,
    Status,
)
from engagements.services.lifecycle import admin_close_first_day
from portal.clock import business_tz
from portal.models import Role, User

LEADS_SHOWN = 10  # the newest; the rest through the "lead" filter of the pipeline
TIMELINE_SHOWN = 10  # the latest events on the engagement page; the rest on its history page
LOGS_SHOWN = 3  # the latest session logs in full; the older ones on the sessions page


# ---------------------------------------------------------------- scoping


def count_of(queryset: QuerySet, by: str = "engagement") -> Coalesce:
    """How many rows `queryset` (filtered on OuterRef through `by`) has, as a subquery: no GROUP BY
    on the outer query, so several counts can annotate one row."""
    counted = queryset.order_by().values(by).annotate(n=Count("pk")).values("n")[:1]
    return Coalesce(Subquery(counted), 0)


def engagement_list_for_user(user: User) -> QuerySet[Engagement]:
    """Staff: all. Consultant: assigned to them. Client: their company's, past the lead stage."""
    if not user.is_authenticated or not user.is_active:
        return Engagement.objects.none()
    if user.role == Role.STAFF:
        return Engagement.objects.all()
    if user.role == Role.CONSULTANT:
        return Engagement.objects.filter(consultant=user)
    return Engagement.objects.filter(company__memberships__user=user).exclude(status=rules.LEAD)


def _in_scope(model, user: User) -> QuerySet:
    return model.objects.filter(engagement__in=engagement_list_for_user(user))


def request_list_for_user(user: User) -> QuerySet[FormalRequest]:
    return _in_scope(FormalRequest, user).select_related("engagement")


def session_list_for_user(user: User) -> QuerySet[Session]:
    return _in_scope(Session, user).select_related("engagement")


def checklist_list_for_user(user: User) -> QuerySet[ChecklistItem]:
    return _in_scope(ChecklistItem, user).select_related("engagement")


def next_step_list_for_user(user: User) -> QuerySet[NextStep]:
    return _in_scope(NextStep, user).select_related("engagement")


def change_request_list_for_user(user: User) -> QuerySet[ChangeRequest]:
    return _in_scope(ChangeRequest, user).select_related("engagement")


def event_list_for_user(user: User) -> QuerySet[EngagementEvent]:
    """Timeline events; clients see only those meant for them."""
    events = _in_scope(EngagementEvent, user).select_related("actor")
    return events.filter(client_visible=True) if user.role == Role.CLIENT else events


def attachment_list_for_user(user: User) -> QuerySet[Attachment]:
    return Attachment.objects.filter(request__engagement__in=engagement_list_for_user(user))


# ---------------------------------------------------------------- the engagement page


@dataclass
class SessionUse:
    held: int
    total: int
    minutes_used: int
    minutes_remaining: int
    minutes_over: int


@dataclass
class Waiting:
    """While an engagement waits on the client: since when and for what."""

    since: datetime
    request: FormalRequest | None  # the request R1 fired on
    open_requests: list[FormalRequest]  # for a hold put by hand: whatever is still open
    items: list[ChecklistItem]
    admin_close_from: date
    admin_close_allowed: bool  # R2: staff may close administratively (before, only cancel)


@dataclass
class EngagementView:
    engagement: Engagement
    estimate: rules.EstimateWindow
    health: str | None  # None once the engagement has ended
    waiting: Waiting | None
    access_complete: date | None
    sessions: list[Session]  # not logged yet (to schedule, to log) and the latest logs, by number
    session_use: SessionUse
    older_logs: int  # logs not shown in full on the page (the sessions page has them all)
    session_days: list[tuple[date, int]]  # (day held, number) of every held session, for the chart
    open_requests: list[tuple[FormalRequest, int]]
    answered_requests: list[FormalRequest]  # each with `is_new`: answered by the client this week
    checklist: list[ChecklistItem]
    checklist_pending: list[ChecklistItem]
    next_steps: list[NextStep]
    timeline: list[EngagementEvent]
    timeline_more: bool  # older events exist (the history page)
    internal_notes: list[InternalNote]  # always empty for clients
    change_requests: list[ChangeRequest]
    phases: list[PhasePlan]
    wait_periods: list[tuple[date, date]]


def access_complete_on(items: list[ChecklistItem], tz) -> date | None:
    """The day the last required item was delivered, once all of them are."""
    required = [item for item in items if item.required_for_access]
    done = (ChecklistStatus.DELIVERED, ChecklistStatus.VERIFIED)
    if not required or any(item.status not in done or item.delivered_at is None for item in required):
        return None
    return max(rules.local_date(item.delivered_at, tz) for item in required)


def wait_periods(engagement: Engagement, now: datetime, tz) -> list[tuple[date, date]]:
    """Every wait on the client as (first day, last day), the current one up to today."""
    periods = engagement.past_waits
    if engagement.waiting_since is not None:
        periods.append((rules.local_date(engagement.waiting_since, tz), rules.local_date(now, tz)))
    return periods


def _waiting(
    engagement: Engagement, requests: list[FormalRequest], pending: list[ChecklistItem], today: date
) -> Waiting | None:
    if engagement.status != rules.WAITING or engagement.waiting_since is None:
        return None
    about = next((r for r in requests if r.pk == engagement.waiting_for_id), None)
    first_day = admin_close_first_day(engagement)
    return Waiting(
        since=engagement.waiting_since,
        request=about,
        open_requests=[] if about else [r for r in requests if r.is_open],
        items=[] if about else pending,
        admin_close_from=first_day,
        admin_close_allowed=today >= first_day,
    )


def engagement_page_queryset(user: User) -> QuerySet[Engagement]:
    """The engagement with what its page shows of it in one row: its terms (without the policy
    texts), company, consultant, diagnosis and inquiry, and the panels' figures as subqueries. Its
    lists are read by engagement_view, each by one plain query on the engagement's id."""
    queryset = (
        engagement_list_for_user(user)
        .select_related("terms", "company", "consultant", "diagnosis", "inquiry")
        .defer("terms__policy_es", "terms__policy_en")
    )
    changes = ChangeRequest.objects.filter(engagement=OuterRef("pk"))
    return panels.annotate_page(queryset, user).annotate(all_changes=count_of(changes))


def _timeline(engagement: Engagement, user: User) -> list[EngagementEvent]:
    """The latest events, one more than shown: whether the history page has older ones."""
    events = EngagementEvent.objects.filter(engagement_id=engagement.pk).select_related("actor")
    if user.role == Role.CLIENT:
        events = events.filter(client_visible=True)
    return list(events.order_by("-created_at", "-id")[: TIMELINE_SHOWN + 1])


def _sessions(engagement: Engagement, now: datetime, tz) -> tuple[list[Session], list[tuple], int]:
    """The sessions the page shows in full (not logged yet, and the latest logs), plus a light row
    of every session for the counts and the chart: one query whatever the number of logs."""
    every = list(Session.objects.filter(engagement=engagement).order_by("number"))
    rows = [(s.pk, s.number, s.scheduled_at, s.log_published_at, s.minutes_used) for s in every]
    logged = sorted((s for s in every if s.log_published_at), key=lambda s: s.log_published_at, reverse=True)
    latest = {s.pk for s in logged[:LOGS_SHOWN]}
    sessions = [s for s in every if s.log_published_at is None or s.pk in latest]
    for session in sessions:
        session.engagement = engagement
        session.is_held = rules.session_held(session.scheduled_at, now)
    return sessions, rows, max(0, len(logged) - LOGS_SHOWN)


def _with_attachments(answered: list[FormalRequest], now: datetime) -> list[FormalRequest]:
    """The answered requests, newest answer first, marked new when the client answered this week
    (the worklist flags them too); their files read only when one has any."""
    from engagements.selectors.worklist import NEW_ANSWER_DAYS

    since = now - timedelta(days=NEW_ANSWER_DAYS)
    for request in answered:
        request.is_new = not request.answered_elsewhere and request.answered_at >= since
    if any(r.attachment_count for r in answered):
        prefetch_related_objects(answered, "attachments")
    return sorted(answered, key=lambda r: r.answered_at, reverse=True)


def engagement_view(engagement: Engagement, user: User, now: datetime | None = None) -> EngagementView:
    """Everything the engagement page shows, computed from prefetched rows."""
    now, tz = now or timezone.now(), business_tz()
    sessions, rows, older = _sessions(engagement, now, tz)
    checklist = list(ChecklistItem.objects.filter(engagement_id=engagement.pk).order_by("order"))
    attachments = count_of(Attachment.objects.filter(request=OuterRef("pk")), by="request")
    requests = list(FormalRequest.objects.filter(engagement_id=engagement.pk).annotate(attachment_count=attachments))
    access = access_complete_on(checklist, tz)
    scope = rules.local_date(engagement.scope_confirmed_at, tz) if engagement.scope_confirmed_at else None
    periods = wait_periods(engagement, now, tz)
    window = rules.estimate_window(
        scope_confirmed=scope,
        access_complete=access,
        wait_periods=periods,
        min_weeks=engagement.terms.estimate_min_weeks,
        max_weeks=engagement.terms.estimate_max_weeks,
    )
    used = [minutes or 0 for _pk, _n, _at, logged, minutes in rows if logged]
    minutes = rules.session_minutes(used, engagement.terms.included_minutes)
    # A closed or cancelled engagement asks the client for nothing any more.
    pending = (
        []
        if engagement.is_terminal
        else [i for i in checklist if i.status in (ChecklistStatus.PENDING, ChecklistStatus.RETURNED)]
    )
    steps = list(NextStep.objects.filter(engagement_id=engagement.pk, done_at__isnull=True).order_by("due_date", "pk"))
    for step in steps:
        step.can_mark = rules.may_mark_step(user.role, step.owner)
    timeline = _timeline(engagement, user)
    return EngagementView(
        engagement=engagement,
        estimate=window,
        health=rules.estimate_health(window, rules.local_date(now, tz), engagement.progress_percent, engagement.status),
        waiting=_waiting(engagement, requests, pending, rules.local_date(now, tz)),
        access_complete=access,
        sessions=sessions,
        session_use=SessionUse(len(used), len(rows), *minutes),
        older_logs=older,
        session_days=[
            (rules.local_date(at, tz), number) for _pk, number, at, _logged, _m in rows if rules.session_held(at, now)
        ],
        # An ended engagement asks for no answer any more (its open requests stay in the timeline).
        open_requests=[]
        if engagement.is_terminal
        else [(r, rules.days_between(r.sent_at, now, tz)) for r in requests if r.is_open],
        answered_requests=_with_attachments([r for r in requests if not r.is_open], now),
        checklist=checklist,
        checklist_pending=pending,
        next_steps=steps,
        timeline=timeline[:TIMELINE_SHOWN],
        timeline_more=len(timeline) > TIMELINE_SHOWN,
        internal_notes=list(InternalNote.objects.filter(engagement_id=engagement.pk).select_related("author"))
        if user.role != Role.CLIENT
        else [],
        phases=list(PhasePlan.objects.filter(engagement_id=engagement.pk).order_by("order")),
        # Read only when there are some (counted in the engagement's query): most engagements have none.
        change_requests=list(ChangeRequest.objects.filter(engagement=engagement).select_related("raised_by"))
        if engagement.all_changes
        else [],
        wait_periods=periods,
    )


# ---------------------------------------------------------------- lists: client, consultant, staff


def _with_urgency(queryset: QuerySet[Engagement]) -> QuerySet[Engagement]:
    """Annotate the oldest unanswered request and the latest request (R1 reads the latest only)."""
    latest = FormalRequest.objects.filter(engagement=OuterRef("pk")).order_by("-sent_at", "-id")
    return queryset.annotate(
        oldest_open_request=Min("requests__sent_at", filter=Q(requests__answered_at__isnull=True)),
        latest_request=Subquery(latest.values("sent_at")[:1]),
        latest_answered=Subquery(latest.values("answered_at")[:1]),
        open_request_count=Count("requests", filter=Q(requests__answered_at__isnull=True), distinct=True),
    ).select_related("company", "terms", "consultant")


@dataclass
class UrgencyRow:
    engagement: Engagement
    days_oldest_open: int | None
    r1_on: date | None
    r2_on: date | None


def _urgency(engagement: Engagement, now: datetime, tz) -> UrgencyRow:
    wait_rules = engagement.terms.wait_rules
    oldest = engagement.oldest_open_request
    days = rules.days_between(oldest, now, tz) if oldest else None
    r1_on = r2_on = None
    clock = rules.r1_clock(engagement.latest_request, engagement.latest_answered is not None, engagement.reactivated_at)
    if engagement.status == rules.ACTIVE and clock is not None:
        r1_on = rules.r1_fires_on(clock, tz, wait_rules)
    if engagement.status == rules.WAITING and engagement.waiting_since:
        r2_on = rules.r2_fires_on(engagement.waiting_since, tz, wait_rules)
    return UrgencyRow(engagement, days, r1_on, r2_on)


def sessions_log_overdue(user: User, now: datetime | None = None, limit: int = 10) -> list[Session]:
    """Held sessions of running engagements still without a log after
    `rules.LOG_DUE_BUSINESS_DAYS` business days, oldest first."""
    now, tz = now or timezone.now(), business_tz()
    before = rules.day_starts(rules.log_overdue_before(rules.local_date(now, tz)), tz)
    return list(
        session_list_for_user(user)
        .filter(
            engagement__status__in=[rules.ACTIVE, rules.WAITING],
            log_published_at__isnull=True,
            scheduled_at__lt=before,
        )
        .select_related("engagement__consultant")
        .order_by("scheduled_at")[:limit]
    )


@dataclass
class Pipeline:
    counts: list[tuple[str, str, int]]  # (status, label, count) for every status
    logs_overdue: list[Session]
    leads: list[Engagement]
    rows: list  # WorkRow: the running engagements (or those of one status), what needs action first


def staff_pipeline(user: User, now: datetime | None = None, status: str = "") -> Pipeline:
    """Staff's pipeline: counts per status, the newest leads, and the worklist of every running
    engagement (or of `status`), with the same flags as the consultant's."""
    from engagements.selectors.worklist import RUNNING, worklist

    scoped = engagement_list_for_user(user)
    found = dict(scoped.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    counts = [(value, label, found.get(value, 0)) for value, label in Status.choices]
    leads = list(scoped.filter(status=rules.LEAD).select_related("inquiry").order_by("-created_at")[:LEADS_SHOWN])
    statuses = (status,) if status in Status.values else RUNNING
    return Pipeline(counts, sessions_log_overdue(user, now), leads, worklist(user, scoped, now, statuses))


from engagements.selectors.home import ClientHome, client_home  # noqa: E402 (they read the scoping above)
from engagements.selectors.worklist import WorkRow, consultant_worklist, worklist  # noqa: E402

__all__ = ["ClientHome", "WorkRow", "client_home", "consultant_worklist", "worklist"]
