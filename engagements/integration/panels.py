"""The integration block of the engagement page (registered in IntegrationConfig.ready)."""

from engagements.integration.models import OdooConnection, ShopConnection, SyncRun
from engagements.models import Engagement
from engagements.panels import Panel
from portal.models import User


def integration_panel(engagement: Engagement, user: User) -> Panel | None:
    if engagement.status in ("lead", "diagnosis", "quoted", "cancelled"):
        return None
    return Panel(
        "integration/_panel.html",
        {
            "engagement": engagement,
            "odoo": OdooConnection.objects.filter(engagement=engagement).first(),
            "shop": ShopConnection.objects.filter(engagement=engagement).first(),
            "internal": user.is_internal,
            "last_run": SyncRun.objects.filter(engagement=engagement, dry_run=False, flow="orders")
            .order_by("-started_at")
            .first(),
        },
    )
