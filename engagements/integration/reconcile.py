"""The nightly reconciliation: webhooks go missing and runs fail, so once a day, per engagement,
whatever the flows in scope are:

- orders: the recent days are listed again (`reconcile_days`) and any order Odoo lacks is imported;
- stock: every bound variant's quantity in the shop is compared with Odoo's; drift is pushed back
  (or only reported, with the stock option `correct_drift` off);
- bindings: each binding's Odoo record is looked up; one deleted in Odoo is set aside as orphaned
  and reported (flows/bindings.py).

Each part is an ordinary run (trigger "reconcile") with its report, through runner.run_flow.
"""

from __future__ import annotations

import logging

from engagements.integration import runner
from engagements.integration.models import Flow, FlowSettings, SyncRun
from engagements.models import Engagement
from portal.errors import DomainError

logger = logging.getLogger(__name__)
CHECKED_FLOWS = (Flow.ORDERS, Flow.STOCK)  # re-run in reconciliation mode when enabled


def reconcile(*, engagement: Engagement) -> list[SyncRun]:
    """The engagement's reconciliation runs: orders and stock when enabled, then the bindings check."""
    enabled = set(FlowSettings.objects.filter(engagement=engagement, enabled=True).values_list("flow", flat=True))
    runs = []
    for flow in [f for f in CHECKED_FLOWS if f in enabled] + [Flow.BINDINGS]:
        full = flow == Flow.STOCK  # every bound variant is compared with the shop
        try:
            runs.append(runner.run_flow(engagement=engagement, flow=flow, full=full, trigger=SyncRun.Trigger.RECONCILE))
        except DomainError as refused:  # paused or already running: tomorrow's pass takes it
            logger.info("reconciliation of %s %s not run: %s", engagement.code, flow, refused)
    return runs


def reconcile_all() -> list[SyncRun]:
    """Every engagement with a flow switched on."""
    engagements = Engagement.objects.filter(flow_settings__enabled=True).distinct()
    return [run for engagement in engagements for run in reconcile(engagement=engagement)]
