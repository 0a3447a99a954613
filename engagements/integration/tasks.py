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
