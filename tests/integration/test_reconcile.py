"""The nightly reconciliation: a missed order is imported, bindings to deleted Odoo records are set
aside and reported, a paused engagement is skipped; every part is a run with its report."""

import pytest

from engagements.integration import reconcile, runner, tasks
from engagements.integration.models import Binding, FlowSettings, Health, ShopConnection, SyncCursor, SyncRun
from tests.fakes.odoo import WH_STOCK, FakeOdoo, FakeOdooServer
from tests.fakes.shopify import FakeShopify, FakeShopifyServer
from tests.integration.fixtures import ORDER_OPTIONS, bind_shopify_variant, bind_variant, sale_orders, wire

pytestmark = pytest.mark.django_db


def _bind(engagement, kind, model, odoo_id, external_id):
    return Binding.objects.create(
        engagement=engagement, kind=kind, odoo_model=model, odoo_id=odoo_id, external_id=external_id
    )


def test_an_order_the_polls_missed_is_imported_by_the_reconciliation(orders_flow):
    engagement, odoo, shop = orders_flow
    FlowSettings.objects.filter(flow="orders").update(options={**ORDER_OPTIONS, "reconcile_days": 400})
    runner.run_flow(engagement=engagement, flow="orders")
    cursor = SyncCursor.objects.get(engagement=engagement, flow="orders").value
    # Changed an hour before the cursor, past the overlap: an incremental run never lists it.
    [missed] = shop.add_orders(1, start_id=6100, modified="2026-03-10T10:00:00")
    assert runner.run_flow(engagement=engagement, flow="orders").counts["created"] == 0
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
    dry = runner.run_flow(engagement=engagement, flow="bindings", dry_run=True)
    assert dry.counts["review"] == 2 and Binding.objects.filter(state=Binding.State.ORPHANED).count() == 0
    run = runner.run_flow(engagement=engagement, flow="bindings", trigger=SyncRun.Trigger.RECONCILE)
    assert run.counts == {**run.counts, "listed": 3, "unchanged": 1, "review": 2}
    assert {i.reason_code for i in run.items.all()} == {"odoo_record_deleted"}
    states = dict(Binding.objects.values_list("pk", "state"))
    assert states[kept.pk] == Binding.State.ACTIVE
    assert states[gone_variant.pk] == states[gone_partner.pk] == Binding.State.ORPHANED
    reads = [model for service, model, method in odoo.calls if method == "read"]
    assert sorted(reads) == ["product.product", "product.product", "res.partner", "res.partner"]  # 1 per model
    again = runner.run_flow(engagement=engagement, flow="bindings")
    assert again.counts["listed"] == 1  # orphaned ones are no longer checked


def test_the_nightly_task_skips_a_paused_engagement(orders_flow):
    engagement, odoo, _shop = orders_flow
    ShopConnection.objects.filter(engagement=engagement).update(health=Health.FAILING)
    assert tasks.reconcile_all() == "0 reconciliation runs: "
    assert not SyncRun.objects.exists() and not sale_orders(odoo)
    ShopConnection.objects.filter(engagement=engagement).update(health=Health.OK)
    assert tasks.reconcile_all().startswith("2 reconciliation runs")


def _bound_catalogue(engagement) -> None:
    FlowSettings.objects.create(engagement=engagement, flow="stock", enabled=True, options={"location_id": 8})
    for odoo_id, external, parent in [(4, "501", ""), (15, "511", "510"), (16, "512", "510")]:
        bind_variant(engagement, odoo_id, external, parent)


def test_stock_changed_by_hand_in_the_shop_is_put_back_by_the_reconciliation(connected):
    engagement, _odoo, shop = connected
    _bound_catalogue(engagement)
    runner.run_flow(engagement=engagement, flow="stock")
    odoo_quantity = shop.products[501]["stock_quantity"]
    shop.products[501]["stock_quantity"] = 3  # edited in the shop's admin
    assert runner.run_flow(engagement=engagement, flow="stock", full=True).counts["updated"] == 0  # unseen
    run = next(r for r in reconcile.reconcile(engagement=engagement) if r.flow == "stock")
    item = run.items.get(outcome="updated")
    assert (item.external_id, item.reason_code, item.diff) == ("501", "stock_drift", {"from": 3, "to": odoo_quantity})
    assert run.counts["unchanged"] == 2 and shop.products[501]["stock_quantity"] == odoo_quantity


def test_drift_is_only_reported_when_correcting_is_off(connected):
    engagement, _odoo, shop = connected
    _bound_catalogue(engagement)
    runner.run_flow(engagement=engagement, flow="stock")
    FlowSettings.objects.filter(flow="stock").update(options={"location_id": 8, "correct_drift": False})
    odoo_quantity = shop.products[501]["stock_quantity"]
    shop.products[501]["stock_quantity"] = 3
    run = runner.run_flow(engagement=engagement, flow="stock", full=True, trigger=SyncRun.Trigger.RECONCILE)
    item = run.items.get(outcome="review")
    assert item.reason_code == "stock_drift_kept" and item.diff == {"shop": 3, "odoo": odoo_quantity}
    assert shop.products[501]["stock_quantity"] == 3 and run.counts["updated"] == 0


def test_shopify_drift_is_read_at_the_location_the_flow_writes_to(engagement, carla):
    odoo, shop = FakeOdoo(), FakeShopify()
    with FakeOdooServer(odoo) as odoo_server, FakeShopifyServer(shop) as shop_server:
        wire(engagement, carla, odoo_url=odoo_server.url, shop_url=shop_server.url, platform="shopify")
        variant = bind_shopify_variant(engagement, shop, "CAF-1KG", 4)
        options = {"location_id": WH_STOCK, "stock_field": "qty_available"}
        FlowSettings.objects.create(engagement=engagement, flow="stock", enabled=True, options=options)
        level = (variant["inventoryItem"]["id"], shop.locations[0])
        runner.run_flow(engagement=engagement, flow="stock")
        assert shop.levels[level] == 40
        shop.levels[level] = 7
        [run, _bindings] = reconcile.reconcile(engagement=engagement)
        assert run.items.get(outcome="updated").diff == {"from": 7, "to": 40} and shop.levels[level] == 40
        again = runner.run_flow(engagement=engagement, flow="stock", full=True, trigger=SyncRun.Trigger.RECONCILE)
        assert again.counts["unchanged"] == 1 and again.counts["updated"] == 0
