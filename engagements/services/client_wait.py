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
from django_q.tasks import async_task

from engagements import rules
from engagements.models import Engagement, FormalRequest, ServiceTerms, WaitNotice
from engagements.reasons import R1_REASON, R2_REASON
from engagements.services.lifecycle import (
    business_tz,
    client_addresses,
    consultant_addresses,
    engagement_admin_close,
    engagement_transition,
)
from portal.notifications import email_enqueue, staff_addresses


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


def _r1_clock() -> Subquery:
    """rules.r1_clock in SQL, as one subquery: the latest request, if open, from the later of its
    sending and the last reactivation (NULL otherwise)."""
    latest = FormalRequest.objects.filter(engagement=OuterRef("pk")).order_by("-sent_at", "-id")
    restarted = Greatest("sent_at", Coalesce(OuterRef("reactivated_at"), "sent_at"))
    return Subquery(latest.annotate(clock=Case(When(answered_at__isnull=True, then=restarted))).values("clock")[:1])


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


def _with_clocks(queryset: QuerySet[Engagement]) -> QuerySet[Engagement]:
    """Annotate the clock each engagement's rule reads (R1's for an active one, the start of the
    wait for one waiting on the client) and its latest request."""
    return queryset.annotate(
        clock=Case(When(status=rules.ACTIVE, then=_r1_clock()), When(status=rules.WAITING, then=F("waiting_since"))),
        latest_id=_latest("id"),
        latest_public_id=_latest("public_id"),
    )


def client_wait_due(now: datetime) -> QuerySet[Engagement]:
    """Running engagements (not manually held) whose R1 or R2 clock calls for an
    action or a warning today that was not given for that clock yet."""
    today, automatic = rules.local_date(now, business_tz()), settings.ADMIN_CLOSE_AUTOMATIC
    terms_ids = Engagement.objects.filter(status__in=[rules.ACTIVE, rules.WAITING]).values("terms_id")
    due = Q(pk__in=[])
    for terms in ServiceTerms.objects.filter(pk__in=terms_ids):
        due |= _due_for(terms, today, automatic)
    running = Engagement.objects.filter(Q(status=rules.ACTIVE) | Q(status=rules.WAITING, held_manually=False))
    return (
        _with_clocks(running)
        .annotate(r1_noticed=_noticed("r1"), r2_noticed=_noticed("r2"), r2_eligible_noticed=_noticed("r2_eligible"))
        .filter(due)
        .select_related("terms")
        .order_by("pk")
    )


# ---------------------------------------------------------------- deciding, then acting in bulk


@dataclass(frozen=True)
class _Step:
    action: Action
    engagement: Engagement  # annotated by _with_clocks
    notice: str = ""  # the WaitNotice a warning or a flag records; "" for a move


def _decide(engagement: Engagement, now: datetime) -> _Step | None:
    """What the rules say about one engagement's clock today (no query)."""
    tz, wait, code = business_tz(), engagement.terms.wait_rules, engagement.code
    if engagement.status == rules.ACTIVE:
        days = rules.r1_days(engagement.clock, now, tz)
        if rules.r1_applies(days, wait):
            return _Step(Action(code, "r1", rules.ACTIVE, rules.WAITING, days), engagement)
        if rules.r1_warning_due(days, wait):
            return _Step(Action(code, "r1_warning", rules.ACTIVE, rules.ACTIVE, days), engagement, "r1")
        return None
    if engagement.status != rules.WAITING or engagement.held_manually or engagement.clock is None:
        return None
    days = rules.days_between(engagement.clock, now, tz)
    if rules.r2_eligible(days, wait) and settings.ADMIN_CLOSE_AUTOMATIC:
        return _Step(Action(code, "r2", rules.WAITING, rules.ADMIN_CLOSED, days), engagement)
    if rules.r2_eligible(days, wait):
        flag = Action(code, "r2_eligible", rules.WAITING, rules.ADMIN_CLOSED, days, flagged_only=True)
        return _Step(flag, engagement, "r2_eligible")
    if rules.r2_warning_due(days, wait):
        return _Step(Action(code, "r2_warning", rules.WAITING, rules.WAITING, days), engagement, "r2")
    return None


def _notice(step: _Step) -> WaitNotice:
    return WaitNotice(engagement_id=step.engagement.pk, rule=step.notice, clock_started_at=step.engagement.clock)


def _record_notices(steps: list[_Step]) -> list[_Step]:
    """One insert for every warning and flag of the day; the unique row per clock is what makes
    each go out once. If a concurrent sweep got some first, keep only those that are ours."""
    if not steps:
        return []
    try:
        with transaction.atomic():
            WaitNotice.objects.bulk_create([_notice(step) for step in steps])
        return steps
    except IntegrityError:
        return [step for step in steps if _notice_once(step)]


def _notice_once(step: _Step) -> bool:
    try:
        with transaction.atomic():
            _notice(step).save()
    except IntegrityError:
        return False
    return True


def _move(steps: list[_Step], now: datetime) -> list[_Step]:
    """Lock the engagements that move (one statement), re-check each under its lock (an answer or
    a reactivation may have come in since the query), and move it through the one transition service."""
    if not steps:
        return []
    moved = []
    with transaction.atomic():
        movers = Engagement.objects.select_for_update(of=("self",)).filter(pk__in=[s.engagement.pk for s in steps])
        for engagement in _with_clocks(movers).select_related("terms", "company").order_by("pk"):
            step = _decide(engagement, now)
            if step is None or step.action.rule not in ("r1", "r2"):
                continue
            wait = engagement.terms.wait_rules
            if step.action.rule == "r1":
                engagement_transition(
                    engagement=engagement,
                    target=rules.WAITING,
                    actor=None,
                    reason=R1_REASON % {"days": wait.wait_after_days},
                    data={"rule": "r1", "request": str(engagement.latest_public_id)},
                    waiting_for=FormalRequest(pk=engagement.latest_id),
                )
            else:
                engagement_admin_close(
                    actor=None, engagement=engagement, reason=R2_REASON % {"days": wait.close_after_days}
                )
            moved.append(step)
    return moved


# Mail per rule: template and who gets it ("client", "consultant", "staff").
MAILS = {
    "r1": ("engagement_waiting", ("client", "staff")),
    "r1_warning": ("wait_warning_r1", ("client", "consultant", "staff")),
    "r2_warning": ("wait_warning_r2", ("client", "staff")),
    "r2_eligible": ("admin_close_eligible", ("staff",)),
}  # r2 (the automatic close): engagement_admin_close sends its own


def _mail(step: _Step, now: datetime) -> dict:
    engagement, tz, wait = step.engagement, business_tz(), step.engagement.terms.wait_rules
    mail = {"engagement": engagement.pk, "rule": step.action.rule}
    if step.action.rule == "r1_warning":
        mail.update(request=engagement.latest_id, fires_on=rules.r1_fires_on(engagement.clock, tz, wait).isoformat())
    if step.action.rule == "r2_warning":
        mail.update(fires_on=rules.r2_fires_on(engagement.clock, tz, wait).isoformat())
    return mail


def client_wait_sweep(*, now: datetime, dry_run: bool = False) -> list[Action]:
    """Apply R1/R2 (and their warnings) to the engagements due today: one query finds them, the
    warnings are recorded in one insert, only the engagements that move are locked. The mail goes
    out from one follow-up task (client_wait_notify) once this has committed."""
    steps = [step for engagement in client_wait_due(now) if (step := _decide(engagement, now))]
    if dry_run:
        return [step.action for step in steps]
    done = _record_notices([s for s in steps if s.notice]) + _move([s for s in steps if not s.notice], now)
    mails = [_mail(step, now) for step in done if step.action.rule in MAILS]
    if mails:
        transaction.on_commit(lambda: async_task("engagements.tasks.client_wait_notify", mails))
    return [step.action for step in sorted(done, key=lambda s: s.engagement.pk)]


def _addresses(engagement: Engagement, audience: tuple[str, ...]) -> list[str]:
    to = client_addresses(engagement) if "client" in audience else []
    to += consultant_addresses(engagement) if "consultant" in audience else []
    return to + (staff_addresses() if "staff" in audience else [])


def client_wait_notify(*, mails: list[dict]) -> int:
    """The sweep's mail, rendered and queued here rather than under its locks (task body)."""
    engagements = Engagement.objects.select_related("company", "consultant").in_bulk([m["engagement"] for m in mails])
    requests = FormalRequest.objects.in_bulk([m["request"] for m in mails if m.get("request")])
    for mail in mails:
        engagement = engagements[mail["engagement"]]
        template, audience = MAILS[mail["rule"]]
        context = {"engagement": engagement, "rule": mail["rule"]}
        if mail.get("request"):
            context["request"] = requests[mail["request"]]
        if mail.get("fires_on"):
            context["fires_on"] = date.fromisoformat(mail["fires_on"])
        email_enqueue(to=_addresses(engagement, audience), template=template, context=context)
    return len(mails)
