"""The integration block of the engagement page (registered in IntegrationConfig.ready)."""

from collections import Counter

from engagements.integration import labels, selectors
from engagements.integration.models import SyncRun
from engagements.models import Engagement
from engagements.panels import Panel
from portal.models import User

PROBLEMS = ("failed", "ambiguous", "review")


def integration_panel(engagement: Engagement, user: User) -> Panel | None:
    if engagement.status in ("lead", "diagnosis", "quoted", "cancelled"):
        return None
    last_run = selectors.run_list_for_user(user).filter(engagement=engagement, dry_run=False).first()
    odoo, shop = selectors.connections_for_user(user, engagement)
    return Panel(
        "integration/_panel.html",
        {
            "engagement": engagement,
            "odoo": odoo,
            "shop": shop,
            "internal": user.is_internal,
            "last_run": last_run,
            "attention": _attention(last_run),
        },
    )


def _attention(run: SyncRun | None) -> list[tuple[str, int]]:
    """The last run's problems in plain words, most frequent first (at most three kinds)."""
    if run is None or not any(run.counts.get(key) for key in PROBLEMS):
        return []
    codes = Counter(
        code.split(":", 1)[0]
        for reasons in run.items.filter(outcome__in=PROBLEMS).values_list("reason_code", flat=True)[:500]
        for code in (reasons or "unexpected_error").split(",")
    )
    return [(str(labels.REASONS.get(code, labels.OTHER_PROBLEM)), count) for code, count in codes.most_common(3)]
