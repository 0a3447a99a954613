"""The nightly reconciliation: a missed order is imported, bindings to deleted Odoo records are set
aside and reported, a paused engagement is skipped; every part is a run with its report."""

import pytest

from engagements.integration import reconcile, services, tasks
from engagements.integration.models import Binding, FlowSettings, Health, ShopConnection, SyncCursor, SyncRun
from tests.integration.fixtures import ORDER_OPTIONS, sale_orders

pytestmark = pytest.mark.django_db


def _bind(engagement, kind, model, odoo_id, external_id):
    return Binding.objects.create(
        engagement=engagement, kind=kind, odoo_model=model, odoo_id=odoo_id, external_id=external_id
    )


def test_an_order_the_polls_missed_is_imported_by_the_reconciliation(orders_flow):
    engagement, odoo, shop = orders_flow
    FlowSettings.objects.filter(flow="orders").update(options={**ORDER_OPTIONS, "reconcile_days": 400})
    services.sync_run(engagement=engagement, flow="orders")
    cursor = SyncCursor.objects.get(engagement=engagement, flow="orders").value
    # Changed an hour before the cursor, past the overlap: an incremental run never lists it.
    [missed] = shop.add_orders(1, start_id=6100, modified="2026-03-10T10:00:00")
    assert services.sync_run(engagement=engagement, flow="orders").counts["created"] == 0
    assert cursor > "2026-03-10T10:05:00"
    runs = {run.flow: run for run in reconcile.reconcile(engagement=engagement)}
    assert set(runs) == {"orders", "bindings"}
    assert runs["orders"].trigger == SyncRun.Trigger.RECONCILE and runs["orders"].counts["created"] == 1
    assert len(sale_orders(odoo, f"WOO-{missed}")) == 1
    assert runs["bindings"].counts["review"] == 0 and runs["bindings"].status == SyncRun.Status.SUCCEEDED


def test_bindings_to_deleted_odoo_records_are_set_aside_and_reported(connected):
    engagement, odoo, _shop = connected
    kept = _bind(engagement, "product_variant", "product.product", 4, "501")
    gone_variant = _bind(engagement, "product_variant", "product.product", 99999, "777")
    gone_partner = _bind(engagement, "partner", "res.partner", 88888, "guest:a@b.cl")
    dry = services.sync_run(engagement=engagement, flow="bindings", dry_run=True)
    assert dry.counts["review"] == 2 and Binding.objects.filter(state=Binding.State.ORPHANED).count() == 0
    run = services.sync_run(engagement=engagement, flow="bindings", trigger=SyncRun.Trigger.RECONCILE)
    assert run.counts == {**run.counts, "listed": 3, "unchanged": 1, "review": 2}
    assert {i.reason_code for i in run.items.all()} == {"odoo_record_deleted"}
    states = dict(Binding.objects.values_list("pk", "state"))
    assert states[kept.pk] == Binding.State.ACTIVE
    assert states[gone_variant.pk] == states[gone_partner.pk] == Binding.State.ORPHANED
    reads = [model for service, model, method in odoo.calls if method == "read"]
    assert sorted(reads) == ["product.product", "product.product", "res.partner", "res.partner"]  # 1 per model
    again = services.sync_run(engagement=engagement, flow="bindings")
    assert again.counts["listed"] == 1  # orphaned ones are no longer checked


def test_the_nightly_task_skips_a_paused_engagement(orders_flow):
    engagement, odoo, _shop = orders_flow
    ShopConnection.objects.filter(engagement=engagement).update(health=Health.FAILING)
    assert tasks.reconcile_all() == "0 reconciliation runs: "
    assert not SyncRun.objects.exists() and not sale_orders(odoo)
    ShopConnection.objects.filter(engagement=engagement).update(health=Health.OK)
    assert tasks.reconcile_all().startswith("2 reconciliation runs")
