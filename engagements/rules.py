"""Pure rules of the engagement lifecycle.

Nothing here touches the database or reads settings: callers pass plain
values, `now` and the business time zone explicitly, so every rule is tested
without a database and boundaries are exact.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

# ---------------------------------------------------------------- statuses and roles
LEAD, DIAGNOSIS, QUOTED, ACTIVE = "lead", "diagnosis", "quoted", "active"
WAITING, CLOSED, ADMIN_CLOSED, CANCELLED = "waiting_on_client", "closed", "admin_closed", "cancelled"
STATUSES = (LEAD, DIAGNOSIS, QUOTED, ACTIVE, WAITING, CLOSED, ADMIN_CLOSED, CANCELLED)
TERMINAL = frozenset({CLOSED, ADMIN_CLOSED, CANCELLED})

CLIENT, CONSULTANT, STAFF, SYSTEM = "client", "consultant", "staff", "system"
ROLES = (CLIENT, CONSULTANT, STAFF, SYSTEM)

PLANNING, CONFIGURATION, TESTING, CLOSING = "planning", "configuration", "testing", "closing"
PHASES = (PLANNING, CONFIGURATION, TESTING, CLOSING)

# Who may make each move. SYSTEM is the scheduled sweep (R1, and R2 when the
# automatic administrative close is switched on) and quote acceptance, which
# calls engagement_confirm_scope on the client's behalf.
TRANSITIONS: dict[tuple[str, str], frozenset[str]] = {
    (LEAD, DIAGNOSIS): frozenset({STAFF}),
    (LEAD, CANCELLED): frozenset({STAFF}),
    (DIAGNOSIS, QUOTED): frozenset({STAFF, SYSTEM}),
    (DIAGNOSIS, CANCELLED): frozenset({STAFF}),
    (QUOTED, DIAGNOSIS): frozenset({STAFF}),  # the quote was declined or must be redone
    (QUOTED, ACTIVE): frozenset({STAFF, SYSTEM}),  # scope confirmed (quote accepted)
    (QUOTED, CANCELLED): frozenset({STAFF}),
    (ACTIVE, WAITING): frozenset({STAFF, SYSTEM}),  # R1, or a manual hold
    (ACTIVE, CLOSED): frozenset({STAFF, CONSULTANT}),  # delivered: final validation or go-live
    (ACTIVE, CANCELLED): frozenset({STAFF}),
    (WAITING, ACTIVE): frozenset({STAFF, CONSULTANT, SYSTEM}),  # reactivation: the client delivered
    (WAITING, ADMIN_CLOSED): frozenset({STAFF, SYSTEM}),  # R2
    (WAITING, CANCELLED): frozenset({STAFF}),
}


class TransitionRefused(Exception):
    """The move is not in the table, or not for this role."""

    def __init__(self, current: str, target: str, role: str, reason: str):
        super().__init__(f"{current} -> {target} by {role}: {reason}")
        self.current, self.target, self.role, self.reason = current, target, role, reason


def check_transition(current: str, target: str, role: str) -> None:
    allowed = TRANSITIONS.get((current, target))
    if allowed is None:
        raise TransitionRefused(current, target, role, "not_allowed")
    if role not in allowed:
        raise TransitionRefused(current, target, role, "wrong_role")


def next_phase(phase: str) -> str | None:
    index = PHASES.index(phase)
    return PHASES[index + 1] if index + 1 < len(PHASES) else None


# ---------------------------------------------------------------- days and months


def local_date(moment: datetime, tz: ZoneInfo) -> date:
    """Convert first, then take the date: a request sent at 22:30 in Santiago
    on 1 March is a 1 March request even though it is 2 March in UTC."""
    return moment.astimezone(tz).date()


def days_between(start: datetime, now: datetime, tz: ZoneInfo) -> int:
    """Calendar days from `start` to `now` in the business time zone."""
    return (local_date(now, tz) - local_date(start, tz)).days


def add_months(day: date, months: int) -> date:
    """Calendar months, clamping the day: 31 Aug + 6 months = 28/29 Feb.

    Be careful: this is the only month arithmetic in the project; credits and
    any other "valid N months" rule must use it.
    """
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


# ---------------------------------------------------------------- R1 / R2: the client goes quiet


@dataclass(frozen=True)
class WaitRules:
    """Thresholds from the engagement's terms version."""

    wait_after_days: int = 60  # R1: more than this many days unanswered
    close_after_days: int = 90  # R2: this many days in waiting_on_client
    warn_before_wait_days: int = 15
    warn_before_close_days: int = 10


def r1_days_unanswered(latest_request_sent: datetime | None, answered: bool, now: datetime, tz: ZoneInfo) -> int | None:
    """Days the latest formal request has been waiting, or None if there is
    nothing waiting (no request, or the latest one was answered)."""
    if latest_request_sent is None or answered:
        return None
    return days_between(latest_request_sent, now, tz)


def r1_applies(days_unanswered: int | None, rules: WaitRules) -> bool:
    """R1: *more than* `wait_after_days` calendar days (day 60 no, day 61 yes)."""
    return days_unanswered is not None and days_unanswered > rules.wait_after_days


def r2_eligible(days_waiting: int | None, rules: WaitRules) -> bool:
    """R2: after `close_after_days` calendar days waiting (day 89 no, day 90 yes)."""
    return days_waiting is not None and days_waiting >= rules.close_after_days


def r1_warning_due(days_unanswered: int | None, rules: WaitRules) -> bool:
    """From `warn_before_wait_days` before R1 fires until it fires."""
    if days_unanswered is None:
        return False
    return rules.wait_after_days + 1 - rules.warn_before_wait_days <= days_unanswered <= rules.wait_after_days


def r2_warning_due(days_waiting: int | None, rules: WaitRules) -> bool:
    if days_waiting is None:
        return False
    return rules.close_after_days - rules.warn_before_close_days <= days_waiting < rules.close_after_days


def r1_fires_on(latest_request_sent: datetime, tz: ZoneInfo, rules: WaitRules) -> date:
    return local_date(latest_request_sent, tz) + timedelta(days=rules.wait_after_days + 1)


def r2_fires_on(waiting_since: datetime, tz: ZoneInfo, rules: WaitRules) -> date:
    return local_date(waiting_since, tz) + timedelta(days=rules.close_after_days)


# ---------------------------------------------------------------- estimate window

ON_TRACK, AT_RISK, LATE, NOT_STARTED = "on_track", "at_risk", "late", "not_started"


@dataclass(frozen=True)
class EstimateWindow:
    starts: date | None  # None while scope or access is still missing
    earliest_end: date | None
    latest_end: date | None


def estimate_window(
    *,
    scope_confirmed: date | None,
    access_complete: date | None,
    days_waiting: int,
    min_weeks: int = 4,
    max_weeks: int = 6,
) -> EstimateWindow:
    """4 to 6 weeks from the later of scope confirmation and complete access,
    pushed by every day spent waiting on the client."""
    if scope_confirmed is None or access_complete is None:
        return EstimateWindow(None, None, None)
    start = max(scope_confirmed, access_complete)
    push = timedelta(days=days_waiting)
    return EstimateWindow(start, start + timedelta(weeks=min_weeks) + push, start + timedelta(weeks=max_weeks) + push)


def estimate_health(window: EstimateWindow, today: date, progress_percent: int) -> str:
    """late after the latest end; at risk once past the earliest end, or when
    the elapsed share of the window runs ahead of progress by over 25 points."""
    if window.starts is None or window.earliest_end is None or window.latest_end is None:
        return NOT_STARTED
    if today > window.latest_end:
        return LATE
    if today > window.earliest_end:
        return AT_RISK
    total = (window.latest_end - window.starts).days or 1
    elapsed = max(0, (today - window.starts).days)
    return AT_RISK if elapsed * 100 // total - progress_percent > 25 else ON_TRACK


# ---------------------------------------------------------------- sessions


def session_minutes(used: list[int], included_minutes: int = 300) -> tuple[int, int, int]:
    """(used, remaining of the included time, overage beyond it)."""
    total = sum(used)
    return total, max(0, included_minutes - total), max(0, total - included_minutes)
