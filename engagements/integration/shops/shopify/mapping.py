"""Shopify payloads ⇄ the normalized records (pure): orders, variants, product inputs, and the
reading of a mutation's userErrors. The rules are in the package docstring."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from engagements.integration.shops import base
from engagements.integration.shops.base import (
    BatchResult,
    Charge,
    OrderLine,
    ProductPayload,
    ShopAuthError,
    ShopError,
    ShopOrder,
    ShopPermanentError,
    ShopVariant,
)
from engagements.integration.shops.customers import RUT_KEYS, shopify_address

STALE_CODES = {"CHANGE_FROM_QUANTITY_STALE", "COMPARE_QUANTITY_STALE"}
FINANCIAL_STATUSES = {
    "PENDING": base.ON_HOLD,
    "AUTHORIZED": base.ON_HOLD,
    "PARTIALLY_PAID": base.ON_HOLD,
    "PAID": base.PAID,
    "PARTIALLY_REFUNDED": base.PAID,
    "REFUNDED": base.REFUNDED,
    "VOIDED": base.FAILED,
    "EXPIRED": base.FAILED,
}


def gid(kind: str, value: str | int) -> str:
    value = str(value)
    return value if value.startswith("gid://") else f"gid://shopify/{kind}/{value}"


def numeric_id(value: str | None) -> str:
    """`gid://shopify/ProductVariant/44000000001` → `44000000001`."""
    return (value or "").rsplit("/", 1)[-1].split("?", 1)[0]


def catalogue_item(node: dict[str, Any]) -> ShopVariant:
    product = node.get("product") or {}
    title = node.get("title") or ""
    name = (product.get("title") or "") if title in ("", "Default Title") else (node.get("displayName") or title)
    return ShopVariant(
        product_id=numeric_id(product.get("id")),
        variant_id=numeric_id(node["id"]),
        sku=(node.get("sku") or "").strip(),
        barcode=(node.get("barcode") or "").strip(),
        name=name,
        price=Decimal(str(node["price"])) if node.get("price") is not None else None,
    )


def options_of(product: ProductPayload) -> dict[str, list[str]]:
    """Option name → its values in order; a simple product has Shopify's single "Title" option."""
    return {"Title": ["Default Title"]} if product.simple else product.option_values()


def product_input(product: ProductPayload, options: dict[str, list[str]]) -> dict[str, Any]:
    variants = []
    for variant in product.variants:
        chosen = [("Title", "Default Title")] if product.simple else variant.options
        row: dict[str, Any] = {
            "optionValues": [{"optionName": name, "name": value} for name, value in chosen],
            "sku": variant.sku,
            "price": amount(variant.price),
        }
        if variant.variant_id:
            row["id"] = gid("ProductVariant", variant.variant_id)
        if not variant.active:
            row["inventoryPolicy"] = "DENY"
        variants.append(row)
    return {
        "title": product.name,
        "status": "ACTIVE",
        "productOptions": [{"name": n, "values": [{"name": v} for v in values]} for n, values in options.items()],
        "variants": variants,
    }


def compare_at_kept(result: BatchResult, node: dict[str, Any] | None) -> BatchResult:
    compare_at = (node or {}).get("compareAtPrice")
    if not result.ok or compare_at is None or node is None:
        return result
    shown = "shown as a discount from it" if Decimal(str(compare_at)) > Decimal(str(node["price"])) else "not shown"
    message = f"The shop keeps its compare-at price {compare_at} ({shown})."
    return replace(result, warning="shop_compare_at_kept", message=message)


def item_by_item(
    keys: list[str], send: Callable[[list[int]], list[dict[str, Any]]], field: str
) -> dict[str, BatchResult]:
    """Run an all-or-nothing mutation over `keys`: `send(positions)` sends those items and returns the
    userErrors, which name a refused item by its index in the `field` list. The refused items get
    their error; the others are sent again without them. An error about no item fails them all."""
    results: dict[str, BatchResult] = {}
    pending = list(range(len(keys)))
    while pending:
        errors = send(pending)
        if not errors:
            results.update((keys[p], BatchResult(keys[p], True)) for p in pending)
            break
        refusals: dict[int, dict[str, Any]] = {}
        for error in errors:
            index = _index(error.get("field"), field)
            if index is None or index >= len(pending):
                results.update((keys[p], refused(keys[p], error)) for p in pending)
                return results
            refusals.setdefault(pending[index], error)
        results.update((keys[p], refused(keys[p], error)) for p, error in refusals.items())
        pending = [p for p in pending if p not in refusals]
    return results


def _index(path: list[Any] | None, field: str) -> int | None:
    """["input", "quantities", "0", "changeFromQuantity"] → 0 (for field "quantities")."""
    path = [str(part) for part in path or []]
    after = path.index(field) + 1 if field in path else len(path)
    return int(path[after]) if after < len(path) and path[after].isdigit() else None


def refused(key: str, error: dict[str, Any]) -> BatchResult:
    code = error.get("code") or ""
    reason = "shop_stock_changed" if code in STALE_CODES else f"shopify_{code.lower()}" if code else "shopify_refused"
    return BatchResult(key, False, reason, error.get("message") or "")


def graphql_error(error: dict[str, Any], code: str) -> ShopError:
    message = error.get("message") or "GraphQL error"
    if code == "ACCESS_DENIED":
        return ShopAuthError(f"The app lacks an access scope: {message}", code="shop_auth")
    if code == "MAX_COST_EXCEEDED":
        return ShopPermanentError(message, code="shop_query_too_costly")
    return ShopPermanentError(message, code=f"shopify_{code.lower()}" if code else "shopify_graphql_error")


# ---------------------------------------------------------------- payload → normalized order


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def amount(value: Decimal) -> str:
    return format(value, "f")


def _money(money_set: dict[str, Any] | None) -> Decimal:
    return Decimal(str(((money_set or {}).get("shopMoney") or {}).get("amount") or "0"))


def _tax(raw: dict[str, Any]) -> Decimal:
    return sum((_money(line.get("priceSet")) for line in raw.get("taxLines") or []), Decimal(0))


def _status(raw: dict[str, Any]) -> str:
    if raw.get("cancelledAt"):
        return base.CANCELLED
    status = FINANCIAL_STATUSES.get(raw.get("displayFinancialStatus") or "", base.ON_HOLD)  # unknown: a person looks
    if status == base.PAID and raw.get("displayFulfillmentStatus") == "FULFILLED":
        return base.COMPLETED
    return status


def _line(raw: dict[str, Any], taxes_included: bool) -> OrderLine:
    quantity = Decimal(raw["quantity"])
    discount = sum((_money(a["allocatedAmountSet"]) for a in raw.get("discountAllocations") or []), Decimal(0))
    total, tax = _money(raw["originalUnitPriceSet"]) * quantity - discount, _tax(raw)
    return OrderLine(
        product_id=numeric_id((raw.get("product") or {}).get("id")),
        variant_id=numeric_id((raw.get("variant") or {}).get("id")),
        sku=raw.get("sku") or "",
        name=raw.get("name") or "",
        quantity=quantity,
        total=total if taxes_included else total + tax,
        tax=tax,
    )


def to_order(raw: dict[str, Any]) -> ShopOrder:
    """An Admin GraphQL order node as the flows read it (see the module docstring for the rules)."""
    taxes_included = bool(raw.get("taxesIncluded"))
    charges = []
    for shipping in (raw.get("shippingLines") or {}).get("nodes") or []:
        price, tax = _money(shipping.get("discountedPriceSet")), _tax(shipping)
        total = price if taxes_included else price + tax
        charges.append(Charge("shipping", shipping.get("title") or "shipping", total, tax))
    customer = raw.get("customer") or {}
    email = (raw.get("email") or ((customer.get("defaultEmailAddress") or {}).get("emailAddress")) or "").lower()
    attributes = {(a.get("key") or "").strip().lower(): a.get("value") or "" for a in raw.get("customAttributes") or []}
    financial, fulfillment = raw.get("displayFinancialStatus") or "", raw.get("displayFulfillmentStatus") or ""
    return ShopOrder(
        id=raw.get("legacyResourceId") or numeric_id(raw["id"]),
        number=raw.get("name") or "",
        status=_status(raw),
        platform_status="/".join(filter(None, ["CANCELLED" if raw.get("cancelledAt") else "", financial, fulfillment])),
        modified=datetime.fromisoformat(raw["updatedAt"]).astimezone(UTC),
        currency=raw.get("currencyCode") or "",
        total=_money(raw.get("totalPriceSet")),
        customer_id=customer.get("legacyResourceId") or numeric_id(customer.get("id")),
        email=email,
        billing=shopify_address(raw.get("billingAddress"), email),
        shipping=shopify_address(raw["shippingAddress"]) if raw.get("shippingAddress") else None,
        lines=tuple(_line(line, taxes_included) for line in raw["lineItems"]["nodes"]),
        charges=tuple(charges),
        refunded=financial in ("REFUNDED", "PARTIALLY_REFUNDED"),
        tax_id=next((value for key, value in attributes.items() if key in RUT_KEYS and value), ""),
        raw=raw,
    )
