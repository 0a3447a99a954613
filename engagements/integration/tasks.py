"""django-q2 entry points of the integration: take ids, run one flow, safe to re-run."""

from engagements.integration import services
from engagements.models import Engagement


def sync_run(engagement_id: int, flow: str, dry_run: bool = False, trigger: str = "manual") -> str:
    engagement = Engagement.objects.get(pk=engagement_id)
    run = services.sync_run(engagement=engagement, flow=flow, dry_run=dry_run, trigger=trigger)
    return f"{run.flow} {run.status} {run.counts}"
