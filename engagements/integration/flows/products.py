"""Product export, Odoo → shop.

Candidates are Odoo product templates (`product.template`), archived ones included (`active_test:
False`), changed since the Odoo-side cursor: their own `write_date`, or one of their variants'
(a variant archived or edited writes `product.product`, not the template); every template on a full
pass (`full`, or no cursor yet). Services and combos are never published: the type field is the
Odoo major's (`FIELD_MAPS[major]["product_type"]`: 16/17 `detailed_type`, 18 `type`). With the option
`company_id`, only that company's products and the shared ones (no company) are candidates.

A template with one variant without attribute values is a simple product; with several it is a
variable product with one variation per variant. The price is the variant's `lst_price` as the
shop shows it, by the price flow's rule and options (IVA added unless the Odoo tax is price-included,
rounded to the currency): a pricelist configured for the price flow is that flow's business, which
corrects the price on its next run. A variant without SKU, a SKU used twice, or a price of 0 or less
stops its template: it is reported for review, the others go on.

What was sent is remembered as a fingerprint on the template's binding (kind "product_template",
`last_pushed_value["product"]`, merged under a row lock by flows/pushed.py); a template whose
fingerprint did not change makes no call. Each variant's binding gets the price sent (`"price"`), so
the price flow does not send it again.

Create, never duplicate: before anything unbound is sent, the shop's catalogue is listed once
(`iter_variants`) and an unbound variant whose SKU the shop already has is adopted (bound, then
updated), not created again. A create that timed out may have succeeded: it is reported as failed,
the cursor stays before it, and the next run finds it by its SKU. What a partly failed call did
create is bound at once.

Archiving: an archived variant stays in the shop, hidden (WooCommerce `status: private`;
Shopify has no per-variant visibility, see the adapter) and a variant archived before it was ever
published is left out. An archived template, or one without an active variant, is hidden as a
whole (WooCommerce `draft`, Shopify `DRAFT`), never deleted; one that was never published is skipped.
A bound simple product that became variable (or back) is reported: the shop cannot change a product's
kind in place without deleting variants.

A dry run reads Odoo and the shop's catalogue and reports its plan (`would_create`, `would_update`,
`would_hide`): no write reaches the shop, and nothing is written here.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction

from engagements.integration.flows import prices
from engagements.integration.flows.pushed import remember_pushed
from engagements.integration.flows.runs import Report, flow_options
from engagements.integration.gateway.base import FIELD_MAPS, OdooGateway
from engagements.integration.models import Binding, Flow, SyncCursor, SyncRun
from engagements.integration.shops.base import (
    BatchResult,
    ProductPayload,
    ProductResult,
    ShopAuthError,
    ShopClient,
    ShopError,
    ShopVariant,
    VariantPayload,
)

DEFAULTS = {"company_id": None}
EXCLUDED_TYPES = ["service", "combo"]  # never published (combo: Odoo 18)
ALL = {"active_test": False}  # archived templates and variants are candidates too
TEMPLATE_FIELDS = ["name", "active", "product_variant_ids", "write_date"]
VARIANT_FIELDS = [
    *("default_code", "barcode", "lst_price", "active", "taxes_id"),
    *("product_template_attribute_value_ids", "write_date"),
]
CHUNK = 50  # payloads handed to the adapter at once; bindings are saved after each
ODOO_TIME = "%Y-%m-%d %H:%M:%S"
HIDDEN = "hidden"


def _price_rule(run: SyncRun) -> dict:
    """The price flow's options (IVA, currency), read by that flow's own helper, so both send one price."""
    options = prices.price_options(run)
    return {
        "add_tax": bool(options["tax_included"]),
        "tax_rate": options["tax_rate"],
        "decimals": prices.DECIMALS[options["currency"]],
    }


def export_products(*, run: SyncRun, odoo: OdooGateway, shop: ShopClient, now: datetime, full: bool = False) -> Report:
    """Create, update and hide the shop's products from the Odoo templates changed since the cursor."""
    options = flow_options(run.engagement, Flow.PRODUCTS, DEFAULTS)
    report = Report()
    cursor = SyncCursor.objects.filter(engagement=run.engagement, flow=Flow.PRODUCTS, source="odoo").first()
    run.cursor_before = cursor.value if cursor else ""
    since = "" if full or cursor is None else cursor.value
    templates = _templates(odoo, options, since)
    report.counts["listed"] = len(templates)
    variants = _variants(odoo, templates)
    planner = _Planner(run, odoo, shop, variants, report)
    upserts: list[tuple[dict[str, Any], ProductPayload, str]] = []
    hides: list[tuple[dict[str, Any], str, str]] = []
    for template in templates:
        plan = planner.plan(template)
        if plan is None:
            continue
        template_, what, fingerprint = plan
        if isinstance(what, str):
            hides.append((template_, what, fingerprint))
        else:
            upserts.append((template_, what, fingerprint))
    if run.dry_run:
        _report_plans(upserts, hides, report)
        return report
    failed_at = _upsert(run, shop, upserts, report) + _hide(run, shop, hides, report)
    _move_cursor(run, templates, variants, failed_at)
    return report


# ---------------------------------------------------------------- Odoo


def _templates(odoo: OdooGateway, options: dict, since: str) -> list[dict]:
    type_field = FIELD_MAPS.get(odoo.major, FIELD_MAPS[17])["product_type"]
    domain: list = [[type_field, "not in", EXCLUDED_TYPES]]
    if options["company_id"]:
        domain += ["|", ["company_id", "=", False], ["company_id", "=", int(options["company_id"])]]
    if since:
        moved = odoo.search_read("product.product", [["write_date", ">", since]], ["product_tmpl_id"], context=ALL)
        touched = sorted({row["product_tmpl_id"][0] for row in moved if row.get("product_tmpl_id")})
        domain += ["|", ["write_date", ">", since], ["id", "in", touched]]
    return odoo.search_read("product.template", domain, TEMPLATE_FIELDS, order="id asc", context=ALL)


def _variants(odoo: OdooGateway, templates: list[dict]) -> dict[int, dict]:
    """Every variant of the templates (archived too), with `options`: ((attribute, value), ...)."""
    ids = sorted({pid for template in templates for pid in template["product_variant_ids"]})
    rows = odoo.read("product.product", ids, VARIANT_FIELDS, context=ALL) if ids else []
    value_ids = sorted({vid for row in rows for vid in row.get("product_template_attribute_value_ids") or []})
    values = {}
    if value_ids:
        for value in odoo.read("product.template.attribute.value", value_ids, ["name", "attribute_id"], context=ALL):
            values[value["id"]] = ((value.get("attribute_id") or [0, ""])[1], value["name"])
    for row in rows:
        row["options"] = tuple(values[v] for v in row.get("product_template_attribute_value_ids") or [] if v in values)
    return {row["id"]: row for row in rows}


# ---------------------------------------------------------------- planning


class _Catalogue:
    """The shop's items by SKU, listed once per run, and only when something unbound is to be sent."""

    def __init__(self, shop: ShopClient):
        self._shop = shop
        self._by_sku: dict[str, list[ShopVariant]] | None = None

    def find(self, sku: str) -> list[ShopVariant]:
        if self._by_sku is None:
            self._by_sku = {}
            for item in self._shop.iter_variants():
                self._by_sku.setdefault(item.sku, []).append(item)
        return self._by_sku.get(sku, [])


class _Skip(Exception):
    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason, self.message = reason, message


class _Planner:
    def __init__(self, run: SyncRun, odoo: OdooGateway, shop: ShopClient, variants: dict[int, dict], report: Report):
        self.run, self.variants, self.report = run, variants, report
        self.rule = _price_rule(run)
        self.included = prices._price_included_taxes(odoo, variants)
        self.catalogue = _Catalogue(shop)
        bindings = Binding.objects.filter(engagement=run.engagement, state=Binding.State.ACTIVE)
        self.templates = {b.odoo_id: b for b in bindings.filter(kind="product_template")}
        self.bound = {b.odoo_id: b for b in bindings.filter(kind="product_variant", odoo_id__in=list(variants))}

    def plan(self, template: dict) -> tuple[dict, ProductPayload | str, str] | None:
        """(template, payload to send or shop product id to hide, fingerprint), or None (reported)."""
        where: dict[str, Any] = {"kind": "product", "odoo_id": template["id"]}
        rows = [self.variants[pid] for pid in sorted(template["product_variant_ids"]) if pid in self.variants]
        tbind = self.templates.get(template["id"])
        product_id = tbind.external_id if tbind else _bound_product(rows, self.bound)
        if not template["active"] or not any(row["active"] for row in rows):
            return self._hide_plan(template, tbind, product_id, where)
        try:
            payload = self._payload(template, rows, product_id)
        except _Skip as skip:
            self.report.add("review", reason=skip.reason, message=skip.message, external_id=product_id, **where)
            return None
        fingerprint = _fingerprint(payload)
        pushed = (tbind.last_pushed_value or {}) if tbind else {}
        if pushed.get("simple") is not None and pushed["simple"] != payload.simple:
            message = "A simple product became variable (or back) in Odoo: re-create it in the shop by hand."
            self.report.add("review", reason="product_kind_changed", message=message, external_id=product_id, **where)
            return None
        if pushed.get("product") == fingerprint and payload.product_id:
            self.report.add("unchanged", external_id=payload.product_id, **where)
            return None
        return template, payload, fingerprint

    def _hide_plan(self, template: dict, tbind: Binding | None, product_id: str, where: dict):
        if not product_id:
            message = "Archived in Odoo and never published: nothing to do."
            self.report.add("skipped", reason="product_archived_unpublished", message=message, **where)
            return None
        if tbind and (tbind.last_pushed_value or {}).get("product") == HIDDEN:
            self.report.add("unchanged", external_id=product_id, **where)
            return None
        return template, product_id, HIDDEN

    def _payload(self, template: dict, rows: list[dict], product_id: str) -> ProductPayload:
        # An archived variant never published stays out; a bound one is sent, to be hidden.
        rows = [row for row in rows if row["active"] or row["id"] in self.bound]
        skus = [(row.get("default_code") or "").strip() for row in rows]
        if not all(skus):
            raise _Skip("product_sku_missing", "A variant has no internal reference (SKU) in Odoo.")
        if len(set(skus)) < len(skus):
            raise _Skip("product_sku_duplicated", "Two variants share one internal reference (SKU) in Odoo.")
        variants = []
        for row, sku in zip(rows, skus, strict=True):
            variant_id, found_product = self._shop_ids(row, sku, product_id)
            product_id = product_id or found_product
            variants.append(
                VariantPayload(
                    odoo_id=row["id"],
                    sku=sku,
                    price=self._price(row),
                    options=row["options"],
                    active=bool(row["active"]),
                    barcode=row.get("barcode") or "",
                    variant_id=variant_id,
                )
            )
        return ProductPayload(str(template["id"]), template["name"], tuple(variants), product_id)

    def _shop_ids(self, row: dict, sku: str, product_id: str) -> tuple[str, str]:
        """(the shop's variant id, "" for a WooCommerce simple product; its product id), or ("", "") to create."""
        binding = self.bound.get(row["id"])
        if binding is not None:
            if binding.external_parent_id:
                return binding.external_id, binding.external_parent_id
            return "", binding.external_id
        found = self.catalogue.find(sku)
        if len(found) > 1:
            raise _Skip("product_sku_duplicated_in_shop", f"The shop has {len(found)} items with the SKU {sku}.")
        if not found:
            return "", ""
        if product_id and found[0].product_id != product_id:
            message = f"The shop sells the SKU {sku} in another product ({found[0].product_id})."
            raise _Skip("product_sku_conflict", message)
        return found[0].variant_id, found[0].product_id  # made by an earlier run whose answer was lost

    def _price(self, row: dict) -> Decimal:
        add_tax = self.rule["add_tax"] and not self.included.intersection(row.get("taxes_id") or [])
        price = prices.shop_price(Decimal(str(row["lst_price"])), **{**self.rule, "add_tax": add_tax})
        if price <= 0:
            message = f"Odoo gives a price of {price}: not published, the shop would sell it for free."
            raise _Skip("price_not_positive", message)
        return price


def _bound_product(rows: list[dict], bound: dict[int, Binding]) -> str:
    for row in rows:
        binding = bound.get(row["id"])
        if binding is not None:
            return binding.external_parent_id or binding.external_id
    return ""


def _fingerprint(payload: ProductPayload) -> str:
    """What was sent, without the shop's ids: name, and each variant's SKU, price, options and visibility."""
    data = [payload.name, [[v.sku, str(v.price), v.options, v.active] for v in payload.variants]]
    return hashlib.sha256(json.dumps(data, default=str).encode()).hexdigest()[:40]


def _report_plans(upserts: list, hides: list, report: Report) -> None:
    for template, payload, _fp in upserts:
        action = "would_update" if payload.product_id else "would_create"
        diff = {"name": payload.name, "skus": [v.sku for v in payload.variants]}
        outcome = "updated" if payload.product_id else "created"
        report.add(
            outcome, kind="product", external_id=payload.product_id, odoo_id=template["id"], action=action, diff=diff
        )
    for template, product_id, _fp in hides:
        report.add("updated", kind="product", external_id=product_id, odoo_id=template["id"], action="would_hide")


# ---------------------------------------------------------------- writing


def _upsert(run: SyncRun, shop: ShopClient, upserts: list, report: Report) -> list[dict]:
    """Send the payloads; returns the templates that failed (the cursor stays before them)."""
    failed = []
    for start in range(0, len(upserts), CHUNK):
        chunk = upserts[start : start + CHUNK]
        try:
            results = shop.upsert_products([payload for _t, payload, _f in chunk])
        except ShopAuthError:
            raise
        except ShopError as error:
            results = [ProductResult(p.key, False, p.product_id, {}, error.code, str(error)) for _t, p, _f in chunk]
        for (template, payload, fingerprint), result in zip(chunk, results, strict=True):
            if not _record(run, template, payload, fingerprint, result, report):
                failed.append(template)
    return failed


def _record(
    run: SyncRun, template: dict, payload: ProductPayload, fingerprint: str, result: ProductResult, report: Report
) -> bool:
    """Bind what the shop has now (even after a partial failure), remember what was sent, report it."""
    where: dict[str, Any] = {
        "kind": "product",
        "odoo_id": template["id"],
        "external_id": result.product_id or payload.product_id,
    }
    product_id = result.product_id or payload.product_id
    tbind = (
        _ensure(run, "product_template", "product.template", template["id"], product_id, "", "") if product_id else None
    )
    variant_bindings = {}
    for variant in payload.variants:
        external = (
            result.variant_ids.get(variant.odoo_id) or variant.variant_id or (product_id if payload.simple else "")
        )
        if external and product_id:
            parent = "" if external == product_id else product_id
            variant_bindings[variant.odoo_id] = _ensure(
                run, "product_variant", "product.product", variant.odoo_id, external, parent, variant.sku
            )
    if not result.ok:
        report.add("failed", reason=result.error_code or "shop_rejected", message=result.message, **where)
        return False
    pushed = {tbind.pk: {"product": fingerprint, "simple": payload.simple}} if tbind else {}
    for variant in payload.variants:
        binding = variant_bindings.get(variant.odoo_id)
        if binding is not None:
            pushed[binding.pk] = {"price": str(variant.price)}
    remember_pushed(pushed)
    outcome = "updated" if payload.product_id else "created"
    diff = {"name": payload.name, "skus": [v.sku for v in payload.variants]}
    report.add(outcome, reason=result.warning, message=result.message, diff=diff, **where)
    return True


def _ensure(run: SyncRun, kind: str, model: str, odoo_id: int, external: str, parent: str, sku: str) -> Binding | None:
    """The binding of this Odoo record, created if new; None when the shop id is bound to another record."""
    binding = Binding.objects.filter(engagement=run.engagement, kind=kind, odoo_id=odoo_id).first()
    if binding is not None:
        return binding
    try:
        with transaction.atomic():
            return Binding.objects.create(
                engagement=run.engagement,
                kind=kind,
                odoo_model=model,
                odoo_id=odoo_id,
                external_id=external,
                external_parent_id=parent,
                sku=sku,
            )
    except IntegrityError:
        return None


def _hide(run: SyncRun, shop: ShopClient, hides: list, report: Report) -> list[dict]:
    if not hides:
        return []
    try:
        results = shop.hide_products([product_id for _t, product_id, _f in hides])
    except ShopAuthError:
        raise
    except ShopError as error:  # the call failed as a whole: each item gets its error
        results = [BatchResult("", False, error.code, str(error))] * len(hides)
    failed = []
    for (template, product_id, _f), result in zip(hides, results, strict=True):
        where: dict[str, Any] = {"kind": "product", "odoo_id": template["id"], "external_id": product_id}
        if not result.ok:
            report.add("failed", reason=result.error_code or "shop_rejected", message=result.message, **where)
            failed.append(template)
            continue
        tbind = _ensure(run, "product_template", "product.template", template["id"], product_id, "", "")
        if tbind is not None:
            remember_pushed({tbind.pk: {"product": HIDDEN}})
        report.add("updated", action="hide", reason="product_hidden", **where)
    return failed


def _move_cursor(run: SyncRun, templates: list[dict], variants: dict[int, dict], failed: list[dict]) -> None:
    """The latest change seen; with failures, just before the earliest failed template, so it comes back."""

    def seen(template: dict) -> str:
        stamps = [template["write_date"] or ""]
        stamps += [variants[p]["write_date"] or "" for p in template["product_variant_ids"] if p in variants]
        return max(stamps)

    latest = max((seen(t) for t in templates), default="")
    if failed:
        earliest = min(seen(t) for t in failed)
        before = (datetime.strptime(earliest, ODOO_TIME) - timedelta(seconds=1)).strftime(ODOO_TIME)
        latest = max(before, run.cursor_before)
    run.cursor_after = latest or run.cursor_before
    if latest:
        SyncCursor.objects.update_or_create(
            engagement=run.engagement, flow=Flow.PRODUCTS, source="odoo", defaults={"value": latest}
        )
