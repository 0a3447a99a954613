"""Product matching: which Odoo variant is which shop item (`bootstrap_bindings`).

Run once at onboarding, before any price or stock push: it is what keeps a catalogue from
being duplicated. It reads the active, non-service Odoo `product.product` records (explicit
fields, keyset pages of READ_BATCH ids) and the shop's whole catalogue (`iter_variants`),
and pairs them:

1. by SKU (`default_code` ⇄ the shop's SKU, exact after trimming spaces), when the SKU is
   on exactly one record on each side;
2. then by barcode, among what is left, on the same rule.

Nothing is guessed. A SKU (or barcode) found more than once on either side matches
nothing, and every record that carries it is reported (`duplicate_sku_odoo`,
`duplicate_sku_shop`, `duplicate_barcode_*`). A pair whose other key disagrees (same SKU,
two different barcodes; same barcode, two different SKUs) is reported, not proposed
(`barcode_conflict`, `sku_conflict`). What is left is reported as `unmatched_odoo` /
`unmatched_shop`, or `missing_sku_*` when it has neither SKU nor barcode.

A proposal is a dry run: a SyncRun with flow "matching", whose `would_bind` items are the
pairs. Approving it matches again with fresh data and creates exactly the bindings that
are still proposed the same way (same pair, same key); anything else is reported and left
for the next proposal. An existing binding is never overwritten: a pair that contradicts
one is `binding_conflict`, and the database's unique constraints (both ways) hold even
against a concurrent approval.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from engagements.integration import runner
from engagements.integration.flows import runs
from engagements.integration.gateway.base import READ_BATCH, OdooGateway
from engagements.integration.models import Binding, Flow, SyncRun
from engagements.integration.shops.base import ShopClient, ShopVariant
from engagements.models import Engagement
from engagements.services import event_record
from portal.errors import DomainError
from portal.models import User

KIND = "product_variant"
ODOO_FIELDS = ["default_code", "barcode", "product_tmpl_id", "name", "display_name"]


@dataclass(frozen=True)
class OdooProduct:
    id: int
    sku: str
    barcode: str
    template_id: int | None
    name: str


@dataclass(frozen=True)
class Match:
    odoo: OdooProduct
    shop: ShopVariant
    by: str  # "sku" or "barcode"

    @property
    def key(self) -> str:
        return self.odoo.sku if self.by == "sku" else self.odoo.barcode


@dataclass(frozen=True)
class Problem:
    """A record (or a pair) that is not proposed, and why: `reasons` are report codes."""

    reasons: tuple[str, ...]
    odoo: OdooProduct | None = None
    shop: ShopVariant | None = None
    message: str = ""


@dataclass
class Proposal:
    matches: list[Match] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # duplicates and conflicts: to review
    unmatched: list[Problem] = field(default_factory=list)  # nothing on the other side: skipped


# ---------------------------------------------------------------- the matching rule (pure)


def _index(records: Iterable, key: str) -> dict[str, list]:
    found: dict[str, list] = defaultdict(list)
    for record in records:
        if getattr(record, key):
            found[getattr(record, key)].append(record)
    return found


def _shop_id(variant: ShopVariant) -> str:
    return variant.external_id


def match(odoo: list[OdooProduct], shop: list[ShopVariant]) -> Proposal:
    """PURE: pair Odoo products with shop items by SKU, then barcode; never a duplicate, never a guess."""
    proposal = Proposal()
    done_odoo: set[int] = set()  # matched or reported
    done_shop: set[str] = set()
    for key, label in (("sku", "SKU"), ("barcode", "barcode")):
        left_odoo = [o for o in odoo if o.id not in done_odoo]
        left_shop = [s for s in shop if _shop_id(s) not in done_shop]
        all_odoo, all_shop = _index(odoo, key), _index(shop, key)  # duplicates count over the whole side
        by_odoo, by_shop = _index(left_odoo, key), _index(left_shop, key)
        for value in sorted(set(by_odoo) | set(by_shop)):
            reasons = tuple(
                f"duplicate_{key}_{side}"
                for side, index in (("odoo", all_odoo), ("shop", all_shop))
                if len(index.get(value, [])) > 1
            )
            if reasons:
                for record in by_odoo.get(value, []):
                    proposal.problems.append(Problem(reasons, odoo=record, message=f"{label} {value}"))
                    done_odoo.add(record.id)
                for record in by_shop.get(value, []):
                    proposal.problems.append(Problem(reasons, shop=record, message=f"{label} {value}"))
                    done_shop.add(_shop_id(record))
                continue
            if value in by_odoo and value in by_shop:
                pair = Match(by_odoo[value][0], by_shop[value][0], key)
                _propose(proposal, pair)
                done_odoo.add(pair.odoo.id)
                done_shop.add(_shop_id(pair.shop))
    _unmatched(proposal, odoo, shop, done_odoo, done_shop)
    return proposal


def _propose(proposal: Proposal, pair: Match) -> None:
    """A pair whose other key is set on both sides and differs is evidence against it."""
    other = "barcode" if pair.by == "sku" else "sku"
    mine, theirs = getattr(pair.odoo, other), getattr(pair.shop, other)
    if mine and theirs and mine != theirs:
        label = "SKU" if pair.by == "sku" else "barcode"
        message = f"Same {label} {pair.key}, but {other} {mine} in Odoo and {theirs} in the shop"
        proposal.problems.append(Problem((f"{other}_conflict",), odoo=pair.odoo, shop=pair.shop, message=message))
    else:
        proposal.matches.append(pair)


def _unmatched(
    proposal: Proposal, odoo: list[OdooProduct], shop: list[ShopVariant], done_odoo: set[int], done_shop: set[str]
) -> None:
    for record in odoo:
        if record.id not in done_odoo:
            reason = "unmatched_odoo" if record.sku or record.barcode else "missing_sku_odoo"
            proposal.unmatched.append(Problem((reason,), odoo=record, message=record.sku or record.barcode))
    for variant in shop:
        if _shop_id(variant) not in done_shop:
            reason = "unmatched_shop" if variant.sku or variant.barcode else "missing_sku_shop"
            proposal.unmatched.append(Problem((reason,), shop=variant, message=variant.sku or variant.barcode))


# ---------------------------------------------------------------- reading both sides


def odoo_products(odoo: OdooGateway) -> list[OdooProduct]:
    """Active, non-service variants, READ_BATCH at a time by ascending id (keyset paging: no offset to
    shift while someone creates products)."""
    products: list[OdooProduct] = []
    last = 0
    while True:
        domain = [["active", "=", True], ["type", "!=", "service"], ["id", ">", last]]
        rows = odoo.search_read("product.product", domain, ODOO_FIELDS, limit=READ_BATCH, order="id asc")
        products += [_odoo_product(row) for row in rows]
        if len(rows) < READ_BATCH:
            return products
        last = rows[-1]["id"]


def _odoo_product(row: dict) -> OdooProduct:
    template = row.get("product_tmpl_id") or None
    return OdooProduct(
        id=row["id"],
        sku=(row.get("default_code") or "").strip(),
        barcode=(row.get("barcode") or "").strip(),
        template_id=template[0] if template else None,
        name=row.get("display_name") or row.get("name") or "",
    )


# ---------------------------------------------------------------- the report


def _describe(odoo: OdooProduct | None, shop: ShopVariant | None, **extra) -> dict:
    diff = dict(extra)
    if odoo is not None:
        diff.update(odoo_sku=odoo.sku, odoo_barcode=odoo.barcode, odoo_name=odoo.name)
    if shop is not None:
        diff.update(shop_sku=shop.sku, shop_barcode=shop.barcode, shop_name=shop.name, parent=shop.product_id)
        diff["shop_price"] = str(shop.price) if shop.price is not None else None
    return diff


def _report_problems(report: runs.Report, proposal: Proposal) -> None:
    for problem in proposal.problems:
        report.add(
            "review",
            kind=KIND,
            external_id=problem.shop.external_id if problem.shop else "",
            odoo_id=problem.odoo.id if problem.odoo else None,
            reason=",".join(problem.reasons),
            message=problem.message,
            diff=_describe(problem.odoo, problem.shop),
        )
    for problem in proposal.unmatched:
        report.add(
            "skipped",
            kind=KIND,
            external_id=problem.shop.external_id if problem.shop else "",
            odoo_id=problem.odoo.id if problem.odoo else None,
            reason=problem.reasons[0],
            message=problem.message,
            diff=_describe(problem.odoo, problem.shop),
        )


def _existing(engagement: Engagement) -> tuple[dict[int, Binding], dict[str, Binding]]:
    bindings = list(Binding.objects.filter(engagement=engagement, kind=KIND))
    return {b.odoo_id: b for b in bindings}, {b.external_id: b for b in bindings}


def _bindable(report: runs.Report, engagement: Engagement, proposal: Proposal) -> list[Match]:
    """The matches not bound yet; a match already bound is reported unchanged, one that contradicts an
    existing binding is reported for review."""
    by_odoo, by_external = _existing(engagement)
    free = []
    for pair in proposal.matches:
        where: dict[str, Any] = {"kind": KIND, "external_id": pair.shop.external_id, "odoo_id": pair.odoo.id}
        diff = _describe(pair.odoo, pair.shop, by=pair.by, key=pair.key)
        bound = by_odoo.get(pair.odoo.id) or by_external.get(pair.shop.external_id)
        if bound is None:
            free.append(pair)
        elif (bound.odoo_id, bound.external_id) == (pair.odoo.id, pair.shop.external_id):
            report.add("unchanged", reason="already_bound", diff=diff, **where)
        else:
            message = f"Already bound: Odoo {bound.odoo_id} ⇄ shop {bound.external_id}"
            report.add("review", reason="binding_conflict", message=message, diff=diff, **where)
    return free


def _plan(report: runs.Report, engagement: Engagement, proposal: Proposal) -> None:
    for pair in _bindable(report, engagement, proposal):
        report.add(
            "created",
            kind=KIND,
            external_id=pair.shop.external_id,
            odoo_id=pair.odoo.id,
            action="would_bind",
            reason="matched_by_barcode" if pair.by == "barcode" else "",
            message=f"{pair.odoo.name} ⇄ {pair.shop.name}",
            diff=_describe(pair.odoo, pair.shop, by=pair.by, key=pair.key),
        )
    _report_problems(report, proposal)
    report.counts["listed"] = len(report.items)


def _signature(odoo_id: int | None, external_id: str, diff: dict) -> tuple:
    """What an approval re-checks: the same pair, found by the same key with the same value."""
    return (odoo_id, external_id, diff.get("parent"), diff.get("by"), diff.get("key"))


def _apply(report: runs.Report, engagement: Engagement, proposal: Proposal, approved: set[tuple]) -> None:
    fresh = set()
    approved_pairs = {signature[:2] for signature in approved}
    changed = "The data changed since the proposal: not bound. Make a new proposal."
    for pair in _bindable(report, engagement, proposal):
        diff = _describe(pair.odoo, pair.shop, by=pair.by, key=pair.key)
        signature = _signature(pair.odoo.id, pair.shop.external_id, diff)
        fresh.add(signature)
        where: dict[str, Any] = {
            "kind": KIND,
            "external_id": pair.shop.external_id,
            "odoo_id": pair.odoo.id,
            "diff": diff,
        }
        if signature[:2] in approved_pairs and signature not in approved:  # the same pair, other evidence
            report.add("skipped", reason="proposal_changed", message=changed, **where)
        elif signature not in approved:
            message = "Not in the approved proposal: it appears in the next one."
            report.add("skipped", reason="not_in_proposal", message=message, **where)
        elif _bind(engagement, pair):
            report.add("created", action="bound", message=f"{pair.odoo.name} ⇄ {pair.shop.name}", **where)
        else:
            report.add("review", reason="binding_conflict", message="Bound meanwhile by someone else.", **where)
    for odoo_id, external_id, *_rest in sorted(approved - fresh, key=str):
        if not any(i.odoo_id == odoo_id and i.external_id == external_id for i in report.items):
            report.add(
                "skipped",
                kind=KIND,
                external_id=external_id,
                odoo_id=odoo_id,
                reason="proposal_changed",
                message=changed,
            )
    report.counts["listed"] = len(report.items)


def _bind(engagement: Engagement, pair: Match) -> bool:
    """Create one binding; False when one side got bound meanwhile (the unique constraints say so)."""
    try:
        with transaction.atomic():
            Binding.objects.create(
                engagement=engagement,
                kind=KIND,
                odoo_model="product.product",
                odoo_id=pair.odoo.id,
                external_id=pair.shop.external_id,
                external_parent_id=pair.shop.product_id if pair.shop.variant_id else "",
                sku=(pair.shop.sku or pair.odoo.sku)[:100],
            )
    except IntegrityError:
        return False
    return True


# ---------------------------------------------------------------- services


def _run(engagement: Engagement, *, dry_run: bool, body: Callable[[runs.Report, Proposal], None]) -> SyncRun:
    """Read both sides, match, let `body` fill the report (a run of flow "matching", through run_flow)."""

    def work(*, run: SyncRun, odoo: OdooGateway, shop: ShopClient) -> runs.Report:
        report = runs.Report()
        body(report, match(odoo_products(odoo), list(shop.iter_variants())))
        return report

    return runner.run_flow(engagement=engagement, flow=Flow.MATCHING, dry_run=dry_run, work=work)


def bindings_propose(*, engagement: Engagement) -> SyncRun:
    """A proposal: a dry run of flow "matching" that writes nothing but its report."""
    return _run(engagement, dry_run=True, body=lambda report, proposal: _plan(report, engagement, proposal))


def proposal_latest(engagement: Engagement) -> SyncRun | None:
    return SyncRun.objects.filter(engagement=engagement, flow=Flow.MATCHING, dry_run=True).first()


def bindings_apply(*, actor: User | None, engagement: Engagement, proposal: SyncRun) -> SyncRun:
    """Approve `proposal`: match again, bind the pairs that are still proposed the same way."""
    if proposal.engagement_id != engagement.pk or proposal.flow != Flow.MATCHING or not proposal.dry_run:
        raise DomainError(_("This is not a product matching proposal of this engagement."))
    if proposal.status not in (SyncRun.Status.SUCCEEDED, SyncRun.Status.PARTIAL):
        raise DomainError(_("Only a finished proposal can be approved."))
    approved = {_signature(i.odoo_id, i.external_id, i.diff) for i in proposal.items.filter(action="would_bind")}
    run = _run(engagement, dry_run=False, body=lambda report, fresh: _apply(report, engagement, fresh, approved))
    event_record(
        engagement,
        "integration.bindings_approved",
        actor=actor,
        client_visible=False,
        data={"proposal": str(proposal.public_id), "run": str(run.public_id), "bound": run.counts.get("created", 0)},
    )
    return run


def bindings_task(engagement_id: int, proposal_id: str | None = None, actor_id: int | None = None) -> str:
    """django-q2 entry point (the page queues it): a proposal, or the approval of `proposal_id`.
    Safe to run twice: an approval run again finds its bindings already made."""
    engagement = Engagement.objects.get(pk=engagement_id)
    try:
        if proposal_id is None:
            run = bindings_propose(engagement=engagement)
        else:
            proposal = SyncRun.objects.get(public_id=proposal_id, engagement=engagement)
            actor = User.objects.filter(pk=actor_id).first() if actor_id else None
            run = bindings_apply(actor=actor, engagement=engagement, proposal=proposal)
    except DomainError as refused:  # a matching run is already going, or the proposal is not approvable
        return f"products not run: {refused.message}"
    return f"products {run.status} {run.counts}"
