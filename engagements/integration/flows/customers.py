"""Customer import, shop → Odoo.

Per run: the registered customers changed in the window (overlapping the
cursor, upper bound pinned at the start), or only `external_ids` (named by
webhooks, each fetched again, the cursor untouched). They are handled in pages:
per page, the partners are looked up in a constant number of Odoo calls and
created in at most two, whatever the page's size (flows/partners.py, the same
upsert as the order import's, with its matching, company and merge rules).

Odoo → shop is not in scope: nothing is ever written to the shop, so an Odoo
edit cannot bounce back. Our own values coming back from the shop (an echo, a
customer record touched without a change) are recognised by the binding's
`last_pushed_hash` and cost no write. One bad customer never stops the others.
A dry run reads both sides and writes nothing anywhere: no partner, no binding,
no cursor. The cursor never passes a customer whose write failed in a way a
later run can fix (Odoo busy, a write that timed out, a buyer locked by the order
import).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction

from engagements.integration.errors import AmbiguousWriteError, IntegrationError, PermanentError
from engagements.integration.flows import markers, partners
from engagements.integration.flows.runs import Report, flow_options, keep_shop_cursor, shop_window, stamp
from engagements.integration.gateway.base import OdooGateway
from engagements.integration.models import Flow, SyncRun
from engagements.integration.shops.base import ShopClient, ShopCustomer
from engagements.models import Engagement

logger = logging.getLogger(__name__)
DEFAULTS = {
    "initial_days": 3650,  # a first run brings every customer (bounded anyway)
    "overlap_minutes": 5,
    "geo": True,  # country and state looked up in Odoo
    "company_names": False,  # True: a company name alone makes a company partner (see partners.py)
}
PAGE = 100
KIND = "partner"


def _options(engagement: Engagement) -> dict:
    return flow_options(engagement, Flow.CUSTOMERS, DEFAULTS)


@dataclass
class Context:
    engagement: Engagement
    shop: ShopClient
    upsert: partners.Partners
    dry_run: bool
    prefix: str  # the connection's marker prefix (flows/markers.py)
    report: Report = field(default_factory=Report)
    unresolved: list[datetime] = field(default_factory=list)  # changes to list again next run

    def add(self, outcome: str, customer: ShopCustomer, **details) -> None:
        self.report.add(outcome, kind=KIND, external_id=customer.id, **details)


def buyer(customer: ShopCustomer, prefix: str) -> partners.Buyer:
    return partners.Buyer(
        key=f"customer:{customer.id}",  # the order import binds registered customers under the same key
        name=customer.name,
        email=customer.email,
        phone=customer.phone or customer.billing.phone,
        company=customer.company or customer.billing.company,
        tax_id=customer.tax_id,
        billing=customer.billing,
        delivery=customer.shipping,
        marker=markers.partner_marker(prefix, customer.id),
        modified=customer.modified,
    )


# ---------------------------------------------------------------- the run


def import_customers(
    *,
    run: SyncRun,
    odoo: OdooGateway,
    shop: ShopClient,
    now: datetime,
    full: bool = False,
    external_ids: list[str] | None = None,
) -> Report:
    engagement, options = run.engagement, _options(run.engagement)
    markers.check_unshared(engagement, shop.platform)
    upsert = partners.Partners(
        engagement=engagement,
        odoo=odoo,
        dry_run=run.dry_run,
        geo=options["geo"],
        company_names=options["company_names"],
    )
    ctx = Context(engagement, shop, upsert, run.dry_run, markers.prefix(engagement, shop.platform))
    if external_ids is not None:
        _process(ctx, _fetch_named(ctx, list(dict.fromkeys(external_ids))))
        return ctx.report
    run.cursor_before, start, end = shop_window(engagement, Flow.CUSTOMERS, options, now, full=full)
    run.window_start, run.window_end = stamp(start), stamp(end)
    listed = _latest(shop.iter_customers(modified_after=start, modified_before=end))
    _process(ctx, listed)
    keep_shop_cursor(run, min(ctx.unresolved) if ctx.unresolved else max((c.modified for c in listed), default=None))
    return ctx.report


def _latest(customers) -> list[ShopCustomer]:
    """Each customer once, at its latest version (a listing over a changing set may repeat one)."""
    latest: dict[str, ShopCustomer] = {}
    for customer in customers:
        if customer.id not in latest or customer.modified > latest[customer.id].modified:
            latest[customer.id] = customer
    return sorted(latest.values(), key=lambda c: (c.modified, c.id))


def _fetch_named(ctx: Context, customer_ids: list[str]) -> list[ShopCustomer]:
    fetched = []
    for customer_id in customer_ids:
        try:
            fetched.append(ctx.shop.get_customer(customer_id))
        except PermanentError as error:  # deleted in the shop, or not a customer of this shop
            ctx.report.add("failed", kind=KIND, external_id=customer_id, reason=error.code, message=str(error))
    ctx.report.counts["listed"] += len(customer_ids) - len(fetched)
    return fetched


def _process(ctx: Context, customers: list[ShopCustomer]) -> None:
    ctx.report.counts["listed"] += len(customers)
    for start in range(0, len(customers), PAGE):
        page = customers[start : start + PAGE]
        try:
            with transaction.atomic():  # holds the page's buyer locks until its bindings are written
                _page(ctx, page)
        except IntegrationError as error:  # the look-ups failed: the whole page waits for the next run
            for customer in page:
                ctx.unresolved.append(customer.modified)
                ctx.add("failed", customer, reason=error.code, message=str(error))


def _page(ctx: Context, page: list[ShopCustomer]) -> None:
    buyers = {c.id: buyer(c, ctx.prefix) for c in page}
    held = []
    for customer in page:
        if partners.lock(ctx.engagement, buyers[customer.id].key):
            held.append(customer)
        else:  # the order import is writing this buyer right now
            ctx.unresolved.append(customer.modified)
            ctx.add("postponed", customer, reason="locked")
    ctx.upsert.prefetch([buyers[c.id] for c in held])
    for batch in partners.rounds(held, lambda customer: buyers[customer.id]):
        _round(ctx, batch, buyers)


def _round(ctx: Context, batch: list[ShopCustomer], buyers: dict[str, partners.Buyer]) -> None:
    plans = []
    for customer in batch:
        binding = ctx.upsert.bindings.get(buyers[customer.id].key)
        if binding and binding.external_updated_at and binding.external_updated_at >= customer.modified:
            ctx.add("unchanged", customer, odoo_id=binding.odoo_id)  # this version (or a newer one) is in
            continue
        try:
            plans.append((customer, ctx.upsert.plan(buyers[customer.id], update=True)))
        except Exception as error:  # a malformed customer must not stop the others
            logger.exception("customer %s of engagement %s failed", customer.id, ctx.engagement.code)
            ctx.add("failed", customer, reason="unexpected_error", message=type(error).__name__)
    ctx.upsert.apply([plan for _, plan in plans])
    for customer, plan in plans:
        try:
            _settle(ctx, customer, plan)
        except Exception as error:  # e.g. a binding another worker just wrote: the next run adopts it
            logger.exception("customer %s of engagement %s failed", customer.id, ctx.engagement.code)
            ctx.add("failed", customer, reason="unexpected_error", message=type(error).__name__)


def _settle(ctx: Context, customer: ShopCustomer, plan: partners.Plan) -> None:
    """Bind what was done and report it: one item per customer, so the counts add up."""
    if plan.blocked:
        message = partners.BLOCKED_MESSAGES.get(plan.blocked, "")
        binding = ctx.upsert.bindings.get(plan.buyer.key)
        if plan.blocked == "odoo_record_deleted" and binding is not None:
            ctx.report.orphaned(
                binding, kind=KIND, dry_run=ctx.dry_run, message=message, action="skip", external_id=customer.id
            )
        else:
            ctx.add("review", customer, odoo_id=plan.partner_id, action="skip", reason=plan.blocked, message=message)
        return
    if plan.error is not None:
        _failed(ctx, customer, plan.error)
        return
    ctx.upsert.bind(plan, remember=True)
    if plan.unchanged:
        ctx.add("unchanged", customer, odoo_id=plan.partner_id)
        return
    created = plan.new_root is not None or plan.new_person is not None  # the buyer's own partner is new
    outcome = "created" if created else ("updated" if plan.changes else "unchanged")
    action = {"created": "create", "updated": "update"}.get(outcome, "")
    if ctx.dry_run and action:
        action = f"would_{action}"
    reasons = list(plan.warnings)
    if plan.kept:
        reasons.append("odoo_values_kept")
    if plan.matched_by in ("email", "rut"):
        reasons.append(f"matched_by_{plan.matched_by}")
    needs_person = bool(plan.warnings or plan.kept)
    ctx.add(
        "review" if needs_person else outcome,
        customer,
        odoo_id=plan.partner_id,
        action=action or ("review" if needs_person else "unchanged"),
        reason=",".join(reasons),
        diff={"kept": plan.kept} if plan.kept else None,
    )


def _failed(ctx: Context, customer: ShopCustomer, error: IntegrationError) -> None:
    if isinstance(error, AmbiguousWriteError):  # Odoo may have created it: the next run adopts it by marker
        ctx.unresolved.append(customer.modified)
        ctx.add("ambiguous", customer, reason=error.code, ambiguous=True, message=str(error))
    elif isinstance(error, PermanentError):  # Odoo refused it: retrying changes nothing, the cursor moves on
        ctx.add("failed", customer, reason=error.code, message=str(error))
    else:
        ctx.unresolved.append(customer.modified)
        ctx.add("failed", customer, reason=error.code, message=str(error))
