"""The same flows on Shopify and Jumpseller: an engagement on each imports its shop's orders and
pushes stock through `sync_run`, the adapters built from the stored connection."""

import pytest

from engagements.integration import runner
from engagements.integration.demo import ORDER_OPTIONS
from engagements.integration.models import Binding, FlowSettings, ShopConnection
from tests.fakes.jumpseller import FakeJumpseller, FakeJumpsellerServer
from tests.fakes.odoo import WH_STOCK, FakeOdoo, FakeOdooServer
from tests.fakes.shopify import FakeShopify, FakeShopifyServer
from tests.fakes.woocommerce import FakeShop, FakeShopServer
from tests.integration.fixtures import bind_shopify_variant, sale_orders, wire

pytestmark = pytest.mark.django_db


@pytest.fixture
def shopify(engagement, carla):
    odoo, shop = FakeOdoo(), FakeShopify()
    with FakeOdooServer(odoo) as odoo_server, FakeShopifyServer(shop) as shop_server:
        wire(engagement, carla, odoo_url=odoo_server.url, shop_url=shop_server.url, platform="shopify")
        FlowSettings.objects.create(engagement=engagement, flow="orders", enabled=True, options=ORDER_OPTIONS)
        yield engagement, odoo, shop


@pytest.fixture
def jumpseller(engagement, carla):
    odoo, shop = FakeOdoo(), FakeJumpseller()
    with FakeOdooServer(odoo) as odoo_server, FakeJumpsellerServer(shop) as shop_server:
        wire(engagement, carla, odoo_url=odoo_server.url, shop_url=shop_server.api_url, platform="jumpseller")
        FlowSettings.objects.create(engagement=engagement, flow="orders", enabled=True, options=ORDER_OPTIONS)
        yield engagement, odoo, shop


def _adds_up(run) -> None:
    assert run.counts["listed"] == sum(v for k, v in run.counts.items() if k != "listed")


def _items(run) -> list[tuple]:
    return [(i.outcome, i.external_id, i.reason_code, i.message) for i in run.items.all()]


def test_shopify_orders_are_imported_once_with_the_platform_marker(shopify):
    engagement, odoo, _shop = shopify
    run = runner.run_flow(engagement=engagement, flow="orders")
    _adds_up(run)
    created = [o for o in sale_orders(odoo) if o["client_order_ref"].startswith("SHOPIFY-")]
    assert run.counts["created"] == 1 and run.counts["review"] == 1 and len(created) == 2, _items(run)
    review = run.items.get(outcome="review")  # the fixture's second order has a custom line
    assert review.reason_code.startswith("no_product:") and created[1]["state"] == "draft"
    assert run.api_usage["shop_calls"] > 0 and not run.summary
    again = runner.run_flow(engagement=engagement, flow="orders", full=True)
    assert again.counts["created"] == 0 and again.counts["unchanged"] == 2, _items(again)
    assert len(sale_orders(odoo)) == len(created)


def test_shopify_stock_goes_to_the_bound_variant(shopify):
    engagement, odoo, shop = shopify
    variant = bind_shopify_variant(engagement, shop, "CAF-1KG", 4)
    FlowSettings.objects.create(
        engagement=engagement,
        flow="stock",
        enabled=True,
        options={"location_id": WH_STOCK, "stock_field": "qty_available"},
    )
    FlowSettings.objects.filter(flow="orders").update(enabled=False)  # else unimported orders are subtracted
    run = runner.run_flow(engagement=engagement, flow="stock", full=True)
    assert run.status == "succeeded" and run.counts["updated"] == 1
    item = variant["inventoryItem"]["id"]
    assert shop.levels[(item, shop.locations[0])] == int(odoo.quants[(4, WH_STOCK)]) > 0


def test_shopify_stock_goes_to_the_configured_location_only(shopify):
    """Several Shopify locations; the stock flow writes to the one in its settings."""
    engagement, _odoo, shop = shopify
    variant = bind_shopify_variant(engagement, shop, "CAF-1KG", 4)
    item, primary, second = variant["inventoryItem"]["id"], shop.locations[0], "gid://shopify/Location/70000000002"
    shop.locations.append(second)
    shop.levels[(item, second)] = 0
    before = shop.levels[(item, primary)]
    options = {"location_id": WH_STOCK, "stock_field": "qty_available", "shop_location_id": "70000000002"}
    FlowSettings.objects.create(engagement=engagement, flow="stock", enabled=True, options=options)
    FlowSettings.objects.filter(flow="orders").update(enabled=False)
    run = runner.run_flow(engagement=engagement, flow="stock", full=True)
    assert run.counts["updated"] == 1, _items(run)
    assert shop.levels[(item, second)] == 40 and shop.levels[(item, primary)] == before


def test_shopify_without_read_all_orders_says_why_older_orders_are_missing(shopify):
    engagement, _odoo, shop = shopify
    shop.scopes.discard("read_all_orders")
    run = runner.run_flow(engagement=engagement, flow="orders")  # the demo options look 3,650 days back
    assert run.status != "failed" and run.summary == "shopify_60_day_window"
    from engagements.integration.labels import summary_text

    assert "read_all_orders" in summary_text(run.summary)


def test_jumpseller_keeps_its_state_between_runs_and_sees_a_status_change(jumpseller):
    engagement, odoo, shop = jumpseller
    run = runner.run_flow(engagement=engagement, flow="orders")
    _adds_up(run)
    assert run.counts["created"] == 1 and run.counts["postponed"] == 1  # 10501 paid, 10502 awaiting payment
    assert [o["client_order_ref"] for o in sale_orders(odoo)] == ["JS-10501"]
    state = ShopConnection.objects.get(engagement=engagement).adapter_state
    assert state["after_id"] == 10502 and set(state["versions"]) == {"10501", "10502"}
    shop.orders[10502]["status"] = "Paid"  # paid later, no date in the order changes
    shop.orders[10502]["status_enum"] = "paid"
    later = runner.run_flow(engagement=engagement, flow="orders")
    assert later.counts["created"] == 1, later.counts
    assert sorted(o["client_order_ref"] for o in sale_orders(odoo)) == ["JS-10501", "JS-10502"]


def test_a_dry_run_does_not_keep_the_adapter_state(jumpseller):
    engagement, odoo, _shop = jumpseller
    run = runner.run_flow(engagement=engagement, flow="orders", dry_run=True)
    assert run.counts["created"] == 1 and not sale_orders(odoo)
    assert ShopConnection.objects.get(engagement=engagement).adapter_state == {}


def test_a_webhook_named_order_is_re_fetched_and_imported_without_moving_the_cursor(jumpseller):
    engagement, _odoo, shop = jumpseller
    run = runner.run_flow(engagement=engagement, flow="orders", trigger="webhook", external_ids=["10501", "10501"])
    assert run.counts["listed"] == 1 and run.counts["created"] == 1 and not run.cursor_after
    assert ("GET", "/v1/orders/10501.json") in shop.requests
    assert not engagement.cursors.exists()
    gone = runner.run_flow(engagement=engagement, flow="orders", trigger="webhook", external_ids=["999"])
    assert gone.counts["failed"] == 1 and gone.items.get().reason_code == "jumpseller_not_found"


@pytest.mark.parametrize("platform", ["woocommerce", "shopify", "jumpseller"])
def test_the_customers_flow_reads_each_real_shop_adapter(platform, engagement, carla):
    """The customers flow through each adapter and its fake (the flow's cases are in test_customers)."""
    fakes = {
        "woocommerce": (FakeShop, FakeShopServer, "url"),
        "shopify": (FakeShopify, FakeShopifyServer, "url"),
        "jumpseller": (FakeJumpseller, FakeJumpsellerServer, "api_url"),
    }
    shop_class, server_class, url = fakes[platform]
    odoo = FakeOdoo()
    with FakeOdooServer(odoo) as odoo_server, server_class(shop_class()) as shop_server:
        wire(engagement, carla, odoo_url=odoo_server.url, shop_url=getattr(shop_server, url), platform=platform)
        FlowSettings.objects.create(engagement=engagement, flow="customers", enabled=True)
        run = runner.run_flow(engagement=engagement, flow="customers")
        _adds_up(run)
        assert run.status != "failed" and run.counts["listed"] >= 1, (run.summary, _items(run))
        bound = Binding.objects.filter(engagement=engagement, kind="partner")
        assert bound.count() == run.counts["created"] + run.counts["updated"] + run.counts["unchanged"] > 0
        assert all(odoo.data["res.partner"].get(b.odoo_id) for b in bound)
        again = runner.run_flow(engagement=engagement, flow="customers", full=True)
        assert again.counts["created"] == 0, _items(again)


def test_shopify_stock_that_moved_in_the_shop_is_read_again_then_set(shopify):
    """Compare-and-set with the quantity we pushed last; the shop sold some meanwhile, so it is
    refused as stale, read again, and Odoo's quantity set from what the shop has now."""
    engagement, odoo, shop = shopify
    variant = bind_shopify_variant(engagement, shop, "CAF-1KG", 4)
    level = (variant["inventoryItem"]["id"], shop.locations[0])
    options = {"location_id": WH_STOCK, "stock_field": "qty_available"}
    FlowSettings.objects.create(engagement=engagement, flow="stock", enabled=True, options=options)
    FlowSettings.objects.filter(flow="orders").update(enabled=False)
    runner.run_flow(engagement=engagement, flow="stock", full=True)
    assert shop.levels[level] == 40
    shop.levels[level] = 35  # sold in Shopify
    odoo.quants[(4, WH_STOCK)] = 45.0  # a receipt in Odoo
    run = runner.run_flow(engagement=engagement, flow="stock", full=True)
    item = run.items.get()
    assert (item.outcome, item.reason_code, item.diff) == ("updated", "shop_stock_moved", {"from": 35, "to": 45})
    assert shop.levels[level] == 45
    sets = [r for r in shop.requests if r["root"] == "inventorySetQuantities"]
    assert len(sets) == 3  # the first push, the stale one, the one from the re-read quantity
