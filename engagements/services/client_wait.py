"""R1 and R2 applied to stored dates: the sweep behind `apply_client_wait_rules`.

The rules themselves are pure (engagements.rules); this module finds the
candidates, re-checks each one under its row lock, and acts. It never
touches terminal states nor a hold staff set by hand (staff decide those).
R2 only flags an engagement as eligible for administrative close, unless the
ADMIN_CLOSE_AUTOMATIC setting says to close it. Running the sweep twice the
same day changes nothing the second time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Subquery

from engagements import rules
from engagements.models import Engagement, FormalRequest, WaitNotice
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


def _latest_request(engagement: Engagement) -> FormalRequest | None:
    return engagement.requests.order_by("-sent_at", "-id").first()


def _r1(engagement: Engagement, now: datetime, dry_run: bool) -> Action | None:
    latest = _latest_request(engagement)
    if latest is None:
        return None
    tz, wait_rules = business_tz(), engagement.terms.wait_rules
    days = rules.r1_days_unanswered(latest.sent_at, latest.answered_at is not None, now, tz)
    if rules.r1_applies(days, wait_rules):
        if not dry_run:
            engagement_transition(
                engagement=engagement,
                target=rules.WAITING,
                actor=None,
                reason=R1_REASON % {"days": wait_rules.wait_after_days},
                data={"rule": "r1", "request": str(latest.public_id)},
            )
            email_enqueue(
                to=client_addresses(engagement) + staff_addresses(),
                template="engagement_waiting",
                context={"engagement": engagement, "rule": "r1"},
            )
        return Action(engagement.code, "r1", rules.ACTIVE, rules.WAITING, days)
    if rules.r1_warning_due(days, wait_rules) and _notice_once(engagement, "r1", latest.sent_at, dry_run):
        if not dry_run:
            email_enqueue(
                to=client_addresses(engagement) + consultant_addresses(engagement) + staff_addresses(),
                template="wait_warning_r1",
                context={
                    "engagement": engagement,
                    "request": latest,
                    "fires_on": rules.r1_fires_on(latest.sent_at, tz, wait_rules),
                },
            )
        return Action(engagement.code, "r1_warning", engagement.status, engagement.status, days)
    return None


def _r2(engagement: Engagement, now: datetime, dry_run: bool) -> Action | None:
    tz, wait_rules = business_tz(), engagement.terms.wait_rules
    days = rules.days_between(engagement.waiting_since, now, tz)
    if rules.r2_eligible(days, wait_rules):
        automatic = settings.ADMIN_CLOSE_AUTOMATIC
        if automatic and not dry_run:
            engagement_admin_close(
                actor=None, engagement=engagement, reason=R2_REASON % {"days": wait_rules.close_after_days}
            )
        if automatic or _notice_once(engagement, "r2_eligible", engagement.waiting_since, dry_run):
            if not automatic and not dry_run:
                email_enqueue(to=staff_addresses(), template="admin_close_eligible", context={"engagement": engagement})
            rule = "r2" if automatic else "r2_eligible"
            return Action(engagement.code, rule, rules.WAITING, rules.ADMIN_CLOSED, days, flagged_only=not automatic)
        return None
    if rules.r2_warning_due(days, wait_rules) and _notice_once(engagement, "r2", engagement.waiting_since, dry_run):
        if not dry_run:
            email_enqueue(
                to=client_addresses(engagement) + staff_addresses(),
                template="wait_warning_r2",
                context={
                    "engagement": engagement,
                    "fires_on": rules.r2_fires_on(engagement.waiting_since, tz, wait_rules),
                },
            )
        return Action(engagement.code, "r2_warning", rules.WAITING, rules.WAITING, days)
    return None


def _notice_once(engagement: Engagement, rule: str, clock: datetime, dry_run: bool) -> bool:
    """True the first time a warning is due for this clock."""
    exists = WaitNotice.objects.filter(engagement=engagement, rule=rule, clock_started_at=clock).exists()
    if exists or dry_run:
        return not exists
    try:
        with transaction.atomic():
            WaitNotice.objects.create(engagement=engagement, rule=rule, clock_started_at=clock)
    except IntegrityError:  # a concurrent sweep sent it
        return False
    return True


def _apply_one(pk: int, now: datetime, dry_run: bool) -> Action | None:
    with transaction.atomic():
        engagement = Engagement.objects.select_for_update(of=("self",)).select_related("terms", "company").get(pk=pk)
        if engagement.status == rules.ACTIVE:
            return _r1(engagement, now, dry_run)
        if engagement.status == rules.WAITING and engagement.waiting_since and not engagement.held_manually:
            return _r2(engagement, now, dry_run)
        return None  # terminal or moved on since it was listed


def client_wait_candidates() -> list[int]:
    """Active engagements whose latest request is unanswered, and all waiting ones."""
    latest = FormalRequest.objects.filter(engagement=OuterRef("pk")).order_by("-sent_at", "-id")
    unanswered = (
        Engagement.objects.filter(status=rules.ACTIVE)
        .annotate(
            latest_answered=Subquery(latest.values("answered_at")[:1]), latest_id=Subquery(latest.values("id")[:1])
        )
        .filter(latest_id__isnull=False, latest_answered__isnull=True)
    )
    waiting = Engagement.objects.filter(status=rules.WAITING, held_manually=False)
    return sorted(set(unanswered.values_list("pk", flat=True)) | set(waiting.values_list("pk", flat=True)))


def client_wait_sweep(*, now: datetime, dry_run: bool = False) -> list[Action]:
    """Apply R1/R2 (and their warnings) to every candidate, one row lock at a time."""
    actions = [_apply_one(pk, now, dry_run) for pk in client_wait_candidates()]
    return [action for action in actions if action is not None]
