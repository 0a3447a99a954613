"""Flow schedules: created idempotently from the flow settings, paused by a failing connection,
resumed by a passing test, and fired by a real django-q2 cluster."""

import os
import signal
from datetime import timedelta

import django_q.conf
import pytest
from django.urls import reverse
from django.utils import timezone
from django_q.models import Schedule

from engagements.integration import connections, runner, services
from engagements.integration.models import FlowSettings, SyncRun
from engagements.integration.schedules import schedule_name
from tests.integration.test_crash import _cluster, _wait


def _post_settings(client, engagement, **data):
    url = reverse("integration:flow_settings", args=[engagement.code, "stock"])
    return client.post(url, {"location_id": "8", "stock_field": "free_qty", "buffer": "0", **data})


@pytest.mark.django_db
def test_the_flow_settings_create_one_schedule_and_remove_it(client, carla, connected):
    engagement, _odoo, _shop = connected
    client.force_login(carla)
    _post_settings(client, engagement, enabled="on", every_minutes="30")
    schedule = Schedule.objects.get(name=schedule_name(engagement, "stock"))
    assert (schedule.func, schedule.minutes, schedule.repeats) == ("engagements.integration.tasks.sync_run", 30, -1)
    assert schedule.args == f"{engagement.pk},'stock'" and schedule.kwargs == "trigger='schedule'"
    first_run = schedule.next_run
    _post_settings(client, engagement, enabled="on", every_minutes="30")  # saved again, unchanged
    assert Schedule.objects.get(name=schedule_name(engagement, "stock")).next_run == first_run
    _post_settings(client, engagement, enabled="on", every_minutes="60")
    assert Schedule.objects.get(name=schedule_name(engagement, "stock")).minutes == 60
    assert FlowSettings.objects.get(engagement=engagement, flow="stock").every_minutes == 60
    _post_settings(client, engagement, every_minutes="60")  # switched off
    assert not Schedule.objects.filter(name__startswith=schedule_name(engagement, "")).exists()
    response = _post_settings(client, engagement, enabled="on", every_minutes="7")
    assert response.status_code == 200 and "every_minutes" in response.context["form"].errors


@pytest.mark.django_db
def test_a_refused_key_pauses_the_schedules_and_a_passing_test_resumes_them(carla, connected):
    engagement, _odoo, shop = connected
    services.flow_settings_save(
        actor=carla, engagement=engagement, flow="orders", enabled=True, options={}, every_minutes=15
    )
    shop.revoked = True
    run = runner.run_flow(engagement=engagement, flow="orders", trigger="schedule")
    assert run.status == SyncRun.Status.FAILED and run.summary.startswith("shop_auth")
    assert Schedule.objects.get(name=schedule_name(engagement, "orders")).repeats == 0  # no retry storm
    shop.revoked = False
    verdict = connections.shop_connection_check(connection=engagement.shop_connection)
    assert not verdict.get("problem")
    assert Schedule.objects.get(name=schedule_name(engagement, "orders")).repeats == -1


@pytest.mark.django_db(transaction=True)
def test_a_real_cluster_fires_the_schedule_and_skips_a_paused_one(carla, connected, monkeypatch):
    engagement, _odoo, _shop = connected
    monkeypatch.setattr(django_q.conf.Conf, "SYNC", False)
    services.flow_settings_save(
        actor=carla, engagement=engagement, flow="stock", enabled=True, options={"location_id": 8}, every_minutes=15
    )
    services.flow_settings_save(
        actor=carla, engagement=engagement, flow="orders", enabled=True, options={}, every_minutes=15
    )
    Schedule.objects.filter(name=schedule_name(engagement, "orders")).update(repeats=0)  # as if paused
    # Only this engagement's schedules fall due: the nightly reconciliation would start stock runs too.
    Schedule.objects.filter(name__startswith=schedule_name(engagement, "")).update(
        next_run=timezone.now() - timedelta(minutes=1)
    )
    cluster = _cluster()
    try:  # the cluster's guard loop calls the scheduler about every 30 seconds
        fired = _wait(lambda: SyncRun.objects.filter(flow="stock", finished_at__isnull=False).exists(), 90)
    finally:
        os.killpg(cluster.pid, signal.SIGKILL)
        cluster.wait(10)
    assert fired, "the schedule never ran"
    run = SyncRun.objects.get(flow="stock")
    assert run.trigger == SyncRun.Trigger.SCHEDULE and run.status == SyncRun.Status.SUCCEEDED
    assert not SyncRun.objects.filter(flow="orders").exists()
    assert Schedule.objects.get(name=schedule_name(engagement, "stock")).next_run > timezone.now()
