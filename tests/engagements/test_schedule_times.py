"""Daily sweeps run at a set time of day on the business clock (America/Santiago), whenever the
migrations ran, and keep that time across Chile's DST changes."""

from datetime import UTC, datetime
from importlib import import_module
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps as django_apps
from django_q.models import Schedule

from billing.schedules import SCHEDULES as BILLING
from engagements.integration.schedules import SCHEDULES as INTEGRATION
from engagements.schedules import SCHEDULES as ENGAGEMENTS
from engagements.schedules import ensure_schedules, next_at

SANTIAGO = ZoneInfo("America/Santiago")
DAILY = [spec for spec in ENGAGEMENTS + BILLING + INTEGRATION if spec["schedule_type"] == Schedule.DAILY]


def _local(moment: datetime) -> str:
    return moment.astimezone(SANTIAGO).strftime("%Y-%m-%d %H:%M %z")


def test_every_daily_sweep_names_its_time():
    assert {spec["name"]: spec["at"] for spec in DAILY} == {
        "engagements.client_wait_sweep": "08:00",
        "billing.quote_expire_sweep": "01:15",
        "billing.credit_expire_sweep": "01:20",
        "billing.invoice_reminder_sweep": "09:00",
        "integration.reconcile": "03:00",
    }


def test_next_at_is_the_next_such_moment_on_the_business_clock():
    morning = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # 07:00 in Santiago (summer time, -03)
    assert _local(next_at("08:00", morning)) == "2026-11-23 08:00 -0300"
    assert _local(next_at("08:00", datetime(2026, 11, 23, 11, 0, tzinfo=UTC))) == "2026-11-24 08:00 -0300"
    assert _local(next_at("08:00", datetime(2026, 11, 23, 11, 30, tzinfo=UTC))) == "2026-11-24 08:00 -0300"
    # The evening before Chile moves its clocks forward (5 September 2027, at midnight).
    eve = datetime(2027, 9, 4, 20, 0, tzinfo=SANTIAGO)
    assert _local(next_at("08:00", eve)) == "2027-09-05 08:00 -0300"


MIGRATIONS = (
    "engagements.migrations.0003_schedule_times",
    "billing.migrations.0004_schedule_times",
    "engagements.integration.migrations.0006_schedule_times",
)


@pytest.mark.django_db
def test_the_migrations_move_the_sweeps_of_a_running_portal_to_their_time():
    Schedule.objects.all().delete()  # the portal before: each sweep due at 14:37, when it was installed
    installed = datetime(2026, 11, 23, 14, 37, tzinfo=SANTIAGO)
    for spec in DAILY:
        Schedule.objects.create(name=spec["name"], func=spec["func"], schedule_type="D", repeats=-1, next_run=installed)
    for module in MIGRATIONS:
        import_module(module).Migration.operations[0].code(django_apps, None)
    for spec in DAILY:
        schedule = Schedule.objects.get(name=spec["name"])
        assert schedule.next_run.astimezone(SANTIAGO).strftime("%H:%M") == spec["at"], spec["name"]
        assert schedule.next_run > datetime.now(UTC)


@pytest.mark.django_db
def test_a_schedule_at_another_hour_is_moved_once_and_then_left_alone():
    ensure_schedules(Schedule)  # the row exists whether or not an earlier test emptied the table
    Schedule.objects.filter(name="engagements.client_wait_sweep").update(
        next_run=datetime(2026, 11, 23, 17, 37, tzinfo=UTC)  # 14:37 in Santiago: when a migration once ran
    )
    ensure_schedules(Schedule)
    moved = Schedule.objects.get(name="engagements.client_wait_sweep").next_run
    assert moved.astimezone(SANTIAGO).strftime("%H:%M") == "08:00" and moved > datetime.now(UTC)
    ensure_schedules(Schedule)
    assert Schedule.objects.get(name="engagements.client_wait_sweep").next_run == moved
    assert Schedule.objects.filter(name="engagements.client_wait_sweep").count() == 1


@pytest.mark.django_db
def test_django_q_keeps_the_wall_clock_time_across_a_dst_change():
    schedule = Schedule(schedule_type=Schedule.DAILY, next_run=datetime(2027, 9, 4, 8, 0, tzinfo=SANTIAGO))
    following = schedule.calculate_next_run()
    assert _local(schedule.next_run) == "2027-09-04 08:00 -0400"
    assert _local(following) == "2027-09-05 08:00 -0300"  # 08:00 again, one hour less in UTC
