"""Shop benchmarks: price and stock push to WooCommerce, Shopify and Jumpseller, and a naive baseline.

Run through `make bench` after bench.integration (a migrated PostgreSQL database in DATABASE_URL).
Same fakes, latencies (25 ms per Odoo call, 50 ms per shop call), data set and checks as
bench/integration.py, whose helpers this uses. Ours is `runner.run_flow` with the prices and the
stock flow (full pass); the naive baseline, written here, reads Odoo once per variant and calls
the shop once per variant. Every run gets fresh fakes (so Shopify's cost bucket and Jumpseller's
rate windows start full) and is checked: every variant's shop price and stock equal Odoo's.
Our runs go one at a time; the six naive runs go at once, in threads, each on its own fakes
(they mostly sleep in the fakes' latency: compare their wall time with their latency floor).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from itertools import groupby
from typing import Any

from bench.integration import (  # imported first: it sets Django up
    ODOO_LATENCY,
    PER_PARENT,
    SEED,
    SHOP_LATENCY,
    TAX_INCLUDED,
    VARIANTS,
    BenchOdoo,
    Measure,
    Variant,
    _methods,
    _say,
    catalogue,
    check,
    check_run,
    fakes,
    measured,
    stock_table,
    wire,
)
from engagements.integration import runner
from engagements.integration.flows.prices import shop_price
from engagements.integration.gateway.odoo import OdoorpcGateway
from engagements.integration.models import FlowSettings, ShopConnection
from engagements.integration.shops.base import PriceUpdate, StockUpdate
from engagements.integration.shops.jumpseller import JumpsellerClient
from engagements.integration.shops.shopify import ShopifyClient, gid
from engagements.integration.shops.woocommerce import WooCommerceClient
from tests.fakes.jumpseller import FakeJumpseller, FakeJumpsellerServer
from tests.fakes.odoo import WH_STOCK, FakeOdooServer
from tests.fakes.shopify import FakeShopify, FakeShopifyServer
from tests.fakes.woocommerce import FakeShopServer

# Jumpseller has no batch endpoint: each run sends one PUT per variant, ours too, and its rate limit
# (800 a minute) would hold 2,000 PUTs to 2.5 min or more per run. 500 keeps each run under the window.
JUMPSELLER_VARIANTS = 500
TAX_EXCLUDED = 3  # the fake Odoo's "IVA 19%", not price-included: the flow adds it
PRICE_OPTIONS = {"tax_included": True, "tax_rate": "19", "currency": "CLP"}
STALE_PRICE, STALE_QTY = 1, 999  # what the shops hold before a run: never what Odoo gives


# ---------------------------------------------------------------- the shops


def _one(results: list) -> None:
    check(len(results) == 1 and results[0].ok, f"naive push refused: {results}")


def adapter_price(client: Any, v: Variant, price: Decimal) -> None:
    """The adapter's own `set_prices`, for one variant: one shop call (Shopify, Jumpseller)."""
    _one(client.set_prices([PriceUpdate(str(v.parent_id), str(v.variation_id), price)]))


def adapter_qty(client: Any, v: Variant, qty: int) -> None:
    _one(client.set_stock([StockUpdate(str(v.parent_id), str(v.variation_id), qty)]))


@dataclass(frozen=True)
class Platform:
    """One shop fake: how to seed it, connect to it, read it back, and push one variant naively."""

    name: str
    count: int
    seed: Callable[[list[Variant], Any], Any]  # (variants, the Woo bench shop) → the fake shop
    server: Callable[[Any], Any]
    connection: Callable[[Any], dict]  # server → ShopConnection fields
    client: Callable[[Any], Any]  # server → the adapter the naive baseline uses
    price: Callable[[Any, Variant], Decimal]
    qty: Callable[[Any, Variant], int]
    push_price: Callable[[Any, Variant, Decimal], None] = adapter_price
    push_qty: Callable[[Any, Variant, int], None] = adapter_qty
    prepare_stock: Callable[[Any, list[Variant]], None] = lambda client, variants: None


def _seed_woo(variants: list[Variant], woo: Any) -> Any:
    for variation in woo.variations.values():
        variation.update(regular_price=str(STALE_PRICE), stock_quantity=STALE_QTY, stock_status="instock")
    return woo


def _seed_shopify(variants: list[Variant], _woo: Any) -> FakeShopify:
    shop = FakeShopify()
    for parent, group in groupby(variants, key=lambda v: v.parent_id):
        rows = list(group)
        shop.add_variants(len(rows), product=str(parent), start=rows[0].variation_id)
    for variant in shop.variants.values():
        variant["price"] = f"{STALE_PRICE:.2f}"
    shop.levels.update(dict.fromkeys(shop.levels, STALE_QTY))
    return shop


def _seed_jumpseller(variants: list[Variant], _woo: Any) -> FakeJumpseller:
    products: dict[int, dict] = {}
    for v in variants:
        product = products.setdefault(
            v.parent_id, {"id": v.parent_id, "name": "Bench", "price": 0.0, "stock": 0, "variants": []}
        )
        product["variants"].append(
            {
                "id": v.variation_id,
                "sku": v.sku,
                "price": float(STALE_PRICE),
                "stock": STALE_QTY,
                "stock_unlimited": False,
                "compare_at_price": None,
            }
        )
    return FakeJumpseller(products=products)


def _jumpseller_variant(shop: FakeJumpseller, v: Variant) -> dict:
    return next(x for x in shop.products[v.parent_id]["variants"] if x["id"] == v.variation_id)


def _woo_put(client: WooCommerceClient, v: Variant, body: dict) -> None:
    client.request("PUT", f"/products/{v.parent_id}/variations/{v.variation_id}", body=body)


def _shopify_items(client: ShopifyClient, variants: list[Variant]) -> None:
    """The naive side gets the inventory items the way ours does, 250 per query: its
    stock push is then one mutation per variant, nothing more."""
    client._inventory_items([str(v.variation_id) for v in variants])


WOOCOMMERCE = Platform(
    name="WooCommerce",
    count=VARIANTS,
    seed=_seed_woo,
    server=FakeShopServer,
    connection=lambda s: {"platform": "woocommerce", "base_url": s.url, "api_key": "ck_demo", "api_secret": "cs_demo"},
    client=lambda s: WooCommerceClient(s.url, "ck_demo", "cs_demo"),
    price=lambda shop, v: Decimal(shop.variations[v.variation_id]["regular_price"]),
    qty=lambda shop, v: shop.variations[v.variation_id]["stock_quantity"],
    push_price=lambda c, v, price: _woo_put(c, v, {"regular_price": str(price)}),
    push_qty=lambda c, v, qty: _woo_put(c, v, {"manage_stock": True, "stock_quantity": qty}),
)
SHOPIFY = Platform(
    name="Shopify",
    count=VARIANTS,
    seed=_seed_shopify,
    server=FakeShopifyServer,
    connection=lambda s: {"platform": "shopify", "base_url": s.url, "api_key": "shpat_demo", "api_secret": ""},
    client=lambda s: ShopifyClient(s.url, "shpat_demo"),
    price=lambda shop, v: Decimal(shop.variants[gid("ProductVariant", v.variation_id)]["price"]),
    qty=lambda shop, v: shop.quantity(str(v.variation_id)),
    prepare_stock=_shopify_items,
)
JUMPSELLER = Platform(
    name="Jumpseller",
    count=JUMPSELLER_VARIANTS,
    seed=_seed_jumpseller,
    server=FakeJumpsellerServer,
    connection=lambda s: {
        "platform": "jumpseller",
        "base_url": s.api_url,
        "api_key": s.shop.login,
        "api_secret": s.shop.token,
    },
    client=lambda s: JumpsellerClient(s.shop.login, s.shop.token, base_url=s.api_url),
    price=lambda shop, v: Decimal(str(_jumpseller_variant(shop, v)["price"])),
    qty=lambda shop, v: _jumpseller_variant(shop, v)["stock"],
)
PLATFORMS = (WOOCOMMERCE, SHOPIFY, JUMPSELLER)
FLOWS = ("prices", "stock")


def setup(platform: Platform, variants: list[Variant]) -> tuple[BenchOdoo, Any]:
    """Fresh fakes: bench/integration.py's Odoo, half of the products with a tax that is not
    price-included and a net `lst_price` (so that with IVA every shop price is `Variant.price`)."""
    odoo, woo = fakes(variants, {})
    for v in variants[1::2]:
        product = odoo.data["product.product"][v.odoo_id]
        product.update(taxes_id=[TAX_EXCLUDED], lst_price=round(v.price / 1.19, 2))
    return odoo, platform.seed(variants, woo)


def check_shop(platform: Platform, shop: Any, variants: list[Variant], flow: str, side: str) -> None:
    read, want = (platform.price, lambda v: v.price) if flow == "prices" else (platform.qty, lambda v: v.free_qty)
    wrong = [v.sku for v in variants if read(shop, v) != want(v)]
    check(not wrong, f"{side} {platform.name} {flow}: {len(wrong)} variants wrong in the shop, e.g. {wrong[:3]}")


# ---------------------------------------------------------------- ours: the flows, through sync_run


def ours(platform: Platform, variants: list[Variant], flow: str) -> Measure:
    odoo, shop = setup(platform, variants)
    with FakeOdooServer(odoo) as odoo_server, platform.server(shop) as shop_server:
        engagement = wire(odoo_server.url, shop_server.url, variants)
        engagement.title = f"Bench · {platform.name}"
        engagement.save(update_fields=["title"])
        connection = ShopConnection.objects.get(engagement=engagement)
        for name, value in platform.connection(shop_server).items():
            setattr(connection, name, value)
        connection.save()
        FlowSettings.objects.filter(engagement=engagement, flow="orders").update(enabled=False)  # no orders in transit
        FlowSettings.objects.create(engagement=engagement, flow="prices", enabled=True, options=PRICE_OPTIONS)
        measure, run = measured(odoo, shop, lambda: runner.run_flow(engagement=engagement, flow=flow, full=True))
        check_run(run, "updated", len(variants))
        check_shop(platform, shop, variants, flow, "ours")
    _say(f"ours: {platform.name} {flow}, {len(variants)} variants: {measure.seconds:.1f} s")
    return measure


# ---------------------------------------------------------------- naive: one Odoo read and one shop call per variant


def naive_prices(odoo: OdoorpcGateway, client: Any, platform: Platform, variants: list[Variant]) -> None:
    taxes = odoo.read("account.tax", [TAX_EXCLUDED, TAX_INCLUDED], ["price_include"])
    included = {row["id"] for row in taxes if row["price_include"]}
    for v in variants:
        row = odoo.read("product.product", [v.odoo_id], ["lst_price", "taxes_id"])[0]
        add_tax = not included.intersection(row["taxes_id"])
        price = shop_price(Decimal(str(row["lst_price"])), add_tax=add_tax, tax_rate=Decimal(19), decimals=0)
        platform.push_price(client, v, price)


def naive_stock(odoo: OdoorpcGateway, client: Any, platform: Platform, variants: list[Variant]) -> None:
    platform.prepare_stock(client, variants)
    for v in variants:
        row = odoo.read("product.product", [v.odoo_id], ["free_qty"], context={"location": WH_STOCK})[0]
        platform.push_qty(client, v, max(0, math.floor(row["free_qty"])))


def naive(platform: Platform, variants: list[Variant], flow: str) -> Measure:
    odoo, shop = setup(platform, variants)
    with FakeOdooServer(odoo) as odoo_server, platform.server(shop) as shop_server:

        def work() -> None:  # the gateway and the client are made inside: their connection is part of the work
            gateway = OdoorpcGateway(url=odoo_server.url, database="lab", login="admin", api_key="admin")
            client = platform.client(shop_server)
            try:
                (naive_prices if flow == "prices" else naive_stock)(gateway, client, platform, variants)
            finally:
                client.close()

        measure, _ = measured(odoo, shop, work)
        check_shop(platform, shop, variants, flow, "naive")
    _say(f"naive: {platform.name} {flow}, {len(variants)} variants: {measure.seconds:.1f} s")
    return measure


# ---------------------------------------------------------------- the report


def table(flow: str, ours_: Measure, naive_: Measure) -> list[str]:
    label = "stock flow, full pass" if flow == "stock" else "prices flow"
    return [row.replace("stock flow, full pass", label) for row in stock_table(ours_, naive_)]


def main() -> None:
    variants = catalogue(random.Random(SEED))  # noqa: S311 (a reproducible data set, not crypto)
    jobs = [(p, variants[: p.count], flow) for p in PLATFORMS for flow in FLOWS]
    _say(f"shops: our price and stock pushes, one at a time ({', '.join(p.name for p in PLATFORMS)})…")
    ours_ = {(p.name, flow): ours(p, vs, flow) for p, vs, flow in jobs}
    _say(f"shops: the {len(jobs)} naive runs at once (about three minutes)…")
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        futures = {(p.name, flow): pool.submit(naive, p, vs, flow) for p, vs, flow in jobs}
        naive_ = {key: future.result() for key, future in futures.items()}

    print(f"\n## Shops: price and stock push ({ODOO_LATENCY * 1000:.0f} ms per Odoo call, ", end="")
    print(f"{SHOP_LATENCY * 1000:.0f} ms per shop call)\n")
    print(
        f"Seed {SEED}, the variants of the integration benchmark ({PER_PARENT} per product); half of the Odoo "
        "products have a price-included IVA, half a net price to which the flow adds 19 %. Ours: `sync_run` "
        f"with the prices flow (options {PRICE_OPTIONS}) and the stock flow (full pass, WH/Stock), one run at "
        "a time. Naive: one Odoo `read` and one shop call per variant (WooCommerce `PUT "
        "/products/{parent}/variations/{id}`; Shopify one `productVariantsBulkUpdate` or "
        "`inventorySetQuantities` per variant, the inventory items looked up first 250 per query, as ours does; "
        "Jumpseller one PUT per variant); the six naive runs went at once, in threads on this "
        "machine's two cores, each on its own fakes. Every run starts from fresh fakes whose shop holds a stale "
        "price and stock for every variant, and is checked: every variant's shop price equals Odoo's price "
        "with IVA, its stock Odoo's free quantity at WH/Stock. Calls are those the fakes received. "
        "Latency floor: calls x latency.\n"
    )
    print(
        f"Jumpseller: {JUMPSELLER_VARIANTS} variants, not {VARIANTS:,}. It has no batch endpoint, so ours also "
        "sends one PUT per variant and the gain is on the Odoo side only (one `read` for all variants instead of "
        "one per variant). Its rate limit is 20 requests a second and 800 a minute (sliding windows, kept by the "
        "fake and by our client): 20/s is what 50 ms a call gives anyway, but 800 a minute would hold "
        f"{VARIANTS:,} PUTs to at least 2.5 min per run, ours and naive alike. With {JUMPSELLER_VARIANTS} a run "
        "and fresh fakes per run, no run reaches the minute window; the client does slow down when the "
        "per-second window's Remaining header runs low.\n"
    )
    print(
        f"Shopify: the fake's cost bucket holds {FakeShopify.max_available:,.0f} points and refills "
        f"{FakeShopify.restore_rate:,.0f} a second; a mutation costs 10, so once the bucket is spent the naive "
        f"side gets at most {FakeShopify.restore_rate / 10:.0f} mutations a second and waits for the bucket "
        "(its time above the floor). Ours sends 200 price mutations (one per product) and 8 stock mutations of "
        "250, but waits too before its `nodes` look-ups (751 points requested each). Time above the floor is "
        "otherwise our own work: Python, and the database (the stock flow records each pushed variant with its "
        "own UPDATE).\n"
    )
    for platform in PLATFORMS:
        count = platform.count
        print(f"### {platform.name}: {count:,} variants in {count // PER_PARENT} products\n")
        for flow in FLOWS:
            o, n = ours_[(platform.name, flow)], naive_[(platform.name, flow)]
            print(f"{flow.capitalize()}:\n")
            print("\n".join(table(flow, o, n)))
            print(f"\nOdoo calls, ours: {_methods(o)}.  ")
            print(f"Odoo calls, naive: {_methods(n)}.\n")


if __name__ == "__main__":
    main()
