"""What the order import writes to Odoo for a page of orders, at Odoo's batch speed.

A real Odoo 17 creates a list of records in one transaction at about 10 ms a record, where one call
a record costs 50 to 900 ms (each call is a transaction of its own). So for a page of orders the
import makes, whatever the number of orders and lines:

- the buyers' partners: one create per round of buyers (flows/partners.py: companies first, then
  their contacts and addresses), rounds only when two buyers share an e-mail or a RUT;
- the orders: one `create` of the whole list, each with all its lines. Odoo refuses the whole list
  when one order is wrong (one missing product rolls back every order of the call, and the ids and
  names it took are used up), so the page is then sent again one order at a time: one bad order
  never blocks the others;
- their totals, states and currencies read back in one call and compared with the shop's;
- those to confirm, confirmed in one `action_confirm` (one at a time if Odoo refuses the list).

A create that timed out may have been committed: the page's markers are looked up at once and
what Odoo has is adopted; what it has not is reported as uncertain, and the next run, which lists
those orders again, adopts them by marker or creates them. An order is never created twice.

Currencies: an order is created in its own currency only. The Odoo company's currency is read once
a run (the `company_id` option picks one company where several have different currencies); an
order in another currency needs an Odoo pricelist in that currency mapped in `pricelists` (which
may map the company's currency too). A mapped pricelist in another currency refuses the order, and
the currency Odoo booked is read back with the totals: an order Odoo put in another currency (a
partner's own pricelist, say) is kept in draft for review.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from engagements.integration.errors import AmbiguousWriteError, IntegrationError, PermanentError
from engagements.integration.flows import markers, partners
from engagements.integration.flows.runs import Report
from engagements.integration.gateway.base import OdooGateway, field_map
from engagements.integration.models import Binding
from engagements.integration.shops import base as shop_base
from engagements.integration.shops.base import ShopClient, ShopOrder
from engagements.models import Engagement

logger = logging.getLogger(__name__)
ZERO_DECIMAL_CURRENCIES = {"CLP", "JPY", "KRW", "PYG"}
READ_BACK = ["amount_total", "state", "name", "currency_id"]


@dataclass
class Context:
    """One run of the order import: its settings, what it looked up, and its report."""

    engagement: Engagement
    odoo: OdooGateway
    shop: ShopClient
    options: dict
    dry_run: bool
    prefix: str  # the connection's marker prefix (flows/markers.py)
    report: Report = field(default_factory=Report)
    existing: dict[str, dict] = field(default_factory=dict)  # marker -> sale.order row
    skus: dict[str, int] = field(default_factory=dict)  # SKU -> product.product id
    duplicate_skus: set[str] = field(default_factory=set)  # SKUs on several Odoo variants: never guessed
    variants: dict[str, int] = field(default_factory=dict)  # bound shop variant -> product.product id
    orders: dict[str, Binding] = field(default_factory=dict)  # the page's order bindings, by shop id
    unresolved: list[datetime] = field(default_factory=list)  # changes of orders to list again
    currencies: dict[str, str] = field(default_factory=dict)  # "company" and each mapped pricelist's currency
    partners: partners.Partners = field(init=False)  # the buyers' partners, looked up page by page

    def __post_init__(self) -> None:
        self.partners = partners.Partners(engagement=self.engagement, odoo=self.odoo, dry_run=self.dry_run)

    def marker(self, order: ShopOrder) -> str:
        return markers.order_marker(self.prefix, order.number)

    def bind(self, odoo_id: int, order: ShopOrder) -> None:
        """The order's binding (kept at this version of the shop order); one binding per Odoo record."""
        if self.dry_run:
            return
        with transaction.atomic():  # a savepoint: a binding another worker just wrote fails this one alone
            taken = Binding.objects.filter(engagement=self.engagement, kind="sale_order", odoo_id=odoo_id)
            if taken.exclude(external_id=order.id).exists():
                return
            self.orders[order.id], _ = Binding.objects.update_or_create(
                engagement=self.engagement,
                kind="sale_order",
                external_id=order.id,
                defaults={
                    "odoo_model": "sale.order",
                    "odoo_id": odoo_id,
                    "last_synced_at": timezone.now(),
                    "external_updated_at": order.modified,
                },
            )

    def failed(self, order: ShopOrder, error: Exception) -> None:
        """Report an order that could not be done. What a later run can fix keeps the cursor before it."""
        where: dict[str, Any] = {"kind": "sale_order", "external_id": order.id}
        if isinstance(error, AmbiguousWriteError):  # Odoo may have it: the next run adopts it by its marker
            self.unresolved.append(order.modified)
            self.report.add("ambiguous", reason=error.code, ambiguous=True, message=str(error), retry=True, **where)
        elif isinstance(error, PermanentError):  # retrying changes nothing: reported, the cursor moves on
            self.report.add("failed", reason=error.code, message=str(error), **where)
        elif isinstance(error, IntegrationError):
            self.unresolved.append(order.modified)
            self.report.add("failed", reason=error.code, message=str(error), retry=True, **where)
        else:  # a malformed order must not stop the others (the run report shows it)
            logger.exception("order %s of engagement %s failed", order.id, self.engagement.code)
            self.report.add("failed", reason="unexpected_error", message=type(error).__name__, **where)


@dataclass
class Pending:
    """An order for Odoo: new (`values` to create; once created, `row` holds its id), or adopted (`row`:
    what Odoo had, without our binding)."""

    order: ShopOrder
    reviews: list[str] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)
    row: dict[str, Any] = field(default_factory=dict)
    outcome: str = "created"
    reason: str = ""


# ---------------------------------------------------------------- the page


def write_page(ctx: Context, new: list[ShopOrder], adopted: list[Pending]) -> None:
    """Create the page's new orders, then read back, check and confirm them with the adopted ones."""
    pending = _drafts(ctx, new)
    if ctx.dry_run:
        for draft in pending:
            outcome = "review" if draft.reviews else "created"
            diff = {"lines": len(draft.values["order_line"]), "total": str(draft.order.total)}
            where: dict[str, Any] = {"kind": "sale_order", "external_id": draft.order.id}
            ctx.report.add(outcome, action="would_create", reason=",".join(draft.reviews), diff=diff, **where)
        pending = []
    _settle(ctx, _create(ctx, pending) + adopted)


def _drafts(ctx: Context, orders: list[ShopOrder]) -> list[Pending]:
    """The values of each order to create, its partner included; an order that cannot be is reported."""
    priced = []
    for order in orders:
        try:
            pricelist = _pricelist(ctx, order)
        except IntegrationError as error:
            ctx.failed(order, error)
            continue
        if pricelist is not False:
            priced.append((order, pricelist))
    buyers = _partners(ctx, [order for order, _ in priced])
    drafts = []
    for order, pricelist in priced:
        plan = buyers[_buyer_key(order)]
        if isinstance(plan, Exception):
            ctx.failed(order, plan)
            continue
        try:
            drafts.append(_draft(ctx, order, pricelist, plan))
        except Exception as error:  # a malformed order (a line of quantity 0...): the others go on
            ctx.failed(order, error)
    return drafts


def _draft(ctx: Context, order: ShopOrder, pricelist: int | None, plan: partners.Plan) -> Pending:
    draft = Pending(order)
    label = shop_base.PLATFORM_LABELS.get(ctx.shop.platform, ctx.shop.platform)
    draft.values = {
        "partner_id": plan.partner_id,
        "client_order_ref": ctx.marker(order),
        "origin": f"{label} #{order.number.lstrip('#')}",
        "order_line": [[0, 0, line] for line in _lines(ctx, order, draft.reviews)],
    }
    if plan.delivery_id:
        draft.values["partner_shipping_id"] = plan.delivery_id
    if pricelist:
        draft.values["pricelist_id"] = pricelist
    return draft


# ---------------------------------------------------------------- currencies


def _pricelist(ctx: Context, order: ShopOrder) -> int | bool | None:
    """The pricelist to create `order` with: None (the company's currency), a mapped pricelist's id,
    or False when the order waits for review (reported)."""
    company = _currencies(ctx)["company"]
    mapped = ctx.options["pricelists"].get(order.currency)
    where: dict[str, Any] = {"kind": "sale_order", "external_id": order.id}
    if mapped:
        currency = ctx.currencies.get(str(mapped), "")
        if currency == order.currency:
            return int(mapped)
        message = (
            f"The Odoo pricelist {mapped} mapped for {order.currency} is in {currency}."
            if currency
            else f"The Odoo pricelist {mapped} mapped for {order.currency} does not exist."
        )
        ctx.report.add("review", reason="pricelist_currency_mismatch", message=message, **where)
        return False
    if order.currency == company:
        return None
    message = (
        f"The order is in {order.currency or '?'} and the Odoo company in {company}: map an Odoo pricelist in "
        f"{order.currency or 'its currency'}; the order is imported the next time it changes in the shop."
    )
    ctx.report.add("review", reason="currency_not_mapped", message=message, **where)
    return False


def _currencies(ctx: Context) -> dict[str, str]:
    """The company's currency and the mapped pricelists' (two calls, once a run, when there is
    something to create)."""
    if ctx.currencies:
        return ctx.currencies
    companies = ctx.odoo.search_read("res.company", [], ["name", "currency_id"])
    chosen = ctx.options.get("company_id")
    currencies = {_name(c["currency_id"]) for c in companies if not chosen or c["id"] == int(chosen)}
    if len(currencies) != 1:
        raise PermanentError(
            "Odoo's companies have different currencies (or the chosen company is not there): choose the "
            "company in the order settings.",
            code="odoo_company_currency_unknown",
        )
    ctx.currencies["company"] = currencies.pop()
    mapped = sorted({int(pricelist) for pricelist in ctx.options["pricelists"].values() if pricelist})
    for row in ctx.odoo.read("product.pricelist", mapped, ["currency_id"]) if mapped else []:
        ctx.currencies[str(row["id"])] = _name(row["currency_id"])
    return ctx.currencies


def _name(many2one) -> str:
    return many2one[1] if isinstance(many2one, list | tuple) and len(many2one) == 2 else ""


# ---------------------------------------------------------------- partners


def _buyer_key(order: ShopOrder) -> str:
    """Registered customers by their shop id; guests by e-mail (or the order): a stable binding."""
    if order.customer_id:
        return f"customer:{order.customer_id}"
    return f"guest:{order.email or order.id}"


def buyer(ctx: Context, order: ShopOrder) -> partners.Buyer:
    return partners.Buyer(
        key=_buyer_key(order),
        name=order.billing.name,
        email=order.email,
        phone=order.billing.phone,
        company=order.billing.company,
        tax_id=order.tax_id,
        billing=order.billing,
        delivery=order.shipping,
        marker=markers.partner_marker(ctx.prefix, order.customer_id),
    )


def _partners(ctx: Context, orders: list[ShopOrder]) -> dict[str, partners.Plan | Exception]:
    """Each buyer's plan (flows/partners.py, which an order never uses to change a partner Odoo has),
    created in one call per round, or why not. A dry run leaves None for a partner it would create.
    An ambiguous match is refused, never guessed."""
    plans: dict[str, partners.Plan | Exception] = {}
    for members in partners.rounds(orders, lambda order: buyer(ctx, order)):
        fresh = []
        for order in members:
            key = _buyer_key(order)
            if key in plans:
                continue  # another order of the same buyer: one plan
            if not partners.lock(ctx.engagement, key):
                plans[key] = partners.PartnerBusy("Another run is writing this customer's partner.")
                continue
            try:
                plan = plans[key] = ctx.partners.plan(buyer(ctx, order), update=False)
            except Exception as error:  # a malformed buyer: its orders fail, the others go on
                plans[key] = error
                continue
            fresh.append(plan)
        ctx.partners.apply([plan for plan in fresh if not plan.blocked])
        for plan in fresh:
            if plan.blocked:
                message = partners.BLOCKED_MESSAGES.get(plan.blocked, plan.blocked)
                plans[plan.buyer.key] = PermanentError(message, code=plan.blocked)
            elif plan.error is not None:
                plans[plan.buyer.key] = plan.error
            else:
                ctx.partners.bind(plan, remember=False)
    return plans


# ---------------------------------------------------------------- lines


def _taxes(ctx: Context, tax: Decimal) -> dict:
    tax_id = ctx.options["tax_included_id"]
    # The line's taxes field is `tax_id` up to Odoo 18 and `tax_ids` from 19.
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
        sku = item.sku
        product_id = ctx.variants.get(item.external_id) or (None if sku in ctx.duplicate_skus else ctx.skus.get(sku))
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


# ---------------------------------------------------------------- create, read back, confirm


def _create(ctx: Context, drafts: list[Pending]) -> list[Pending]:
    """One create for the page; one order at a time when Odoo refuses the list. The orders created
    (their id in `row`), bound; the others reported."""
    if not drafts:
        return []
    try:
        ids = ctx.odoo.create("sale.order", [draft.values for draft in drafts])
    except PermanentError as error:
        if len(drafts) == 1:
            ctx.failed(drafts[0].order, error)
            return []
        return [done for draft in drafts for done in _create(ctx, [draft])]
    except AmbiguousWriteError as error:
        return _adopt_after_timeout(ctx, drafts, error)
    except IntegrationError as error:  # nothing was written: the next run lists them again
        for draft in drafts:
            ctx.failed(draft.order, error)
        return []
    for draft, order_id in zip(drafts, ids, strict=True):
        draft.row = {"id": order_id}
        ctx.bind(order_id, draft.order)
    return drafts


def _adopt_after_timeout(ctx: Context, drafts: list[Pending], error: AmbiguousWriteError) -> list[Pending]:
    """The create timed out: what Odoo committed is found by its markers and adopted now."""
    markers_ = [draft.values["client_order_ref"] for draft in drafts]
    try:
        rows = ctx.odoo.search_read("sale.order", [["client_order_ref", "in", markers_]], ["client_order_ref"])
    except IntegrationError:
        rows = []
    found = {row["client_order_ref"]: row["id"] for row in rows}
    done = []
    for draft in drafts:
        order_id = found.get(draft.values["client_order_ref"])
        if order_id is None:
            ctx.failed(draft.order, error)
            continue
        draft.row = {"id": order_id}
        ctx.bind(order_id, draft.order)
        done.append(draft)
    return done


def _settle(ctx: Context, pending: list[Pending]) -> None:
    """Totals and currency compared (a difference keeps the order in draft for review), then the drafts
    to confirm confirmed together. Only a draft is confirmed, so a re-run never confirms twice."""
    new = [p for p in pending if "amount_total" not in p.row]
    try:
        rows = {row["id"]: row for row in ctx.odoo.read("sale.order", [p.row["id"] for p in new], READ_BACK)}
    except IntegrationError as error:
        for item in new:
            ctx.failed(item.order, error)
        pending = [p for p in pending if p not in new]
        rows = {}
    to_confirm = []
    for item in pending:
        item.row = rows.get(item.row["id"], item.row)
        if "amount_total" not in item.row:  # deleted meanwhile
            ctx.failed(item.order, PermanentError("Odoo lost the order just created.", code="odoo_record_deleted"))
        elif _checked(ctx, item):
            to_confirm.append(item)
    _confirm(ctx, to_confirm)


def _checked(ctx: Context, item: Pending) -> bool:
    """False when the order is kept in draft for review (reported); True when it may be confirmed."""
    order, row = item.order, item.row
    if mismatch(order, row["amount_total"]):
        item.reviews.append("total_mismatch")
    booked = _name(row.get("currency_id"))
    if booked and order.currency and booked != order.currency:
        item.reviews.append(f"currency_mismatch:{booked}")
    if not item.reviews:
        return True
    ctx.report.add(
        "review",
        kind="sale_order",
        external_id=order.id,
        odoo_id=row["id"],
        action="create" if item.outcome == "created" else "adopt",
        reason=",".join(([item.reason] if item.reason else []) + item.reviews),
        message=f"{row['name']}: kept in draft for review",
        diff={"odoo_total": row["amount_total"], "shop_total": str(order.total)},
    )
    return False


def mismatch(order: ShopOrder, odoo_total) -> bool:
    tolerance = Decimal(1) if order.currency in ZERO_DECIMAL_CURRENCIES else Decimal("0.01")
    return abs(Decimal(str(odoo_total)) - order.total) > tolerance


def _confirm(ctx: Context, items: list[Pending]) -> None:
    """Confirm the drafts among `items` (with the `confirm` option), then report each order."""
    drafts = [i for i in items if ctx.options["confirm"] and i.row["state"] == "draft" and not ctx.dry_run]
    refused = _refusals(ctx, drafts)
    for item in items:
        if item.order.id in refused:
            ctx.failed(item.order, refused[item.order.id])
            continue
        where: dict[str, Any] = {"kind": "sale_order", "external_id": item.order.id, "odoo_id": item.row["id"]}
        ctx.report.add(item.outcome, reason=item.reason, message=item.row["name"], **where)


def _refusals(ctx: Context, drafts: list[Pending]) -> dict[str, IntegrationError]:
    """One action_confirm for all; when Odoo refuses the list, one at a time. Why each order was not."""
    if not drafts:
        return {}
    try:
        ctx.odoo.call("sale.order", "action_confirm", [draft.row["id"] for draft in drafts])
    except PermanentError as error:
        if len(drafts) == 1:
            return {drafts[0].order.id: error}
        return {key: why for draft in drafts for key, why in _refusals(ctx, [draft]).items()}
    except IntegrationError as error:
        return {draft.order.id: error for draft in drafts}
    return {}
