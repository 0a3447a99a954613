"""A real django-q2 cluster killed with SIGKILL in the middle of an order import (after Odoo committed
the page's orders, before our transaction did), then restarted: every shop order ends up in Odoo
exactly once (at-least-once delivery + adoption by marker)."""

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import django_q.conf
import pytest
from django.db import connection
from django_q.tasks import async_task

from engagements.integration.models import Binding, FlowSettings, SyncRun
from tests.fakes.odoo import FakeOdoo, FakeOdooServer
from tests.fakes.woocommerce import FakeShop, FakeShopServer
from tests.integration.fixtures import ORDER_OPTIONS, wire

ROOT = Path(__file__).resolve().parents[2]
ORDERS = 14


def _cluster(**extra_env: str) -> subprocess.Popen:
    """A real `qcluster` on the test database; `extra_env` adds to its environment (REDIS_URL...)."""
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings_test",
        "Q_SYNC": "0",
        "Q_TIMEOUT": "20",
        "Q_RETRY": "24",
        "INTEGRATION_RUN_STALE_SECONDS": "21",
        "LOG_LEVEL": "WARNING",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        **extra_env,
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.django_db(transaction=True)
def test_orders_exist_exactly_once_after_the_worker_is_killed_and_restarted(engagement, carla, monkeypatch):
    assert connection.vendor == "postgresql"
    odoo, shop = FakeOdoo(latency=0.5), FakeShop()  # after the create: the read-back and the confirm
    shop.add_orders(ORDERS - 2, start_id=8000)
    monkeypatch.setattr(django_q.conf.Conf, "SYNC", False)  # enqueue for the real cluster
    with FakeOdooServer(odoo) as odoo_server, FakeShopServer(shop) as shop_server:
        wire(engagement, carla, odoo_url=odoo_server.url, shop_url=shop_server.url)
        FlowSettings.objects.create(engagement=engagement, flow="orders", options=ORDER_OPTIONS)
        async_task("engagements.integration.tasks.sync_run", engagement.pk, "orders")

        first = _cluster()
        try:
            assert _wait(lambda: len(odoo.data["sale.order"]) >= 3, 60), "the import never started"
        finally:
            os.killpg(first.pid, signal.SIGKILL)
            first.wait(10)
        # Odoo has the orders; our page transaction (their bindings) died with the worker.
        assert not Binding.objects.filter(kind="sale_order").exists(), "killed too late to test anything"

        second = _cluster()
        try:
            done = _wait(lambda: SyncRun.objects.filter(status=SyncRun.Status.SUCCEEDED).exists(), 120)
        finally:
            os.killpg(second.pid, signal.SIGKILL)
            second.wait(10)
        assert done, list(SyncRun.objects.values("status", "summary", "counts"))

    markers = Counter(order["client_order_ref"] for order in odoo.data["sale.order"].values())
    assert len(markers) == ORDERS and set(markers.values()) == {1}  # every order, exactly once
    statuses = list(SyncRun.objects.order_by("started_at").values_list("status", flat=True))
    assert statuses[0] == SyncRun.Status.FAILED and statuses[-1] == SyncRun.Status.SUCCEEDED  # interrupted, redone
