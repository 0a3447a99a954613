"""The order, stock, price and customer flows against a real Odoo 16-18 test database; the shop side is
the fake, on loopback.

Opt-in: set ODOO_URL, ODOO_DB, ODOO_LOGIN and ODOO_PASSWORD (a password or an
API key) to a throwaway test database; without them the module is skipped and
the skip says which are missing. Each test prepares what it needs in that
database under a tag of its own (`PORTAL-LIVE-<8 hex>`): products with unique
SKUs, a service product for shipping, fees and unknown lines, stock by an
inventory adjustment. The tag is also the order marker prefix, so a run never
adopts the orders of an earlier run on the same database. What a test created
is cancelled, deleted or archived at the end, best effort (a warning lists
what stayed).
"""

from __future__ import annotations

import math
import os
import uuid
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.conf import settings

from engagements.integration import runner
from engagements.integration.gateway.base import GatewayError
from engagements.integration.gateway.odoo import OdoorpcGateway
from engagements.integration.models import Binding, FlowSettings, SyncCursor, SyncRun
from engagements.models import Engagement
from tests.fakes.woocommerce import FakeShop, FakeShopServer
from tests.integration.fixtures import wire

REQUIRED = ("ODOO_URL", "ODOO_DB", "ODOO_LOGIN", "ODOO_PASSWORD")
MISSING = [name for name in REQUIRED if not os.environ.get(name)]
pytestmark = [
    pytest.mark.skipif(
        bool(MISSING),
        reason=f"live Odoo check: {', '.join(MISSING)} not set; set ODOO_URL, ODOO_DB, ODOO_LOGIN and "
        "ODOO_PASSWORD to run against a real Odoo 16-18 test database",
    ),
    pytest.mark.django_db,
]
SUPPORTED = (16, 17, 18)
# The shop fixtures' SKUs, the shop records that carry them (id, parent id for a variation), and their stock.
STORABLE = {
    "CAF-1KG": ("Café de grano 1 kg", "501", ""),
    "POL-M-AZUL": ("Polera algodón M azul", "511", "510"),
    "POL-L-AZUL": ("Polera algodón L azul", "512", "510"),
}
COUNTED = {"CAF-1KG": 40, "POL-M-AZUL": 1, "POL-L-AZUL": 7}  # POL-M-AZUL is under the buffer: pushed as 0
BUFFER = 2
WRITES = {"create", "write", "unlink", "copy"}


@dataclass
class Live:
    engagement: Engagement
    odoo: OdoorpcGateway
    shop: FakeShop
    tag: str
    products: dict[str, int]  # shop fixture SKU (and "SERVICE") -> product.product id
    tax_id: int | None  # the 19% tax included in the price, if the database has one
    quants: list[int] = field(default_factory=list)

    def marker(self, order: dict) -> str:
        return f"{self.tag}-{order['number']}"

    def markers(self) -> list[str]:
        return [self.marker(order) for order in self.shop.orders.values()]

    def emails(self) -> list[str]:
        buyers = [order["billing"]["email"] for order in self.shop.orders.values()]
        return buyers + [customer["email"] for customer in self.shop.customers.values()]


def _gateway() -> OdoorpcGateway:
    return OdoorpcGateway(
        url=os.environ["ODOO_URL"],
        database=os.environ["ODOO_DB"],
        login=os.environ["ODOO_LOGIN"],
        api_key=os.environ["ODOO_PASSWORD"],
        timeout=settings.INTEGRATION_ODOO_TIMEOUT,
    )


def _products(odoo: OdoorpcGateway, tag: str, created: list[int]) -> dict[str, int]:
    """Look up, or create, this run's products: one per shop SKU (storable) and a service product."""
    storable = {name: value for name, _, value in odoo.fields["storable_domain"]}
    wanted = {sku: {"name": f"{name} ({tag})", **storable} for sku, (name, _, _) in STORABLE.items()}
    wanted["SERVICE"] = {"name": f"Despacho y recargos ({tag})", odoo.fields["product_type"]: "service"}
    codes = {f"{tag}-{sku}": sku for sku in wanted}
    rows = odoo.search_read("product.product", [["default_code", "in", list(codes)]], ["default_code"])
    found = {codes[row["default_code"]]: row["id"] for row in rows}
    missing = [sku for sku in wanted if sku not in found]
    ids = odoo.create("product.product", [{"default_code": f"{tag}-{sku}", **wanted[sku]} for sku in missing])
    created += ids
    return {**found, **dict(zip(missing, ids, strict=True))}


def _included_tax(odoo: OdoorpcGateway) -> int | None:
    rows = odoo.search_read(
        "account.tax",
        [["type_tax_use", "=", "sale"], ["price_include", "=", True], ["amount", "=", 19.0]],
        ["name"],
        limit=1,
        order="id asc",
    )
    return rows[0]["id"] if rows else None


def _tag_shop(shop: FakeShop, tag: str) -> None:
    """The shop's SKUs and customer e-mails carry the tag: this run's products, partners of its own."""
    for order in shop.orders.values():
        for item in order["line_items"]:
            item["sku"] = f"{tag}-{item['sku']}"
        local, _, domain = order["billing"]["email"].partition("@")
        order["billing"]["email"] = f"{local}+{tag.lower()}@{domain}"
    for record in [*shop.products.values(), *shop.variations.values()]:
        if record.get("sku"):
            record["sku"] = f"{tag}-{record['sku']}"
    for customer in shop.customers.values():
        local, _, domain = customer["email"].partition("@")
        customer["email"] = f"{local}+{tag.lower()}@{domain}"
        customer["billing"]["email"] = customer["email"]


@pytest.fixture
def live(engagement, carla) -> Iterator[Live]:
    odoo = _gateway()
    if odoo.major not in SUPPORTED:
        pytest.fail(f"{os.environ['ODOO_URL']} runs Odoo {odoo.version}; the flows support Odoo 16 to 18.")
    tag = f"PORTAL-LIVE-{uuid.uuid4().hex[:8]}"
    created: list[int] = []
    live = None
    try:
        products = _products(odoo, tag, created)
        shop = FakeShop()
        _tag_shop(shop, tag)
        live = Live(engagement, odoo, shop, tag, products, _included_tax(odoo))
        service = products["SERVICE"]
        FlowSettings.objects.create(
            engagement=engagement,
            flow="orders",
            enabled=True,
            options={
                "marker_prefix": f"{tag}-",
                "shipping_product_id": service,
                "fee_product_id": service,
                "placeholder_product_id": service,
                "tax_included_id": live.tax_id,
                "confirm": True,
                "initial_days": 3650,
            },
        )
        with FakeShopServer(shop) as shop_server:
            wire(
                engagement,
                carla,
                shop_url=shop_server.url,
                odoo_url=os.environ["ODOO_URL"],
                database=os.environ["ODOO_DB"],
                login=os.environ["ODOO_LOGIN"],
                api_key=os.environ["ODOO_PASSWORD"],
            )
            yield live
    finally:
        left = _clean_up(odoo, live, created)
        if left:
            warnings.warn(f"live Odoo check: left in {os.environ['ODOO_DB']}: {'; '.join(left)}", stacklevel=1)


# ---------------------------------------------------------------- clean-up, best effort


def _tried(action: Callable, *args):
    """(result, True), or (None, False) if Odoo refused: clean-up goes on with the rest."""
    try:
        return action(*args), True
    except GatewayError:
        return None, False


def _unlink_or_archive(odoo: OdoorpcGateway, model: str, ids: list[int]) -> list[str]:
    left = []
    for record_id in ids:
        unlinked = _tried(odoo.call, model, "unlink", [record_id])[1]
        if not unlinked and not _tried(odoo.write, model, [record_id], {"active": False})[1]:
            left.append(f"{model} {record_id}")
    return left


def _cancel_order(odoo: OdoorpcGateway, order_id: int) -> None:
    answer, _ = _tried(odoo.call, "sale.order", "action_cancel", [order_id])
    if isinstance(answer, dict) and answer.get("res_model") == "sale.order.cancel":
        # A confirmed order: Odoo asks through its cancel wizard (to warn the customer), which then cancels.
        wizard, done = _tried(odoo.create, "sale.order.cancel", [{"order_id": order_id}])
        if done:
            _tried(odoo.call, "sale.order.cancel", "action_cancel", wizard)


def _clean_up(odoo: OdoorpcGateway, live: Live | None, created_products: list[int]) -> list[str]:
    left: list[str] = []
    if live is not None:
        domain = [["client_order_ref", "in", live.markers()]]
        for order in _tried(odoo.search_read, "sale.order", domain, ["state"])[0] or []:
            if order["state"] not in ("draft", "cancel"):
                _cancel_order(odoo, order["id"])
            if not _tried(odoo.call, "sale.order", "unlink", [order["id"]])[1]:
                left.append(f"sale.order {order['id']}")
        partners = _tried(odoo.search_read, "res.partner", [["email", "in", live.emails()]], ["id"])[0] or []
        parent_ids = [row["id"] for row in partners]
        children = _tried(odoo.search_read, "res.partner", [["parent_id", "in", parent_ids]], ["id"])[0] or []
        left += _unlink_or_archive(odoo, "res.partner", [row["id"] for row in children] + parent_ids)
        # Count the stock back to zero.
        if live.quants and _tried(odoo.write, "stock.quant", live.quants, {"inventory_quantity": 0})[1]:
            _tried(odoo.call, "stock.quant", "action_apply_inventory", live.quants)
    return left + _unlink_or_archive(odoo, "product.product", created_products)


# ---------------------------------------------------------------- orders


def _odoo_orders(live: Live, marker: str) -> list[dict]:
    fields = ["state", "amount_total", "amount_tax", "order_line"]
    return live.odoo.search_read("sale.order", [["client_order_ref", "=", marker]], fields)


def test_both_shop_orders_become_sale_orders_once_and_a_second_run_creates_nothing(live):
    run = runner.run_flow(engagement=live.engagement, flow="orders")
    assert run.status == SyncRun.Status.SUCCEEDED, (
        run.summary,
        list(run.items.values_list("external_id", "reason_code", "message")),
    )
    assert run.counts["listed"] == 2 and run.counts["created"] == 2
    for order in live.shop.orders.values():
        rows = _odoo_orders(live, live.marker(order))
        assert len(rows) == 1, f"{live.marker(order)} is in Odoo {len(rows)} times"
        row = rows[0]
        assert row["state"] in ("sale", "done")  # confirmed ("done" when Odoo 16 locks confirmed orders)
        # Lines carry the shop's tax-included prices: with the included tax Odoo splits out the shop's tax,
        # without it the lines are untaxed; either way the total is what the shop charged.
        assert abs(Decimal(str(row["amount_total"])) - Decimal(order["total"])) <= 1
        tax = Decimal(order["total_tax"]) if live.tax_id else Decimal(0)
        assert abs(Decimal(str(row["amount_tax"])) - tax) <= 1
        lines = live.odoo.read("sale.order.line", row["order_line"], ["product_id"])
        skus = {item["sku"].removeprefix(f"{live.tag}-") for item in order["line_items"]}
        expected = {live.products[sku] for sku in skus} | {live.products["SERVICE"]}
        assert {line["product_id"][0] for line in lines} == expected  # found by SKU, none on the placeholder
    assert Binding.objects.filter(engagement=live.engagement, kind="sale_order").count() == 2

    second = runner.run_flow(engagement=live.engagement, flow="orders")
    assert second.counts["listed"] >= 1 and second.counts["unchanged"] == second.counts["listed"]
    assert second.counts["created"] == 0
    assert live.odoo.search_count("sale.order", [["client_order_ref", "in", live.markers()]]) == 2


def test_a_dry_run_writes_nothing_in_odoo_nor_here(live, monkeypatch):
    methods: list[str] = []
    execute = OdoorpcGateway._execute

    def spy(self, model, method, args, kwargs=None):
        methods.append(method)
        return execute(self, model, method, args, kwargs)

    monkeypatch.setattr(OdoorpcGateway, "_execute", spy)
    run = runner.run_flow(engagement=live.engagement, flow="orders", dry_run=True)
    monkeypatch.undo()
    assert run.status == SyncRun.Status.SUCCEEDED, list(run.items.values_list("external_id", "reason_code"))
    assert run.counts["created"] == 2 and set(run.items.values_list("action", flat=True)) == {"would_create"}
    assert methods and not [m for m in methods if m in WRITES or m.startswith("action_")], methods
    assert live.odoo.search_count("sale.order", [["client_order_ref", "in", live.markers()]]) == 0
    assert live.odoo.search_count("res.partner", [["email", "in", live.emails()]]) == 0
    assert not Binding.objects.exists() and not SyncCursor.objects.exists()


# ---------------------------------------------------------------- stock


def _stock_location(odoo: OdoorpcGateway) -> int:
    rows = odoo.search_read("stock.warehouse", [], ["lot_stock_id"], limit=1, order="id asc")
    assert rows, "the Odoo database has no warehouse"
    return rows[0]["lot_stock_id"][0]


def _count(live: Live, location_id: int, counted: dict[str, int]) -> None:
    """An inventory adjustment: counted quantities on quants, then applied (stock moves done)."""
    values = [
        {"product_id": live.products[sku], "location_id": location_id, "inventory_quantity": qty}
        for sku, qty in counted.items()
    ]
    live.quants += live.odoo.create("stock.quant", values)
    answer = live.odoo.call("stock.quant", "action_apply_inventory", live.quants)
    assert not isinstance(answer, dict), f"applying the inventory asked for a wizard: {answer.get('res_model')}"


def test_the_stock_pushed_to_the_shop_is_odoo_free_qty_minus_the_buffer(live):
    location_id = _stock_location(live.odoo)
    FlowSettings.objects.create(
        engagement=live.engagement, flow="stock", options={"location_id": location_id, "buffer": BUFFER}
    )
    _bind_catalogue(live)
    _count(live, location_id, COUNTED)
    # Orders first (their confirmation reserves stock in Odoo); otherwise the export would hold back
    # the units of the shop's unimported orders, which is tested against the fakes.
    imported = runner.run_flow(engagement=live.engagement, flow="orders")
    assert imported.status == SyncRun.Status.SUCCEEDED, list(imported.items.values_list("reason_code", "message"))

    run = runner.run_flow(engagement=live.engagement, flow="stock")
    assert run.status == SyncRun.Status.SUCCEEDED, (run.summary, list(run.items.values("reason_code", "message")))
    assert run.counts["listed"] == 3 and run.counts["updated"] == 3
    ids = [live.products[sku] for sku in STORABLE]
    rows = live.odoo.read("product.product", ids, ["free_qty"], context={"location": location_id})
    free = {row["id"]: row["free_qty"] for row in rows}
    assert free[live.products["POL-L-AZUL"]] == COUNTED["POL-L-AZUL"]  # the adjustment landed (nothing sold)
    for sku, (_, external, parent) in STORABLE.items():
        record = live.shop.variations[int(external)] if parent else live.shop.products[int(external)]
        assert record["stock_quantity"] == max(0, math.floor(free[live.products[sku]]) - BUFFER), sku


def _bind_catalogue(live: Live) -> None:
    for sku, (_, external, parent) in STORABLE.items():
        Binding.objects.create(
            engagement=live.engagement,
            kind="product_variant",
            odoo_model="product.product",
            odoo_id=live.products[sku],
            external_id=external,
            external_parent_id=parent,
            sku=f"{live.tag}-{sku}",
        )


# ---------------------------------------------------------------- prices and customers


def test_the_prices_pushed_to_the_shop_are_odoo_list_prices_with_iva_in_whole_pesos(live):
    list_prices = {"CAF-1KG": 12605.04, "POL-M-AZUL": 9990.0, "POL-L-AZUL": 10915.97}
    for sku, price in list_prices.items():
        live.odoo.write("product.product", [live.products[sku]], {"lst_price": price})
    FlowSettings.objects.create(
        engagement=live.engagement, flow="prices", options={"tax_included": True, "tax_rate": "19", "currency": "CLP"}
    )
    _bind_catalogue(live)
    run = runner.run_flow(engagement=live.engagement, flow="prices")
    assert run.status == SyncRun.Status.SUCCEEDED, (run.summary, list(run.items.values("reason_code", "message")))
    assert run.counts["updated"] == 3
    rows = live.odoo.read("product.product", list(live.products.values()), ["lst_price", "taxes_id"])
    included = {tax["id"] for tax in live.odoo.search_read("account.tax", [["price_include", "=", True]], ["id"])}
    by_id = {row["id"]: row for row in rows}
    for sku, (_, external, parent) in STORABLE.items():
        row = by_id[live.products[sku]]
        gross = Decimal(str(row["lst_price"])) * (1 if set(row["taxes_id"]) & included else Decimal("1.19"))
        record = live.shop.variations[int(external)] if parent else live.shop.products[int(external)]
        assert record["regular_price"] == str(gross.quantize(Decimal(1), rounding="ROUND_HALF_UP")), sku
    again = runner.run_flow(engagement=live.engagement, flow="prices")
    assert again.counts["unchanged"] == 3 and again.api_usage["shop_calls"] == 0


def test_the_shop_customers_become_odoo_partners_once(live):
    FlowSettings.objects.create(engagement=live.engagement, flow="customers", options={"initial_days": 3650})
    run = runner.run_flow(engagement=live.engagement, flow="customers")
    assert run.status != SyncRun.Status.FAILED, (run.summary, list(run.items.values("reason_code", "message")))
    customers = list(live.shop.customers.values())
    assert run.counts["listed"] == len(customers) and run.counts["created"] == len(customers)
    for customer in customers:
        rows = live.odoo.search_read("res.partner", [["email", "=ilike", customer["email"]]], ["name", "parent_id"])
        assert len(rows) == 1, f"{customer['email']} is in Odoo {len(rows)} times"
    again = runner.run_flow(engagement=live.engagement, flow="customers", full=True)
    assert again.counts["created"] == 0 and again.counts["failed"] == 0
