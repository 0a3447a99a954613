"""Connection checks run in the worker with a state the page polls; a check, made inside a web request or
not, tries each call once, never sleeps, and ends within INTEGRATION_CHECK_SECONDS (at most 10 s). A
hanging fake accepts connections and never answers."""

import os
import signal
import time

import django_q.conf
import pytest
from django.db import connection as db
from django.urls import reverse
from django.utils import timezone
from django_q.models import OrmQ

from engagements.integration import connections
from engagements.integration.models import CheckState, Health, OdooConnection, ShopConnection
from portal.audit import Code
from portal.errors import DomainError
from portal.models import AuditEvent
from tests.fakes.capture import HangingServer
from tests.fakes.woocommerce import FakeShop, FakeShopServer
from tests.integration.fixtures import SHOP_KEYS
from tests.integration.test_crash import _cluster

pytestmark = pytest.mark.django_db

DEADLINE = 2.0  # seconds a check may take in these tests (INTEGRATION_CHECK_SECONDS)
SLACK = 1.5  # what the test client, the database and the scheduler add to it


def _connect(engagement, actor, kind: str, url: str, platform: str = "woocommerce"):
    if kind == "odoo":
        return connections.odoo_connection_save(
            actor=actor, engagement=engagement, url=url, database="lab", login="admin", api_key="admin"
        )
    key, secret = SHOP_KEYS[platform]
    return connections.shop_connection_save(
        actor=actor, engagement=engagement, platform=platform, base_url=url, api_key=key, api_secret=secret
    )


def _timed_check(client, engagement, kind: str, capture_on_commit):
    """The check's request, with the task it queues after commit: the test settings run it inline, as
    if inside the request. Then the page it sends the person back to."""
    started = time.monotonic()
    with capture_on_commit(execute=True):
        response = client.post(reverse(f"integration:{kind}_check", args=[engagement.code]))
    took = time.monotonic() - started
    assert response.status_code == 302
    return client.get(response["Location"]), took


@pytest.mark.parametrize(
    "kind, platform",
    [("odoo", ""), ("shop", "woocommerce"), ("shop", "shopify"), ("shop", "jumpseller")],
)
def test_a_hanging_server_is_judged_within_the_deadline_with_a_clear_verdict(
    client, engagement, carla, settings, django_capture_on_commit_callbacks, kind, platform
):
    settings.INTEGRATION_CHECK_SECONDS = DEADLINE
    client.force_login(carla)
    with HangingServer() as hanging:
        connection = _connect(engagement, carla, kind, hanging.url, platform or "woocommerce")
        response, took = _timed_check(client, engagement, kind, django_capture_on_commit_callbacks)
    assert response.status_code == 200 and took < DEADLINE + SLACK, took
    connection.refresh_from_db()
    code = "odoo_timeout" if kind == "odoo" else "shop_timeout"
    assert connection.last_check["problem"] == code and connection.health == Health.FAILING
    assert connection.check_state == CheckState.IDLE
    assert connection.last_check["message"] in response.content.decode()  # said on the page, in Spanish
    assert hanging.accepted == 1  # one attempt


def test_a_check_never_sleeps_on_retry_after(engagement, carla):
    """The shop answers 429 with Retry-After: 30. A check gives up at once instead of waiting."""
    shop = FakeShop(rate_limited=1)
    with FakeShopServer(shop) as server:
        connection = _connect(engagement, carla, "shop", server.url)
        started = time.monotonic()
        verdict = connections.shop_connection_check(connection=connection)
    assert time.monotonic() - started < 2 and verdict["problem"] == "shop_busy"
    assert shop.requests == [("GET", "/wp-json/wc/v3/system_status")]  # the probe, once


def test_a_check_going_on_is_not_queued_twice(client, engagement, carla):
    connection = _connect(engagement, carla, "shop", "https://tienda.example")
    connections.connection_check_request(actor=carla, connection=connection)
    with pytest.raises(DomainError):
        connections.connection_check_request(actor=carla, connection=connection)
    client.force_login(carla)
    response = client.post(reverse("integration:shop_check", args=[engagement.code]), follow=True)
    assert "ya se está probando" in response.content.decode()


def test_a_check_left_behind_by_a_killed_worker_is_over(engagement, carla, settings):
    connection = _connect(engagement, carla, "odoo", "https://odoo.example")
    past = timezone.now() - timezone.timedelta(seconds=settings.INTEGRATION_RUN_STALE_SECONDS + 1)
    OdooConnection.objects.filter(pk=connection.pk).update(check_state=CheckState.AUTH, check_requested_at=past)
    connection.refresh_from_db()
    assert not connection.check_going_on()
    connections.connection_check_request(actor=carla, connection=connection)  # a new one may start


def test_a_save_during_a_check_keeps_the_check_from_writing_its_verdict(engagement, carla):
    connection = _connect(engagement, carla, "shop", "https://tienda.example")
    _connect(engagement, carla, "shop", "https://tienda.example")  # saved again while the check ran
    connections._check_finished(connection, {"problem": "shop_auth"})  # the check, done with the old revision
    connection.refresh_from_db()
    assert connection.health == Health.UNKNOWN and connection.last_check == {}
    assert connection.check_state == CheckState.IDLE


@pytest.mark.django_db(transaction=True)
def test_the_check_runs_in_a_real_worker_while_the_page_polls_its_state(client, engagement, carla, monkeypatch):
    assert db.vendor == "postgresql"
    monkeypatch.setattr(django_q.conf.Conf, "SYNC", False)  # enqueue for the real cluster
    client.force_login(carla)
    part = reverse("integration:part", args=[engagement.code, "shop"])
    with HangingServer() as hanging:
        connection = _connect(engagement, carla, "shop", hanging.url)
        queued = OrmQ.objects.count()
        started = time.monotonic()
        response = client.post(
            reverse("integration:shop_check", args=[engagement.code]), headers={"HX-Request": "true"}
        )
        assert time.monotonic() - started < 1 and response.status_code == 200  # the request waited on nobody
        assert hanging.accepted == 0 and OrmQ.objects.count() == queued + 1
        assert 'hx-trigger="every 2s"' in response.content.decode()  # the part polls from now on
        worker = _cluster(INTEGRATION_CHECK_SECONDS=str(DEADLINE))
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and ShopConnection.objects.get().check_state:
                time.sleep(0.2)
        finally:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(10)
    connection.refresh_from_db()
    assert connection.check_state == CheckState.IDLE and connection.last_check["problem"] == "shop_timeout"
    answer = client.get(part, {"seen": "what the page showed before"})
    assert answer.status_code == 200 and "hx-trigger" not in answer.content.decode()  # the polling stops
    assert connection.last_check["message"] in answer.content.decode()
    checked = AuditEvent.objects.get(code=Code.CONNECTION_CHECKED)
    assert checked.actor == carla and checked.data["problem"] == "shop_timeout"
