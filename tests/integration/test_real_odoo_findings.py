"""What runs against a real Odoo 17 found, each reproduced against the fake Odoo over loopback:

1. two shops feeding one Odoo shared partners (the partner marker ignored the connection's prefix);
2. CLP orders were booked in a USD company and the run reported success (the company's currency was
   never read);
3. the stock cursor, cut to whole seconds, listed the last second's moves again on every run;
4. orders went to Odoo one by one (3-4 calls each) where Odoo creates a list in one transaction.
"""

import pytest
from django.test import override_settings

from engagements.integration import runner
from engagements.integration.demo import ORDER_OPTIONS
from engagements.integration.models import Binding, FlowSettings, SyncCursor, SyncRun
from tests.fakes.odoo import FakeOdoo, FakeOdooServer
from tests.fakes.woocommerce import FakeShop, FakeShopServer
from tests.integration.fixtures import bind_variant, sale_orders, wire

pytestmark = pytest.mark.django_db
USD, CLP = [2, "USD"], [45, "CLP"]


def _orders(engagement, **options) -> None:
    FlowSettings.objects.update_or_create(
        engagement=engagement, flow="orders", defaults={"enabled": True, "options": {**ORDER_OPTIONS, **options}}
    )


def _item(run: SyncRun, order_id):
    return run.items.get(external_id=str(order_id))


def _odoo_methods(odoo: FakeOdoo, model: str) -> list[str]:
    return [method for service, name, method in odoo.calls if name == model and service == "object"]


# ---------------------------------------------------------------- 1. two shops, one Odoo


@pytest.fixture
def two_shops(make_engagement, andes, otra, carla):
    """Two engagements, each with its own WooCommerce shop, feeding one Odoo, the second with its own
    marker prefix. In the second shop, customer 31 is another person than the first shop's customer 31."""
    odoo, first_shop, second_shop = FakeOdoo(), FakeShop(), FakeShop()
    second_shop.orders[2002]["billing"].update(first_name="Rosa", last_name="Tapia", email="rosa.tapia@otra.example")
    second_shop.orders[2002]["meta_data"] = [{"id": 1, "key": "_billing_rut", "value": "15.222.333-1"}]
    first, second = make_engagement(andes), make_engagement(otra)
    with (
        FakeOdooServer(odoo) as odoo_server,
        FakeShopServer(first_shop) as first_server,
        FakeShopServer(second_shop) as second_server,
    ):
        wire(first, carla, odoo_url=odoo_server.url, shop_url=first_server.url)
        wire(second, carla, odoo_url=odoo_server.url, shop_url=second_server.url)
        _orders(first)
        _orders(second, marker_prefix="TIENDA2-")
        yield first, second, odoo


def test_a_second_shop_with_the_same_marker_prefix_is_refused_before_it_writes(two_shops):
    first, second, odoo = two_shops
    assert runner.run_flow(engagement=first, flow="orders").counts["created"] == 2
    _orders(second)  # no prefix of its own: WOO-, like the first shop
    partners_before = len(odoo.data["res.partner"])
    for engagement in (second, first):  # neither imports until one of them has its own prefix
        refused = runner.run_flow(engagement=engagement, flow="orders", full=True)
        assert refused.status == SyncRun.Status.FAILED and refused.summary.startswith("marker_prefix_shared")
    assert len(odoo.data["res.partner"]) == partners_before and len(sale_orders(odoo)) == 2


def test_two_shops_feeding_one_odoo_never_share_a_partner(two_shops):
    first, second, odoo = two_shops
    runner.run_flow(engagement=first, flow="orders")
    maria = sale_orders(odoo, "WOO-2002")[0]["partner_id"][0]
    run = runner.run_flow(engagement=second, flow="orders")
    assert run.status == SyncRun.Status.SUCCEEDED, list(run.items.values_list("reason_code", "message"))
    rosa = sale_orders(odoo, "TIENDA2-2002")[0]["partner_id"][0]
    assert rosa != maria  # the second shop's customer 31 is not the first shop's
    assert odoo.data["res.partner"][rosa].get("ref") == "TIENDA2-C31", odoo.data["res.partner"][rosa]
    assert odoo.data["res.partner"][maria]["name"] == "María González"


# ---------------------------------------------------------------- 2. the company's currency


@pytest.fixture
def usd_company(orders_flow):
    """The lab's company: in USD. The shop's orders are in CLP."""
    engagement, odoo, shop = orders_flow
    odoo.data["res.company"][1]["currency_id"] = USD
    return engagement, odoo, shop


def test_clp_orders_are_not_booked_in_a_usd_company(usd_company):
    engagement, odoo, _ = usd_company
    run = runner.run_flow(engagement=engagement, flow="orders")
    assert not sale_orders(odoo) and run.status == SyncRun.Status.PARTIAL
    refused = _item(run, 2001)
    assert (refused.outcome, refused.reason_code) == ("review", "currency_not_mapped")
    assert "CLP" in refused.message and "USD" in refused.message


def test_a_pricelist_in_the_orders_currency_books_them_in_it(usd_company):
    engagement, odoo, _ = usd_company
    odoo.data["product.pricelist"][7] = {"id": 7, "name": "Tienda Chile CLP", "currency_id": CLP}
    _orders(engagement, pricelists={"CLP": 7})
    run = runner.run_flow(engagement=engagement, flow="orders")
    assert run.counts["created"] == 2, list(run.items.values_list("reason_code", "message"))
    assert {(o["pricelist_id"][0], o["currency_id"][1]) for o in sale_orders(odoo)} == {(7, "CLP")}


def test_a_pricelist_mapped_in_another_currency_is_refused(usd_company):
    engagement, odoo, _ = usd_company
    _orders(engagement, pricelists={"CLP": 3})  # pricelist 3 is in USD
    run = runner.run_flow(engagement=engagement, flow="orders")
    assert not sale_orders(odoo) and _item(run, 2002).reason_code == "pricelist_currency_mismatch"


def test_an_order_odoo_books_in_another_currency_stays_in_draft(orders_flow):
    engagement, odoo, _ = orders_flow
    _orders(engagement, pricelists={"CLP": 3})
    odoo.data["product.pricelist"][3]["currency_id"] = CLP  # read as CLP when the run checks the mapping
    original = odoo._pricing
    odoo._pricing = lambda pricelist_id: {**original(pricelist_id), "currency_id": USD}  # Odoo books USD anyway
    run = runner.run_flow(engagement=engagement, flow="orders")
    assert {o["state"] for o in sale_orders(odoo)} == {"draft"}
    assert "currency_mismatch:USD" in _item(run, 2001).reason_code


# ---------------------------------------------------------------- 3. the stock cursor


@pytest.fixture
def stock_flow(connected):
    engagement, odoo, shop = connected
    FlowSettings.objects.create(engagement=engagement, flow="stock", enabled=True, options={"location_id": 8})
    bind_variant(engagement, 4, "501", "", "CAF-1KG")
    bind_variant(engagement, 5, "502", "", "TAZ-350")
    return engagement, odoo, shop


def test_moves_within_one_second_are_listed_once(stock_flow):
    engagement, odoo, _ = stock_flow
    odoo.move(4, 2, when="2026-11-23 09:00:00.200000")  # Odoo keeps microseconds, reads whole seconds
    odoo.move(4, 1, when="2026-11-23 09:00:00.700000")
    first = runner.run_flow(engagement=engagement, flow="stock")
    assert first.counts["listed"] == 2  # a first pass: every bound variant
    reads = _odoo_methods(odoo, "product.product").count("read")
    again = runner.run_flow(engagement=engagement, flow="stock")
    assert again.counts["listed"] == 0 and _odoo_methods(odoo, "product.product").count("read") == reads
    odoo.move(5, 3, when="2026-11-23 09:00:00.900000")  # later, but in the same second
    later = runner.run_flow(engagement=engagement, flow="stock")
    assert "502" in set(later.items.values_list("external_id", flat=True))
    assert runner.run_flow(engagement=engagement, flow="stock").counts["listed"] == 0
    assert SyncCursor.objects.get(flow="stock").value.startswith("2026-11-23 09:00:00|")


# ---------------------------------------------------------------- 4. orders at Odoo's batch speed


def test_a_page_of_orders_takes_a_few_odoo_calls_whatever_its_size(orders_flow):
    engagement, odoo, shop = orders_flow
    shop.add_orders(48, start_id=7001)  # 50 new orders from 49 buyers (the guests share an e-mail)
    run = runner.run_flow(engagement=engagement, flow="orders")
    assert run.counts["created"] == 50 and {o["state"] for o in sale_orders(odoo)} == {"sale"}
    orders = _odoo_methods(odoo, "sale.order")
    assert (orders.count("create"), orders.count("read"), orders.count("action_confirm")) == (1, 1, 1)
    assert _odoo_methods(odoo, "res.partner").count("create") == 1
    calls = [c for c in odoo.calls if c[0] == "object"]
    assert len(calls) <= 12, calls  # against 3-4 a order before


def test_one_order_odoo_refuses_does_not_stop_the_others_of_its_page(orders_flow):
    engagement, odoo, shop = orders_flow
    shop.add_orders(3, start_id=7001)
    odoo.constraints.append(
        lambda model, values: (
            "Pedido bloqueado" if model == "sale.order" and values.get("client_order_ref") == "WOO-7002" else None
        )
    )
    run = runner.run_flow(engagement=engagement, flow="orders")
    assert run.counts["created"] == 4 and run.counts["failed"] == 1
    assert _item(run, 7002).reason_code == "odoo_rejected" and "Pedido bloqueado" in _item(run, 7002).message
    # The list first (refused as a whole, its ids used up), then one by one.
    assert _odoo_methods(odoo, "sale.order").count("create") == 1 + 5
    assert not sale_orders(odoo, "WOO-7002") and len(sale_orders(odoo)) == 4
    assert Binding.objects.filter(kind="sale_order").count() == 4


@override_settings(INTEGRATION_ODOO_TIMEOUT=0.5)
def test_a_page_whose_create_timed_out_after_committing_is_found_by_its_markers(orders_flow):
    engagement, odoo, shop = orders_flow
    shop.add_orders(8, start_id=7001)
    odoo.commit_then_stall, odoo.stall_models = 1.2, {"sale.order"}
    run = runner.run_flow(engagement=engagement, flow="orders")
    odoo.commit_then_stall = 0
    assert run.counts["created"] == 10 and run.counts["ambiguous"] == 0
    assert len(sale_orders(odoo)) == 10 and Binding.objects.filter(kind="sale_order").count() == 10
    assert runner.run_flow(engagement=engagement, flow="orders").counts["created"] == 0
    assert len(sale_orders(odoo)) == 10
