"""Stock export, Odoo → shop.

Candidates are the bound variants touched by done stock moves since the
Odoo-side cursor, or every bound variant on a full pass (nightly, or the
first run). Quantities are read in batches with the configured field
(`free_qty` by default) under the mapped location's context, minus a safety
buffer, minus the units of paid shop orders not imported yet (when the
order flow is on), clamped at 0, and pushed only when they differ from the
last value pushed (kept on the binding), in WooCommerce batches of at most
100. Quantities are absolute, so a receipt or a return counts exactly once.
A binding whose Odoo product was deleted is marked orphaned and reported.

The Odoo-side cursor: Odoo stores `write_date` with microseconds but reads it to the second, so a
cursor taken from what it reads ("2026-11-23 08:49:05") stays behind the moves of that second, and
`write_date >` it would list them again on every run. The cursor keeps, with the second, which moves
of that second were seen (a digest of their ids): "2026-11-23 08:49:05|3f2a…". Moves of the cursor's
second are taken again only when that set changed (another move written in the same second): then
the whole second is, which costs a read of quantities that did not change, never a missed move.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from datetime import datetime

from engagements.integration.flows import orders
from engagements.integration.flows.pushed import remember_pushed
from engagements.integration.flows.runs import Report, flow_options
from engagements.integration.gateway.base import FIELD_MAPS, OdooGateway
from engagements.integration.models import Binding, Flow, FlowSettings, SyncCursor, SyncRun
from engagements.integration.shops.base import BatchResult, ShopClient, StockUpdate

DEFAULTS = {
    "location_id": 8,
    "stock_field": "free_qty",
    "buffer": 0,
    "full": False,
    "manage_stock": False,
    "correct_drift": True,  # the nightly reconciliation puts back what was changed in the shop
}
STOCK_FIELDS = ("free_qty", "qty_available", "virtual_available")
# Per-item refusals that a later attempt can get past (a busy shop, stock changed meanwhile); the
# others (stock not managed, variant gone) need a person and are not retried.
RETRYABLE_ITEM_ERRORS = {"shop_busy", "shop_timeout", "shop_stock_changed"}
HIGH_WATER_ROWS = 100  # the latest done moves read to set a full pass's cursor


def moves_cursor(moves: list[dict]) -> str:
    """PURE: the cursor after `moves` (rows with `id` and `write_date`): their latest second, and a
    digest of the ids written in it. "" without moves."""
    if not moves:
        return ""
    second = max(move["write_date"] for move in moves)
    ids = sorted(move["id"] for move in moves if move["write_date"] == second)
    return f"{second}|{hashlib.sha256(repr(ids).encode()).hexdigest()[:16]}"


def moves_since(moves: list[dict], cursor: str) -> list[dict]:
    """PURE: `moves` (those written at or after the cursor's second) without the cursor's second, when
    it still holds exactly the moves the cursor saw."""
    second = cursor.partition("|")[0]
    in_second = [move for move in moves if move["write_date"] == second]
    if in_second and moves_cursor(in_second) == cursor:
        return [move for move in moves if move["write_date"] != second]
    return moves


def _options(run: SyncRun) -> dict:
    options = flow_options(run.engagement, Flow.STOCK, DEFAULTS)
    if options["stock_field"] not in STOCK_FIELDS:
        options["stock_field"] = DEFAULTS["stock_field"]
    return options


def _candidates(run: SyncRun, odoo: OdooGateway, options: dict, full: bool) -> tuple[list[Binding], str]:
    bindings = Binding.objects.filter(engagement=run.engagement, kind="product_variant", state=Binding.State.ACTIVE)
    cursor = SyncCursor.objects.filter(engagement=run.engagement, flow=Flow.STOCK, source="odoo").first()
    run.cursor_before = cursor.value if cursor else ""
    if full or cursor is None:
        return list(bindings), ""
    listed = odoo.search_read(
        "stock.move",
        [["state", "=", "done"], ["write_date", ">=", cursor.value.partition("|")[0]]],
        ["product_id", "write_date"],
        order="write_date asc, id asc",
    )
    moves = moves_since(listed, cursor.value)
    touched = {move["product_id"][0] for move in moves}
    return list(bindings.filter(odoo_id__in=touched)), moves_cursor(moves)


def export_stock(
    *,
    run: SyncRun,
    odoo: OdooGateway,
    shop: ShopClient,
    now: datetime,
    full: bool = False,
    external_ids: list[str] | None = None,
) -> Report:
    """Push the stock of the variants moved since the cursor (or all of them: `full`), or only of
    `external_ids` (items coming back for a retry; the cursor stays where it is)."""
    options = _options(run)
    report = Report()
    full = full or options["full"]
    if not full and not SyncCursor.objects.filter(engagement=run.engagement, flow=Flow.STOCK, source="odoo").exists():
        full = True
    if external_ids is not None:
        active = Binding.objects.filter(engagement=run.engagement, kind="product_variant", state=Binding.State.ACTIVE)
        bindings, latest = list(active.filter(external_id__in=external_ids)), ""
    else:
        # On a full pass, take the high-water mark first, so a move during the run is seen next time.
        high_water = _latest_done_move(odoo) if full else ""
        bindings, latest = _candidates(run, odoo, options, full)
        latest = high_water or latest
    report.counts["listed"] = len(bindings)
    quantities, not_stocked = _quantities(odoo, bindings, options)
    in_transit = _orders_not_imported(run, shop, now) if bindings else Counter()
    targets = []
    for binding in bindings:
        qty = quantities.get(binding.odoo_id)
        if binding.odoo_id in not_stocked:  # a service or a combo: the shop must not track stock for it
            report.add(
                "skipped", kind="stock", external_id=binding.external_id, odoo_id=binding.odoo_id, reason="not_storable"
            )
            continue
        if qty is None:
            report.orphaned(binding, kind="stock", dry_run=run.dry_run)
            continue
        targets.append((binding, max(0, qty - in_transit[binding.external_id])))
    # The nightly reconciliation compares with what the shop has (someone may have edited it there).
    drift = _drift(shop, targets) if run.trigger == SyncRun.Trigger.RECONCILE else {}
    changes = []
    for binding, qty in targets:
        if binding.external_id in drift and not options["correct_drift"]:
            diff = {"shop": drift[binding.external_id], "odoo": qty}
            report.add("review", kind="stock", external_id=binding.external_id, reason="stock_drift_kept", diff=diff)
        elif binding.external_id not in drift and (binding.last_pushed_value or {}).get("qty") == qty:
            report.add("unchanged", kind="stock", external_id=binding.external_id, odoo_id=binding.odoo_id)
        else:
            changes.append((binding, qty))
    _push(run, shop, changes, report, manage_stock=bool(options["manage_stock"]), drift=drift)
    run.cursor_after = latest or run.cursor_before
    if latest and not run.dry_run:
        SyncCursor.objects.update_or_create(
            engagement=run.engagement, flow=Flow.STOCK, source="odoo", defaults={"value": latest}
        )
    return report


def _update(binding: Binding, qty: int) -> StockUpdate:
    parent = binding.external_parent_id
    return StockUpdate(parent or binding.external_id, binding.external_id if parent else "", qty)


def _send(
    shop: ShopClient,
    updates: list[StockUpdate],
    bindings: list[Binding],
    drift: dict[str, int],
    moved: dict[str, int],
    manage_stock: bool,
) -> list[BatchResult]:
    """Compare-and-set where the shop can (Shopify): each item is sent with the quantity we believe
    the shop has (the one we pushed last, or the one just read). When the shop's moved meanwhile (a
    sale there, an edit), it is read again and our quantity sent once more from what it is now:
    Odoo stays the reference, and units sold in the shop but not yet in Odoo were already taken off.
    A second refusal is a retryable failure."""
    pushed = {b.external_id: (b.last_pushed_value or {}).get("qty") for b in bindings}
    believed: dict[str, int] = {key: value for key, value in {**pushed, **drift}.items() if value is not None}
    results = {r.external_id: r for r in shop.set_stock(updates, manage_stock=manage_stock, change_from=believed)}
    stale = [u for u in updates if results[u.variant_id or u.product_id].error_code == "shop_stock_changed"]
    if stale:
        now_in_shop = {key: value for key, value in shop.get_stock(stale).items() if value is not None}
        moved.update(now_in_shop)
        for result in shop.set_stock(stale, manage_stock=manage_stock, change_from=now_in_shop):
            results[result.external_id] = result
    return [results[u.variant_id or u.product_id] for u in updates]


def _drift(shop: ShopClient, targets: list[tuple[Binding, int]]) -> dict[str, int]:
    """Items whose quantity in the shop is not Odoo's (an item the shop does not track is not drift)."""
    in_shop = shop.get_stock([_update(binding, qty) for binding, qty in targets]) if targets else {}
    return {
        b.external_id: found for b, qty in targets if (found := in_shop.get(b.external_id)) is not None and found != qty
    }


def _orders_not_imported(run: SyncRun, shop: ShopClient, now: datetime) -> Counter:
    enabled = FlowSettings.objects.filter(engagement=run.engagement, flow=Flow.ORDERS, enabled=True).exists()
    return orders.unimported_units(run.engagement, shop, now) if enabled else Counter()


def _latest_done_move(odoo: OdooGateway) -> str:
    """The cursor of the latest done moves. When all the rows read share one second, more of that
    second may exist: the second alone is kept, and the next run takes it once more."""
    rows = odoo.search_read(
        "stock.move", [["state", "=", "done"]], ["write_date"], limit=HIGH_WATER_ROWS, order="write_date desc, id desc"
    )
    if len(rows) == HIGH_WATER_ROWS and rows[0]["write_date"] == rows[-1]["write_date"]:
        return rows[0]["write_date"]
    return moves_cursor(rows)


def _quantities(odoo: OdooGateway, bindings: list[Binding], options: dict) -> tuple[dict[int, int], set[int]]:
    """The quantity to publish per Odoo variant, in one read with the storable flag of the Odoo
    version (16/17 `detailed_type`, 18 `is_storable`); the ids of services and combos apart.
    A variant deleted in Odoo is in neither."""
    if not bindings:
        return {}, set()
    field = options["stock_field"]
    [[flag, _op, storable]] = FIELD_MAPS.get(odoo.major, FIELD_MAPS[17])["storable_domain"]
    rows = odoo.read(
        "product.product", [b.odoo_id for b in bindings], [field, flag], context={"location": options["location_id"]}
    )
    not_stocked = {row["id"] for row in rows if row[flag] != storable}
    quantities = {row["id"]: max(0, math.floor(row[field]) - int(options["buffer"])) for row in rows}
    return quantities, not_stocked


def _push(
    run: SyncRun,
    shop: ShopClient,
    changes: list[tuple[Binding, int]],
    report: Report,
    *,
    manage_stock: bool,
    drift: dict[str, int],
) -> None:
    """Send the changes; an item corrected for drift says so, its "from" being the shop's quantity."""

    def before(binding: Binding) -> int | None:
        return drift.get(binding.external_id, (binding.last_pushed_value or {}).get("qty"))

    def why(binding: Binding) -> str:
        return "stock_drift" if binding.external_id in drift else ""

    if run.dry_run:
        for binding, qty in changes:
            report.would_update(binding, kind="stock", before=before(binding), after=qty, reason=why(binding))
        return
    by_external = {binding.external_id: (binding, qty) for binding, qty in changes}
    updates = [_update(binding, qty) for binding, qty in changes]
    moved: dict[str, int] = {}  # items whose shop quantity changed under us, re-read
    pushed: dict[int, dict] = {}
    for result in _send(shop, updates, [b for b, _ in changes], drift, moved, manage_stock) if updates else []:
        binding, qty = by_external[result.external_id]
        if result.ok:
            pushed[binding.pk] = {"qty": qty}
            was_moved = result.external_id in moved
            report.add(
                "updated",
                kind="stock",
                external_id=binding.external_id,
                odoo_id=binding.odoo_id,
                reason="shop_stock_moved" if was_moved else why(binding),
                diff={"from": moved[result.external_id] if was_moved else before(binding), "to": qty},
            )
        else:
            report.add(
                "failed",
                kind="stock",
                external_id=binding.external_id,
                odoo_id=binding.odoo_id,
                reason=result.error_code,
                message=result.message,
                retry=result.error_code in RETRYABLE_ITEM_ERRORS,
            )
    remember_pushed(pushed)  # one merge for the batch; the price flow's "price" stays
