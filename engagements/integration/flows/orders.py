"""Order import, shop → Odoo: the idempotent upsert of research §5.4.

Per run: list the orders changed in the window (overlapping the cursor,
upper bound pinned at the start), then look up in three batched Odoo calls
the markers (`client_order_ref`), the SKUs and the e-mails those orders need.
Per order: lock, re-fetch from the shop, apply the status rules, adopt an
order Odoo already has (a crash between Odoo's commit and ours), upsert the
partner, map the lines, create the sale order with all its lines in one
call, read its totals back and compare, confirm if configured. At most four
Odoo calls per order, whatever its number of lines. One bad order never
stops the others. A dry run reads but writes nothing, here or in Odoo.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from engagements.integration.flows.runs import Report
from engagements.integration.gateway.base import AmbiguousWriteError, GatewayError, OdooGateway, PermanentError
from engagements.integration.models import Binding, Flow, FlowSettings, SyncCursor, SyncRun
from engagements.integration.shops.woocommerce import WooCommerceClient
from engagements.models import Engagement
from portal.rut import normalize_rut

logger = logging.getLogger(__name__)
DEFAULTS = {
    "statuses": ["processing", "completed"],
    "postpone": ["pending", "on-hold"],
    "marker_prefix": "WOO-",
    "shipping_product_id": None,
    "fee_product_id": None,
    "placeholder_product_id": None,
    "tax_included_id": None,
    "confirm": False,
    "initial_days": 30,
    "overlap_minutes": 5,
}
TOLERANCE = {0: Decimal(1), 2: Decimal("0.01")}
WOO_TIME = "%Y-%m-%dT%H:%M:%S"


def _options(engagement: Engagement) -> dict:
    stored = FlowSettings.objects.filter(engagement=engagement, flow=Flow.ORDERS).values_list("options", flat=True)
    return {**DEFAULTS, **(stored.first() or {})}


@dataclass
class Context:
    engagement: Engagement
    odoo: OdooGateway
    shop: WooCommerceClient
    options: dict
    dry_run: bool
    report: Report = field(default_factory=Report)
    existing: dict[str, dict] = field(default_factory=dict)  # marker -> sale.order row
    skus: dict[str, int] = field(default_factory=dict)  # SKU -> product.product id
    emails: dict[str, int] = field(default_factory=dict)  # e-mail -> res.partner id
    unresolved: list[str] = field(default_factory=list)  # modified times of orders to list again

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


def import_orders(*, run: SyncRun, odoo: OdooGateway, shop: WooCommerceClient, now: datetime) -> Report:
    engagement = run.engagement
    ctx = Context(engagement, odoo, shop, _options(engagement), run.dry_run)
    cursor = SyncCursor.objects.filter(engagement=engagement, flow=Flow.ORDERS, source="shop").first()
    start = datetime.fromisoformat(cursor.value) if cursor else now - timedelta(days=ctx.options["initial_days"])
    window_start = start - timedelta(minutes=ctx.options["overlap_minutes"])
    run.cursor_before = cursor.value if cursor else ""
    run.window_start, run.window_end = window_start.strftime(WOO_TIME), now.strftime(WOO_TIME)
    listed = list(shop.iter_orders(modified_after=run.window_start, modified_before=run.window_end))
    ctx.report.counts["listed"] = len(listed)
    if listed:
        _prefetch(ctx, listed)
    for order in listed:
        _process_safely(ctx, order)
    # The cursor never passes an order that failed or may be half-done: the next run lists it again.
    latest = min(ctx.unresolved) if ctx.unresolved else max((o["date_modified_gmt"] for o in listed), default=None)
    run.cursor_after = latest or run.cursor_before
    if latest and not run.dry_run:
        SyncCursor.objects.update_or_create(
            engagement=engagement, flow=Flow.ORDERS, source="shop", defaults={"value": latest}
        )
    return ctx.report


def _prefetch(ctx: Context, orders: list[dict]) -> None:
    """Three Odoo calls for the whole run instead of three per order."""
    prefix = ctx.options["marker_prefix"]
    markers = [f"{prefix}{o['number']}" for o in orders]
    rows = ctx.odoo.search_read(
        "sale.order", [["client_order_ref", "in", markers]], ["client_order_ref", "state", "amount_total", "name"]
    )
    ctx.existing = {row["client_order_ref"]: row for row in rows}
    skus = sorted({line["sku"] for o in orders for line in o["line_items"] if line.get("sku")})
    if skus:
        rows = ctx.odoo.search_read("product.product", [["default_code", "in", skus]], ["default_code"])
        ctx.skus = {row["default_code"]: row["id"] for row in rows}
    emails = sorted({o["billing"]["email"].lower() for o in orders if o["billing"].get("email")})
    if emails:
        domain = ["|"] * (len(emails) - 1) + [["email", "=ilike", email] for email in emails]
        rows = ctx.odoo.search_read("res.partner", domain, ["email", "parent_id"], order="id asc")
        for row in rows:
            ctx.emails.setdefault((row["email"] or "").lower(), row["id"])


def _process_safely(ctx: Context, listed: dict) -> None:
    try:
        with transaction.atomic():
            if not _lock(ctx.engagement, listed["id"]):
                ctx.report.add("postponed", kind="sale_order", external_id=listed["id"], reason="locked")
                return
            _process(ctx, ctx.shop.get_order(listed["id"]))
    except AmbiguousWriteError as error:  # e.g. the partner create: the next run finds it by e-mail
        ctx.unresolved.append(listed["date_modified_gmt"])
        ctx.report.add(
            "ambiguous",
            kind="sale_order",
            external_id=listed["id"],
            reason=error.code,
            ambiguous=True,
            message=str(error),
        )
    except PermanentError as error:  # retrying changes nothing: report it, let the cursor move on
        ctx.report.add("failed", kind="sale_order", external_id=listed["id"], reason=error.code, message=str(error))
    except GatewayError as error:
        ctx.unresolved.append(listed["date_modified_gmt"])
        ctx.report.add("failed", kind="sale_order", external_id=listed["id"], reason=error.code, message=str(error))
    except Exception as error:  # a malformed order must not stop the others (the run report shows it)
        logger.exception("order %s of engagement %s failed", listed.get("id"), ctx.engagement.code)
        ctx.report.add(
            "failed",
            kind="sale_order",
            external_id=listed.get("id", ""),
            reason="unexpected_error",
            message=type(error).__name__,
        )


def _lock(engagement: Engagement, order_id: int) -> bool:
    """A transaction-scoped advisory lock per order (PostgreSQL); SQLite runs one writer anyway."""
    if connection.vendor != "postgresql":
        return True
    key = int.from_bytes(hashlib.sha256(f"{engagement.pk}:order:{order_id}".encode()).digest()[:8], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [key])
        return cursor.fetchone()[0]


# ---------------------------------------------------------------- one order


def _process(ctx: Context, order: dict) -> None:
    external_id, status = str(order["id"]), order["status"]
    if status in ctx.options["postpone"]:
        ctx.report.add("postponed", kind="sale_order", external_id=external_id, reason=f"status_{status}")
        return
    if status not in ctx.options["statuses"]:
        ctx.report.add("skipped", kind="sale_order", external_id=external_id, reason=f"status_{status}")
        return
    modified = datetime.strptime(order["date_modified_gmt"], WOO_TIME).replace(tzinfo=UTC)
    binding = ctx.bound("sale_order", external_id)
    if binding and binding.external_updated_at and binding.external_updated_at >= modified:
        ctx.report.add("unchanged", kind="sale_order", external_id=external_id, odoo_id=binding.odoo_id)
        return
    marker = f"{ctx.options['marker_prefix']}{order['number']}"
    found = ctx.existing.get(marker)
    if found:
        _adopt(ctx, order, found, binding, modified)
        return
    _create(ctx, order, marker, modified)


def _adopt(ctx: Context, order: dict, found: dict, binding: Binding | None, modified: datetime) -> None:
    """Odoo already has it (an earlier run, or a crash before our commit): never create it twice."""
    ctx.bind("sale_order", "sale.order", found["id"], str(order["id"]), external_updated_at=modified)
    reason = "adopted" if binding is None else "changed_in_shop"
    ctx.report.add(
        "unchanged",
        kind="sale_order",
        external_id=order["id"],
        odoo_id=found["id"],
        reason=reason,
        message=found.get("name", ""),
    )


def _create(ctx: Context, order: dict, marker: str, modified: datetime) -> None:
    partner_id = _partner(ctx, order)
    lines, reviews = _lines(ctx, order)
    values = {
        "partner_id": partner_id,
        "client_order_ref": marker,
        "origin": f"WooCommerce #{order['number']}",
        "order_line": [[0, 0, line] for line in lines],
    }
    if ctx.dry_run:
        ctx.report.add(
            "created",
            kind="sale_order",
            external_id=order["id"],
            action="would_create",
            reason=",".join(reviews),
            diff={"lines": len(lines), "total": order["total"]},
        )
        return
    try:
        order_id = ctx.odoo.create("sale.order", [values])[0]
    except AmbiguousWriteError as error:
        ctx.unresolved.append(order["date_modified_gmt"])
        ctx.report.add(
            "ambiguous",
            kind="sale_order",
            external_id=order["id"],
            reason=error.code,
            ambiguous=True,
            message="Odoo may have created it; the next run adopts it by its marker.",
        )
        return
    ctx.existing[marker] = {"id": order_id}
    ctx.bind("sale_order", "sale.order", order_id, str(order["id"]), external_updated_at=modified)
    _check_and_confirm(ctx, order, order_id, reviews)


def _check_and_confirm(ctx: Context, order: dict, order_id: int, reviews: list[str]) -> None:
    row = ctx.odoo.read("sale.order", [order_id], ["amount_total", "state", "name"])[0]
    decimals = 0 if order["currency"] == "CLP" else 2
    difference = abs(Decimal(str(row["amount_total"])) - Decimal(order["total"]))
    if difference > TOLERANCE[decimals]:
        reviews.append("total_mismatch")
    if reviews:
        ctx.report.add(
            "review",
            kind="sale_order",
            external_id=order["id"],
            odoo_id=order_id,
            action="create",
            reason=",".join(reviews),
            message=f"{row['name']}: kept in draft for review",
            diff={"odoo_total": row["amount_total"], "shop_total": order["total"]},
        )
        return
    if ctx.options["confirm"] and row["state"] == "draft":
        ctx.odoo.call("sale.order", "action_confirm", [order_id])
    ctx.report.add("created", kind="sale_order", external_id=order["id"], odoo_id=order_id, message=row["name"])


# ---------------------------------------------------------------- partner and lines


def _partner(ctx: Context, order: dict) -> int | None:
    billing = order["billing"]
    email = (billing.get("email") or "").lower()
    key = f"customer:{order['customer_id']}" if order.get("customer_id") else f"guest:{email or order['id']}"
    binding = ctx.bound("partner", key)
    if binding:
        return binding.odoo_id
    partner_id = ctx.emails.get(email) if email else None
    if partner_id is None:
        if ctx.dry_run:
            return None
        partner_id = ctx.odoo.create("res.partner", [_partner_values(order)])[0]
        if email:
            ctx.emails[email] = partner_id
    ctx.bind("partner", "res.partner", partner_id, key)
    return partner_id


def _partner_values(order: dict) -> dict:
    billing = order["billing"]
    name = f"{billing.get('first_name', '')} {billing.get('last_name', '')}".strip() or billing.get("email")
    values = {
        "name": billing.get("company") or name,
        "email": billing.get("email") or False,
        "phone": billing.get("phone") or False,
        "street": billing.get("address_1") or False,
        "city": billing.get("city") or False,
    }
    rut = next((m["value"] for m in order.get("meta_data", []) if m.get("key") == "_billing_rut"), None)
    if rut:
        try:
            compact = normalize_rut(rut)
        except ValidationError:
            return values  # an invalid RUT is left out, not fatal
        values["vat"] = f"{compact[:-1]}-{compact[-1]}"
    return values


def _taxes(ctx: Context, tax_amount: str) -> list:
    tax_id = ctx.options["tax_included_id"]
    return [[6, 0, [tax_id] if tax_id and Decimal(tax_amount or "0") != 0 else []]]


def _line(product_id: int, name: str, quantity: Decimal, gross: Decimal, taxes: list) -> dict:
    return {
        "product_id": product_id,
        "name": name,
        "product_uom_qty": float(quantity),
        "price_unit": float(gross / quantity),
        "tax_id": taxes,
    }


def _lines(ctx: Context, order: dict) -> tuple[list[dict], list[str]]:
    """Products by binding, then SKU, then the placeholder (flagged); shipping and fees to their products.
    Prices are tax-included, as the shop charged them (coupons are already in the line totals)."""
    lines, reviews = [], []
    placeholder = ctx.options["placeholder_product_id"]
    for item in order["line_items"]:
        external = str(item.get("variation_id") or item["product_id"])
        binding = ctx.bound("product_variant", external)
        product_id = binding.odoo_id if binding else ctx.skus.get(item.get("sku") or "")
        if product_id is None:
            product_id = placeholder
            reviews.append(f"unknown_sku:{item.get('sku') or external}")
        gross = Decimal(item["total"]) + Decimal(item["total_tax"])
        lines.append(_line(product_id, item["name"], Decimal(item["quantity"]), gross, _taxes(ctx, item["total_tax"])))
    for kind, rows, product in (
        ("shipping", order.get("shipping_lines", []), "shipping_product_id"),
        ("fee", order.get("fee_lines", []), "fee_product_id"),
    ):
        for row in rows:
            product_id = ctx.options[product] or placeholder
            if not ctx.options[product]:
                reviews.append(f"no_{kind}_product")
            gross = Decimal(row["total"]) + Decimal(row["total_tax"])
            name = row.get("method_title") or row.get("name") or kind
            lines.append(_line(product_id, name, Decimal(1), gross, _taxes(ctx, row["total_tax"])))
    return lines, reviews
