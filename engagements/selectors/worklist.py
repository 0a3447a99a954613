"""What needs action, engagement by engagement: the consultant's worklist and the staff pipeline.

Flags come from here (new client answers, deliverables to verify, held sessions without a log,
the 60- and 90-day marks) and from the other apps through `panels.register_flags` (failing
connections, runs needing attention, overdue payment requests). A fixed number of grouped queries
whatever the number of engagements.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Count, QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from engagements import panels, rules
from engagements.models import ChecklistItem, ChecklistStatus, Engagement, FormalRequest, Session
from engagements.panels import Flag
from engagements.services.lifecycle import business_tz
from portal.models import User

NEW_ANSWER_DAYS = 7  # a client's answer is "new" on the worklist for a week
HORIZON_DAYS = 21  # a 60- or 90-day mark this close is flagged
RUNNING = (rules.DIAGNOSIS, rules.QUOTED, rules.ACTIVE, rules.WAITING)


@dataclass
class WorkRow:
    engagement: Engagement
    flags: list[Flag] = field(default_factory=list)
    days_oldest_open: int | None = None
    r1_on: date | None = None  # the day R1 would put it on hold (active engagements)
    r2_on: date | None = None  # the first day of an administrative close (waiting ones)
    waiting_since: date | None = None

    @property
    def weight(self) -> int:
        return sum(flag.weight for flag in self.flags)


def _grouped(queryset: QuerySet) -> dict[int, int]:
    return dict(queryset.values("engagement_id").annotate(n=Count("id")).values_list("engagement_id", "n"))


def _day(day: date) -> str:
    return date_format(day, "SHORT_DATE_FORMAT")


def _threshold_flags(row: WorkRow, today: date) -> list[Flag]:
    flags = []
    if row.r1_on and (row.r1_on - today).days <= HORIZON_DAYS:
        flags.append(Flag("r1", _("Waiting on client from %(date)s") % {"date": _day(row.r1_on)}, 3, "requests"))
    if row.r2_on and (row.r2_on - today).days <= HORIZON_DAYS:
        label = _("Administrative close possible from %(date)s") % {"date": _day(row.r2_on)}
        flags.append(Flag("r2", label, 2, "waiting"))
    return flags


def _work_flags(ids: list[int], now: datetime, tz) -> dict[int, list[Flag]]:
    answers = _grouped(
        FormalRequest.objects.filter(
            engagement_id__in=ids, answered_at__gte=now - timedelta(days=NEW_ANSWER_DAYS), answered_elsewhere=False
        )
    )
    deliverables = _grouped(ChecklistItem.objects.filter(engagement_id__in=ids, status=ChecklistStatus.DELIVERED))
    before = rules.day_starts(rules.log_overdue_before(rules.local_date(now, tz)), tz)
    logs = _grouped(
        Session.objects.filter(engagement_id__in=ids, log_published_at__isnull=True, scheduled_at__lt=before)
    )
    flags: dict[int, list[Flag]] = {}
    for pk, n in logs.items():
        label = ngettext("%(n)d held session without its log", "%(n)d held sessions without their log", n) % {"n": n}
        flags.setdefault(pk, []).append(Flag("logs", label, 5, "sessions"))
    for pk, n in answers.items():
        label = ngettext("%(n)d new answer from the client", "%(n)d new answers from the client", n) % {"n": n}
        flags.setdefault(pk, []).append(Flag("answers", label, 4, "requests"))
    for pk, n in deliverables.items():
        label = ngettext("%(n)d deliverable to verify", "%(n)d deliverables to verify", n) % {"n": n}
        flags.setdefault(pk, []).append(Flag("deliverables", label, 4, "requests"))
    return flags


def worklist(
    user: User, engagements: QuerySet[Engagement], now: datetime | None = None, statuses=RUNNING
) -> list[WorkRow]:
    """`engagements` (already scoped to `user`) of `statuses` with their flags, what needs action first."""
    from engagements.selectors import _urgency, _with_urgency

    now, tz = now or timezone.now(), business_tz()
    today = rules.local_date(now, tz)
    rows = []
    for engagement in _with_urgency(engagements.filter(status__in=statuses)):
        urgency = _urgency(engagement, now, tz)
        since = rules.local_date(engagement.waiting_since, tz) if engagement.waiting_since else None
        rows.append(WorkRow(engagement, [], urgency.days_oldest_open, urgency.r1_on, urgency.r2_on, since))
    ids = [row.engagement.pk for row in rows]
    found = _work_flags(ids, now, tz)
    for pk, extra in panels.flags_for(user, ids).items():
        found.setdefault(pk, []).extend(extra)
    for row in rows:
        row.flags = sorted(found.get(row.engagement.pk, []) + _threshold_flags(row, today), key=lambda f: -f.weight)
    far = date.max
    rows.sort(
        key=lambda r: (-r.weight, min(r.r1_on or far, r.r2_on or far), -(r.days_oldest_open or -1), r.engagement.pk)
    )
    return rows


def consultant_worklist(user: User, now: datetime | None = None) -> list[WorkRow]:
    from engagements.selectors import engagement_list_for_user

    return worklist(user, engagement_list_for_user(user), now)


def action_count(user: User, now: datetime | None = None) -> int:
    """How many of the user's engagements have something flagged (the number in the navigation)."""
    return sum(1 for row in consultant_worklist(user, now) if row.flags)
