"""Integration benchmarks: order import and stock export against the fakes, and a naive baseline.

Run through `make bench` (a migrated PostgreSQL database in DATABASE_URL), or alone with
`scripts/bench.sh integration`.
The fake Odoo and the fake WooCommerce shop (tests/fakes, real HTTP on
loopback) answer every call after 25 ms and 50 ms. Our flows run through
`runner.run_flow`, as in production; the baseline is written here, one call
per record, with the same Odoo gateway and shop client. Each side gets its own
fresh fakes built from the same seeded data, and both results are checked.
Prints Markdown (progress goes to stderr); timings are wall-clock on this machine.
"""

from __future__ import annotations

import copy
import math
import os
import random
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings_test")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django

django.setup()

from django.utils import timezone  # noqa: E402

from engagements.integration import runner  # noqa: E402
from engagements.integration.gateway.odoo import OdoorpcGateway  # noqa: E402
from engagements.integration.models import (  # noqa: E402
    Binding,
    FlowSettings,
    OdooConnection,
    ShopConnection,
    SyncRun,
)
from engagements.integration.shops.woocommerce import WooCommerceClient  # noqa: E402
from engagements.models import Engagement  # noqa: E402
from engagements.services.catalogue import service_publish_catalogue  # noqa: E402
from engagements.services.lifecycle import service_current_terms  # noqa: E402
from portal.models import ClientCompany  # noqa: E402
from tests.fakes.odoo import EXTRA_FIELDS, WH_RETURNS, WH_STOCK, FakeOdoo, FakeOdooServer, _product  # noqa: E402
from tests.fakes.woocommerce import ERRORS, FakeShop, FakeShopServer  # noqa: E402

ORDERS, VARIANTS, PER_PARENT, CUSTOMERS = 500, 2000, 10, 300
AMORTISED = 100  # the first orders imported alone: Odoo calls per order over a first page
# The order import before it wrote in batches (commit c2c5d5d: per order a create, a read and a
# confirm), measured on this data set with the same fakes and latencies, on the 2-core machine the
# figures below were first taken on. Kept to compare with: that code is gone.
BEFORE = {"seconds": 109.5, "odoo_calls": 1747, "measured": "2026-12-07, 2 shared cores"}
GOAL_SPEEDUP, GOAL_CALLS = 5.0, 1.0  # at least 5x the orders a minute; at most 1 Odoo call an order
ODOO_LATENCY, SHOP_LATENCY = 0.025, 0.050
SEED = 2026
SHIPPING, FEE, PLACEHOLDER, TAX_INCLUDED = 12, 13, 14, 4  # service products and tax of the fake Odoo
ORDER_OPTIONS = {
    "shipping_product_id": SHIPPING,
    "fee_product_id": FEE,
    "placeholder_product_id": PLACEHOLDER,
    "tax_included_id": TAX_INCLUDED,
    "confirm": True,
    "initial_days": 3650,
}
WOO_TIME = "%Y-%m-%dT%H:%M:%S"


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- the data set


@dataclass(frozen=True)
class Variant:
    odoo_id: int
    parent_id: int
    variation_id: int
    sku: str
    price: int
    free_qty: int  # what Odoo answers for free_qty at WH/Stock, and so what the shop must end with


def catalogue(rng: random.Random) -> list[Variant]:
    variants = []
    for n in range(VARIANTS):
        variants.append(
            Variant(
                odoo_id=1001 + n,
                parent_id=10001 + n // PER_PARENT,
                variation_id=20001 + n,
                sku=f"BEN-{n:04d}",
                price=rng.randrange(990, 49990, 10),
                free_qty=rng.randint(0, 60),
            )
        )
    return variants


def shop_orders(rng: random.Random, variants: list[Variant], since: datetime) -> dict[int, dict]:
    """WooCommerce orders shaped like the guest fixture: 1-20 product lines, shipping, two fees
    that cancel out; line totals tax-included (IVA 19%) so that Odoo's totals match the shop's."""
    template = FakeShop().orders[2001]
    orders = {}
    for n in range(ORDERS):
        order = copy.deepcopy(template)
        customer = rng.randrange(CUSTOMERS)
        order.update(id=50001 + n, number=str(50001 + n))
        order["date_modified_gmt"] = (since + timedelta(seconds=n)).strftime(WOO_TIME)
        order["billing"].update(first_name="Cliente", last_name=str(customer), email=f"cliente{customer}@bench.cl")
        order["meta_data"] = []  # no RUT: the fixture's would make every buyer one partner (matched by RUT)
        order["line_items"] = [
            _line_item(n, i, v, rng.randint(1, 3)) for i, v in enumerate(rng.sample(variants, rng.randint(1, 20)))
        ]
        gross = sum(int(item["total"]) + int(item["total_tax"]) for item in order["line_items"])
        order["total"] = str(gross + 3990)  # shipping 3,990; the fees add 1,000 and take it off again
        orders[order["id"]] = order
    return orders


def _line_item(order: int, position: int, variant: Variant, quantity: int) -> dict:
    gross = variant.price * quantity
    net = round(gross / 1.19)
    return {
        "id": 100 * order + position,
        "name": f"Producto {variant.sku}",
        "product_id": variant.parent_id,
        "variation_id": variant.variation_id,
        "quantity": quantity,
        "subtotal": str(net),
        "subtotal_tax": str(gross - net),
        "total": str(net),
        "total_tax": str(gross - net),
        "taxes": [],
        "meta_data": [],
        "sku": variant.sku,
        "price": variant.price,
    }


# ---------------------------------------------------------------- the fakes, at bench scale


@dataclass
class BenchOdoo(FakeOdoo):
    """The fake Odoo with each model's field names cached and products indexed by SKU.

    The fake's CPU must not be what is measured. FakeOdoo._known unions the keys
    of every record of a model on every field check: quadratic in the records
    (2,000 products, 7,000 order lines here). Records are only ever added in this
    benchmark, so the cache only has to look at the new ones. And a search by one
    SKU scans every product (7 ms at this size), where Odoo uses an index."""

    field_names: dict[str, tuple[int, set[str]]] = field(default_factory=dict)
    by_sku: dict[str, dict] = field(default_factory=dict)

    def _search(self, model: str, domain: list, context: dict, offset=0, limit=None, order=None) -> list[dict]:
        by_sku = model == "product.product" and len(domain) == 1 and domain[0][:2] == ["default_code", "="]
        if by_sku and domain[0][2] in self.by_sku:
            return [self.by_sku[domain[0][2]]]
        return super()._search(model, domain, context, offset, limit, order)

    def _known(self, model: str) -> set[str]:
        records = self.data[model]
        seen, names = self.field_names.get(model, (0, {"id", *EXTRA_FIELDS.get(model, ())}))
        for record in islice(reversed(records.values()), max(0, len(records) - seen)):
            names |= record.keys()
        self.field_names[model] = (len(records), names)
        return names


class BenchShop(FakeShop):
    """The fake shop plus WooCommerce's single-variation update, which the naive baseline uses."""

    def _route(self, method: str, route: list[str], query: dict, payload: dict) -> tuple[int, dict, object]:
        if method == "PUT" and len(route) == 4 and route[0] == "products" and route[2] == "variations":
            variation = self.variations.get(int(route[3]))
            if variation is None or variation["parent_id"] != int(route[1]):
                error = ERRORS["product_invalid_id_on_update_400"]
                return error["status"], {}, error["body"]
            variation.update(payload)
            variation["stock_status"] = "instock" if variation["stock_quantity"] > 0 else "outofstock"
            return 200, {}, copy.deepcopy(variation)
        return super()._route(method, route, query, payload)


def fakes(variants: list[Variant], orders: dict[int, dict]) -> tuple[BenchOdoo, BenchShop]:
    """A fresh fake Odoo and shop holding the data set (no latency while it is built)."""
    odoo = BenchOdoo()
    for v in variants:
        odoo.data["product.product"][v.odoo_id] = odoo.by_sku[v.sku] = _product(
            v.odoo_id, v.sku, False, f"Producto {v.sku}", float(v.price), [v.parent_id, "Bench"], TAX_INCLUDED, ""
        )
        # Some stock is reserved or in the returns location: free_qty at WH/Stock must leave both out.
        reserved = v.free_qty % 3
        odoo.quants[(v.odoo_id, WH_STOCK)] = float(v.free_qty + reserved)
        odoo.reserved[(v.odoo_id, WH_STOCK)] = float(reserved)
        odoo.quants[(v.odoo_id, WH_RETURNS)] = 1.0
    parents = {v.parent_id: {"id": v.parent_id, "name": "Bench", "type": "variable", "sku": ""} for v in variants}
    variations = {
        v.variation_id: {
            "id": v.variation_id,
            "parent_id": v.parent_id,
            "sku": v.sku,
            "price": str(v.price),
            "manage_stock": True,
            "stock_quantity": None,
            "stock_status": "outofstock",
        }
        for v in variants
    }
    return odoo, BenchShop(orders=copy.deepcopy(orders), products=parents, variations=variations)


@dataclass
class Measure:
    seconds: float
    odoo_calls: int
    shop_calls: int
    odoo_methods: Counter

    @property
    def latency_floor(self) -> float:
        return self.odoo_calls * ODOO_LATENCY + self.shop_calls * SHOP_LATENCY


def measured(odoo: FakeOdoo, shop: FakeShop, work: Callable[[], Any]) -> tuple[Measure, Any]:
    """Run `work` with the latencies on; count the calls the fakes received meanwhile."""
    calls, requests = len(odoo.calls), len(shop.requests)
    odoo.latency, shop.latency = ODOO_LATENCY, SHOP_LATENCY
    start = time.perf_counter()
    try:
        result = work()
    finally:
        odoo.latency = shop.latency = 0.0
    seconds = time.perf_counter() - start
    methods = Counter(f"{model} {method}".strip() for _, model, method in odoo.calls[calls:])
    return Measure(seconds, len(odoo.calls) - calls, len(shop.requests) - requests, methods), result


# ---------------------------------------------------------------- checks, shared by both sides


def check(condition: bool, message: str) -> None:
    if not condition:
        raise SystemExit(f"bench/integration.py: check failed: {message}")


def check_orders(odoo: FakeOdoo, orders: dict[int, dict], side: str) -> None:
    created = list(odoo.data["sale.order"].values())
    check(len(created) == ORDERS, f"{side}: {len(created)} sale orders in Odoo, expected {ORDERS}")
    check(all(o["state"] == "sale" for o in created), f"{side}: not every sale order is confirmed")
    refs = {o["client_order_ref"] for o in created}
    check(refs == {f"WOO-{o['number']}" for o in orders.values()}, f"{side}: the orders' markers differ")
    lines = sum(len(o["line_items"]) + len(o["shipping_lines"]) + len(o["fee_lines"]) for o in orders.values())
    found = len(odoo.data["sale.order.line"])
    check(found == lines, f"{side}: {found} sale order lines in Odoo, expected {lines}")


def check_stock(shop: FakeShop, variants: list[Variant], side: str) -> None:
    wrong = [v.sku for v in variants if shop.variations[v.variation_id]["stock_quantity"] != v.free_qty]
    check(not wrong, f"{side}: {len(wrong)} variations with a wrong stock, e.g. {wrong[:3]}")


# ---------------------------------------------------------------- ours: the flows, through run_flow


def wire(odoo_url: str, shop_url: str, variants: list[Variant]) -> Engagement:
    """An engagement connected to the fakes, with its catalogue already matched (bindings)."""
    company, _ = ClientCompany.objects.get_or_create(
        rut="765432103",
        defaults={"legal_name": "Bench SpA", "address": "Av. Siempre Viva 742", "billing_email": "b@b.cl"},
    )
    engagement = Engagement.objects.create(
        terms=service_current_terms(service_publish_catalogue()),
        company=company,
        title="Bench · WooCommerce",
        status="active",
        status_changed_at=timezone.now(),
    )
    OdooConnection.objects.create(engagement=engagement, url=odoo_url, database="lab", login="admin", api_key="admin")
    ShopConnection.objects.create(
        engagement=engagement, platform="woocommerce", base_url=shop_url, api_key="ck_demo", api_secret="cs_demo"
    )
    FlowSettings.objects.create(engagement=engagement, flow="orders", enabled=True, options=ORDER_OPTIONS)
    FlowSettings.objects.create(engagement=engagement, flow="stock", enabled=True, options={"location_id": WH_STOCK})
    Binding.objects.bulk_create(
        Binding(
            engagement=engagement,
            kind="product_variant",
            odoo_model="product.product",
            odoo_id=v.odoo_id,
            external_id=str(v.variation_id),
            external_parent_id=str(v.parent_id),
            sku=v.sku,
        )
        for v in variants
    )
    return engagement


def check_run(run: SyncRun, outcome: str, expected: int) -> None:
    counts = run.counts
    check(run.status == SyncRun.Status.SUCCEEDED, f"{run.flow} run {run.status}: {run.summary} {counts}")
    check(counts["listed"] == expected and counts[outcome] == expected, f"{run.flow} run counts {counts}")
    check(counts["listed"] == sum(v for k, v in counts.items() if k != "listed"), f"counts do not add up: {counts}")


def ours(variants: list[Variant], orders: dict[int, dict]) -> tuple[Measure, Measure]:
    odoo, shop = fakes(variants, orders)
    with FakeOdooServer(odoo) as odoo_server, FakeShopServer(shop) as shop_server:
        engagement = wire(odoo_server.url, shop_server.url, variants)
        _say(f"ours: importing {ORDERS} orders…")
        order_measure, run = measured(odoo, shop, lambda: runner.run_flow(engagement=engagement, flow="orders"))
        check_run(run, "created", ORDERS)
        check_orders(odoo, orders, "ours")
        _say(f"ours: {order_measure.seconds:.0f} s; exporting stock of {VARIANTS} variants…")
        stock_measure, run = measured(odoo, shop, lambda: runner.run_flow(engagement=engagement, flow="stock"))
        check_run(run, "updated", VARIANTS)
        check_stock(shop, variants, "ours")
        _say(f"ours: {stock_measure.seconds:.0f} s")
    return order_measure, stock_measure


def ours_first_page(variants: list[Variant], orders: dict[int, dict]) -> Measure:
    """The first AMORTISED orders alone, on fresh fakes: what a first page costs in Odoo calls."""
    first = dict(sorted(orders.items())[:AMORTISED])
    odoo, shop = fakes(variants, first)
    with FakeOdooServer(odoo) as odoo_server, FakeShopServer(shop) as shop_server:
        engagement = wire(odoo_server.url, shop_server.url, variants)
        measure, run = measured(odoo, shop, lambda: runner.run_flow(engagement=engagement, flow="orders"))
        check_run(run, "created", AMORTISED)
    return measure


# ---------------------------------------------------------------- naive: one call per record


def naive_orders(odoo: OdoorpcGateway, shop: WooCommerceClient, window: tuple[str, str]) -> None:
    for listed in list(shop.iter_raw_orders(modified_after=window[0], modified_before=window[1])):
        order = shop.request("GET", f"/orders/{listed['id']}").json()
        billing = order["billing"]
        found = odoo.search_read("res.partner", [["email", "=ilike", billing["email"]]], ["id"], limit=1)
        if found:
            partner_id = found[0]["id"]
        else:
            name = f"{billing['first_name']} {billing['last_name']}"
            partner_id = odoo.create("res.partner", [{"name": name, "email": billing["email"]}])[0]
        lines = [
            (odoo.search_read("product.product", [["default_code", "=", item["sku"]]], ["id"], limit=1)[0]["id"], item)
            for item in order["line_items"]
        ]
        lines += [(SHIPPING, {**row, "name": row["method_title"], "quantity": 1}) for row in order["shipping_lines"]]
        lines += [(FEE, {**row, "quantity": 1}) for row in order["fee_lines"]]
        values = {"partner_id": partner_id, "client_order_ref": f"WOO-{order['number']}"}
        order_id = odoo.create("sale.order", [values])[0]
        for product_id, row in lines:
            gross = float(row["total"]) + float(row["total_tax"])
            taxes = [TAX_INCLUDED] if float(row["total_tax"]) else []
            line = {
                "order_id": order_id,
                "product_id": product_id,
                "name": row["name"],
                "product_uom_qty": row["quantity"],
                "price_unit": gross / row["quantity"],
                "tax_id": [[6, 0, taxes]],
            }
            odoo.create("sale.order.line", [line])
        odoo.call("sale.order", "action_confirm", [order_id])


def naive_stock(odoo: OdoorpcGateway, shop: WooCommerceClient, variants: list[Variant]) -> None:
    for v in variants:
        row = odoo.read("product.product", [v.odoo_id], ["free_qty"], context={"location": WH_STOCK})[0]
        body = {"manage_stock": True, "stock_quantity": max(0, math.floor(row["free_qty"]))}
        shop.request("PUT", f"/products/{v.parent_id}/variations/{v.variation_id}", body=body)


def _connected(odoo_url: str, shop_url: str, work: Callable[..., None], *args: Any) -> None:
    """Run a baseline with its own Odoo gateway and shop client (their connection is part of the work)."""
    odoo = OdoorpcGateway(url=odoo_url, database="lab", login="admin", api_key="admin")
    shop = WooCommerceClient(shop_url, "ck_demo", "cs_demo")
    try:
        work(odoo, shop, *args)
    finally:
        shop.close()


def naive(variants: list[Variant], orders: dict[int, dict], window: tuple[str, str]) -> tuple[Measure, Measure]:
    odoo, shop = fakes(variants, orders)
    with FakeOdooServer(odoo) as odoo_server, FakeShopServer(shop) as shop_server:
        urls = (odoo_server.url, shop_server.url)
        _say(f"naive: importing {ORDERS} orders (several minutes)…")
        order_measure, _ = measured(odoo, shop, lambda: _connected(*urls, naive_orders, window))
        check_orders(odoo, orders, "naive")
        _say(f"naive: {order_measure.seconds:.0f} s; exporting stock of {VARIANTS} variants…")
        stock_measure, _ = measured(odoo, shop, lambda: _connected(*urls, naive_stock, variants))
        check_stock(shop, variants, "naive")
        _say(f"naive: {stock_measure.seconds:.0f} s")
    return order_measure, stock_measure


# ---------------------------------------------------------------- the report


def _duration(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min ({seconds:.0f} s)"


def _ratio(naive_value: float, ours_value: float) -> str:
    return f"{naive_value / ours_value:.1f}x" if ours_value else "-"


def order_table(ours_: Measure, naive_: Measure) -> list[str]:
    rows = [
        "| | wall time | orders/min | Odoo calls | Odoo calls/order | shop calls | latency floor |",
        "|---|---|---|---|---|---|---|",
    ]
    before = BEFORE["seconds"]
    rows.append(
        f"| before, one order at a time (c2c5d5d, measured {BEFORE['measured']}) | {_duration(before)} | "
        f"{ORDERS / before * 60:,.0f} | {BEFORE['odoo_calls']:,} | {BEFORE['odoo_calls'] / ORDERS:.1f} | | |"
    )
    for label, m in (("ours (`run_flow`, orders flow)", ours_), ("naive, one call per record", naive_)):
        rows.append(
            f"| {label} | {_duration(m.seconds)} | {ORDERS / m.seconds * 60:,.0f} | {m.odoo_calls:,} | "
            f"{m.odoo_calls / ORDERS:.1f} | {m.shop_calls:,} | {_duration(m.latency_floor)} |"
        )
    rows.append(
        f"| naive ÷ ours | {_ratio(naive_.seconds, ours_.seconds)} | | {_ratio(naive_.odoo_calls, ours_.odoo_calls)} "
        f"| | {_ratio(naive_.shop_calls, ours_.shop_calls)} | |"
    )
    return rows


def stock_table(ours_: Measure, naive_: Measure) -> list[str]:
    rows = ["| | wall time | Odoo calls | shop calls | latency floor |", "|---|---|---|---|---|"]
    for label, m in (("ours (`run_flow`, stock flow, full pass)", ours_), ("naive, one call per record", naive_)):
        rows.append(
            f"| {label} | {_duration(m.seconds)} | {m.odoo_calls:,} | {m.shop_calls:,} | {_duration(m.latency_floor)} |"
        )
    rows.append(
        f"| naive ÷ ours | {_ratio(naive_.seconds, ours_.seconds)} | {_ratio(naive_.odoo_calls, ours_.odoo_calls)} "
        f"| {_ratio(naive_.shop_calls, ours_.shop_calls)} | |"
    )
    return rows


def goals(ours_: Measure, first_page: Measure) -> str:
    speedup = BEFORE["seconds"] / ours_.seconds
    calls = first_page.odoo_calls / AMORTISED
    return (
        f"Goals: at least {GOAL_SPEEDUP:.0f}x the orders a minute of before: {speedup:.1f}x "
        f"({'met' if speedup >= GOAL_SPEEDUP else 'NOT MET'}); at most {GOAL_CALLS:.0f} Odoo call an order over "
        f"{AMORTISED} orders (the first {AMORTISED} imported alone, login included): {first_page.odoo_calls} calls, "
        f"{calls:.2f} an order ({'met' if calls <= GOAL_CALLS else 'NOT MET'})."
    )


def _methods(m: Measure) -> str:
    return ", ".join(f"{name} {count:,}" for name, count in m.odoo_methods.most_common())


def main() -> None:
    rng = random.Random(SEED)  # noqa: S311 (a reproducible data set, not crypto)
    variants = catalogue(rng)
    now = datetime.now(UTC).replace(microsecond=0)
    since = now - timedelta(days=1)
    orders = shop_orders(rng, variants, since)
    window = ((since - timedelta(minutes=1)).strftime(WOO_TIME), now.strftime(WOO_TIME))
    ours_orders, ours_stock = ours(variants, orders)
    first_page = ours_first_page(variants, orders)
    naive_orders_, naive_stock_ = naive(variants, orders, window)

    items = sum(len(o["line_items"]) for o in orders.values())
    emails = len({o["billing"]["email"] for o in orders.values()})
    print(f"## Integration (fakes on loopback: {ODOO_LATENCY * 1000:.0f} ms per Odoo call, ", end="")
    print(f"{SHOP_LATENCY * 1000:.0f} ms per shop call)\n")
    print(
        f"Seed {SEED}. {ORDERS} WooCommerce orders of 1-20 product lines ({items:,} in all, "
        f"{items / ORDERS:.1f} on average) plus a shipping line and two fees each, from {emails} customers; "
        f"{VARIANTS:,} variants in {VARIANTS // PER_PARENT} variable products of {PER_PARENT}. "
        f"Both sides start from fresh fakes with the same data and are checked: {ORDERS} confirmed sale orders "
        "with every line, every variation's stock equal to Odoo's free quantity at WH/Stock. "
        "Calls are those the fakes received (Odoo: the login and every `execute_kw`; shop: every request). "
        "Latency floor: calls x latency, the time the fakes spent sleeping.\n"
    )
    print(f"### Order import: {ORDERS} orders\n")
    print("\n".join(order_table(ours_orders, naive_orders_)))
    print(f"\n{goals(ours_orders, first_page)}")
    print(f"\nOdoo calls, ours: {_methods(ours_orders)}.  ")
    print(f"Odoo calls, naive: {_methods(naive_orders_)}.")
    print(f"\n### Stock export: {VARIANTS:,} variants\n")
    print("\n".join(stock_table(ours_stock, naive_stock_)))
    print(f"\nOdoo calls, ours: {_methods(ours_stock)}.  ")
    print(f"Odoo calls, naive: {_methods(naive_stock_)}.")


if __name__ == "__main__":
    main()
