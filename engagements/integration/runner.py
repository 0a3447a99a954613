"""Runs: the registry of flows and the one wrapper every run goes through, whoever starts it (a person,
a schedule, a webhook, the retries, the reconciliation, product matching).

`run_flow` refuses a paused flow (`FlowPaused`, except for a person's run) and a second run of the
same flow (`RunInProgress`, from the database's constraint), opens the engagement's Odoo gateway and
shop client as context managers (both closed however the run ends), lets the flow's work fill the
report, and always finishes the run: a connection failure ends it as failed with its reason (and a
refused key marks the connection failing, which pauses the schedules), any other exception as an
"unexpected_error", never left "running". Calls made to each side go into the run's usage.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Protocol

from django.db import transaction
from django.utils import timezone

from engagements.integration import clients, schedules
from engagements.integration.errors import FlowPaused, IntegrationError, PermanentError
from engagements.integration.flows import bindings, customers, orders, prices, products, runs, stock
from engagements.integration.flows.runs import Report
from engagements.integration.gateway.base import OdooGateway
from engagements.integration.models import Flow, Health, OdooConnection, ShopConnection, SyncItem, SyncRun
from engagements.integration.shops.base import ShopClient
from engagements.models import Engagement
from portal.errors import DomainError

logger = logging.getLogger(__name__)


class Work(Protocol):
    """What a run does with its gateway and shop client: fills and returns its report."""

    def __call__(self, *, run: SyncRun, odoo: OdooGateway, shop: ShopClient) -> Report: ...


FLOWS: dict[str, Callable[..., Report]] = {
    Flow.ORDERS: orders.import_orders,
    Flow.STOCK: stock.export_stock,
    Flow.PRICES: prices.export_prices,
    Flow.CUSTOMERS: customers.import_customers,
    Flow.BINDINGS: bindings.check_bindings,
    Flow.PRODUCTS: products.export_products,
}


def registered(
    flow: str, *, now: datetime | None = None, full: bool = False, external_ids: list[str] | None = None
) -> Work:
    """The registered flow's work. `full` ignores the cursor: every bound variant (stock), every
    order of the configured days (orders). `external_ids` limits it to those shop records (webhooks
    and retries name them), each fetched again."""
    if flow not in FLOWS:
        raise PermanentError(f"The {flow} flow comes with the next integration step.", code="flow_unsupported")
    named = {} if external_ids is None else {"external_ids": external_ids}
    return partial(FLOWS[flow], now=now or timezone.now(), full=full, **named)


def run_flow(
    *,
    engagement: Engagement,
    flow: str,
    dry_run: bool = False,
    full: bool = False,
    trigger: str = SyncRun.Trigger.MANUAL,
    now: datetime | None = None,
    external_ids: list[str] | None = None,
    work: Work | None = None,
) -> SyncRun:
    """Run `work` (by default the registered flow) now and keep its report; see the module docstring."""
    work = work or registered(flow, now=now, full=full, external_ids=external_ids)
    if trigger != SyncRun.Trigger.MANUAL and schedules.paused(engagement):
        raise FlowPaused()
    run = runs.run_start(engagement=engagement, flow=flow, trigger=trigger, dry_run=dry_run)
    report, failure, warnings = Report(), "", []
    usage = {"odoo_calls": 0, "shop_calls": 0}
    try:
        with clients.odoo_gateway_for(engagement) as odoo, clients.shop_client_for(engagement) as shop:
            try:
                report = work(run=run, odoo=odoo, shop=shop)
            finally:
                usage = {"odoo_calls": odoo.calls, "shop_calls": shop.calls}
                warnings = list(shop.warnings)  # e.g. Shopify's 60-day order window
                if not dry_run:
                    clients.save_shop_state(engagement, shop)
    except IntegrationError as error:
        failure = f"{error.code}: {error}"
        _mark_unhealthy(engagement, error)
    except Exception as error:  # never leave a run "running": that would block the flow
        logger.exception("%s run %s failed", flow, run.public_id)
        failure = f"unexpected_error: {type(error).__name__}"
    summary = failure or ", ".join(warnings)  # a warning is read like a failure's code, the run stands
    return runs.run_finish(run=run, report=report, api_usage=usage, summary=summary, failed=bool(failure))


def _mark_unhealthy(engagement: Engagement, error: IntegrationError) -> None:
    """Revoked keys or a refused login pause the flows instead of retrying into a storm."""
    if error.code in ("odoo_auth", "odoo_database"):
        OdooConnection.objects.filter(engagement=engagement).update(health=Health.FAILING)
    if error.code == "shop_auth":
        ShopConnection.objects.filter(engagement=engagement).update(health=Health.FAILING)
    schedules.sync_schedules(engagement)


def retry_due(*, now: datetime | None = None) -> list[SyncRun]:
    """Bring back the items whose retry is due: one run per engagement and flow, limited to them.
    They are claimed first (moved to their next back-off), so a second worker, or a run that
    cannot start (paused, already running, connection down), leaves them for a later turn."""
    now = now or timezone.now()
    due: dict[tuple[int, str], list[str]] = defaultdict(list)
    with transaction.atomic():
        items = SyncItem.objects.select_for_update(skip_locked=True).filter(next_retry_at__lte=now)
        for item in items.select_related("run"):
            due[(item.run.engagement_id, item.run.flow)].append(item.external_id)
            item.next_retry_at = now + runs.retry_delay(item.attempts + 1)
            item.save(update_fields=["next_retry_at"])
    done = []
    for (engagement_id, flow), external_ids in due.items():
        engagement = Engagement.objects.get(pk=engagement_id)
        try:
            done.append(run_flow(engagement=engagement, flow=flow, trigger="retry", external_ids=external_ids))
        except DomainError:
            continue  # paused or running: the items come back at their next turn
    return done
