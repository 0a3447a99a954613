"""Reads for engagement pages, always scoped to the acting user.

Every page's queries are a fixed set whatever the amount of data: lists are
prefetched (sliced per engagement where only the latest matter), never
fetched per row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Count, Min, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from engagements import rules
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
    Session,
    Status,
)
from portal.clock import business_tz
from portal.models import Role, User

TIMELINE_LENGTH = 15


# ---------------------------------------------------------------- scoping


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
class EngagementView:
    engagement: Engagement
    estimate: rules.EstimateWindow
    health: str
    access_complete: date | None
    sessions: list[Session]
    session_use: SessionUse
    open_requests: list[tuple[FormalRequest, int]]
    answered_requests: list[FormalRequest]
    checklist: list[ChecklistItem]
    checklist_pending: list[ChecklistItem]
    next_steps: list[NextStep]
    latest_logs: list[Session]
    timeline: list[EngagementEvent]
    change_requests: list[ChangeRequest]
    internal_notes: list[InternalNote]  # always empty for clients


def access_complete_on(items: list[ChecklistItem], tz) -> date | None:
    """The day the last required item was delivered, once all of them are."""
    required = [item for item in items if item.required_for_access]
    done = (ChecklistStatus.DELIVERED, ChecklistStatus.VERIFIED)
    if not required or any(item.status not in done or item.delivered_at is None for item in required):
        return None
    return max(rules.local_date(item.delivered_at, tz) for item in required)


def days_waiting_total(engagement: Engagement, now: datetime, tz) -> int:
    current = rules.days_between(engagement.waiting_since, now, tz) if engagement.waiting_since else 0
    return engagement.days_waited + current


def _prefetches(is_client: bool) -> list:
    events = EngagementEvent.objects.select_related("actor").order_by("-created_at", "-id")
    if is_client:
        events = events.filter(client_visible=True)
    return [
        Prefetch("sessions", queryset=Session.objects.order_by("number")),
        Prefetch("requests", queryset=FormalRequest.objects.prefetch_related("attachments")),
        Prefetch("checklist", queryset=ChecklistItem.objects.order_by("order")),
        Prefetch("next_steps", queryset=NextStep.objects.select_related("session").order_by("done_at", "due_date")),
        Prefetch("events", queryset=events[:TIMELINE_LENGTH], to_attr="timeline"),
        Prefetch("change_requests", queryset=ChangeRequest.objects.select_related("raised_by")),
        Prefetch("phases"),
    ]


def engagement_page_queryset(user: User) -> QuerySet[Engagement]:
    queryset = engagement_list_for_user(user).select_related(
        "terms__service", "company", "consultant", "diagnosis", "inquiry"
    )
    prefetches = _prefetches(user.role == Role.CLIENT)
    if user.role != Role.CLIENT:
        prefetches.append(Prefetch("internal_notes", queryset=InternalNote.objects.select_related("author")))
    return queryset.prefetch_related(*prefetches)


def engagement_view(engagement: Engagement, user: User, now: datetime | None = None) -> EngagementView:
    """Everything the engagement page shows, computed from prefetched rows."""
    now, tz = now or timezone.now(), business_tz()
    sessions = list(engagement.sessions.all())
    checklist = list(engagement.checklist.all())
    requests = list(engagement.requests.all())
    access = access_complete_on(checklist, tz)
    scope = rules.local_date(engagement.scope_confirmed_at, tz) if engagement.scope_confirmed_at else None
    window = rules.estimate_window(
        scope_confirmed=scope,
        access_complete=access,
        days_waiting=days_waiting_total(engagement, now, tz),
        min_weeks=engagement.terms.estimate_min_weeks,
        max_weeks=engagement.terms.estimate_max_weeks,
    )
    used = [s.minutes_used or 0 for s in sessions if s.log_published_at]
    minutes = rules.session_minutes(used, engagement.terms.included_minutes)
    return EngagementView(
        engagement=engagement,
        estimate=window,
        health=rules.estimate_health(window, rules.local_date(now, tz), engagement.progress_percent),
        access_complete=access,
        sessions=sessions,
        session_use=SessionUse(len(used), len(sessions), *minutes),
        open_requests=[(r, rules.days_between(r.sent_at, now, tz)) for r in requests if r.is_open],
        answered_requests=[r for r in requests if not r.is_open],
        checklist=checklist,
        # A closed or cancelled engagement asks the client for nothing any more.
        checklist_pending=[]
        if engagement.is_terminal
        else [i for i in checklist if i.status in (ChecklistStatus.PENDING, ChecklistStatus.RETURNED)],
        next_steps=[s for s in engagement.next_steps.all() if s.done_at is None],
        latest_logs=sorted((s for s in sessions if s.log_published_at), key=lambda s: s.log_published_at, reverse=True)[
            :3
        ],
        timeline=list(engagement.timeline),
        change_requests=list(engagement.change_requests.all()),
        internal_notes=list(engagement.internal_notes.all()) if user.role != Role.CLIENT else [],
    )


# ---------------------------------------------------------------- lists: client, consultant, staff


def _with_urgency(queryset: QuerySet[Engagement]) -> QuerySet[Engagement]:
    """Annotate the oldest unanswered request and the latest request (R1 looks at the latest only)."""
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
    if engagement.status == rules.ACTIVE and engagement.latest_request and engagement.latest_answered is None:
        r1_on = rules.r1_fires_on(engagement.latest_request, tz, wait_rules)
    if engagement.status == rules.WAITING and engagement.waiting_since:
        r2_on = rules.r2_fires_on(engagement.waiting_since, tz, wait_rules)
    return UrgencyRow(engagement, days, r1_on, r2_on)


def consultant_workspace(user: User, now: datetime | None = None) -> list[UrgencyRow]:
    """My running engagements, most urgent first: the oldest unanswered request, then the nearest threshold."""
    now, tz = now or timezone.now(), business_tz()
    running = engagement_list_for_user(user).exclude(status__in=rules.TERMINAL)
    rows = [_urgency(e, now, tz) for e in _with_urgency(running)]
    far = date.max
    return sorted(rows, key=lambda r: (-(r.days_oldest_open or -1), min(r.r1_on or far, r.r2_on or far)))


@dataclass
class Pipeline:
    counts: list[tuple[str, str, int]]  # (status, label, count) for every status
    near_threshold: list[UrgencyRow]
    leads: list[Engagement]
    columns: list[tuple[str, str, list[Engagement]]]  # open statuses with their engagements


def staff_pipeline(user: User, now: datetime | None = None, horizon_days: int = 21) -> Pipeline:
    now, tz = now or timezone.now(), business_tz()
    scoped = engagement_list_for_user(user)
    found = dict(scoped.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    counts = [(status, label, found.get(status, 0)) for status, label in Status.choices]
    running = _with_urgency(scoped.filter(status__in=[rules.ACTIVE, rules.WAITING]))
    today = rules.local_date(now, tz)
    near = [
        row
        for row in (_urgency(e, now, tz) for e in running)
        if any(d and (d - today).days <= horizon_days for d in (row.r1_on, row.r2_on))
    ]
    open_statuses = [rules.DIAGNOSIS, rules.QUOTED, rules.ACTIVE, rules.WAITING]
    by_status: dict[str, list[Engagement]] = {status: [] for status in open_statuses}
    for engagement in scoped.filter(status__in=open_statuses).select_related("company", "consultant")[:200]:
        by_status[engagement.status].append(engagement)
    leads = list(scoped.filter(status=rules.LEAD).select_related("inquiry").order_by("-created_at")[:50])
    labels = dict(Status.choices)
    columns = [(status, labels[status], by_status[status]) for status in open_statuses]
    near.sort(key=lambda r: min(r.r1_on or date.max, r.r2_on or date.max))
    return Pipeline(counts, near, leads, columns)


def client_engagements(user: User) -> QuerySet[Engagement]:
    """The client's home cards: only the columns a card shows, and the requests awaiting an answer.

    Kept this narrow on purpose: the dashboard is the busiest page, and building and planning the
    full urgency query cost three times what the page itself does.
    """
    return (
        engagement_list_for_user(user)
        .only("code", "title", "status", "phase", "progress_percent", "status_changed_at")
        .annotate(open_request_count=Count("requests", filter=Q(requests__answered_at__isnull=True)))
        .order_by("status_changed_at")
    )
