"""Two real django-q2 clusters on one PostgreSQL database and one Redis (broker and cache), as two
machines would run them: the queue is drained exactly once between them, and a sync flow never
runs twice at once even when both clusters are given it at the same moment."""

import time
from collections import Counter

import pytest
from django.db import connection
from django.utils import translation
from django_q.brokers.redis_broker import Redis as RedisBroker
from django_q.models import Task
from django_q.tasks import async_task

from engagements.integration.errors import RunInProgress
from engagements.integration.models import FlowSettings, SyncRun
from tests.fakes.odoo import FakeOdoo, FakeOdooServer
from tests.fakes.woocommerce import FakeShop, FakeShopServer
from tests.integration.fixtures import ORDER_OPTIONS, wire
from tests.integration.test_crash import _wait
from tests.scaleout.conftest import LABELS, clusters, clusters_up, own_queue

pytestmark = pytest.mark.django_db(transaction=True)
TASKS = 60
ORDERS = 4
MARK, SYNC_RUN = "tests.scaleout.tasks.mark", "engagements.integration.tasks.sync_run"


def _both_clusters_running(redis_url: str) -> None:
    assert connection.vendor == "postgresql", "several processes need a shared server database"
    assert _wait(lambda: clusters_up(redis_url) == len(LABELS), 45), "the two clusters never came up"


def test_two_clusters_drain_the_redis_queue_exactly_once(redis_url, redis_broker, redis_cache, marks):
    with clusters(REDIS_URL=redis_url):
        _both_clusters_running(redis_url)
        for key in range(TASKS):
            async_task(MARK, f"{key:03}", 0.05, broker=redis_broker)
        drained = _wait(lambda: Task.objects.filter(func=MARK, success=True).count() >= TASKS, 60)
        time.sleep(1)  # a second delivery of any task would land now
    assert drained, (
        f"{Task.objects.filter(func=MARK).count()} of {TASKS} tasks done; queue left {redis_broker.queue_size()}"
    )

    rows = marks()
    assert sorted(key for key, _cluster in rows) == [f"{key:03}" for key in range(TASKS)]  # each once
    assert Task.objects.filter(func=MARK).count() == TASKS and redis_broker.queue_size() == 0
    assert redis_cache.get("scaleout:executions") == TASKS  # one counter in the cache all processes share
    split = Counter(cluster for _key, cluster in rows)
    print(f"split of {TASKS} tasks between the clusters: {dict(split)}")
    assert set(split) == set(LABELS), f"one cluster took every task: {dict(split)}"


def _refusals() -> set[str]:
    refusals = set()
    for language in ("es", "en"):
        with translation.override(language):
            refusals.add(f"orders not run: {RunInProgress().message}")
    return refusals


def test_a_flow_given_to_two_clusters_at_once_runs_once(engagement, carla, redis_url, redis_broker, marks):
    odoo, shop = FakeOdoo(latency=0.08), FakeShop(latency=0.05)  # slow enough for the two to overlap
    shop.add_orders(ORDERS, start_id=8000)
    with FakeOdooServer(odoo) as odoo_server, FakeShopServer(shop) as shop_server:
        wire(engagement, carla, odoo_url=odoo_server.url, shop_url=shop_server.url)
        FlowSettings.objects.create(engagement=engagement, flow="orders", options=ORDER_OPTIONS)
        with clusters(own_queues=True, REDIS_URL=redis_url):
            _both_clusters_running(redis_url)
            for label in LABELS:  # one to each cluster, at the same moment
                async_task(
                    SYNC_RUN,
                    engagement.pk,
                    "orders",
                    hook="tests.scaleout.tasks.note_cluster",
                    broker=RedisBroker(list_key=own_queue(label)),
                )
            done = _wait(lambda: len(marks()) == len(LABELS), 60)
    assert done, list(Task.objects.filter(func=SYNC_RUN).values("result", "success"))

    ran_on = dict(marks())  # task id -> cluster
    results = {ran_on[task.id]: task.result for task in Task.objects.filter(func=SYNC_RUN)}
    print(f"sync_run results per cluster: {results}")
    assert set(results) == set(LABELS), f"each cluster ran one: {results}"
    refused = [result for result in results.values() if result in _refusals()]
    assert len(refused) == 1, results
    run = SyncRun.objects.get()  # the refused one left no run behind
    markers = Counter(order["client_order_ref"] for order in odoo.data["sale.order"].values())
    assert run.status == SyncRun.Status.SUCCEEDED and run.counts["created"] == len(shop.orders) == len(markers)
    assert set(markers.values()) == {1}  # every shop order in Odoo, once
