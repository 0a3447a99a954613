"""The R1/R2 sweep on stored dates: boundaries, idempotency, holds and terminal states, the command."""

from datetime import datetime, time, timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import override_settings
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
