"""Pure rules of the engagement lifecycle.

Nothing here touches the database or reads settings: callers pass plain
values, `now` and the business time zone explicitly, so every rule is tested
without a database and boundaries are exact.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping, Sequence
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


def r1_clock(latest_request_sent: datetime | None, answered: bool, reactivated_at: datetime | None) -> datetime | None:
    """The one clock of the client-wait rules: when R1's days start counting, or None.

    R1 reads the *latest* formal request only. While it is unanswered, its days
    count from the later of its sending and the engagement's last reactivation:
    a reactivation restarts the clock of any request still open, so an old
    request cannot put a just-reactivated engagement straight back on hold.
    An answer to the latest request stops the clock.
    """
    if latest_request_sent is None or answered:
        return None
    if reactivated_at is not None and reactivated_at > latest_request_sent:
        return reactivated_at
    return latest_request_sent


def r1_days(clock: datetime | None, now: datetime, tz: ZoneInfo) -> int | None:
    """Calendar days on R1's clock, or None when nothing is waiting."""
    return None if clock is None else days_between(clock, now, tz)


def r1_applies(days_unanswered: int | None, rules: WaitRules) -> bool:
    """R1: *more than* `wait_after_days` calendar days (day 60 no, day 61 yes)."""
    return days_unanswered is not None and days_unanswered > rules.wait_after_days


def answer_reactivates(*, status: str, held_manually: bool, hold_request: int | None, answered_request: int) -> bool:
    """Reactivation reads the same clock R1 fired on: answering the request that
    put the engagement on hold always reactivates it, whatever else is open (the
    clock then restarts for those). A hold staff put by hand waits for staff."""
    return status == WAITING and not held_manually and hold_request is not None and hold_request == answered_request


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


def r1_fires_on(clock: datetime, tz: ZoneInfo, rules: WaitRules) -> date:
    return local_date(clock, tz) + timedelta(days=rules.wait_after_days + 1)


def r2_fires_on(waiting_since: datetime, tz: ZoneInfo, rules: WaitRules) -> date:
    """The first day an administrative close is allowed (before it, staff can only cancel)."""
    return local_date(waiting_since, tz) + timedelta(days=rules.close_after_days)


def day_starts(day: date, tz: ZoneInfo) -> datetime:
    """The first instant of a local day. Chile moves its clocks at midnight: on
    the September change 00:00 does not exist and the day starts at 01:00, which
    is what the earlier offset (fold=0) gives."""
    return datetime.combine(day, datetime.min.time(), tzinfo=tz)


def clock_cutoff(today: date, days: int, tz: ZoneInfo) -> datetime:
    """A clock started before this instant shows at least `days` calendar days
    today: the set-based form of `days_between(clock, now) >= days`, for queries."""
    return day_starts(today - timedelta(days=days - 1), tz)


# ---------------------------------------------------------------- estimate window

ON_TRACK, AT_RISK, LATE, NOT_STARTED, PAUSED = "on_track", "at_risk", "late", "not_started", "paused"


@dataclass(frozen=True)
class EstimateWindow:
    starts: date | None  # None while scope or access is still missing
    earliest_end: date | None
    latest_end: date | None


def waiting_days_after(start: date, periods: Sequence[tuple[date, date]]) -> int:
    """Days spent waiting on the client after `start`, each counted once: a wait
    before the start already moved the start itself."""
    return sum(max(0, (end - max(begin, start)).days) for begin, end in periods)


def estimate_window(
    *,
    scope_confirmed: date | None,
    access_complete: date | None,
    wait_periods: Sequence[tuple[date, date]] = (),
    min_weeks: int = 4,
    max_weeks: int = 6,
) -> EstimateWindow:
    """4 to 6 weeks from the later of scope confirmation and complete access,
    pushed by the days spent waiting on the client after that start."""
    if scope_confirmed is None or access_complete is None:
        return EstimateWindow(None, None, None)
    start = max(scope_confirmed, access_complete)
    push = timedelta(days=waiting_days_after(start, wait_periods))
    return EstimateWindow(start, start + timedelta(weeks=min_weeks) + push, start + timedelta(weeks=max_weeks) + push)


def estimate_health(window: EstimateWindow, today: date, progress_percent: int, status: str = ACTIVE) -> str | None:
    """None once the engagement has ended (no verdict on a closed one); paused
    while it waits on the client (the client's wait is not the consultancy's
    delay); late after the latest end; at risk once past the earliest end, or
    when the elapsed share of the window runs ahead of progress by over 25 points."""
    if status in TERMINAL:
        return None
    if status == WAITING:
        return PAUSED
    if window.starts is None or window.earliest_end is None or window.latest_end is None:
        return NOT_STARTED
    if today > window.latest_end:
        return LATE
    if today > window.earliest_end:
        return AT_RISK
    total = (window.latest_end - window.starts).days or 1
    elapsed = max(0, (today - window.starts).days)
    return AT_RISK if elapsed * 100 // total - progress_percent > 25 else ON_TRACK


# ---------------------------------------------------------------- phases: executed share and completion

# Cumulative share of the work done once each phase is complete (the terms
# version stores its own; these are the defaults of the first versions).
DEFAULT_PHASE_WEIGHTS = {PLANNING: 15, CONFIGURATION: 60, TESTING: 85, CLOSING: 100}

# The included session that belongs to each phase, by kind (terms' session specs).
SESSION_PHASES = {
    "kickoff": PLANNING,
    "flow_validation": PLANNING,
    "midpoint_review": CONFIGURATION,
    "testing": TESTING,
    "closing": CLOSING,
}


def executed_share(completed_phases: Iterable[str], weights: Mapping[str, int]) -> int:
    """Percent of the work executed: the cumulative weight of the furthest completed phase."""
    return max((int(weights[phase]) for phase in completed_phases), default=0)


@dataclass(frozen=True)
class PhaseGaps:
    """What is not done for a phase; completing it anyway needs a reason."""

    sessions_not_held: list[int]  # session numbers
    sessions_not_logged: list[int]
    deliverables_pending: list[str]  # checklist kinds
    open_requests: list[str]  # subjects

    def __bool__(self) -> bool:
        return any((self.sessions_not_held, self.sessions_not_logged, self.deliverables_pending, self.open_requests))


def phase_gaps(
    phase: str,
    *,
    sessions: Iterable[tuple[int, str, bool, bool]],
    deliverables: Iterable[tuple[str, bool, bool]],
    open_requests: Iterable[str],
) -> PhaseGaps:
    """`sessions`: (number, kind, held, logged); `deliverables`: (kind, required
    for access, done). Required deliverables are due from the first phase on; the
    others (timely validations) from testing on."""
    own = [(number, held, logged) for number, kind, held, logged in sessions if SESSION_PHASES.get(kind) == phase]
    late = PHASES.index(phase) >= PHASES.index(TESTING)
    return PhaseGaps(
        sessions_not_held=[number for number, held, _logged in own if not held],
        sessions_not_logged=[number for number, held, logged in own if held and not logged],
        deliverables_pending=[kind for kind, required, done in deliverables if not done and (required or late)],
        open_requests=list(open_requests),
    )


# ---------------------------------------------------------------- sessions and next steps

LOG_DUE_BUSINESS_DAYS = 2


def session_held(scheduled_at: datetime | None, now: datetime) -> bool:
    """A session can be logged once it was scheduled and its time has come."""
    return scheduled_at is not None and scheduled_at <= now


def add_business_days(day: date, days: int) -> date:
    """Monday to Friday (public holidays are not known to the portal)."""
    while days > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            days -= 1
    return day


def log_overdue(held_on: date, today: date, business_days: int = LOG_DUE_BUSINESS_DAYS) -> bool:
    """A held session without a log is overdue once `business_days` have passed after it."""
    return today > add_business_days(held_on, business_days)


def log_overdue_before(today: date, business_days: int = LOG_DUE_BUSINESS_DAYS) -> date:
    """Sessions held on a local day before this one are overdue today (for queries)."""
    day = today
    while not log_overdue(day - timedelta(days=1), today, business_days):
        day -= timedelta(days=1)
    return day


def may_mark_step(role: str, step_owner: str) -> bool:
    """Only the side that owns a next step, or the consultancy, marks it done."""
    return role in (CONSULTANT, STAFF) or (role == CLIENT and step_owner == CLIENT)


def session_minutes(used: list[int], included_minutes: int = 300) -> tuple[int, int, int]:
    """(used, remaining of the included time, overage beyond it)."""
    total = sum(used)
    return total, max(0, included_minutes - total), max(0, total - included_minutes)
