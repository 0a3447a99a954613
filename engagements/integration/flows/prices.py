"""Price export, Odoo → shop.

Candidates are the active product bindings. The price is the product's `lst_price`
(one batched read), or, with a pricelist configured, Odoo's own pricelist price:
`product.product.get_contextual_price` with `{"pricelist": id, "quantity": 1}` in the
context (Odoo 16-18; one call per product, because the method works on one record and
the pricelist engine's `_get_product_price` is private, so RPC refuses it).

Shops show prices with IVA, Odoo usually keeps them without: with `tax_included` (the
default) the price is multiplied by 1 + `tax_rate` % (19 % for Chile), except for a
product whose Odoo sales tax is itself price-included, whose price already has it. The
result is rounded to the currency's minor unit (CLP 0 decimals, USD 2) half up, in
Decimal. A price of 0 or less is never pushed (a free product by mistake): it is
reported for review.

A price is pushed only when it differs from the last one pushed (`"price"` in
`Binding.last_pushed_value`, merged so the stock flow's `"qty"` stays), through the
adapter's `set_prices`: WooCommerce `regular_price` in batches of 100, Shopify `price`
per product (≤ 250 variants a call), Jumpseller one PUT per item. No stock field is
ever sent. Sale prices are the shop's: WooCommerce keeps `sale_price` (customers
pay it while it is set and lower), Shopify and Jumpseller keep `compareAtPrice` /
`compare_at_price` (shown struck through when higher); such items are reported with a
warning so nobody wonders why the shop shows another price. A refused item is
reported and the others are kept. A dry run reads Odoo, plans, and calls the shop
not at all.
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from engagements.integration.flows.pushed import remember_pushed
from engagements.integration.flows.runs import Report, flow_options
from engagements.integration.gateway.base import OdooGateway, PermanentError
from engagements.integration.models import Binding, Flow, SyncRun
from engagements.integration.shops.base import PriceUpdate, ShopClient

DEFAULTS = {"pricelist_id": None, "tax_included": True, "tax_rate": "19", "currency": "CLP"}
DECIMALS = {"CLP": 0, "USD": 2}  # the currency's minor unit
ODOO_PRECISION = Decimal("0.000001")  # Odoo returns floats (29.900000000000002): cut the float noise first
CHUNK = 250  # updates handed to the adapter at once; what succeeded is remembered after each chunk


def shop_price(odoo_price: Decimal, *, add_tax: bool, tax_rate: Decimal, decimals: int) -> Decimal:
    """PURE: Odoo's price as the shop shows it. `shop_price(Decimal("10915.97"), add_tax=True,
    tax_rate=Decimal(19), decimals=0)` → 12990."""
    price = odoo_price.quantize(ODOO_PRECISION, rounding=ROUND_HALF_UP)
    if add_tax:
        price = price * (1 + tax_rate / 100)
    return price.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def price_options(run: SyncRun) -> dict:
    """The price flow's options, checked (the product export prices by the same rule)."""
    options = flow_options(run.engagement, Flow.PRICES, DEFAULTS)
    options["tax_rate"] = Decimal(str(options["tax_rate"]))
    if options["currency"] not in DECIMALS:
        raise PermanentError(f"No rounding rule for the currency {options['currency']}.", code="price_currency_unknown")
    return options


def export_prices(*, run: SyncRun, odoo: OdooGateway, shop: ShopClient, now: datetime, full: bool = False) -> Report:
    """Every bound variant is a candidate on every run (`full` changes nothing): prices have no cursor."""
    options = price_options(run)
    report = Report()
    active = Binding.objects.filter(engagement=run.engagement, kind="product_variant", state=Binding.State.ACTIVE)
    bindings = list(active.order_by("pk"))
    report.counts["listed"] = len(bindings)
    if not bindings:
        return report
    _check_pricelist(odoo, options)
    products = _products(odoo, bindings)
    included = _price_included_taxes(odoo, products)
    changes = []
    for binding in bindings:
        price = _price(run, odoo, binding, products.get(binding.odoo_id), included, options, report)
        if price is None:
            continue
        if (binding.last_pushed_value or {}).get("price") == str(price):
            report.add("unchanged", kind="price", external_id=binding.external_id, odoo_id=binding.odoo_id)
            continue
        changes.append((binding, price))
    _push(run, shop, changes, report)
    return report


def _check_pricelist(odoo: OdooGateway, options: dict) -> None:
    """A pricelist in another currency would push, say, USD amounts into a CLP shop: refuse the run."""
    if not options["pricelist_id"]:
        return
    rows = odoo.read("product.pricelist", [int(options["pricelist_id"])], ["currency_id", "name"])
    if not rows:
        raise PermanentError("The configured Odoo pricelist does not exist.", code="price_pricelist_missing")
    currency = (rows[0]["currency_id"] or [None, ""])[1]
    if currency != options["currency"]:
        raise PermanentError(
            f"The pricelist is in {currency}, the shop in {options['currency']}.", code="price_currency_mismatch"
        )


def _products(odoo: OdooGateway, bindings: list[Binding]) -> dict[int, dict]:
    rows = odoo.read("product.product", [b.odoo_id for b in bindings], ["lst_price", "taxes_id"])
    return {row["id"]: row for row in rows}


def _price_included_taxes(odoo: OdooGateway, products: dict[int, dict]) -> set[int]:
    """The sales taxes (of these products) whose amount is inside the product price."""
    ids = sorted({tax for row in products.values() for tax in row.get("taxes_id") or []})
    if not ids:
        return set()
    return {row["id"] for row in odoo.read("account.tax", ids, ["price_include"]) if row.get("price_include")}


def _price(
    run: SyncRun,
    odoo: OdooGateway,
    binding: Binding,
    product: dict | None,
    included: set[int],
    options: dict,
    report: Report,
) -> Decimal | None:
    """The price to show in the shop, or None when the item was reported instead."""
    where: dict[str, Any] = {"kind": "price", "external_id": binding.external_id, "odoo_id": binding.odoo_id}
    if product is None:
        report.orphaned(binding, kind="price", dry_run=run.dry_run)
        return None
    try:
        odoo_price = _odoo_price(odoo, product, options)
    except PermanentError as error:
        report.add("failed", reason=error.code, message=str(error)[:500], **where)
        return None
    add_tax = bool(options["tax_included"]) and not included.intersection(product.get("taxes_id") or [])
    price = shop_price(
        odoo_price, add_tax=add_tax, tax_rate=options["tax_rate"], decimals=DECIMALS[options["currency"]]
    )
    if price <= 0:
        message = f"Odoo gives a price of {price}: not pushed, the shop would sell it for free."
        report.add("review", reason="price_not_positive", message=message, **where)
        return None
    return price


def _odoo_price(odoo: OdooGateway, product: dict, options: dict) -> Decimal:
    if not options["pricelist_id"]:
        return Decimal(str(product["lst_price"]))
    context = {"pricelist": int(options["pricelist_id"]), "quantity": 1}
    return Decimal(str(odoo.call("product.product", "get_contextual_price", [product["id"]], context=context)))


def _push(run: SyncRun, shop: ShopClient, changes: list[tuple[Binding, Decimal]], report: Report) -> None:
    if run.dry_run:
        for binding, price in changes:
            before = (binding.last_pushed_value or {}).get("price")
            report.would_update(binding, kind="price", before=before, after=str(price))
        return
    for start in range(0, len(changes), CHUNK):
        _push_chunk(shop, changes[start : start + CHUNK], report)


def _push_chunk(shop: ShopClient, changes: list[tuple[Binding, Decimal]], report: Report) -> None:
    by_external = {binding.external_id: (binding, price) for binding, price in changes}
    updates = [
        PriceUpdate(b.external_parent_id or b.external_id, b.external_id if b.external_parent_id else "", price)
        for b, price in changes
    ]
    results = shop.set_prices(updates)
    pushed = [by_external[result.external_id] for result in results if result.ok]
    remember_pushed({binding.pk: {"price": str(price)} for binding, price in pushed})
    for result in results:
        binding, price = by_external[result.external_id]
        where: dict[str, Any] = {"kind": "price", "external_id": binding.external_id, "odoo_id": binding.odoo_id}
        if result.ok:
            diff = {"from": (binding.last_pushed_value or {}).get("price"), "to": str(price)}
            report.add("updated", reason=result.warning, message=result.message, diff=diff, **where)
        else:
            report.add("failed", reason=result.error_code, message=result.message, **where)
