"""A run: one execution of one flow for one engagement, with its report.

One run per engagement and flow at a time: the database refuses a second
"running" row (partial unique constraint), so two workers cannot overlap.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from engagements.integration.models import SyncItem, SyncRun
from engagements.models import Engagement
from portal.errors import DomainError

RUN_IN_PROGRESS = _("A run of this flow is already in progress.")
COUNT_KEYS = ("listed", "created", "updated", "unchanged", "skipped", "postponed", "failed", "ambiguous", "review")


@dataclass
class Report:
    """What a run accumulates before it is saved (so a dry run writes nothing but its report)."""

    counts: Counter = field(default_factory=Counter)
    items: list[SyncItem] = field(default_factory=list)

    def add(
        self,
        outcome: str,
        *,
        kind: str,
        external_id: str = "",
        odoo_id: int | None = None,
        action: str = "",
        reason: str = "",
        message: str = "",
        diff: dict | None = None,
        ambiguous: bool = False,
    ) -> None:
        self.counts[outcome] += 1
        self.items.append(
            SyncItem(
                outcome=outcome,
                kind=kind,
                external_id=str(external_id),
                odoo_id=odoo_id,
                action=action or outcome,
                reason_code=reason[:200],
                message=message[:2000],
                diff=diff or {},
                ambiguous=ambiguous,
            )
        )


def run_start(
    *, engagement: Engagement, flow: str, trigger: str = SyncRun.Trigger.MANUAL, dry_run: bool = False
) -> SyncRun:
    """Start a run; a run left "running" by a killed worker is closed as interrupted first."""
    stale = timezone.now() - timedelta(seconds=settings.INTEGRATION_RUN_STALE_SECONDS)
    SyncRun.objects.filter(
        engagement=engagement, flow=flow, status=SyncRun.Status.RUNNING, started_at__lt=stale
    ).update(status=SyncRun.Status.FAILED, finished_at=timezone.now(), summary="interrupted: the worker stopped")
    try:
        with transaction.atomic():
            return SyncRun.objects.create(engagement=engagement, flow=flow, trigger=trigger, dry_run=dry_run)
    except IntegrityError as exc:
        raise DomainError(RUN_IN_PROGRESS) from exc


def run_finish(*, run: SyncRun, report: Report, api_usage: dict, summary: str = "", failed: bool = False) -> SyncRun:
    counts = {key: report.counts.get(key, 0) for key in COUNT_KEYS}
    problems = counts["failed"] + counts["ambiguous"] + counts["review"]
    run.status = SyncRun.Status.FAILED if failed else (SyncRun.Status.PARTIAL if problems else SyncRun.Status.SUCCEEDED)
    run.counts, run.api_usage, run.summary, run.finished_at = counts, api_usage, summary, timezone.now()
    with transaction.atomic():
        for item in report.items:
            item.run = run
        SyncItem.objects.bulk_create(report.items)
        run.save(
            update_fields=[
                "status",
                "counts",
                "api_usage",
                "summary",
                "finished_at",
                "cursor_before",
                "cursor_after",
                "window_start",
                "window_end",
            ]
        )
    return run
