"""The nightly reconciliation (research §5.3 `reconcile`): webhooks go missing and runs fail, so
once a day, per engagement, whatever the flows in scope are:

- orders: the recent days are listed again (`reconcile_days`) and any order Odoo lacks is imported;
- stock: every bound variant's quantity in the shop is compared with Odoo's; drift is pushed back
  (or only reported, with the stock option `correct_drift` off);
- bindings: each binding's Odoo record is looked up; one deleted in Odoo is set aside as orphaned
  and reported (the flows then skip it until someone links it again).

Each part is an ordinary run (trigger "reconcile") with its report; the bindings check is the
`bindings` flow.
"""

from __future__ import annotations

import logging
from datetime import datetime
from itertools import groupby

from engagements.integration.flows.runs import Report
from engagements.integration.gateway.base import OdooGateway
from engagements.integration.models import Binding, FlowSettings, SyncRun
from engagements.integration.shops.base import ShopClient
from engagements.models import Engagement
from portal.errors import DomainError

logger = logging.getLogger(__name__)
READ_BATCH = 1000
CHECKED_FLOWS = ("orders", "stock")  # re-run in reconciliation mode when enabled


def check_bindings(*, run: SyncRun, odoo: OdooGateway, shop: ShopClient, now: datetime, full: bool = False) -> Report:
    """Every active binding's Odoo record still exists: one read per model and 1,000 ids."""
    report = Report()
    active = Binding.objects.filter(engagement=run.engagement, state=Binding.State.ACTIVE).order_by("odoo_model", "pk")
    for model, group in groupby(active, key=lambda binding: binding.odoo_model):
        bindings = list(group)
        existing: set[int] = set()
        for start in range(0, len(bindings), READ_BATCH):
            ids = [b.odoo_id for b in bindings[start : start + READ_BATCH]]
            existing |= {row["id"] for row in odoo.read(model, ids, ["id"], context={"active_test": False})}
        report.counts["listed"] += len(bindings)
        for binding in bindings:
            if binding.odoo_id in existing:
                report.counts["unchanged"] += 1
                continue
            if not run.dry_run:
                Binding.objects.filter(pk=binding.pk).update(state=Binding.State.ORPHANED)
            report.add(
                "review",
                kind=binding.kind,
                external_id=binding.external_id,
                odoo_id=binding.odoo_id,
                reason="odoo_record_deleted",
                message=f"{model} {binding.odoo_id} no longer exists in Odoo.",
            )
    return report


def reconcile(*, engagement: Engagement) -> list[SyncRun]:
    """The engagement's reconciliation runs: orders and stock when enabled, then the bindings check."""
    from engagements.integration import services  # services registers this module's flow

    enabled = set(FlowSettings.objects.filter(engagement=engagement, enabled=True).values_list("flow", flat=True))
    runs = []
    for flow in [f for f in CHECKED_FLOWS if f in enabled] + ["bindings"]:
        try:
            full = flow == "stock"  # every bound variant is compared with the shop
            runs.append(
                services.sync_run(engagement=engagement, flow=flow, full=full, trigger=SyncRun.Trigger.RECONCILE)
            )
        except DomainError as refused:  # paused or already running: tomorrow's pass takes it
            logger.info("reconciliation of %s %s not run: %s", engagement.code, flow, refused)
    return runs


def reconcile_all() -> list[SyncRun]:
    """Every engagement with a flow switched on."""
    engagements = Engagement.objects.filter(flow_settings__enabled=True).distinct()
    return [run for engagement in engagements for run in reconcile(engagement=engagement)]
