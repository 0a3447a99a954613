"""django-q2 entry points of the books: take ids, run one pass, safe to re-run (a push is leased
and looked up in Odoo by its marker before any create)."""

from books import check, services
from books.models import BooksRun


def _said(run: BooksRun | None) -> str:
    return f"{run.kind} {run.status} {run.counts}" if run else "nothing to do (books off, paused or busy)"


def push(push_id: int) -> str:
    """After commit of the document or payment that made the push."""
    return _said(services.pushes_run(push_ids=[push_id]))


def retry_due() -> str:
    """Every 2 minutes (schedule "books.retry_due"): pushes whose back-off is over."""
    return _said(services.retry_due())


def pull() -> str:
    """Every 15 minutes (schedule "books.pull"): what Odoo changed, payments made there, PDFs."""
    return _said(services.pull_run())


def pull_now() -> str:
    return _said(services.pull_run(trigger=BooksRun.Trigger.MANUAL))


def connection_check() -> str:
    return str(check.connection_check().get("problem") or "ok")
