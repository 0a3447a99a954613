"""A run: one execution of one flow for one engagement, with its report.

One run per engagement and flow at a time: the database refuses a second
"running" row (partial unique constraint), so two workers cannot overlap.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from engagements.integration.errors import RunInProgress
from engagements.integration.models import Binding, FlowSettings, SyncCursor, SyncItem, SyncRun
from engagements.models import Engagement

COUNT_KEYS = ("listed", "created", "updated", "unchanged", "skipped", "postponed", "failed", "ambiguous", "review")
RETRY_LIMIT = 5  # attempts in a row; then the item needs a person
RETRY_BASE, RETRY_CAP = timedelta(minutes=5), timedelta(hours=6)


CURSOR_TIME = "%Y-%m-%dT%H:%M:%S"  # a shop-side cursor: a UTC time
DELETED_IN_ODOO = "The Odoo record no longer exists: the link is set aside until someone re-maps it."


def flow_options(engagement: Engagement | int, flow: str, defaults: Mapping[str, Any]) -> dict[str, Any]:
    """A flow's options: its `defaults`, with what the team stored for the engagement (or its id) over them."""
    stored = FlowSettings.objects.filter(engagement=engagement, flow=flow).values_list("options", flat=True).first()
    return {**defaults, **(stored or {})}


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(CURSOR_TIME)


def shop_window(
    engagement: Engagement, flow: str, options: dict, now: datetime, *, full: bool = False, days: int | None = None
) -> tuple[str, datetime, datetime]:
    """(cursor, window start, window end) of a flow that lists shop records changed since its cursor:
    from the cursor minus `overlap_minutes` up to a pinned `now`. A first or full pass starts the
    configured `initial_days` back; `days` asks for a pass over that many days, whatever the cursor."""
    cursor = SyncCursor.objects.filter(engagement=engagement, flow=flow, source="shop").first()
    start = now - timedelta(days=days or options["initial_days"])
    if cursor and not (full or days):
        start = datetime.fromisoformat(cursor.value).replace(tzinfo=UTC)
    return (cursor.value if cursor else ""), start - timedelta(minutes=options["overlap_minutes"]), now


def keep_shop_cursor(run: SyncRun, latest: datetime | None) -> None:
    """Move the flow's shop cursor to `latest` (the caller keeps it behind anything to list again);
    a dry run moves nothing."""
    run.cursor_after = stamp(latest) if latest else run.cursor_before
    if latest and not run.dry_run:
        SyncCursor.objects.update_or_create(
            engagement=run.engagement, flow=run.flow, source="shop", defaults={"value": run.cursor_after}
        )


def retry_delay(attempt: int, rng=random.random) -> timedelta:
    """Exponential back-off from 5 minutes, capped at 6 hours, with ±20 % jitter so that
    items that failed together do not come back together."""
    return min(RETRY_CAP, RETRY_BASE * 2 ** (attempt - 1)) * (0.8 + 0.4 * rng())


@dataclass
class Report:
    """What a run accumulates before it is saved (so a dry run writes nothing but its report)."""

    counts: Counter = field(default_factory=Counter)
    items: list[SyncItem] = field(default_factory=list)
    retries: list[SyncItem] = field(default_factory=list)  # failed items that may succeed later

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
        retry: bool = False,
    ) -> None:
        """Count one item and keep it for the report; `retry` brings it back on its own later."""
        self.counts[outcome] += 1
        item = SyncItem(
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
        self.items.append(item)
        if retry and external_id:
            self.retries.append(item)

    def orphaned(
        self,
        binding: Binding,
        *,
        kind: str,
        dry_run: bool,
        message: str = DELETED_IN_ODOO,
        action: str = "",
        external_id: str = "",
    ) -> None:
        """The binding's Odoo record was deleted: the binding is set aside (ORPHANED, so the flows skip it
        until someone links it again; not in a dry run) and the item is reported for review, under
        `external_id` when the report names the record otherwise than the binding does."""
        if not dry_run:
            Binding.objects.filter(pk=binding.pk).update(state=Binding.State.ORPHANED)
        self.add(
            "review",
            kind=kind,
            external_id=external_id or binding.external_id,
            odoo_id=binding.odoo_id,
            action=action,
            reason="odoo_record_deleted",
            message=message,
        )

    def would_update(self, binding: Binding, *, kind: str, before, after, reason: str = "") -> None:
        """A dry run's plan for one bound variant: the value it would push instead of `before`."""
        self.add(
            "updated",
            kind=kind,
            external_id=binding.external_id,
            odoo_id=binding.odoo_id,
            action="would_update",
            reason=reason,
            diff={"from": before, "to": after},
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
        raise RunInProgress() from exc


def _schedule_retries(run: SyncRun, report: Report) -> None:
    """Number each retryable failure among the failures in a row of its record, and set when it
    comes back; past RETRY_LIMIT it needs attention instead. A newer item of a record (this run's)
    supersedes its pending retries."""
    earlier = SyncItem.objects.filter(run__engagement=run.engagement, run__flow=run.flow, run__dry_run=False)
    external_ids = {item.external_id for item in report.items if item.external_id}
    if external_ids:
        earlier.filter(external_id__in=external_ids, next_retry_at__isnull=False).update(next_retry_at=None)
    now = timezone.now()
    for item in report.retries:
        previous = earlier.filter(kind=item.kind, external_id=item.external_id).order_by("-id").first()
        item.attempts = previous.attempts + 1 if previous and previous.outcome in ("failed", "ambiguous") else 1
        if item.attempts < RETRY_LIMIT:
            item.next_retry_at = now + retry_delay(item.attempts)
        elif item.outcome != "review":
            report.counts[item.outcome] -= 1
            report.counts["review"] += 1
            item.outcome = "review"
            item.reason_code = f"{item.reason_code},retries_exhausted:{item.attempts}"[:200]


def run_finish(*, run: SyncRun, report: Report, api_usage: dict, summary: str = "", failed: bool = False) -> SyncRun:
    with transaction.atomic():
        if not run.dry_run:
            _schedule_retries(run, report)
        counts = {key: report.counts.get(key, 0) for key in COUNT_KEYS}
        problems = counts["failed"] + counts["ambiguous"] + counts["review"]
        status = SyncRun.Status.PARTIAL if problems else SyncRun.Status.SUCCEEDED
        run.status = SyncRun.Status.FAILED if failed else status
        run.counts, run.api_usage, run.summary, run.finished_at = counts, api_usage, summary, timezone.now()
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
