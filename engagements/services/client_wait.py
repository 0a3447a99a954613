"""R1 and R2 applied to stored dates: the sweep behind `apply_client_wait_rules`.

The rules themselves are pure (engagements.rules). The sweep is set-based: one
query finds the engagements whose clock has crossed a threshold or a warning
line today and that were not handled for that clock yet; only those that
change status are locked, re-checked and moved. Warnings need no lock: their
WaitNotice row (unique per clock) is what makes them go out once.

It never touches terminal states nor a hold staff set by hand (staff decide
those). R2 only flags an engagement as eligible for administrative close,
unless the ADMIN_CLOSE_AUTOMATIC setting says to close it. Running the sweep
twice the same day finds nothing the second time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Case, Exists, F, OuterRef, Q, QuerySet, Subquery, When
from django.db.models.functions import Coalesce, Greatest

from engagements import rules
from engagements.models import Engagement, FormalRequest, ServiceTerms, WaitNotice
from engagements.services.lifecycle import (
    business_tz,
    client_addresses,
    consultant_addresses,
    engagement_admin_close,
    engagement_transition,
)
from portal.notifications import email_enqueue, staff_addresses

R1_REASON = "R1: latest formal request unanswered for more than %(days)d days"
R2_REASON = "R2: waiting on the client for %(days)d days"


@dataclass(frozen=True)
class Action:
    engagement: str  # code
    rule: str  # r1, r2, r1_warning, r2_warning, r2_eligible
    old_status: str
    new_status: str
    days: int
    flagged_only: bool = False  # R2 without automatic close: proposed to staff, not done

    def line(self) -> str:
        note = " [flagged: staff decide]" if self.flagged_only else ""
        return f"{self.engagement} {self.rule} {self.old_status} -> {self.new_status} ({self.days} days){note}"


# ---------------------------------------------------------------- the one query


def _latest(field: str) -> Subquery:
    latest = FormalRequest.objects.filter(engagement=OuterRef("pk")).order_by("-sent_at", "-id")
    return Subquery(latest.values(field)[:1])


def _noticed(rule: str) -> Exists:
    return Exists(WaitNotice.objects.filter(engagement=OuterRef("pk"), rule=rule, clock_started_at=OuterRef("clock")))


def _due_for(terms: ServiceTerms, today: date, automatic: bool) -> Q:
    """The rows of one terms version whose clock is due today (see rules.clock_cutoff)."""
    tz, wait = business_tz(), terms.wait_rules
    r1 = rules.clock_cutoff(today, wait.wait_after_days + 1, tz)
    r1_warn = rules.clock_cutoff(today, wait.wait_after_days + 1 - wait.warn_before_wait_days, tz)
    r2 = rules.clock_cutoff(today, wait.close_after_days, tz)
    r2_warn = rules.clock_cutoff(today, wait.close_after_days - wait.warn_before_close_days, tz)
    eligible = Q(clock__lt=r2) if automatic else Q(clock__lt=r2, r2_eligible_noticed=False)
    return Q(terms_id=terms.pk) & (
        Q(status=rules.ACTIVE, clock__lt=r1_warn) & (Q(clock__lt=r1) | Q(r1_noticed=False))
        | Q(status=rules.WAITING, clock__lt=r2_warn) & (eligible | Q(clock__gte=r2, r2_noticed=False))
    )


def client_wait_due(now: datetime) -> QuerySet[Engagement]:
    """Running engagements (not manually held) whose R1 or R2 clock calls for an
    action or a warning today that was not given for that clock yet."""
    today, automatic = rules.local_date(now, business_tz()), settings.ADMIN_CLOSE_AUTOMATIC
    terms_ids = Engagement.objects.filter(status__in=[rules.ACTIVE, rules.WAITING]).values("terms_id")
    due = Q(pk__in=[])
    for terms in ServiceTerms.objects.filter(pk__in=terms_ids):
        due |= _due_for(terms, today, automatic)
    r1_clock = Greatest("latest_sent", Coalesce("reactivated_at", "latest_sent"))  # rules.r1_clock
    return (
        Engagement.objects.filter(Q(status=rules.ACTIVE) | Q(status=rules.WAITING, held_manually=False))
        .annotate(latest_id=_latest("id"), latest_sent=_latest("sent_at"), latest_answered=_latest("answered_at"))
        .annotate(
            clock=Case(
                When(status=rules.ACTIVE, latest_id__isnull=False, latest_answered__isnull=True, then=r1_clock),
                When(status=rules.WAITING, then=F("waiting_since")),
            )
        )
        .annotate(r1_noticed=_noticed("r1"), r2_noticed=_noticed("r2"), r2_eligible_noticed=_noticed("r2_eligible"))
        .filter(due)
        .select_related("terms", "company")
        .order_by("pk")
    )


# ---------------------------------------------------------------- acting on one row


def _notice_once(engagement: Engagement, rule: str, clock: datetime, dry_run: bool) -> bool:
    """True the first time a warning is due for this clock."""
    if dry_run:
        return not WaitNotice.objects.filter(engagement=engagement, rule=rule, clock_started_at=clock).exists()
    try:
        with transaction.atomic():
            WaitNotice.objects.create(engagement=engagement, rule=rule, clock_started_at=clock)
    except IntegrityError:  # a concurrent sweep sent it
        return False
    return True


def _r1_move(engagement: Engagement, now: datetime) -> bool:
    """Lock, re-check the clock (an answer or a reactivation may have come in), move."""
    with transaction.atomic():
        engagement = (
            Engagement.objects.select_for_update(of=("self",)).select_related("terms", "company").get(pk=engagement.pk)
        )
        latest = engagement.requests.order_by("-sent_at", "-id").first()
        clock = rules.r1_clock(
            latest and latest.sent_at, bool(latest and latest.answered_at), engagement.reactivated_at
        )
        wait = engagement.terms.wait_rules
        if engagement.status != rules.ACTIVE or not rules.r1_applies(rules.r1_days(clock, now, business_tz()), wait):
            return False
        engagement_transition(
            engagement=engagement,
            target=rules.WAITING,
            actor=None,
            reason=R1_REASON % {"days": wait.wait_after_days},
            data={"rule": "r1", "request": str(latest.public_id)},
            waiting_for=latest,
        )
        email_enqueue(
            to=client_addresses(engagement) + staff_addresses(),
            template="engagement_waiting",
            context={"engagement": engagement, "rule": "r1"},
        )
    return True


def _r1(engagement: Engagement, now: datetime, dry_run: bool) -> Action | None:
    tz, wait = business_tz(), engagement.terms.wait_rules
    days = rules.r1_days(engagement.clock, now, tz)
    if rules.r1_applies(days, wait):
        if dry_run or _r1_move(engagement, now):
            return Action(engagement.code, "r1", rules.ACTIVE, rules.WAITING, days)
        return None
    if rules.r1_warning_due(days, wait) and _notice_once(engagement, "r1", engagement.clock, dry_run):
        if not dry_run:
            email_enqueue(
                to=client_addresses(engagement) + consultant_addresses(engagement) + staff_addresses(),
                template="wait_warning_r1",
                context={
                    "engagement": engagement,
                    "request": FormalRequest.objects.get(pk=engagement.latest_id),
                    "fires_on": rules.r1_fires_on(engagement.clock, tz, wait),
                },
            )
        return Action(engagement.code, "r1_warning", engagement.status, engagement.status, days)
    return None


def _r2_close(engagement: Engagement, wait: rules.WaitRules) -> bool:
    with transaction.atomic():
        locked = Engagement.objects.select_for_update(of=("self",)).get(pk=engagement.pk)
        if locked.status != rules.WAITING or locked.held_manually or locked.waiting_since != engagement.clock:
            return False  # reactivated, held by hand or closed since the query
        engagement_admin_close(actor=None, engagement=locked, reason=R2_REASON % {"days": wait.close_after_days})
    return True


def _r2(engagement: Engagement, now: datetime, dry_run: bool) -> Action | None:
    tz, wait = business_tz(), engagement.terms.wait_rules
    days = rules.days_between(engagement.clock, now, tz)
    if rules.r2_eligible(days, wait):
        if settings.ADMIN_CLOSE_AUTOMATIC:
            if dry_run or _r2_close(engagement, wait):
                return Action(engagement.code, "r2", rules.WAITING, rules.ADMIN_CLOSED, days)
            return None
        if _notice_once(engagement, "r2_eligible", engagement.clock, dry_run):
            if not dry_run:
                email_enqueue(to=staff_addresses(), template="admin_close_eligible", context={"engagement": engagement})
            return Action(engagement.code, "r2_eligible", rules.WAITING, rules.ADMIN_CLOSED, days, flagged_only=True)
        return None
    if rules.r2_warning_due(days, wait) and _notice_once(engagement, "r2", engagement.clock, dry_run):
        if not dry_run:
            email_enqueue(
                to=client_addresses(engagement) + staff_addresses(),
                template="wait_warning_r2",
                context={"engagement": engagement, "fires_on": rules.r2_fires_on(engagement.clock, tz, wait)},
            )
        return Action(engagement.code, "r2_warning", rules.WAITING, rules.WAITING, days)
    return None


def client_wait_sweep(*, now: datetime, dry_run: bool = False) -> list[Action]:
    """Apply R1/R2 (and their warnings) to the engagements due today; row locks only for those that move."""
    actions = []
    for engagement in client_wait_due(now):
        act = _r1 if engagement.status == rules.ACTIVE else _r2
        action = act(engagement, now, dry_run)
        if action is not None:
            actions.append(action)
    return actions
