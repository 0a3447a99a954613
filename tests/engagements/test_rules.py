"""Pure rules: the transition table, R1/R2 boundaries, day counts across DST, months, estimate."""

from datetime import UTC, date, datetime, timedelta
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


def _r1_days(sent, now, answered=False, reactivated=None):
    return rules.r1_days(rules.r1_clock(sent, answered, reactivated), now, SCL)


class TestR1:
    def test_day_60_does_not_fire_and_day_61_does(self):
        sent = _at(2026, 1, 10)
        day60 = _r1_days(sent, _at(2026, 3, 11))
        day61 = _r1_days(sent, _at(2026, 3, 12))
        assert (day60, day61) == (60, 61)
        assert not rules.r1_applies(day60, WAIT)
        assert rules.r1_applies(day61, WAIT)
        assert rules.r1_fires_on(sent, SCL, WAIT) == date(2026, 3, 12)

    def test_an_answered_latest_request_stops_the_clock(self):
        assert _r1_days(_at(2026, 1, 1), _at(2026, 6, 1), answered=True) is None
        assert rules.r1_clock(None, False, _at(2026, 2, 1)) is None  # no request: nothing waits
        assert not rules.r1_applies(None, WAIT)

    def test_a_reactivation_in_the_middle_restarts_the_clock_of_the_open_request(self):
        sent, reactivated = _at(2026, 1, 10), _at(2026, 2, 20, 9)
        assert rules.r1_clock(sent, False, reactivated) == reactivated
        # 60 days after the reactivation: not yet; 61: R1 again (not on 12 March, 61 days after sending).
        assert not rules.r1_applies(_r1_days(sent, _at(2026, 4, 21, 23, 59), reactivated=reactivated), WAIT)
        assert rules.r1_applies(_r1_days(sent, _at(2026, 4, 22, 0, 1), reactivated=reactivated), WAIT)
        assert rules.r1_fires_on(rules.r1_clock(sent, False, reactivated), SCL, WAIT) == date(2026, 4, 22)

    def test_a_request_sent_after_the_reactivation_runs_from_its_own_sending(self):
        reactivated, sent = _at(2026, 2, 1), _at(2026, 2, 10)
        assert rules.r1_clock(sent, False, reactivated) == sent
        assert rules.r1_fires_on(sent, SCL, WAIT) == date(2026, 4, 12)

    def test_answering_the_request_of_the_hold_reactivates_and_nothing_else_does(self):
        waiting = {"status": rules.WAITING, "held_manually": False, "hold_request": 7}
        assert rules.answer_reactivates(**waiting, answered_request=7)
        assert not rules.answer_reactivates(**waiting, answered_request=8)  # another open request
        assert not rules.answer_reactivates(**{**waiting, "held_manually": True}, answered_request=7)
        assert not rules.answer_reactivates(**{**waiting, "status": rules.ACTIVE}, answered_request=7)
        assert not rules.answer_reactivates(**{**waiting, "hold_request": None}, answered_request=7)

    def test_the_warning_runs_from_15_days_before(self):
        assert not rules.r1_warning_due(45, WAIT)
        assert rules.r1_warning_due(46, WAIT) and rules.r1_warning_due(60, WAIT)
        assert not rules.r1_warning_due(61, WAIT)

    def test_late_evening_in_santiago_counts_as_that_local_day(self):
        # 23:30 in Santiago on 1 March is already 2 March in UTC.
        sent = _at(2026, 3, 1, 23, 30)
        assert rules.local_date(sent, SCL) == date(2026, 3, 1)
        assert _r1_days(sent, _at(2026, 4, 30, 0, 30)) == 60


class TestR2:
    def test_day_89_is_not_eligible_and_day_90_is(self):
        since = _at(2026, 1, 1)
        assert not rules.r2_eligible(rules.days_between(since, _at(2026, 3, 31), SCL), WAIT)  # 89
        assert rules.r2_eligible(rules.days_between(since, _at(2026, 4, 1), SCL), WAIT)  # 90
        assert rules.r2_fires_on(since, SCL, WAIT) == date(2026, 4, 1)

    def test_the_first_allowed_day_across_the_september_change(self):
        since = _at(2026, 7, 9, 23, 45)  # 90 days later is 7 October, after the 6 September change
        assert rules.r2_fires_on(since, SCL, WAIT) == date(2026, 10, 7)
        assert not rules.r2_eligible(rules.days_between(since, _at(2026, 10, 6, 23, 59), SCL), WAIT)
        assert rules.r2_eligible(rules.days_between(since, _at(2026, 10, 7, 0, 1), SCL), WAIT)

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
        assert not rules.r1_applies(_r1_days(sent, _at(2026, 5, 19, 23, 59)), WAIT)
        assert rules.r1_applies(_r1_days(sent, _at(2026, 5, 20, 0, 1)), WAIT)
        sent = _at(2026, 8, 1, 0, 5)  # crosses the September change
        assert _r1_days(sent, _at(2026, 9, 30, 23, 55)) == 60
        assert rules.r1_applies(_r1_days(sent, _at(2026, 10, 1, 0, 5)), WAIT)

    def test_a_reactivation_late_on_a_change_day_counts_from_that_local_day(self):
        # Reactivated at 23:30 on Saturday 5 September 2026, the last hour before clocks go forward.
        reactivated = _at(2026, 9, 5, 23, 30)
        clock = rules.r1_clock(_at(2026, 6, 1), False, reactivated)
        assert rules.r1_fires_on(clock, SCL, WAIT) == date(2026, 11, 5)
        assert not rules.r1_applies(rules.r1_days(clock, _at(2026, 11, 4, 23, 59), SCL), WAIT)
        assert rules.r1_applies(rules.r1_days(clock, _at(2026, 11, 5, 0, 1), SCL), WAIT)
        # Reactivated in the repeated hour of Saturday 4 April 2026 (the second 23:30).
        reactivated = datetime(2026, 4, 4, 23, 30, tzinfo=SCL, fold=1)
        clock = rules.r1_clock(_at(2026, 1, 1), False, reactivated)
        assert rules.local_date(clock, SCL) == date(2026, 4, 4)
        assert rules.r1_fires_on(clock, SCL, WAIT) == date(2026, 6, 4)

    def test_the_day_starts_at_the_first_instant_that_exists(self):
        # 6 September 2026: 00:00 does not exist in Santiago, the day starts at 01:00 (-03).
        assert rules.day_starts(date(2026, 9, 6), SCL).astimezone(UTC) == datetime(2026, 9, 6, 4, tzinfo=UTC)
        # 5 April 2026: the day starts at 00:00 -04, after the repeated hour of the 4th.
        assert rules.day_starts(date(2026, 4, 5), SCL).astimezone(UTC) == datetime(2026, 4, 5, 4, tzinfo=UTC)

    @given(
        st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(SCL)),
        st.dates(min_value=date(2025, 1, 1), max_value=date(2029, 6, 30)),
        st.integers(1, 120),
    )
    def test_the_query_cutoff_agrees_with_the_day_count(self, clock, today, days):
        """The sweep's set-based filter (clock < cutoff) selects exactly the clocks the pure day count does."""
        noon = datetime.combine(today, datetime.min.time().replace(hour=12), tzinfo=SCL)
        assert (clock < rules.clock_cutoff(today, days, SCL)) == (rules.days_between(clock, noon, SCL) >= days)


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
            scope_confirmed=date(2026, 3, 2),
            access_complete=date(2026, 3, 9),
            wait_periods=[(date(2026, 3, 20), date(2026, 3, 30))],
        )
        assert window.starts == date(2026, 3, 9)
        assert window.earliest_end == date(2026, 4, 16)  # 4 weeks + 10 days
        assert window.latest_end == date(2026, 4, 30)

    def test_days_waited_before_the_start_count_once(self):
        # Waiting 2-9 March moved the start to 9 March (access complete then): no push on top.
        waited_before = rules.estimate_window(
            scope_confirmed=date(2026, 3, 2),
            access_complete=date(2026, 3, 9),
            wait_periods=[(date(2026, 3, 2), date(2026, 3, 9))],
        )
        assert (waited_before.earliest_end, waited_before.latest_end) == (date(2026, 4, 6), date(2026, 4, 20))

    @pytest.mark.parametrize(
        ("begin", "end", "push"),
        [
            (date(2026, 3, 5), date(2026, 3, 9), 0),  # ends on the start day
            (date(2026, 3, 5), date(2026, 3, 10), 1),  # one day after the start
            (date(2026, 3, 8), date(2026, 3, 12), 3),  # straddles the start: only the days after it
            (date(2026, 3, 9), date(2026, 3, 12), 3),  # begins on the start day
        ],
    )
    def test_a_wait_around_the_start_pushes_only_its_days_after_it(self, begin, end, push):
        assert rules.waiting_days_after(date(2026, 3, 9), [(begin, end)]) == push

    def test_a_reactivation_in_the_middle_keeps_both_waits(self):
        periods = [(date(2026, 3, 10), date(2026, 3, 15)), (date(2026, 4, 1), date(2026, 4, 4))]
        window = rules.estimate_window(
            scope_confirmed=date(2026, 3, 9), access_complete=date(2026, 3, 9), wait_periods=periods
        )
        assert window.latest_end == date(2026, 4, 20) + timedelta(days=8)

    def test_it_has_not_started_without_access(self):
        window = rules.estimate_window(scope_confirmed=date(2026, 3, 2), access_complete=None)
        assert rules.estimate_health(window, date(2026, 5, 1), 0) == rules.NOT_STARTED

    def test_health(self):
        window = rules.estimate_window(scope_confirmed=date(2026, 3, 2), access_complete=date(2026, 3, 2))
        assert rules.estimate_health(window, date(2026, 3, 10), 15) == rules.ON_TRACK
        assert rules.estimate_health(window, date(2026, 4, 1), 0) == rules.AT_RISK  # far behind the clock
        assert rules.estimate_health(window, date(2026, 3, 30), 90) == rules.ON_TRACK  # on the earliest end
        assert rules.estimate_health(window, date(2026, 3, 31), 90) == rules.AT_RISK  # past the earliest end
        assert rules.estimate_health(window, date(2026, 4, 13), 90) == rules.AT_RISK  # on the latest end
        assert rules.estimate_health(window, date(2026, 4, 14), 90) == rules.LATE

    def test_waiting_on_the_client_is_paused_not_late_and_an_ended_engagement_has_no_health(self):
        window = rules.estimate_window(scope_confirmed=date(2026, 3, 2), access_complete=date(2026, 3, 2))
        late_day = date(2026, 6, 1)
        assert rules.estimate_health(window, late_day, 15, rules.ACTIVE) == rules.LATE
        assert rules.estimate_health(window, late_day, 15, rules.WAITING) == rules.PAUSED
        for status in rules.TERMINAL:
            assert rules.estimate_health(window, late_day, 15, status) is None


class TestPhases:
    def test_the_executed_share_is_the_weight_of_the_furthest_completed_phase(self):
        weights = rules.DEFAULT_PHASE_WEIGHTS
        assert rules.executed_share([], weights) == 0
        assert rules.executed_share([rules.PLANNING], weights) == 15
        assert rules.executed_share([rules.PLANNING, rules.CONFIGURATION], weights) == 60
        assert rules.executed_share(rules.PHASES[:3], weights) == 85
        assert rules.executed_share(rules.PHASES, {**weights, rules.PLANNING: 10}) == 100

    def test_a_phase_lists_its_own_sessions_and_what_is_open(self):
        sessions = [
            (1, "kickoff", True, True),
            (2, "flow_validation", True, False),
            (3, "midpoint_review", False, False),
        ]
        deliverables = [("shop_access", True, False), ("channel", True, True), ("validations", False, False)]
        planning = rules.phase_gaps(rules.PLANNING, sessions=sessions, deliverables=deliverables, open_requests=["x"])
        assert (planning.sessions_not_held, planning.sessions_not_logged) == ([], [2])
        assert planning.deliverables_pending == ["shop_access"] and planning.open_requests == ["x"]
        testing = rules.phase_gaps(rules.TESTING, sessions=sessions, deliverables=deliverables, open_requests=[])
        assert testing.deliverables_pending == ["shop_access", "validations"]
        configuration = rules.phase_gaps(rules.CONFIGURATION, sessions=sessions, deliverables=[], open_requests=[])
        assert configuration.sessions_not_held == [3] and bool(configuration)
        done = rules.phase_gaps(rules.CLOSING, sessions=[(5, "closing", True, True)], deliverables=[], open_requests=[])
        assert not done


class TestSessionsAndSteps:
    def test_a_session_is_held_once_its_scheduled_time_has_come(self):
        at = _at(2026, 5, 4, 10)
        assert not rules.session_held(None, at)
        assert not rules.session_held(at, at - timedelta(seconds=1))
        assert rules.session_held(at, at)

    @pytest.mark.parametrize(
        ("held", "last_day_ok"),
        [
            (date(2026, 5, 4), date(2026, 5, 6)),  # Monday -> Wednesday
            (date(2026, 5, 7), date(2026, 5, 11)),  # Thursday -> Monday
            (date(2026, 5, 8), date(2026, 5, 12)),  # Friday -> Tuesday
            (date(2026, 5, 9), date(2026, 5, 12)),  # Saturday -> Tuesday
        ],
    )
    def test_a_log_is_overdue_after_two_business_days(self, held, last_day_ok):
        assert not rules.log_overdue(held, last_day_ok)
        assert rules.log_overdue(held, last_day_ok + timedelta(days=1))

    @given(st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 31)), st.integers(0, 20))
    def test_the_query_form_of_the_overdue_rule_agrees(self, today, back):
        held = today - timedelta(days=back)
        assert (held < rules.log_overdue_before(today)) == rules.log_overdue(held, today)

    def test_only_the_owner_side_or_the_consultancy_marks_a_step_done(self):
        assert rules.may_mark_step(rules.CLIENT, "client")
        assert not rules.may_mark_step(rules.CLIENT, "consultant")
        for role in (rules.CONSULTANT, rules.STAFF):
            assert rules.may_mark_step(role, "client") and rules.may_mark_step(role, "consultant")


def test_session_minutes_show_remaining_and_overage():
    assert rules.session_minutes([60, 75, 60], 300) == (195, 105, 0)
    assert rules.session_minutes([60, 75, 60, 90, 60], 300) == (345, 0, 45)
