"""Pure rules: the transition table, R1/R2 boundaries, day counts across DST, months, estimate."""

from datetime import date, datetime
from itertools import product
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engagements import rules

SCL = ZoneInfo("America/Santiago")
WAIT = rules.WaitRules()

# The table as the business states it (the service sheet); the test fails if rules.py drifts.
EXPECTED = {
    ("lead", "diagnosis"): {"staff"},
    ("lead", "cancelled"): {"staff"},
    ("diagnosis", "quoted"): {"staff", "system"},
    ("diagnosis", "cancelled"): {"staff"},
    ("quoted", "diagnosis"): {"staff"},
    ("quoted", "active"): {"staff", "system"},
    ("quoted", "cancelled"): {"staff"},
    ("active", "waiting_on_client"): {"staff", "system"},
    ("active", "closed"): {"staff", "consultant"},
    ("active", "cancelled"): {"staff"},
    ("waiting_on_client", "active"): {"staff", "consultant", "system"},
    ("waiting_on_client", "admin_closed"): {"staff", "system"},
    ("waiting_on_client", "cancelled"): {"staff"},
}


@pytest.mark.parametrize(("current", "target", "role"), list(product(rules.STATUSES, rules.STATUSES, rules.ROLES)))
def test_every_pair_of_statuses_is_allowed_or_refused_per_role(current, target, role):
    allowed = role in EXPECTED.get((current, target), set())
    if allowed:
        rules.check_transition(current, target, role)
    else:
        with pytest.raises(rules.TransitionRefused) as refused:
            rules.check_transition(current, target, role)
        expected_reason = "wrong_role" if (current, target) in EXPECTED else "not_allowed"
        assert refused.value.reason == expected_reason


def test_terminal_statuses_have_no_way_out():
    for current, _target in rules.TRANSITIONS:
        assert current not in rules.TERMINAL


def test_clients_can_make_no_transition_by_hand():
    assert all("client" not in roles for roles in rules.TRANSITIONS.values())


def _at(y, m, d, h=12, mi=0):
    return datetime(y, m, d, h, mi, tzinfo=SCL)


class TestR1:
    def test_day_60_does_not_fire_and_day_61_does(self):
        sent = _at(2026, 1, 10)
        day60 = rules.r1_days_unanswered(sent, False, _at(2026, 3, 11), SCL)
        day61 = rules.r1_days_unanswered(sent, False, _at(2026, 3, 12), SCL)
        assert (day60, day61) == (60, 61)
        assert not rules.r1_applies(day60, WAIT)
        assert rules.r1_applies(day61, WAIT)
        assert rules.r1_fires_on(sent, SCL, WAIT) == date(2026, 3, 12)

    def test_an_answered_latest_request_stops_the_clock(self):
        assert rules.r1_days_unanswered(_at(2026, 1, 1), True, _at(2026, 6, 1), SCL) is None
        assert not rules.r1_applies(None, WAIT)

    def test_the_warning_runs_from_15_days_before(self):
        assert not rules.r1_warning_due(45, WAIT)
        assert rules.r1_warning_due(46, WAIT) and rules.r1_warning_due(60, WAIT)
        assert not rules.r1_warning_due(61, WAIT)

    def test_late_evening_in_santiago_counts_as_that_local_day(self):
        # 23:30 in Santiago on 1 March is already 2 March in UTC.
        sent = _at(2026, 3, 1, 23, 30)
        assert rules.local_date(sent, SCL) == date(2026, 3, 1)
        assert rules.r1_days_unanswered(sent, False, _at(2026, 4, 30, 0, 30), SCL) == 60


class TestR2:
    def test_day_89_is_not_eligible_and_day_90_is(self):
        since = _at(2026, 1, 1)
        assert not rules.r2_eligible(rules.days_between(since, _at(2026, 3, 31), SCL), WAIT)  # 89
        assert rules.r2_eligible(rules.days_between(since, _at(2026, 4, 1), SCL), WAIT)  # 90

    def test_the_warning_runs_from_10_days_before(self):
        assert [rules.r2_warning_due(d, WAIT) for d in (79, 80, 89, 90)] == [False, True, True, False]


class TestDaylightSaving:
    """Chile leaves DST in April (clocks back) and enters it in September (forward)."""

    def test_days_across_the_april_change_are_calendar_days(self):
        # 2026-04-05 00:00 local: clocks go back one hour (a 25-hour day).
        assert rules.days_between(_at(2026, 4, 4, 23, 30), _at(2026, 4, 5, 23, 30), SCL) == 1
        assert rules.days_between(_at(2026, 4, 4, 0, 10), _at(2026, 4, 6, 0, 10), SCL) == 2

    def test_days_across_the_september_change_are_calendar_days(self):
        # 2026-09-06 00:00 local: clocks go forward one hour (a 23-hour day).
        assert rules.days_between(_at(2026, 9, 5, 0, 30), _at(2026, 9, 6, 1, 30), SCL) == 1
        assert rules.days_between(_at(2026, 9, 5, 23, 59), _at(2026, 9, 7, 0, 1), SCL) == 2

    def test_r1_boundary_holds_across_both_changes(self):
        sent = _at(2026, 3, 20, 23, 0)  # 60 days later crosses the April change
        assert not rules.r1_applies(rules.r1_days_unanswered(sent, False, _at(2026, 5, 19, 23, 59), SCL), WAIT)
        assert rules.r1_applies(rules.r1_days_unanswered(sent, False, _at(2026, 5, 20, 0, 1), SCL), WAIT)
        sent = _at(2026, 8, 1, 0, 5)  # crosses the September change
        assert rules.r1_days_unanswered(sent, False, _at(2026, 9, 30, 23, 55), SCL) == 60
        assert rules.r1_applies(rules.r1_days_unanswered(sent, False, _at(2026, 10, 1, 0, 5), SCL), WAIT)


class TestMonths:
    @pytest.mark.parametrize(
        ("start", "months", "expected"),
        [
            (date(2026, 8, 31), 6, date(2027, 2, 28)),
            (date(2027, 8, 31), 6, date(2028, 2, 29)),
            (date(2026, 1, 15), 6, date(2026, 7, 15)),
            (date(2026, 12, 31), 2, date(2027, 2, 28)),
            (date(2026, 3, 31), 1, date(2026, 4, 30)),
        ],
    )
    def test_calendar_months_clamp_the_day(self, start, months, expected):
        assert rules.add_months(start, months) == expected

    @given(st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 1, 1)), st.integers(0, 48))
    def test_adding_months_never_moves_the_month_wrongly(self, start, months):
        result = rules.add_months(start, months)
        assert (result.year * 12 + result.month) - (start.year * 12 + start.month) == months
        assert result.day <= start.day


class TestEstimate:
    def test_it_starts_at_the_later_of_scope_and_access_and_is_pushed_by_waiting(self):
        window = rules.estimate_window(
            scope_confirmed=date(2026, 3, 2), access_complete=date(2026, 3, 9), days_waiting=10
        )
        assert window.starts == date(2026, 3, 9)
        assert window.earliest_end == date(2026, 4, 16)  # 4 weeks + 10 days
        assert window.latest_end == date(2026, 4, 30)

    def test_it_has_not_started_without_access(self):
        window = rules.estimate_window(scope_confirmed=date(2026, 3, 2), access_complete=None, days_waiting=0)
        assert rules.estimate_health(window, date(2026, 5, 1), 0) == rules.NOT_STARTED

    def test_health(self):
        window = rules.estimate_window(
            scope_confirmed=date(2026, 3, 2), access_complete=date(2026, 3, 2), days_waiting=0
        )
        assert rules.estimate_health(window, date(2026, 3, 10), 15) == rules.ON_TRACK
        assert rules.estimate_health(window, date(2026, 4, 1), 0) == rules.AT_RISK  # far behind the clock
        assert rules.estimate_health(window, date(2026, 4, 5), 90) == rules.AT_RISK  # past the earliest end
        assert rules.estimate_health(window, date(2026, 4, 14), 90) == rules.LATE


def test_session_minutes_show_remaining_and_overage():
    assert rules.session_minutes([60, 75, 60], 300) == (195, 105, 0)
    assert rules.session_minutes([60, 75, 60, 90, 60], 300) == (345, 0, 45)
