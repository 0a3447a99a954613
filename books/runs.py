"""A pass of the worker over the books (push, read-back, check) and its report, item by item.

The same habits as the client integration's runs: one row per pass with its counts, the calls
made to Odoo and a summary; one item per thing done or refused, with a stable reason code that
pages translate (books/labels.py). One read-back at a time (a partial unique constraint).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from billing.models import Invoice
from books.models import BooksPush, BooksRun, BooksRunItem

COUNT_KEYS = ("created", "adopted", "updated", "recorded", "unchanged", "waiting", "failed", "attention")
STALE_AFTER = timedelta(minutes=30)  # a pass still "running" after this lost its worker


class PushStop(Exception):
    """Why a push stops short of done: a stable reason code and, for people, a message."""

    def __init__(self, code: str, message: str = ""):
        super().__init__(message or code)
        self.code, self.message = code, message


class PushWaits(PushStop):
    """Not an error: the push must wait (its invoice is not in Odoo yet, or still in draft there)."""


class NeedsAttention(PushStop):
    """A person must decide (a RUT on two partners, our number on someone else's invoice...)."""


@dataclass
class Report:
    counts: Counter = field(default_factory=Counter)
    items: list[BooksRunItem] = field(default_factory=list)

    def add(
        self,
        outcome: str,
        *,
        kind: str,
        action: str = "",
        push: BooksPush | None = None,
        invoice: Invoice | None = None,
        odoo_id: int | None = None,
        reason: str = "",
        message: str = "",
    ) -> None:
        self.counts[outcome] += 1
        self.items.append(
            BooksRunItem(
                push=push,
                invoice=invoice or (push.invoice if push else None),
                kind=kind,
                outcome=outcome,
                action=action or outcome,
                odoo_id=odoo_id,
                reason_code=reason[:64],
                message=message[:2000],
            )
        )


class RunInProgress(Exception):
    pass


def run_start(*, kind: str, trigger: str) -> BooksRun:
    """Start a pass; a read-back left "running" by a killed worker is closed as interrupted first."""
    BooksRun.objects.filter(
        kind=kind, status=BooksRun.Status.RUNNING, started_at__lt=timezone.now() - STALE_AFTER
    ).update(status=BooksRun.Status.FAILED, finished_at=timezone.now(), summary="interrupted: the worker stopped")
    try:
        with transaction.atomic():
            return BooksRun.objects.create(kind=kind, trigger=trigger)
    except IntegrityError as exc:
        raise RunInProgress from exc


def run_finish(*, run: BooksRun, report: Report, calls: int, summary: str = "", failed: bool = False) -> BooksRun:
    counts = {key: report.counts.get(key, 0) for key in COUNT_KEYS}
    problems = counts["failed"] + counts["attention"]
    if failed:
        run.status = BooksRun.Status.FAILED
    else:
        run.status = BooksRun.Status.PARTIAL if problems else BooksRun.Status.SUCCEEDED
    run.counts, run.odoo_calls, run.summary, run.finished_at = counts, calls, summary[:300], timezone.now()
    with transaction.atomic():
        for item in report.items:
            item.run = run
        BooksRunItem.objects.bulk_create(report.items)
        run.save(update_fields=["status", "counts", "odoo_calls", "summary", "finished_at"])
    return run
