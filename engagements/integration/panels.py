"""The integration block of the engagement page (registered in IntegrationConfig.ready)."""

import json
from collections import Counter
from datetime import UTC, datetime

from django.db.models import OuterRef, Subquery
from django.db.models.functions import JSONObject

from engagements.integration import labels, selectors
from engagements.integration.models import OdooConnection, ShopConnection, SyncRun
from engagements.models import Engagement
from engagements.panels import Panel
from portal.models import User

PROBLEMS = ("failed", "ambiguous", "review")


RUN_FIELDS = ("pk", "status", "flow", "started_at", "summary")


def page_annotations(queryset, user: User):
    """The panel's figures as subqueries of the engagement page's own query (engagements.panels
    .register_annotations): each connection's health and the last real run, as three small JSON
    objects (each subquery costs as much to build as a query; three, not nine)."""
    last = SyncRun.objects.filter(engagement=OuterRef("pk"), dry_run=False).order_by("-started_at", "-pk")
    odoo = OdooConnection.objects.filter(engagement=OuterRef("pk"))
    shop = ShopConnection.objects.filter(engagement=OuterRef("pk"))
    run = JSONObject(**{name: name for name in RUN_FIELDS}, counts="counts")
    return queryset.annotate(
        integration_odoo=Subquery(odoo.values("health")[:1]),
        integration_shop=Subquery(shop.annotate(j=JSONObject(health="health", platform="platform")).values("j")[:1]),
        integration_run=Subquery(last.annotate(j=run).values("j")[:1]),
    )


def _json(value) -> dict:
    """A JSON object from the database: PostgreSQL gives it parsed, SQLite as text (and a JSON
    column inside it as text again)."""
    return json.loads(value) if isinstance(value, str) else (value or {})


def _from_annotations(engagement: Engagement) -> tuple:
    health = getattr(engagement, "integration_odoo")  # noqa: B009 (set by page_annotations, unknown to the model)
    odoo = OdooConnection(health=health) if health else None
    found = _json(getattr(engagement, "integration_shop"))  # noqa: B009
    shop = ShopConnection(health=found["health"], platform=found["platform"]) if found else None
    found = _json(getattr(engagement, "integration_run"))  # noqa: B009
    run = None
    if found:
        started = datetime.fromisoformat(found["started_at"])
        run = SyncRun(
            pk=found["pk"],
            status=found["status"],
            flow=found["flow"],
            summary=found["summary"],
            started_at=started if started.tzinfo else started.replace(tzinfo=UTC),
            counts=_json(found["counts"]),
        )
        run.engagement_id = engagement.pk
    return odoo, shop, run


def integration_panel(engagement: Engagement, user: User) -> Panel | None:
    if engagement.status in ("lead", "diagnosis", "quoted", "cancelled"):
        return None
    if hasattr(engagement, "integration_odoo"):
        odoo, shop, last_run = _from_annotations(engagement)
    else:
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
