"""Order import, shop → Odoo: the idempotent upsert of research §5.4.

Per run: list the orders changed in the window (overlapping the cursor,
upper bound pinned at the start), then look up in four batched Odoo calls
the markers (`client_order_ref`), the SKUs, the e-mails and the delivery
addresses those orders need. Per order: lock, re-fetch from the shop, apply
the status rules, adopt an order Odoo already has (a crash between Odoo's
commit and ours), upsert the partner and its delivery address, map the
lines, create the sale order with all its lines in one call, read its
totals back and compare, confirm if configured. At most four Odoo calls per
order, whatever its number of lines.

An order already imported is followed, not re-created: cancelled in the
shop → cancelled in Odoo unless delivered or invoiced (then flagged);
refunded or edited after import → flagged for review; its Odoo order
deleted → the binding is marked orphaned and flagged (re-created only if the
settings allow). One bad order never stops the others. A dry run reads but
writes nothing, here or in Odoo. The flow reads normalized `ShopOrder`s, so
it is the same for every shop platform.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from engagements.integration.flows import partners
from engagements.integration.flows.runs import Report, flow_options, keep_shop_cursor, shop_window, stamp
from engagements.integration.gateway.base import (
    AmbiguousWriteError,
    GatewayError,
    OdooGateway,
    PermanentError,
    field_map,
)
from engagements.integration.models import Binding, Flow, SyncRun
from engagements.integration.shops import base as shop_base
from engagements.integration.shops.base import ShopClient, ShopOrder
from engagements.models import Engagement

logger = logging.getLogger(__name__)
DEFAULTS = {
    "statuses": [shop_base.PAID, shop_base.COMPLETED],
    "marker_prefix": "",  # empty: MARKER_PREFIXES[platform]
    "shipping_product_id": None,
    "fee_product_id": None,
    "placeholder_product_id": None,
    "tax_included_id": None,
    "confirm": False,
    "initial_days": 30,
    "reconcile_days": 7,
    "overlap_minutes": 5,
    "currency": "CLP",  # the Odoo company's currency
    "pricelists": {},  # other shop currency -> Odoo pricelist id in that currency
    "recreate_deleted": False,
}
POSTPONED = (shop_base.PENDING, shop_base.ON_HOLD)  # not imported yet: imported once they move on
LEGACY_STATUSES = {"processing": shop_base.PAID, "on-hold": shop_base.ON_HOLD}  # WooCommerce words, stored before
ZERO_DECIMAL_CURRENCIES = {"CLP", "JPY", "KRW", "PYG"}
ORDER_FIELDS = ["client_order_ref", "state", "amount_total", "name", "invoice_ids", "effective_date"]
MARKER_PREFIXES = {"woocommerce": "WOO-", "shopify": "SHOPIFY-", "jumpseller": "JS-"}  # client_order_ref


def _options(engagement: Engagement) -> dict:
    options = flow_options(engagement, Flow.ORDERS, DEFAULTS)
    options["statuses"] = [LEGACY_STATUSES.get(status, status) for status in options["statuses"]]
    return options


@dataclass
class Context:
    engagement: Engagement
    odoo: OdooGateway
    shop: ShopClient
    options: dict
    dry_run: bool
    report: Report = field(default_factory=Report)
    existing: dict[str, dict] = field(default_factory=dict)  # marker -> sale.order row
    skus: dict[str, int] = field(default_factory=dict)  # SKU -> product.product id
    duplicate_skus: set[str] = field(default_factory=set)  # SKUs on several Odoo variants: never guessed
    unresolved: list[datetime] = field(default_factory=list)  # changes of orders to list again
    partners: partners.Partners | None = None  # the buyers' partners, looked up for the whole run

    def __post_init__(self) -> None:
        self.partners = partners.Partners(engagement=self.engagement, odoo=self.odoo, dry_run=self.dry_run)

    def bound(self, kind: str, external_id: str) -> Binding | None:
        return Binding.objects.filter(engagement=self.engagement, kind=kind, external_id=external_id).first()

    def bind(self, kind: str, odoo_model: str, odoo_id: int, external_id: str, **extra) -> None:
        if self.dry_run:
            return
        taken = Binding.objects.filter(engagement=self.engagement, kind=kind, odoo_id=odoo_id).exclude(
            external_id=external_id
        )
        if taken.exists():
            return  # one binding per Odoo record: a second shop identity finds it by e-mail again
        Binding.objects.update_or_create(
            engagement=self.engagement,
            kind=kind,
            external_id=external_id,
            defaults={"odoo_model": odoo_model, "odoo_id": odoo_id, "last_synced_at": timezone.now(), **extra},
        )


# ---------------------------------------------------------------- the run


def import_orders(
    *,
    run: SyncRun,
    odoo: OdooGateway,
    shop: ShopClient,
    now: datetime,
    full: bool = False,
    external_ids: list[str] | None = None,
) -> Report:
    """The orders changed in the window, or only `external_ids` (named by webhooks: hints, each
    re-fetched from the shop; the cursor stays where it is)."""
    engagement = run.engagement
    ctx = Context(engagement, odoo, shop, _options(engagement), run.dry_run)
    if external_ids is not None:
        return _import_named(ctx, list(dict.fromkeys(external_ids)))
    # The nightly reconciliation re-lists only the recent days (any order missing from Odoo is imported).
    days = ctx.options["reconcile_days"] if run.trigger == SyncRun.Trigger.RECONCILE else None
    run.cursor_before, start, end = shop_window(engagement, Flow.ORDERS, ctx.options, now, full=full, days=days)
    run.window_start, run.window_end = stamp(start), stamp(end)
    listed = list(shop.iter_orders(modified_after=start, modified_before=end))
    ctx.report.counts["listed"] = len(listed)
    if listed:
        _prefetch(ctx, listed)
    for order in listed:
        _process_safely(ctx, order, ctx.shop.get_order)
    # The cursor never passes an order that failed or may be half-done: the next run lists it again.
    keep_shop_cursor(run, min(ctx.unresolved) if ctx.unresolved else max((o.modified for o in listed), default=None))
    return ctx.report


def _import_named(ctx: Context, order_ids: list[str]) -> Report:
    ctx.report.counts["listed"] = len(order_ids)
    fetched = []
    for order_id in order_ids:
        try:
            fetched.append(ctx.shop.get_order(order_id))
        except PermanentError as error:  # deleted in the shop, or not an order of this shop
            ctx.report.add("failed", kind="sale_order", external_id=order_id, reason=error.code, message=str(error))
    if fetched:
        _prefetch(ctx, fetched)
    for order in fetched:
        _process_safely(ctx, order, lambda _id, order=order: order)
    return ctx.report


def unimported_units(engagement: Engagement, shop: ShopClient, now: datetime) -> Counter:
    """Units per shop product or variant in paid orders Odoo does not have yet. The shop already
    took them off its stock; pushing Odoo's quantity without them would sell them twice (case E26)."""
    _, start, end = shop_window(engagement, Flow.ORDERS, _options(engagement), now)
    orders = [
        o for o in shop.iter_orders(modified_after=start, modified_before=end) if o.status in shop_base.STOCK_TAKEN
    ]
    imported = set(
        Binding.objects.filter(
            engagement=engagement, kind="sale_order", external_id__in=[o.id for o in orders]
        ).values_list("external_id", flat=True)
    )
    units: Counter = Counter()
    for order in orders:
        if order.id not in imported:
            for line in order.lines:
                units[line.external_id] += int(line.quantity)
    return units


def _prefetch(ctx: Context, orders: list[ShopOrder]) -> None:
    """Four Odoo calls for the whole run instead of four per order."""
    markers = [_marker(ctx, o) for o in orders]
    rows = ctx.odoo.search_read("sale.order", [["client_order_ref", "in", markers]], ORDER_FIELDS)
    ctx.existing = {row["client_order_ref"]: row for row in rows}
    skus = sorted({line.sku for o in orders for line in o.lines if line.sku})
    if skus:
        rows = ctx.odoo.search_read("product.product", [["default_code", "in", skus]], ["default_code"])
        for row in rows:
            if row["default_code"] in ctx.skus:
                ctx.duplicate_skus.add(row["default_code"])
            ctx.skus[row["default_code"]] = row["id"]
    ctx.partners.prefetch([_buyer(ctx, o) for o in orders])  # two calls: partners, their addresses


def _marker(ctx: Context, order: ShopOrder) -> str:
    prefix = ctx.options["marker_prefix"] or MARKER_PREFIXES[ctx.shop.platform]
    return f"{prefix}{order.number.lstrip('#')}"


def _process_safely(ctx: Context, listed: ShopOrder, fetch: Callable[[str], ShopOrder]) -> None:
    """Lock the order, `fetch` its current version (inside the lock), process it; whatever happens is reported."""
    try:
        with transaction.atomic():
            if not _lock(ctx.engagement, listed.id):  # another worker has it: list it again next time
                ctx.unresolved.append(listed.modified)
                ctx.report.add("postponed", kind="sale_order", external_id=listed.id, reason="locked")
                return
            _process(ctx, fetch(listed.id))
    except AmbiguousWriteError as error:  # e.g. the partner create: the next run finds it by e-mail
        ctx.unresolved.append(listed.modified)
        ctx.report.add(
            "ambiguous",
            kind="sale_order",
            external_id=listed.id,
            reason=error.code,
            ambiguous=True,
            message=str(error),
            retry=True,
        )
    except PermanentError as error:  # retrying changes nothing: report it, let the cursor move on
        ctx.report.add("failed", kind="sale_order", external_id=listed.id, reason=error.code, message=str(error))
    except GatewayError as error:
        ctx.unresolved.append(listed.modified)
        ctx.report.add(
            "failed", kind="sale_order", external_id=listed.id, reason=error.code, message=str(error), retry=True
        )
    except Exception as error:  # a malformed order must not stop the others (the run report shows it)
        logger.exception("order %s of engagement %s failed", listed.id, ctx.engagement.code)
        ctx.report.add(
            "failed", kind="sale_order", external_id=listed.id, reason="unexpected_error", message=type(error).__name__
        )


def _lock(engagement: Engagement, order_id: str) -> bool:
    """A transaction-scoped advisory lock per order (PostgreSQL); SQLite runs one writer anyway."""
    if connection.vendor != "postgresql":
        return True
    key = int.from_bytes(hashlib.sha256(f"{engagement.pk}:order:{order_id}".encode()).digest()[:8], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [key])
        return cursor.fetchone()[0]


# ---------------------------------------------------------------- one order


def _process(ctx: Context, order: ShopOrder) -> None:
    if order.status in POSTPONED and order.status not in ctx.options["statuses"]:
        ctx.report.add("postponed", kind="sale_order", external_id=order.id, reason=f"status_{order.status}")
        return
    binding = ctx.bound("sale_order", order.id)
    if binding and binding.external_updated_at and binding.external_updated_at >= order.modified:
        # Already seen at this version (or a newer one): an old payload changes nothing.
        ctx.report.add("unchanged", kind="sale_order", external_id=order.id, odoo_id=binding.odoo_id)
        return
    marker = _marker(ctx, order)
    found = ctx.existing.get(marker)
    if binding and not found and not ctx.options["recreate_deleted"]:
        message = "Its sale order was deleted in Odoo; it is not re-created unless the flow settings allow it."
        ctx.report.orphaned(binding, kind="sale_order", dry_run=ctx.dry_run, message=message)
        return
    if order.status not in ctx.options["statuses"]:
        if found:
            _closed_in_shop(ctx, order, found)
        else:
            ctx.report.add("skipped", kind="sale_order", external_id=order.id, reason=f"status_{order.status}")
        return
    if found:
        _follow(ctx, order, found, binding)
        return
    _create(ctx, order, marker)


def _follow(ctx: Context, order: ShopOrder, found: dict, binding: Binding | None) -> None:
    """Odoo already has it (an earlier run, or a crash before our commit): never create it twice.
    A change in the shop after import is checked: a new total or a refund needs a person."""
    ctx.bind("sale_order", "sale.order", found["id"], order.id, external_updated_at=order.modified)
    if binding is None:  # adopted: finish what the interrupted run started
        _check_and_confirm(ctx, order, found, [], outcome="unchanged", reason="adopted")
        return
    problems = []
    if order.refunded:
        problems.append("refunded_in_shop")
    if _mismatch(order, found["amount_total"]):
        problems.append("edited_in_shop_after_import")
    ctx.report.add(
        "review" if problems else "unchanged",
        kind="sale_order",
        external_id=order.id,
        odoo_id=found["id"],
        reason=",".join(problems) or "changed_in_shop",
        message=found.get("name", ""),
        diff={"odoo_total": found["amount_total"], "shop_total": str(order.total)} if problems else None,
    )


def _closed_in_shop(ctx: Context, order: ShopOrder, found: dict) -> None:
    """Cancelled (or refunded, failed) after import: cancel in Odoo only while nothing left the warehouse
    and nothing was invoiced; otherwise a person decides."""
    status = order.status
    if found["state"] == "cancel":
        ctx.report.add("unchanged", kind="sale_order", external_id=order.id, odoo_id=found["id"])
    elif status != shop_base.CANCELLED or found["invoice_ids"] or found["effective_date"]:
        reason = f"{status}_after_invoice" if found["invoice_ids"] else f"{status}_after_import"
        if found["effective_date"] and not found["invoice_ids"]:
            reason = f"{status}_after_delivery"
        ctx.report.add(
            "review",
            kind="sale_order",
            external_id=order.id,
            odoo_id=found["id"],
            reason=reason,
            message=f"{found['name']}: {order.platform_status} in the shop; check it in Odoo.",
        )
    else:
        if not ctx.dry_run:
            ctx.odoo.call("sale.order", "action_cancel", [found["id"]], context={"disable_cancel_warning": True})
        ctx.report.add(
            "updated",
            kind="sale_order",
            external_id=order.id,
            odoo_id=found["id"],
            action="would_cancel" if ctx.dry_run else "cancel",
            message=found["name"],
        )
    ctx.bind("sale_order", "sale.order", found["id"], order.id, external_updated_at=order.modified)


def _create(ctx: Context, order: ShopOrder, marker: str) -> None:
    reviews: list[str] = []
    pricelist = _pricelist(ctx, order)
    if pricelist is False:
        ctx.report.add(
            "review",
            kind="sale_order",
            external_id=order.id,
            reason="currency_not_mapped",
            message=f"The order is in {order.currency}: map an Odoo pricelist in that currency, "
            "then the order is imported the next time it changes in the shop.",
        )
        return
    partner_id, shipping_id = _partner(ctx, order)
    lines = _lines(ctx, order, reviews)
    values = {
        "partner_id": partner_id,
        "client_order_ref": marker,
        "origin": f"{shop_base.PLATFORM_LABELS.get(ctx.shop.platform, ctx.shop.platform)} #{order.number.lstrip('#')}",
        "order_line": [[0, 0, line] for line in lines],
    }
    if shipping_id:
        values["partner_shipping_id"] = shipping_id
    if pricelist:
        values["pricelist_id"] = pricelist
    if ctx.dry_run:
        ctx.report.add(
            "review" if reviews else "created",
            kind="sale_order",
            external_id=order.id,
            action="would_create",
            reason=",".join(reviews),
            diff={"lines": len(lines), "total": str(order.total)},
        )
        return
    try:
        order_id = ctx.odoo.create("sale.order", [values])[0]
    except AmbiguousWriteError as error:
        ctx.unresolved.append(order.modified)
        ctx.report.add(
            "ambiguous",
            kind="sale_order",
            external_id=order.id,
            reason=error.code,
            ambiguous=True,
            message="Odoo may have created it; the next run adopts it by its marker.",
        )
        return
    ctx.existing[marker] = {"id": order_id}
    ctx.bind("sale_order", "sale.order", order_id, order.id, external_updated_at=order.modified)
    row = ctx.odoo.read("sale.order", [order_id], ["amount_total", "state", "name"])[0]
    _check_and_confirm(ctx, order, row, reviews, outcome="created", reason="")


def _pricelist(ctx: Context, order: ShopOrder) -> int | bool | None:
    """None: the company currency; an id: the mapped pricelist; False: a currency nobody mapped."""
    if order.currency == ctx.options["currency"]:
        return None
    return ctx.options["pricelists"].get(order.currency) or False


def _mismatch(order: ShopOrder, odoo_total) -> bool:
    tolerance = Decimal(1) if order.currency in ZERO_DECIMAL_CURRENCIES else Decimal("0.01")
    return abs(Decimal(str(odoo_total)) - order.total) > tolerance


def _check_and_confirm(
    ctx: Context, order: ShopOrder, row: dict, reviews: list[str], *, outcome: str, reason: str
) -> None:
    """Totals compared; a mismatch keeps the order in draft for review. Confirming is a separate,
    idempotent step: only a draft is confirmed, so a re-run never confirms twice."""
    if _mismatch(order, row["amount_total"]):
        reviews.append("total_mismatch")
    if reviews:
        ctx.report.add(
            "review",
            kind="sale_order",
            external_id=order.id,
            odoo_id=row["id"],
            action="create" if outcome == "created" else "adopt",
            reason=",".join(([reason] if reason else []) + reviews),
            message=f"{row['name']}: kept in draft for review",
            diff={"odoo_total": row["amount_total"], "shop_total": str(order.total)},
        )
        return
    if ctx.options["confirm"] and row["state"] == "draft" and not ctx.dry_run:
        ctx.odoo.call("sale.order", "action_confirm", [row["id"]])
    ctx.report.add(
        outcome, kind="sale_order", external_id=order.id, odoo_id=row["id"], reason=reason, message=row["name"]
    )


# ---------------------------------------------------------------- partner and lines


def _partner_key(order: ShopOrder) -> str:
    """Registered customers by their shop id; guests by e-mail (or the order): a stable binding."""
    if order.customer_id:
        return f"customer:{order.customer_id}"
    return f"guest:{order.email or order.id}"


def _buyer(ctx: Context, order: ShopOrder) -> partners.Buyer:
    return partners.Buyer(
        key=_partner_key(order),
        name=order.billing.name,
        email=order.email,
        phone=order.billing.phone,
        company=order.billing.company,
        tax_id=order.tax_id,
        billing=order.billing,
        delivery=order.shipping,
        marker=partners.marker(MARKER_PREFIXES[ctx.shop.platform], order.customer_id),
    )


def _partner(ctx: Context, order: ShopOrder) -> tuple[int | None, int | None]:
    """(customer, delivery address or None for "the customer's own"), by the shared partner upsert
    (flows/partners.py), which an order never uses to change a partner Odoo has. A dry run gives
    None for a partner it would create. An ambiguous match fails the order, never guessed."""
    buyer = _buyer(ctx, order)
    if not partners.lock(ctx.engagement, buyer.key):
        raise partners.PartnerBusy("Another run is writing this customer's partner.")
    plan = ctx.partners.plan(buyer, update=False)
    if plan.blocked:
        raise PermanentError(partners.BLOCKED_MESSAGES.get(plan.blocked, plan.blocked), code=plan.blocked)
    ctx.partners.apply([plan])
    if plan.error is not None:
        raise plan.error
    ctx.partners.bind(plan, remember=False)
    return plan.partner_id, plan.delivery_id


def _taxes(ctx: Context, tax: Decimal) -> dict:
    tax_id = ctx.options["tax_included_id"]
    # The line's taxes field is `tax_id` up to Odoo 18 and `tax_ids` from 19 (research §4.4).
    return {field_map(ctx.odoo.major)["line_taxes"]: [[6, 0, [tax_id] if tax_id and tax != 0 else []]]}


def _line(product_id: int, name: str, quantity: Decimal, gross: Decimal, taxes: dict) -> dict:
    return {
        "product_id": product_id,
        "name": name,
        "product_uom_qty": float(quantity),
        "price_unit": float(gross / quantity),
        **taxes,
    }


def _lines(ctx: Context, order: ShopOrder, reviews: list[str]) -> list[dict]:
    """Each line to its variant (the shop's variation, not its parent) by binding, then by SKU, else the
    placeholder, flagged; a SKU on several Odoo variants is never guessed. Shipping and fees go to their
    products. Prices are tax-included, as the shop charged them (coupons are already in the line totals),
    and always explicit, so Odoo's pricelist does not replace them."""
    lines = []
    placeholder = ctx.options["placeholder_product_id"]
    for item in order.lines:
        binding = ctx.bound("product_variant", item.external_id)
        sku = item.sku
        product_id = binding.odoo_id if binding else (None if sku in ctx.duplicate_skus else ctx.skus.get(sku))
        if product_id is None:
            product_id = placeholder
            if not (sku or item.external_id):  # a custom item, a tip, a gift card
                reviews.append(f"no_product:{item.name}")
            else:
                code = "duplicate_sku" if sku in ctx.duplicate_skus else "unknown_sku"
                reviews.append(f"{code}:{sku or item.external_id}")
        lines.append(_line(product_id, item.name, item.quantity, item.total, _taxes(ctx, item.tax)))
    for charge in order.charges:
        option = f"{charge.kind}_product_id"
        if not ctx.options[option]:
            reviews.append(f"no_{charge.kind}_product")
        product_id = ctx.options[option] or placeholder
        lines.append(_line(product_id, charge.name, Decimal(1), charge.total, _taxes(ctx, charge.tax)))
    return lines
