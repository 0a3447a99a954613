"""/healthz: ok with a live worker, degraded without one, with an overdue sweep or with failed
e-mails, 503 when the database or the broker is down; public, fast, and it reveals nothing about
clients; the detail only to a caller with HEALTHZ_TOKEN."""

import os
import shutil
import signal
import socket
import statistics
import subprocess
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from django_q.models import Schedule, Task

from portal import health
from tests.integration.test_crash import _cluster, _wait

ROOT = Path(__file__).resolve().parents[2]
postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="needs the PostgreSQL test cluster")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again on return: nothing listens there


TOKEN = "healthz-test-token-0123456789"


@pytest.fixture(autouse=True)
def _token(settings):
    settings.HEALTHZ_TOKEN = TOKEN


def _health(client) -> tuple[int, dict]:
    """The detailed answer, as monitoring with the token gets it."""
    response = client.get("/healthz", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    return response.status_code, response.json()


@pytest.mark.django_db
def test_it_is_public_uncached_and_read_only(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"] and not response.cookies
    assert client.post("/healthz").status_code == 405


@pytest.mark.django_db
def test_anonymous_callers_get_the_status_and_the_failed_checks_names_only(client, settings):
    detailed = _health(client)[1]
    assert detailed["checks"]["schedules"]["items"]  # the detail exists and names the sweeps...
    for headers in ({}, {"HTTP_AUTHORIZATION": "Bearer wrong-token"}, {"HTTP_AUTHORIZATION": TOKEN}):
        response = client.get("/healthz", **headers)
        # ...but without the token the answer is these two keys, and no schedule or task name.
        assert response.json() == {"status": "degraded", "failed": ["worker"]}, headers
        assert "sweep" not in response.content.decode()
    settings.HEALTHZ_TOKEN = ""  # not configured: nobody gets the detail, not even with an empty bearer
    assert client.get("/healthz", HTTP_AUTHORIZATION="Bearer ").json() == {"status": "degraded", "failed": ["worker"]}


@pytest.mark.django_db
def test_failed_emails_are_counted_and_make_it_degraded(client):
    from portal.models import MailStatus, OutgoingMail

    def mail(status, attempts):
        OutgoingMail.objects.create(recipient="a@x.test", subject="s", body="b", status=status, attempts=attempts)

    mail(MailStatus.PENDING, 2)  # waiting for its third attempt: counted, still ok
    mail(MailStatus.SENT, 1)
    status, body = _health(client)
    assert body["checks"]["mail"] == {"ok": True, "retrying": 1, "failed_24h": 0}
    assert body["failed"] == ["worker"]
    mail(MailStatus.FAILED, 6)
    status, body = _health(client)
    assert status == 200 and body["status"] == "degraded" and body["failed"] == ["worker", "mail"]
    assert body["checks"]["mail"] == {"ok": False, "retrying": 1, "failed_24h": 1}
    assert "a@x.test" not in str(body)


@pytest.mark.django_db
def test_it_is_degraded_when_no_worker_published_a_heartbeat(client):
    status, body = _health(client)
    assert status == 200 and body["status"] == "degraded" and body["failed"] == ["worker"]
    assert body["checks"]["worker"] == {"ok": False, "clusters": 0, "workers": 0, "last_heartbeat_seconds": None}
    assert body["checks"]["database"]["ok"] and body["checks"]["database"]["latency_ms"] >= 0
    assert body["checks"]["broker"] == {**body["checks"]["broker"], "ok": True, "kind": "orm", "queued": 0}


def _sweep_ran(when, *, success: bool) -> None:
    Task.objects.create(
        id=f"t{Task.objects.count()}",
        name="sweep",
        func="engagements.tasks.client_wait_sweep",
        started=when,
        stopped=when,
        success=success,
    )


@pytest.mark.django_db
def test_it_reports_each_sweep_and_is_degraded_when_one_is_overdue(client, engagement, monkeypatch):
    monkeypatch.setitem(health.CHECKS, "worker", lambda: {"ok": True})  # the worker is another test
    now = timezone.now()
    Schedule.objects.all().delete()
    Schedule.objects.create(
        name="engagements.client_wait_sweep",
        func="engagements.tasks.client_wait_sweep",
        schedule_type="D",
        repeats=-1,
        next_run=now + timedelta(hours=20),
    )
    _sweep_ran(now - timedelta(hours=4), success=True)
    for flow in ("orders", "stock"):  # per engagement: counted under their function, never named
        Schedule.objects.create(
            name=f"integration.{engagement.code}.{flow}",
            func="engagements.integration.tasks.sync_run",
            args=f"{engagement.pk},{flow!r}",
            schedule_type="I",
            minutes=15,
            repeats=-1,
            next_run=now + timedelta(minutes=5),
        )
    Schedule.objects.create(
        name="paused", func="x.y", schedule_type="I", minutes=5, repeats=0, next_run=now - timedelta(days=1)
    )

    status, body = _health(client)
    assert status == 200 and body["status"] == "ok", body
    sweep, flows = body["checks"]["schedules"]["items"]
    assert sweep["name"] == "engagements.client_wait_sweep" and sweep["last_run_ok"] is True and not sweep["overdue"]
    assert sweep["last_run"] == (now - timedelta(hours=4)).isoformat()
    assert flows["name"] == "engagements.integration.tasks.sync_run" and flows["count"] == 2 and flows["per_object"]
    assert engagement.code not in str(body)

    _sweep_ran(now - timedelta(hours=1), success=False)
    Schedule.objects.filter(name="engagements.client_wait_sweep").update(next_run=now - timedelta(minutes=11))
    status, body = _health(client)
    sweep = body["checks"]["schedules"]["items"][0]
    assert status == 200 and body["status"] == "degraded" and body["failed"] == ["schedules"]
    assert sweep["overdue"] and sweep["last_run_ok"] is False


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_it_fails_with_503_when_the_database_is_down(client):
    connection.close()
    port = connection.settings_dict["PORT"]
    connection.settings_dict["PORT"] = str(_free_port())
    try:
        status, body = _health(client)
    finally:
        connection.close()
        connection.settings_dict["PORT"] = port
    assert status == 503 and body["status"] == "fail" and "database" in body["failed"] and "broker" in body["failed"]
    assert body["checks"]["database"] == {"ok": False, "error": "OperationalError"}
    assert "127.0.0.1" not in str(body)  # the error's text (host, port, user) stays in the log


@postgres_only
@pytest.mark.django_db
def test_it_fails_with_503_when_the_orm_broker_table_is_unreachable(client):
    with connection.cursor() as cursor:  # undone by the test's rollback
        cursor.execute("ALTER TABLE django_q_ormq RENAME TO django_q_ormq_gone")
    status, body = _health(client)
    assert status == 503 and body["status"] == "fail" and body["checks"]["broker"]["ok"] is False


@pytest.mark.django_db
def test_it_fails_with_503_when_redis_does_not_answer(client):
    with override_settings(REDIS_URL=f"redis://127.0.0.1:{_free_port()}/0"):
        start = time.perf_counter()
        status, body = _health(client)
    assert time.perf_counter() - start < 3
    assert status == 503 and body["status"] == "fail" and {"broker", "worker"} <= set(body["failed"])
    assert body["checks"]["broker"] == {"ok": False, "error": "ConnectionError"}


@pytest.mark.django_db
def test_it_pings_redis_and_counts_its_queue(client, tmp_path):
    assert shutil.which("redis-server"), "redis-server is missing: scripts/system-deps.sh installs it"
    import redis

    port = _free_port()
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
    )
    try:
        url = f"redis://127.0.0.1:{port}/0"
        assert _wait(lambda: _pings(url), 10)
        redis.Redis.from_url(url).rpush("django_q:portal:q", "a", "b")
        with override_settings(REDIS_URL=url):
            status, body = _health(client)
    finally:
        server.terminate()
        server.wait(10)
    assert body["checks"]["broker"] == {**body["checks"]["broker"], "ok": True, "kind": "redis", "queued": 2}
    assert status == 200 and body["failed"] == ["worker"]


def _pings(url: str) -> bool:
    import redis

    try:
        return redis.Redis.from_url(url).ping()
    except redis.ConnectionError:
        return False


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_it_is_ok_while_a_real_cluster_runs_and_degraded_soon_after_it_is_killed(client):
    Schedule.objects.update(next_run=timezone.now() + timedelta(hours=1))  # nothing due during the test
    cluster = _cluster()
    try:
        assert _wait(lambda: _health(client)[1]["status"] == "ok", 60), _health(client)
        body = _health(client)[1]
        assert body["checks"]["worker"]["clusters"] == 1 and body["checks"]["worker"]["last_heartbeat_seconds"] < 3
        timings = []
        for _ in range(5):
            start = time.perf_counter()
            assert client.get("/healthz", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200
            timings.append((time.perf_counter() - start) * 1000)
        assert statistics.median(timings) < 50, timings
    finally:
        os.killpg(cluster.pid, signal.SIGKILL)
        cluster.wait(10)
    assert _wait(lambda: _health(client)[1]["status"] == "degraded", 10)  # the heartbeat expires after 3 s
    assert _health(client)[1]["failed"] == ["worker"]
