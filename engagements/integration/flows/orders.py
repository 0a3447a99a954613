"""Order import, shop → Odoo: an idempotent upsert at Odoo's batch speed.

Per run: list the orders changed in the window (overlapping the cursor, upper bound pinned at the
start), or fetch the ones webhooks named. Then page by page (PAGE orders): lock them, look up in
four batched Odoo calls the markers (`client_order_ref`), the SKUs, the e-mails and the delivery
addresses the page needs, apply the status rules, follow the orders Odoo already has, and write the
new ones in a constant number of calls (flows/order_writes.py): partners, the orders with all their
lines in one create, their totals read back in one call, one confirm. About ten Odoo calls a page of
a hundred orders, whatever their lines.

The listing is the version imported: an order is not fetched again one by one. One that changes
after it was listed has a later modification time than the cursor, so the next run lists it again;
an older payload than the version already imported (a webhook run that went first) changes nothing.

An order already imported is followed, not re-created: cancelled in the shop → cancelled in Odoo
unless delivered or invoiced (then flagged); refunded or edited after import → flagged for review;
its Odoo order deleted → the binding is set aside as orphaned and flagged (re-created only if the
settings allow). Odoo having an order we did not bind (a crash between Odoo's commit and ours) →
adopted by its marker. One bad order never stops the others. A dry run reads but writes nothing, here
or in Odoo. The flow reads normalized `ShopOrder`s, so it is the same for every shop platform.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import datetime
from typing import Any

from django.db import connection, transaction

from engagements.integration.errors import IntegrationError, PermanentError
from engagements.integration.flows import markers
from engagements.integration.flows.order_writes import Context, Pending, buyer, mismatch, write_page
from engagements.integration.flows.runs import Report, flow_options, keep_shop_cursor, shop_window, stamp
from engagements.integration.gateway.base import OdooGateway, batches
from engagements.integration.models import Binding, Flow, SyncRun
from engagements.integration.shops import base as shop_base
from engagements.integration.shops.base import ShopClient, ShopOrder
from engagements.models import Engagement

DEFAULTS: dict[str, Any] = {
    "statuses": [shop_base.PAID, shop_base.COMPLETED],
    "marker_prefix": "",  # empty: the platform's (flows/markers.py)
    "shipping_product_id": None,
    "fee_product_id": None,
    "placeholder_product_id": None,
    "tax_included_id": None,
    "confirm": False,
    "initial_days": 30,
    "reconcile_days": 7,
    "overlap_minutes": 5,
    "company_id": None,  # the Odoo company whose currency orders are in, where companies differ
    "pricelists": {},  # shop currency -> Odoo pricelist id in that currency
    "recreate_deleted": False,
}
PAGE = 100  # orders written together (one create, one read, one confirm)
POSTPONED = (shop_base.PENDING, shop_base.ON_HOLD)  # not imported yet: imported once they move on
LEGACY_STATUSES = {"processing": shop_base.PAID, "on-hold": shop_base.ON_HOLD}  # WooCommerce words, stored before
ORDER_FIELDS = ["client_order_ref", "state", "amount_total", "name", "invoice_ids", "effective_date", "currency_id"]


def _options(engagement: Engagement) -> dict:
    options = flow_options(engagement, Flow.ORDERS, DEFAULTS)
    options["statuses"] = [LEGACY_STATUSES.get(status, status) for status in options["statuses"]]
    return options


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
    fetched from the shop; the cursor stays where it is)."""
    engagement = run.engagement
    markers.check_unshared(engagement, shop.platform)
    ctx = Context(engagement, odoo, shop, _options(engagement), run.dry_run, markers.prefix(engagement, shop.platform))
    if external_ids is not None:
        _import(ctx, _fetch_named(ctx, list(dict.fromkeys(external_ids))))
        return ctx.report
    # The nightly reconciliation re-lists only the recent days (any order missing from Odoo is imported).
    days = ctx.options["reconcile_days"] if run.trigger == SyncRun.Trigger.RECONCILE else None
    run.cursor_before, start, end = shop_window(engagement, Flow.ORDERS, ctx.options, now, full=full, days=days)
    run.window_start, run.window_end = stamp(start), stamp(end)
    listed = list(shop.iter_orders(modified_after=start, modified_before=end))
    _import(ctx, listed)
    # The cursor never passes an order that failed or may be half-done: the next run lists it again.
    keep_shop_cursor(run, min(ctx.unresolved) if ctx.unresolved else max((o.modified for o in listed), default=None))
    return ctx.report


def _fetch_named(ctx: Context, order_ids: list[str]) -> list[ShopOrder]:
    fetched = []
    for order_id in order_ids:
        try:
            fetched.append(ctx.shop.get_order(order_id))
        except PermanentError as error:  # deleted in the shop, or not an order of this shop
            ctx.report.add("failed", kind="sale_order", external_id=order_id, reason=error.code, message=str(error))
    ctx.report.counts["listed"] += len(order_ids) - len(fetched)
    return fetched


def _import(ctx: Context, orders: list[ShopOrder]) -> None:
    ctx.report.counts["listed"] += len(orders)
    for page in batches(orders, PAGE):
        with transaction.atomic():  # holds the page's order and buyer locks until its bindings are written
            _page(ctx, page)


def _page(ctx: Context, page: list[ShopOrder]) -> None:
    held = []
    for order in page:
        if _lock(ctx.engagement, order.id):
            held.append(order)
        else:  # another worker has it: list it again next time
            ctx.unresolved.append(order.modified)
            ctx.report.add("postponed", kind="sale_order", external_id=order.id, reason="locked")
    try:
        _prefetch(ctx, held)
    except IntegrationError as error:  # the look-ups failed: the whole page waits for the next run
        for order in held:
            ctx.failed(order, error)
        return
    new, adopted = [], []
    for order in held:
        try:
            with transaction.atomic():  # a savepoint: one order's trouble rolls back that order alone
                decided = _decide(ctx, order)
        except Exception as error:
            ctx.failed(order, error)
            continue
        if isinstance(decided, Pending):
            adopted.append(decided)
        elif decided is not None:
            new.append(decided)
    try:
        with transaction.atomic():  # a savepoint: what Odoo got is found by its markers next time
            write_page(ctx, new, adopted)
    except Exception as error:  # a fault in the page's writes: its orders not reported yet fail with it
        reported = {item.external_id for item in ctx.report.items}
        for order in [*new, *(item.order for item in adopted)]:
            if order.id not in reported:
                ctx.failed(order, error)


def _prefetch(ctx: Context, orders: list[ShopOrder]) -> None:
    """Four Odoo calls for the page (orders by marker, variants by SKU, partners, their addresses)
    and two queries here (the page's order and variant bindings), instead of some per order."""
    if not orders:
        return
    ctx.orders = {
        binding.external_id: binding
        for binding in Binding.objects.filter(
            engagement=ctx.engagement, kind="sale_order", external_id__in=[o.id for o in orders]
        )
    }
    items = {line.external_id for o in orders for line in o.lines}
    variants = Binding.objects.filter(engagement=ctx.engagement, kind="product_variant", external_id__in=items)
    ctx.variants = dict(variants.values_list("external_id", "odoo_id"))
    markers_ = [ctx.marker(o) for o in orders]
    rows = ctx.odoo.search_read("sale.order", [["client_order_ref", "in", markers_]], ORDER_FIELDS)
    ctx.existing = {row["client_order_ref"]: row for row in rows}
    skus = sorted({line.sku for o in orders for line in o.lines if line.sku} - ctx.skus.keys())
    if skus:
        for row in ctx.odoo.search_read("product.product", [["default_code", "in", skus]], ["default_code"]):
            if row["default_code"] in ctx.skus:
                ctx.duplicate_skus.add(row["default_code"])
            ctx.skus[row["default_code"]] = row["id"]
    ctx.partners.prefetch([buyer(ctx, o) for o in orders])  # two calls: partners, their addresses


def _lock(engagement: Engagement, order_id: str) -> bool:
    """A transaction-scoped advisory lock per order (PostgreSQL); SQLite runs one writer anyway."""
    if connection.vendor != "postgresql":
        return True
    key = int.from_bytes(hashlib.sha256(f"{engagement.pk}:order:{order_id}".encode()).digest()[:8], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [key])
        return cursor.fetchone()[0]


def unimported_units(engagement: Engagement, shop: ShopClient, now: datetime) -> Counter:
    """Units per shop product or variant in paid orders Odoo does not have yet. The shop already
    took them off its stock; pushing Odoo's quantity without them would sell them twice."""
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


# ---------------------------------------------------------------- one order


def _decide(ctx: Context, order: ShopOrder) -> ShopOrder | Pending | None:
    """Apply the rules to one order: report it here, or return it to create (the order itself) or to
    check and confirm (a Pending: Odoo has it without our binding)."""
    where: dict[str, Any] = {"kind": "sale_order", "external_id": order.id}
    if order.status in POSTPONED and order.status not in ctx.options["statuses"]:
        ctx.report.add("postponed", reason=f"status_{order.status}", **where)
        return None
    binding = ctx.orders.get(order.id)
    if binding and binding.external_updated_at and binding.external_updated_at >= order.modified:
        # Already seen at this version (or a newer one): an old payload changes nothing.
        ctx.report.add("unchanged", odoo_id=binding.odoo_id, **where)
        return None
    found = ctx.existing.get(ctx.marker(order))
    if binding and not found and not ctx.options["recreate_deleted"]:
        message = "Its sale order was deleted in Odoo; it is not re-created unless the flow settings allow it."
        ctx.report.orphaned(binding, kind="sale_order", dry_run=ctx.dry_run, message=message)
        return None
    if order.status not in ctx.options["statuses"]:
        if found:
            _closed_in_shop(ctx, order, found)
        else:
            ctx.report.add("skipped", reason=f"status_{order.status}", **where)
        return None
    if not found:
        return order
    ctx.bind(found["id"], order)
    if binding is None:  # adopted: finish what the interrupted run started
        return Pending(order, row=found, outcome="unchanged", reason="adopted")
    _follow(ctx, order, found)
    return None


def _follow(ctx: Context, order: ShopOrder, found: dict) -> None:
    """Odoo has it from an earlier run: a change in the shop after import is checked (a new total or a
    refund needs a person); it is never created twice."""
    problems = []
    if order.refunded:
        problems.append("refunded_in_shop")
    if mismatch(order, found["amount_total"]):
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
    where: dict[str, Any] = {"kind": "sale_order", "external_id": order.id, "odoo_id": found["id"]}
    if found["state"] == "cancel":
        ctx.report.add("unchanged", **where)
    elif status != shop_base.CANCELLED or found["invoice_ids"] or found["effective_date"]:
        reason = f"{status}_after_invoice" if found["invoice_ids"] else f"{status}_after_import"
        if found["effective_date"] and not found["invoice_ids"]:
            reason = f"{status}_after_delivery"
        message = f"{found['name']}: {order.platform_status} in the shop; check it in Odoo."
        ctx.report.add("review", reason=reason, message=message, **where)
    else:
        if not ctx.dry_run:
            ctx.odoo.call("sale.order", "action_cancel", [found["id"]], context={"disable_cancel_warning": True})
        ctx.report.add("updated", action="would_cancel" if ctx.dry_run else "cancel", message=found["name"], **where)
    ctx.bind(found["id"], order)
