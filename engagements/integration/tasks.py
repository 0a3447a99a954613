"""django-q2 entry points of the integration: take ids, run one flow, safe to re-run."""

from engagements.integration import services
from engagements.models import Engagement
from portal.errors import DomainError


def sync_run(engagement_id: int, flow: str, dry_run: bool = False, trigger: str = "manual") -> str:
    engagement = Engagement.objects.get(pk=engagement_id)
    try:
        run = services.sync_run(engagement=engagement, flow=flow, dry_run=dry_run, trigger=trigger)
    except DomainError as refused:  # paused, or a run of this flow is already going: nothing to retry
        return f"{flow} not run: {refused.message}"
    return f"{run.flow} {run.status} {run.counts}"


def retry_due() -> str:
    """Every few minutes (schedule "integration.retry_due"): failed items whose back-off is over."""
    runs = services.retry_due()
    return f"{len(runs)} retry runs: " + ", ".join(f"{run.flow} {run.status}" for run in runs)
