"""django-q2 entry points of the integration: take ids, run one flow, safe to re-run."""

from engagements.integration import connections, reconcile, runner, webhooks
from engagements.models import Engagement
from portal.errors import DomainError
from portal.models import User


def sync_run(engagement_id: int, flow: str, dry_run: bool = False, trigger: str = "manual") -> str:
    engagement = Engagement.objects.get(pk=engagement_id)
    try:
        run = runner.run_flow(engagement=engagement, flow=flow, dry_run=dry_run, trigger=trigger)
    except DomainError as refused:  # paused, or a run of this flow is already going: nothing to retry
        return f"{flow} not run: {refused.message}"
    return f"{run.flow} {run.status} {run.counts}"


def retry_due() -> str:
    """Every few minutes (schedule "integration.retry_due"): failed items whose back-off is over,
    and webhooks left waiting (their flow was paused or busy)."""
    runs = runner.retry_due()
    drained = webhooks.drain_stale()
    done = ", ".join(f"{run.flow} {run.status}" for run in runs)
    return f"{len(runs)} retry runs: {done}; webhooks left waiting: {dict(drained)}"


def inbox_drain(engagement_id: int) -> str:
    """After each stored webhook (and from the retry schedule): process the engagement's NEW inbox events."""
    engagement = Engagement.objects.filter(pk=engagement_id).first()
    if engagement is None:
        return "engagement gone"
    return str(dict(webhooks.inbox_drain(engagement=engagement)))


def reconcile_all() -> str:
    """Nightly (schedule "integration.reconcile"): orders re-listed, stock drift, deleted Odoo records."""
    runs = reconcile.reconcile_all()
    return f"{len(runs)} reconciliation runs: " + ", ".join(f"{run.flow} {run.status}" for run in runs)


def connection_check(kind: str, connection_id: int, actor_id: int | None = None) -> str:
    """ "Test connection" (kind "odoo" or "shop"): the check a person waits for, its state polled by the page."""
    actor = User.objects.filter(pk=actor_id).first() if actor_id else None
    verdict = connections.connection_check(kind=kind, connection_id=connection_id, actor=actor)
    return "connection gone" if verdict is None else f"{kind} check: {verdict.get('problem') or 'ok'}"
