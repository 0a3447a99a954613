"""The bindings check (flow "bindings", run nightly by the reconciliation): each active binding's Odoo
record still exists. One deleted in Odoo is set aside as orphaned and reported, and the flows skip
it until someone links it again."""

from __future__ import annotations

from datetime import datetime
from itertools import groupby

from engagements.integration.flows.runs import Report
from engagements.integration.gateway.base import READ_BATCH, OdooGateway, batches
from engagements.integration.models import Binding, SyncRun
from engagements.integration.shops.base import ShopClient


def check_bindings(*, run: SyncRun, odoo: OdooGateway, shop: ShopClient, now: datetime, full: bool = False) -> Report:
    """Every active binding's Odoo record still exists: one read per model and 1,000 ids."""
    report = Report()
    active = Binding.objects.filter(engagement=run.engagement, state=Binding.State.ACTIVE).order_by("odoo_model", "pk")
    for model, group in groupby(active, key=lambda binding: binding.odoo_model):
        bindings = list(group)
        existing: set[int] = set()
        for chunk in batches([b.odoo_id for b in bindings], READ_BATCH):
            existing |= {row["id"] for row in odoo.read(model, chunk, ["id"], context={"active_test": False})}
        report.counts["listed"] += len(bindings)
        for binding in bindings:
            if binding.odoo_id in existing:
                report.counts["unchanged"] += 1
            else:
                message = f"{model} {binding.odoo_id} no longer exists in Odoo."
                report.orphaned(binding, kind=binding.kind, dry_run=run.dry_run, message=message)
    return report
