"""Price export against the fake Odoo and the fake shops over loopback HTTP."""

from decimal import Decimal

import pytest
from django.urls import reverse

from engagements.integration import runner
from engagements.integration.flows.prices import shop_price
from engagements.integration.models import Binding, FlowSettings, SyncRun
from tests.fakes.jumpseller import FakeJumpseller, FakeJumpsellerServer
from tests.fakes.odoo import WH_STOCK, FakeOdoo, FakeOdooServer, _product
from tests.fakes.shopify import FakeShopify, FakeShopifyServer
from tests.integration.fixtures import WRITES, bind_variant, wire

pytestmark = pytest.mark.django_db
IVA_EXCLUDED, IVA_INCLUDED = 3, 4  # the lab's sales taxes: "IVA 19%" and "IVA 19% (incl.)"
CAFE, POL_M, POL_L = 4, 15, 16


def _set(odoo, pid: int, price: float, tax: int) -> None:
    odoo.data["product.product"][pid].update(lst_price=price, taxes_id=[tax])


def _clp_catalogue(odoo) -> None:
    """CLP prices without IVA in Odoo (tax 3), except POL-M-AZUL, whose tax is price-included (tax 4)."""
    _set(odoo, CAFE, 13436.97, IVA_EXCLUDED)  # x 1.19 = 15989.99 → 15990
    _set(odoo, POL_M, 12990.0, IVA_INCLUDED)  # already with IVA → 12990
    _set(odoo, POL_L, 150.0, IVA_EXCLUDED)  # x 1.19 = 178.5 → 179 (half up; half even would give 178)


def _odoo_writes(odoo) -> list:
    return [m for _s, _m, m in odoo.calls if m in WRITES]


@pytest.fixture
def priced(connected):
    """WooCommerce: CAF-1KG (simple 501) and the two Polera variations (511, 512 of 510), bound."""
    engagement, odoo, shop = connected
    _clp_catalogue(odoo)
    bind_variant(engagement, CAFE, "501", sku="CAF-1KG")
    bind_variant(engagement, POL_M, "511", "510", "POL-M-AZUL")
    bind_variant(engagement, POL_L, "512", "510", "POL-L-AZUL")
    return engagement, odoo, shop


def _prices(engagement, **kw) -> SyncRun:
    return runner.run_flow(engagement=engagement, flow="prices", **kw)


# ---------------------------------------------------------------- the rule (pure)


def test_a_clp_price_gets_iva_and_no_decimals_rounded_half_up():
    iva = {"add_tax": True, "tax_rate": Decimal(19), "decimals": 0}
    assert shop_price(Decimal("10915.97"), **iva) == Decimal("12990")
    assert shop_price(Decimal("150"), **iva) == Decimal("179")  # 178.5
    assert shop_price(Decimal("29.900000000000002"), add_tax=False, tax_rate=Decimal(19), decimals=0) == 30
    assert shop_price(Decimal("10.125"), add_tax=False, tax_rate=Decimal(19), decimals=2) == Decimal("10.13")
    assert str(shop_price(Decimal("12.5"), add_tax=True, tax_rate=Decimal(19), decimals=2)) == "14.88"  # 14.875


# ---------------------------------------------------------------- WooCommerce


def test_prices_go_with_iva_included_in_clp_without_decimals(priced):
    """Odoo's price without IVA gets 19 % added and is rounded to whole pesos; a product whose
    Odoo tax is price-included already has it."""
    engagement, _odoo, shop = priced
    run = _prices(engagement)
    assert run.status == SyncRun.Status.SUCCEEDED and run.counts["updated"] == 3, run.summary
    assert shop.products[501]["regular_price"] == "15990" and shop.products[501]["price"] == "15990"
    assert shop.variations[511]["regular_price"] == "12990"
    assert shop.variations[512]["regular_price"] == "179"
    assert {b.external_id: b.last_pushed_value for b in Binding.objects.all()} == {
        "501": {"price": "15990"},
        "511": {"price": "12990"},
        "512": {"price": "179"},
    }
    FlowSettings.objects.create(
        engagement=engagement, flow="prices", options={"tax_included": False, "currency": "CLP"}
    )
    run = _prices(engagement)
    assert shop.products[501]["regular_price"] == "13437" and shop.variations[512]["regular_price"] == "150"
    assert run.items.get(external_id="501").diff == {"from": "15990", "to": "13437"}


def test_an_unchanged_price_makes_no_call(priced):
    """The last pushed price is kept on the binding; a run with nothing new sends nothing."""
    engagement, odoo, shop = priced
    _prices(engagement)
    posts = len(shop.writes)
    again = _prices(engagement)
    assert again.counts["unchanged"] == 3 and again.counts["updated"] == 0
    assert len(shop.writes) == posts and again.api_usage["shop_calls"] == 0
    odoo.data["product.product"][CAFE]["lst_price"] = 14277.31  # x 1.19 = 16989.99
    third = _prices(engagement)
    assert third.counts["updated"] == 1 and third.counts["unchanged"] == 2
    assert shop.writes[-1] == ("products/batch", {"update": [{"id": 501, "regular_price": "16990"}]})


def test_a_price_only_change_does_not_touch_stock_nor_the_stock_flows_memory(priced):
    """The price batch carries no stock field; the stock flow's "qty" on the binding survives, and
    the stock flow then has nothing to push."""
    engagement, odoo, shop = priced
    FlowSettings.objects.create(engagement=engagement, flow="stock", options={"location_id": WH_STOCK})
    runner.run_flow(engagement=engagement, flow="stock")
    stock_before = (shop.products[501]["stock_quantity"], shop.variations[511]["stock_quantity"])
    pushed_qty = Binding.objects.get(external_id="501").last_pushed_value["qty"]
    writes_before = len(shop.writes)
    run = _prices(engagement)
    assert run.counts["updated"] == 3
    price_writes = shop.writes[writes_before:]
    assert {key for _path, body in price_writes for item in body["update"] for key in item} == {"id", "regular_price"}
    assert (shop.products[501]["stock_quantity"], shop.variations[511]["stock_quantity"]) == stock_before
    assert Binding.objects.get(external_id="501").last_pushed_value == {"qty": pushed_qty, "price": "15990"}
    stock_again = runner.run_flow(engagement=engagement, flow="stock", full=True)
    assert stock_again.counts["unchanged"] == 3 and len(shop.writes) == writes_before + len(price_writes)
    odoo.move(CAFE, 5, when="2026-11-23 10:00:00")  # and a stock change keeps the price it does not send
    runner.run_flow(engagement=engagement, flow="stock")
    assert Binding.objects.get(external_id="501").last_pushed_value == {"qty": pushed_qty + 5, "price": "15990"}


def test_the_pricelist_price_is_odoos_own_for_one_unit(priced):
    """With a pricelist, each product's price comes from Odoo's pricelist engine
    (`get_contextual_price`, one call per product: fixed 14990 for CAF-1KG, -10 % on the Polera
    algodón template); without one, from `lst_price`."""
    engagement, odoo, shop = priced
    odoo.data["product.pricelist"][3]["currency_id"] = [45, "CLP"]
    odoo.data["product.pricelist.item"][1]["fixed_price"] = 14990.0  # CAF-1KG (its Odoo tax excludes IVA)
    odoo.data["product.pricelist.item"][3] = {
        **odoo.data["product.pricelist.item"][2],
        "id": 3,
        "product_tmpl_id": [15, "Polera algodón"],
        "percent_price": 10.0,
    }
    FlowSettings.objects.create(engagement=engagement, flow="prices", options={"pricelist_id": 3})
    run = _prices(engagement)
    assert run.status == SyncRun.Status.SUCCEEDED, (run.summary, list(run.items.values("reason_code", "message")))
    assert shop.products[501]["regular_price"] == "17838"  # 14990 x 1.19 = 17838.1
    assert shop.variations[511]["regular_price"] == "11691"  # 12990 - 10 %, IVA already included
    assert shop.variations[512]["regular_price"] == "161"  # (150 - 10 %) x 1.19 = 160.65
    assert [m for _s, _m, m in odoo.calls].count("get_contextual_price") == 3
    FlowSettings.objects.filter(engagement=engagement, flow="prices").update(options={})
    _prices(engagement)
    assert shop.products[501]["regular_price"] == "15990"  # back to lst_price


def test_a_pricelist_in_another_currency_stops_the_run_before_any_push(priced):
    engagement, _odoo, shop = priced
    FlowSettings.objects.create(engagement=engagement, flow="prices", options={"pricelist_id": 3})  # 3 is in USD
    run = _prices(engagement)
    assert run.status == SyncRun.Status.FAILED and run.summary.startswith("price_currency_mismatch")
    assert not shop.writes and not Binding.objects.exclude(last_pushed_value=None).exists()


def test_a_sale_price_in_the_shop_is_kept_and_reported(priced):
    """We set WooCommerce's regular price; a sale price set in the shop stays, and customers pay it
    while it is lower. The run says so instead of failing silently."""
    engagement, odoo, shop = priced
    assert shop.variations[512]["sale_price"] == "9990"  # the fixture's variation on sale
    _set(odoo, POL_L, 12600.0, IVA_EXCLUDED)  # x 1.19 = 14994
    run = _prices(engagement)
    item = run.items.get(external_id="512")
    assert item.outcome == "updated" and item.reason_code == "shop_sale_price_kept"
    assert "9990" in item.message and "customers pay it" in item.message
    variation = shop.variations[512]
    assert (variation["regular_price"], variation["sale_price"], variation["price"]) == ("14994", "9990", "9990")
    assert run.items.get(external_id="511").reason_code == "" and run.status == SyncRun.Status.SUCCEEDED


def test_a_dry_run_plans_without_any_write(priced):
    engagement, odoo, shop = priced
    run = _prices(engagement, dry_run=True)
    assert run.dry_run and run.counts["updated"] == 3
    assert set(run.items.values_list("action", flat=True)) == {"would_update"}
    assert run.items.get(external_id="501").diff == {"from": None, "to": "15990"}
    assert not shop.writes and not [r for r in shop.requests if r[0] == "POST"] and run.api_usage["shop_calls"] == 0
    assert not _odoo_writes(odoo)
    assert not Binding.objects.exclude(last_pushed_value=None).exists()
    del odoo.data["product.product"][POL_L]
    _prices(engagement, dry_run=True)
    assert Binding.objects.get(external_id="512").state == Binding.State.ACTIVE  # a dry run sets nothing aside


def test_a_refused_item_is_reported_and_the_others_kept(priced):
    """One item of the batch refused inside an HTTP 200; the others are applied and remembered,
    the refused one is tried again on the next run."""
    engagement, _odoo, shop = priced
    Binding.objects.filter(external_id="501").update(external_id="999999")
    run = _prices(engagement)
    assert run.counts["failed"] == 1 and run.counts["updated"] == 2 and run.status == SyncRun.Status.PARTIAL
    assert run.items.get(external_id="999999").reason_code == "woocommerce_rest_product_invalid_id"
    assert shop.variations[511]["regular_price"] == "12990"
    assert Binding.objects.get(external_id="999999").last_pushed_value is None
    again = _prices(engagement)
    assert again.counts["failed"] == 1 and again.counts["unchanged"] == 2


def test_woocommerce_batches_hold_at_most_100_items(connected):
    engagement, odoo, shop = connected
    ids = shop.add_products(150, start_id=7000)
    for n, external in enumerate(ids):
        pid = 100 + n
        odoo.data["product.product"][pid] = _product(
            pid, f"SKU-{external}", False, "Producto", 1000.0, [pid, "Producto"], IVA_EXCLUDED, "2026-11-23 08:00:00"
        )
        bind_variant(engagement, pid, str(external))
    run = _prices(engagement)
    assert run.counts["updated"] == 150
    assert [len(body["update"]) for _path, body in shop.writes] == [100, 50]
    assert {shop.products[i]["regular_price"] for i in ids} == {"1190"}


def test_a_deleted_odoo_product_or_a_zero_price_is_not_pushed(priced):
    engagement, odoo, shop = priced
    del odoo.data["product.product"][POL_L]
    odoo.data["product.product"][CAFE]["lst_price"] = 0.0
    run = _prices(engagement)
    assert run.items.get(external_id="512").reason_code == "odoo_record_deleted"
    assert Binding.objects.get(external_id="512").state == Binding.State.ORPHANED
    assert run.items.get(external_id="501").reason_code == "price_not_positive"
    assert shop.products[501]["regular_price"] == "15990"  # the fixture's, untouched
    assert run.counts["updated"] == 1 and run.counts["review"] == 2


# ---------------------------------------------------------------- Shopify and Jumpseller


def test_shopify_prices_go_per_product_and_keep_the_compare_at_price(engagement, carla):
    odoo, shop = FakeOdoo(), FakeShopify()
    with FakeOdooServer(odoo) as odoo_server, FakeShopifyServer(shop) as shop_server:
        wire(engagement, carla, odoo_url=odoo_server.url, shop_url=shop_server.url, platform="shopify")
        _clp_catalogue(odoo)
        bind_variant(engagement, CAFE, "44000000003", "8100000000002")
        bind_variant(engagement, POL_M, "44000000001", "8100000000001")
        bind_variant(engagement, POL_L, "44000000002", "8100000000001")
        shop.variants["gid://shopify/ProductVariant/44000000001"]["compareAtPrice"] = "14990.00"
        run = _prices(engagement)
        again = _prices(engagement)
    assert run.status == SyncRun.Status.SUCCEEDED and run.counts["updated"] == 3, run.summary
    variants = shop.variants
    assert variants["gid://shopify/ProductVariant/44000000003"]["price"] == "15990.00"
    assert variants["gid://shopify/ProductVariant/44000000001"]["price"] == "12990.00"
    assert variants["gid://shopify/ProductVariant/44000000001"]["compareAtPrice"] == "14990.00"
    assert variants["gid://shopify/ProductVariant/44000000002"]["price"] == "179.00"
    assert run.items.get(external_id="44000000001").reason_code == "shop_compare_at_kept"
    mutations = [r for r in shop.requests if r["root"] == "productVariantsBulkUpdate"]
    assert sorted(len(r["variables"]["variants"]) for r in mutations) == [1, 2]  # one call per product
    assert not [r for r in shop.requests if r["root"] == "inventorySetQuantities"]
    assert again.counts["unchanged"] == 3 and len(shop.requests) == len(mutations)  # the second run called nobody


def test_jumpseller_prices_go_item_by_item(engagement, carla):
    odoo, shop = FakeOdoo(), FakeJumpseller()
    with FakeOdooServer(odoo) as odoo_server, FakeJumpsellerServer(shop) as shop_server:
        wire(engagement, carla, odoo_url=odoo_server.url, shop_url=shop_server.api_url, platform="jumpseller")
        _clp_catalogue(odoo)
        bind_variant(engagement, POL_M, "88001", "7001")
        bind_variant(engagement, POL_L, "88002", "7001")
        bind_variant(engagement, CAFE, "777777", "7001")  # a variant the shop no longer has
        run = _prices(engagement)
    assert run.counts["updated"] == 2 and run.counts["failed"] == 1, run.summary
    assert shop.writes[:2] == [
        ("/v1/products/7001/variants/88001.json", {"variant": {"price": 12990}}),
        ("/v1/products/7001/variants/88002.json", {"variant": {"price": 179}}),
    ]
    assert run.items.get(external_id="88002").reason_code == "shop_compare_at_kept"  # 12990, shown as a discount
    assert run.items.get(external_id="777777").reason_code == "jumpseller_not_found"
    assert shop.products[7001]["variants"][1]["stock"] == 0  # stock untouched


# ---------------------------------------------------------------- settings


def test_the_consultant_sets_the_price_options(client, priced, carla, alice):
    engagement, _odoo, shop = priced
    url = reverse("integration:flow_settings", args=[engagement.code, "prices"])
    client.force_login(carla)
    form = client.get(url)
    assert form.status_code == 200 and form.context["form"]["tax_included"].value() is True
    response = client.post(url, {"enabled": "on", "tax_rate": "19", "currency": "CLP", "every_minutes": ""})
    assert response.status_code == 302
    settings = FlowSettings.objects.get(engagement=engagement, flow="prices")
    assert settings.enabled and settings.options["tax_included"] is False and settings.options["tax_rate"] == "19"
    assert settings.options["pricelist_id"] is None
    _prices(engagement)
    assert shop.products[501]["regular_price"] == "13437"  # without IVA, as set
    bad = client.post(url, {"tax_rate": "-1", "currency": "EUR"})
    assert bad.status_code == 200 and set(bad.context["form"].errors) == {"tax_rate", "currency"}
    client.force_login(alice)
    assert client.get(url).status_code == 403
