"""Retries: a retryable failure comes back on its own after a back-off with jitter, a few times,
then needs attention; a success ends its retries; a retry that cannot run waits its next turn."""

from datetime import timedelta

import pytest
from django.utils import timezone

from engagements.integration import runner
from engagements.integration.flows.runs import RETRY_LIMIT, retry_delay
from engagements.integration.models import SyncItem, SyncRun
from tests.integration.fixtures import sale_orders

pytestmark = pytest.mark.django_db
BUSY = "psycopg2.errors.SerializationFailure"  # Odoo's "try again"


def _pending() -> list[SyncItem]:
    return list(SyncItem.objects.filter(next_retry_at__isnull=False).order_by("id"))


def test_the_back_off_grows_is_capped_and_jittered():
    assert retry_delay(1, rng=lambda: 0.5) == timedelta(minutes=5)
    assert retry_delay(3, rng=lambda: 0.5) == timedelta(minutes=20)
    assert retry_delay(30, rng=lambda: 0.5) == timedelta(hours=6)
    assert retry_delay(1, rng=lambda: 0.0) == timedelta(minutes=4)  # -20 %
    assert retry_delay(1, rng=lambda: 1.0) == timedelta(minutes=6)  # +20 %


def test_failed_orders_come_back_by_themselves_and_are_imported(orders_flow):
    engagement, odoo, _shop = orders_flow
    odoo.fail_on[("sale.order", "create")] = [BUSY]  # the page's create: both orders
    run = runner.run_flow(engagement=engagement, flow="orders")
    assert run.counts["failed"] == 2 and run.counts["created"] == 0
    items = _pending()
    assert [(i.attempts, i.reason_code) for i in items] == [(1, "odoo_unavailable")] * 2
    assert all(timedelta(minutes=4) <= i.next_retry_at - run.finished_at <= timedelta(minutes=6) for i in items)
    assert runner.retry_due() == []  # not due yet

    [retry] = runner.retry_due(now=timezone.now() + timedelta(minutes=7))
    assert retry.trigger == SyncRun.Trigger.RETRY and retry.counts["listed"] == 2
    assert retry.counts["created"] == 2 and len(sale_orders(odoo)) == 2
    assert _pending() == []  # the success ended its retries


def test_after_the_limit_it_needs_attention_instead(orders_flow):
    engagement, odoo, _shop = orders_flow
    odoo.fail_on[("sale.order", "create")] = [BUSY]
    run = runner.run_flow(engagement=engagement, flow="orders")
    failed_id = SyncItem.objects.filter(run=run, outcome="failed").first().external_id
    later = timezone.now()
    for attempt in range(2, RETRY_LIMIT + 1):
        later += timedelta(hours=7)
        odoo.fail_on[("sale.order", "create")] = [BUSY]  # Odoo still busy for that order
        [retry] = runner.retry_due(now=later)
        item = retry.items.get(external_id=failed_id)
        assert item.attempts == attempt
        assert retry.counts["listed"] == sum(v for k, v in retry.counts.items() if k != "listed")
    assert item.outcome == "review" and item.reason_code == f"odoo_unavailable,retries_exhausted:{RETRY_LIMIT}"
    assert retry.counts["review"] == 2 and retry.counts["failed"] == 0
    assert _pending() == [] and runner.retry_due(now=later + timedelta(days=1)) == []


def test_a_retry_that_cannot_reach_the_shop_waits_for_its_next_turn(orders_flow):
    engagement, odoo, shop = orders_flow
    odoo.fail_on[("sale.order", "create")] = [BUSY]
    runner.run_flow(engagement=engagement, flow="orders")
    shop.unavailable = 100  # the shop answers 503 to everything
    moment = timezone.now() + timedelta(minutes=7)
    [retry] = runner.retry_due(now=moment)
    assert retry.status == SyncRun.Status.FAILED
    items = _pending()
    assert len(items) == 2 and all(i.next_retry_at > moment + timedelta(minutes=7) for i in items)  # not a storm
    shop.unavailable = 0
    [retry] = runner.retry_due(now=max(i.next_retry_at for i in items))
    assert retry.counts["created"] == 2 and _pending() == []


def test_a_dry_run_schedules_no_retry(orders_flow):
    engagement, odoo, _shop = orders_flow
    odoo.fail_on[("sale.order", "create")] = [BUSY]  # a dry run does not create: nothing fails
    odoo.fail_on[("sale.order", "search_read")] = [BUSY]
    run = runner.run_flow(engagement=engagement, flow="orders", dry_run=True)
    assert run.counts["failed"] == 2 and _pending() == []
