"""The R1/R2 sweep on stored dates: boundaries, idempotency, holds and terminal states, the command."""

import re
from datetime import date, datetime, time, timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from engagements import rules, services
from engagements.models import Engagement, FormalRequest
from engagements.services.lifecycle import business_tz
from tests.engagements.fixtures import send_request

pytestmark = pytest.mark.django_db


def _sent_on(request, day) -> None:
    FormalRequest.objects.filter(pk=request.pk).update(sent_at=datetime.combine(day, time(10), tzinfo=business_tz()))


def _noon(day):
    return datetime.combine(day, time(12), tzinfo=business_tz())


def _status(engagement) -> str:
    engagement.refresh_from_db()
    return engagement.status


class TestR1Sweep:
    def test_day_60_leaves_it_active_and_day_61_makes_it_wait(self, engagement, carla):
        request = send_request(engagement, carla)
        start = timezone.localdate()
        _sent_on(request, start)
        services.client_wait_sweep(now=_noon(start + timedelta(days=60)))
        assert _status(engagement) == rules.ACTIVE
        actions = services.client_wait_sweep(now=_noon(start + timedelta(days=61)))
        assert [(a.rule, a.old_status, a.new_status) for a in actions] == [("r1", rules.ACTIVE, rules.WAITING)]
        assert _status(engagement) == rules.WAITING and not engagement.held_manually

    def test_running_the_sweep_twice_changes_nothing_the_second_time(self, engagement, carla):
        _sent_on(send_request(engagement, carla), timezone.localdate() - timedelta(days=70))
        first = services.client_wait_sweep(now=timezone.now())
        events = engagement.events.count()
        second = services.client_wait_sweep(now=timezone.now())
        assert len(first) == 1 and second == [] and engagement.events.count() == events

    def test_answered_then_new_request_restarts_the_clock(self, engagement, carla, alice):
        old = send_request(engagement, carla, subject="Primera")
        _sent_on(old, timezone.localdate() - timedelta(days=100))
        services.formal_request_answer(actor=alice, request=old, text="Listo", files=[])
        new = send_request(engagement, carla, subject="Segunda")
        _sent_on(new, timezone.localdate() - timedelta(days=10))
        assert services.client_wait_sweep(now=timezone.now()) == []
        assert _status(engagement) == rules.ACTIVE

    def test_only_the_latest_request_counts(self, engagement, carla):
        _sent_on(send_request(engagement, carla, subject="Vieja"), timezone.localdate() - timedelta(days=90))
        _sent_on(send_request(engagement, carla, subject="Nueva"), timezone.localdate() - timedelta(days=5))
        services.client_wait_sweep(now=timezone.now())
        assert _status(engagement) == rules.ACTIVE

    def test_a_warning_goes_out_once_before_the_threshold(self, engagement, carla, django_capture_on_commit_callbacks):
        _sent_on(send_request(engagement, carla), timezone.localdate() - timedelta(days=50))
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            first = services.client_wait_sweep(now=timezone.now())
            second = services.client_wait_sweep(now=timezone.now())
        assert [a.rule for a in first] == ["r1_warning"] and second == []
        assert sorted(m.to[0] for m in mail.outbox) == [
            "alice@andes.test",
            "carla@consultora.test",
            "office@consultora.test",
        ]

    def test_the_client_answering_reactivates(self, engagement, carla, alice):
        request = send_request(engagement, carla)
        _sent_on(request, timezone.localdate() - timedelta(days=61))
        services.client_wait_sweep(now=timezone.now())
        services.formal_request_answer(actor=alice, request=request, text="Aquí está", files=[])
        assert _status(engagement) == rules.ACTIVE


class TestReactivation:
    """R1 and reactivation read the same clock (issue: the answer that mattered left it on hold)."""

    def _on_hold(self, engagement, carla, *others: str):
        for subject in others:
            _sent_on(send_request(engagement, carla, subject=subject), timezone.localdate() - timedelta(days=80))
        latest = send_request(engagement, carla, subject="Accesos")
        _sent_on(latest, timezone.localdate() - timedelta(days=61))
        services.client_wait_sweep(now=timezone.now())
        engagement.refresh_from_db()
        assert engagement.status == rules.WAITING and engagement.waiting_for == latest
        return latest

    def test_answering_the_request_of_the_hold_reactivates_with_others_still_open(self, engagement, carla, alice):
        latest = self._on_hold(engagement, carla, "Listado de bodegas")
        services.formal_request_answer(actor=alice, request=latest, text="Aquí están", files=[])
        assert _status(engagement) == rules.ACTIVE
        assert engagement.requests.filter(answered_at__isnull=True).count() == 1  # the older one, still open

    def test_answering_another_request_does_not_reactivate(self, engagement, carla, alice):
        self._on_hold(engagement, carla, "Listado de bodegas")
        older = engagement.requests.get(subject="Listado de bodegas")
        services.formal_request_answer(actor=alice, request=older, text="Enviado", files=[])
        assert _status(engagement) == rules.WAITING

    def test_an_answer_recorded_by_the_consultant_reactivates_too(self, engagement, carla):
        latest = self._on_hold(engagement, carla)
        services.formal_request_record_answer(actor=carla, request=latest, text="Respondió por teléfono")
        assert _status(engagement) == rules.ACTIVE

    def test_a_reactivation_restarts_r1_for_the_request_still_open(self, engagement, carla, sam):
        self._on_hold(engagement, carla)
        services.engagement_reactivate(actor=sam, engagement=engagement, reason="El cliente llamó")
        today = timezone.localdate()
        assert services.client_wait_sweep(now=_noon(today)) == []  # not straight back on hold
        assert _status(engagement) == rules.ACTIVE
        services.client_wait_sweep(now=_noon(today + timedelta(days=60)))
        assert _status(engagement) == rules.ACTIVE
        actions = services.client_wait_sweep(now=_noon(today + timedelta(days=61)))
        assert [(a.rule, a.days) for a in actions] == [("r1", 61)] and _status(engagement) == rules.WAITING

    def test_a_warning_goes_out_again_for_the_restarted_clock(self, engagement, carla, sam):
        self._on_hold(engagement, carla)
        services.engagement_reactivate(actor=sam, engagement=engagement, reason="El cliente llamó")
        actions = services.client_wait_sweep(now=_noon(timezone.localdate() + timedelta(days=46)))
        assert [a.rule for a in actions] == ["r1_warning"]

    def test_a_manual_hold_waits_for_staff_even_when_the_client_answers(self, engagement, carla, sam, alice):
        request = send_request(engagement, carla)
        services.engagement_hold(actor=sam, engagement=engagement, reason="Vacaciones del cliente")
        services.formal_request_answer(actor=alice, request=request, text="Listo", files=[])
        assert _status(engagement) == rules.WAITING


class TestBoundariesOnChangeDays:
    """The sweep runs at 08:00 on the business clock; requests sent late on Chile's DST change days."""

    def _at(self, day, hour, minute=0):
        return datetime.combine(day, time(hour, minute), tzinfo=business_tz())

    @pytest.mark.parametrize(
        ("sent", "last_active_day"),
        [
            ((2026, 4, 4, 23, 30), date(2026, 6, 3)),  # the night before clocks go back
            ((2026, 9, 5, 23, 30), date(2026, 11, 4)),  # the night before clocks go forward
            ((2026, 2, 5, 9, 0), date(2026, 4, 6)),  # day 61 falls on 7 April, after the change
        ],
    )
    def test_r1_on_both_sides_of_day_61(self, engagement, carla, sent, last_active_day):
        request = send_request(engagement, carla)
        FormalRequest.objects.filter(pk=request.pk).update(sent_at=self._at(date(*sent[:3]), *sent[3:]))
        services.client_wait_sweep(now=self._at(last_active_day, 8))
        assert _status(engagement) == rules.ACTIVE
        services.client_wait_sweep(now=self._at(last_active_day + timedelta(days=1), 8))
        assert _status(engagement) == rules.WAITING

    def test_r2_on_both_sides_of_day_90_across_the_september_change(self, engagement):
        services.engagement_transition(engagement=engagement, target=rules.WAITING, actor=None, reason="R1")
        Engagement.objects.filter(pk=engagement.pk).update(waiting_since=self._at(date(2026, 7, 9), 23, 45))
        assert [a.rule for a in services.client_wait_sweep(now=self._at(date(2026, 10, 6), 8))] == ["r2_warning"]
        assert [a.rule for a in services.client_wait_sweep(now=self._at(date(2026, 10, 7), 8))] == ["r2_eligible"]


class TestSetBased:
    def test_one_query_finds_nothing_to_do_however_many_engagements(self, make_engagement, andes, carla):
        for _ in range(6):
            _sent_on(send_request(make_engagement(andes), carla), timezone.localdate() - timedelta(days=5))
        with CaptureQueriesContext(connection) as queries:
            assert services.client_wait_sweep(now=timezone.now()) == []
        assert len(queries) <= 3  # the terms versions, then the due engagements

    def test_only_the_engagements_that_move_are_locked(self, make_engagement, andes, carla):
        moving, warned, quiet = make_engagement(andes), make_engagement(andes), make_engagement(andes)
        for engagement, days in ((moving, 61), (warned, 50), (quiet, 5)):
            _sent_on(send_request(engagement, carla), timezone.localdate() - timedelta(days=days))
        with CaptureQueriesContext(connection) as queries:
            actions = services.client_wait_sweep(now=timezone.now())
        assert sorted((a.engagement, a.rule) for a in actions) == sorted(
            [(moving.code, "r1"), (warned.code, "r1_warning")]
        )
        locked = set()
        for query in (q["sql"] for q in queries if "FOR UPDATE" in q["sql"]):
            for one, many in re.findall(r'"engagements_engagement"\."id" (?:= (\d+)|IN \(([\d, ]+)\))', query):
                locked.update(int(pk) for pk in (one or many).split(","))
        assert locked == {moving.pk}


class TestR2Sweep:
    def _waiting_for(self, engagement, days: int) -> None:
        services.engagement_transition(engagement=engagement, target=rules.WAITING, actor=None, reason="R1")
        since = _noon(timezone.localdate() - timedelta(days=days))
        Engagement.objects.filter(pk=engagement.pk).update(waiting_since=since)

    def test_day_89_is_not_flagged_and_day_90_is(self, engagement):
        self._waiting_for(engagement, 89)
        assert [a.rule for a in services.client_wait_sweep(now=timezone.now())] == ["r2_warning"]
        Engagement.objects.filter(pk=engagement.pk).update(
            waiting_since=_noon(timezone.localdate() - timedelta(days=90))
        )
        actions = services.client_wait_sweep(now=timezone.now())
        assert [(a.rule, a.new_status, a.flagged_only) for a in actions] == [("r2_eligible", rules.ADMIN_CLOSED, True)]
        assert _status(engagement) == rules.WAITING  # staff decide

    @override_settings(ADMIN_CLOSE_AUTOMATIC=True)
    def test_the_setting_makes_the_sweep_close_it(self, engagement):
        self._waiting_for(engagement, 90)
        services.client_wait_sweep(now=timezone.now())
        assert _status(engagement) == rules.ADMIN_CLOSED
        assert engagement.events.filter(new_status=rules.ADMIN_CLOSED, actor__isnull=True).exists()

    @override_settings(ADMIN_CLOSE_AUTOMATIC=True)
    def test_a_manual_hold_is_never_touched(self, engagement, sam, carla):
        _sent_on(send_request(engagement, carla), timezone.localdate() - timedelta(days=200))
        services.engagement_hold(actor=sam, engagement=engagement, reason="Vacaciones del cliente")
        Engagement.objects.filter(pk=engagement.pk).update(waiting_since=timezone.now() - timedelta(days=150))
        assert services.client_wait_sweep(now=timezone.now()) == []
        assert _status(engagement) == rules.WAITING

    @pytest.mark.parametrize("status", [rules.CLOSED, rules.ADMIN_CLOSED, rules.CANCELLED])
    def test_terminal_states_are_never_touched(self, make_engagement, andes, carla, status):
        engagement = make_engagement(andes, status)
        FormalRequest.objects.create(
            engagement=engagement, kind="access", subject="x", body="y", sent_at=timezone.now() - timedelta(days=300)
        )
        assert services.client_wait_sweep(now=timezone.now()) == []
        assert _status(engagement) == status


class TestCommand:
    def test_dry_run_lists_both_rules_and_changes_nothing(self, make_engagement, andes, carla):
        active = make_engagement(andes)
        _sent_on(send_request(active, carla), timezone.localdate() - timedelta(days=10))
        waiting = make_engagement(andes, rules.WAITING)
        Engagement.objects.filter(pk=waiting.pk).update(waiting_since=timezone.now() - timedelta(days=40))
        out = StringIO()
        day = (timezone.localdate() + timedelta(days=120)).isoformat()
        call_command("apply_client_wait_rules", "--dry-run", "--today", day, stdout=out)
        lines = out.getvalue().splitlines()
        assert f"{active.code} r1 active -> waiting_on_client (130 days)" in lines
        assert any(line.startswith(f"{waiting.code} r2_eligible waiting_on_client -> admin_closed") for line in lines)
        assert _status(active) == rules.ACTIVE and _status(waiting) == rules.WAITING

    def test_a_bad_date_is_refused_clearly(self):
        from django.core.management.base import CommandError

        with pytest.raises(CommandError, match="YYYY-MM-DD"):
            call_command("apply_client_wait_rules", "--today", "mañana")


def test_the_daily_schedule_exists_once():
    from django_q.models import Schedule

    from engagements.schedules import ensure_schedules

    ensure_schedules(Schedule)
    ensure_schedules(Schedule)
    schedule = Schedule.objects.get(name="engagements.client_wait_sweep")
    assert schedule.schedule_type == Schedule.DAILY and schedule.func == "engagements.tasks.client_wait_sweep"
