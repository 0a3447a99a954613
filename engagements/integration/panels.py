"""The integration block of the engagement page (registered in IntegrationConfig.ready)."""

from collections import Counter

from django.db.models import OuterRef, Subquery

from engagements.integration import labels
from engagements.integration.models import OdooConnection, ShopConnection, SyncRun
from engagements.models import Engagement
from engagements.panels import Panel
from portal.models import User

PROBLEMS = ("failed", "ambiguous", "review")


RUN_FIELDS = ("pk", "status", "flow", "started_at", "counts", "summary")


def page_annotations(queryset, user: User):
    """The panel's figures as subqueries of the engagement page's own query (engagements.panels
    .register_annotations): the connections' health and the last real run, no query of their own."""
    last = SyncRun.objects.filter(engagement=OuterRef("pk"), dry_run=False).order_by("-started_at", "-pk")
    odoo = OdooConnection.objects.filter(engagement=OuterRef("pk"))
    shop = ShopConnection.objects.filter(engagement=OuterRef("pk"))
    return queryset.annotate(
        integration_odoo=Subquery(odoo.values("health")[:1]),
        integration_shop=Subquery(shop.values("health")[:1]),
        integration_platform=Subquery(shop.values("platform")[:1]),
        **{f"integration_run_{name}": Subquery(last.values(name)[:1]) for name in RUN_FIELDS},
    )


def _from_annotations(engagement: Engagement) -> tuple:
    odoo = OdooConnection(health=engagement.integration_odoo) if engagement.integration_odoo else None
    shop = (
        ShopConnection(health=engagement.integration_shop, platform=engagement.integration_platform)
        if engagement.integration_shop
        else None
    )
    run = None
    if engagement.integration_run_pk:
        run = SyncRun(**{name: getattr(engagement, f"integration_run_{name}") for name in RUN_FIELDS})
        run.engagement_id = engagement.pk
    return odoo, shop, run


def integration_panel(engagement: Engagement, user: User) -> Panel | None:
    if engagement.status in ("lead", "diagnosis", "quoted", "cancelled"):
        return None
    if hasattr(engagement, "integration_odoo"):
        odoo, shop, last_run = _from_annotations(engagement)
    else:
        odoo = OdooConnection.objects.filter(engagement=engagement).first()
        shop = ShopConnection.objects.filter(engagement=engagement).first()
        last_run = SyncRun.objects.filter(engagement=engagement, dry_run=False).order_by("-started_at").first()
    return Panel(
        "integration/_panel.html",
        {
            "engagement": engagement,
            "odoo": odoo,
            "shop": shop,
            "internal": user.is_internal,
            "last_run": last_run,
            "problems": sum(last_run.counts.get(key) or 0 for key in PROBLEMS) if last_run else 0,
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
