"""Reads for integration pages, scoped through the engagements the user may see."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from engagements.integration.models import Flow, FlowSettings, Health, OdooConnection, ShopConnection, SyncRun
from engagements.models import Engagement
from engagements.panels import Flag
from engagements.selectors import engagement_list_for_user
from portal import clock
from portal.models import User


def run_list_for_user(user: User) -> QuerySet[SyncRun]:
    return SyncRun.objects.filter(engagement__in=engagement_list_for_user(user)).select_related("engagement")


def matching_run_list_for_user(user: User, engagement: Engagement) -> QuerySet[SyncRun]:
    """The engagement's product matching runs, newest first: proposals (dry runs) and approvals."""
    return run_list_for_user(user).filter(engagement=engagement, flow=Flow.MATCHING)


def odoo_connection_list_for_user(user: User) -> QuerySet[OdooConnection]:
    return OdooConnection.objects.filter(engagement__in=engagement_list_for_user(user))


def shop_connection_list_for_user(user: User) -> QuerySet[ShopConnection]:
    return ShopConnection.objects.filter(engagement__in=engagement_list_for_user(user))


def connections_for_user(user: User, engagement: Engagement) -> tuple[OdooConnection | None, ShopConnection | None]:
    """The engagement's Odoo and shop connections (None where there is none yet)."""
    return (
        odoo_connection_list_for_user(user).filter(engagement=engagement).first(),
        shop_connection_list_for_user(user).filter(engagement=engagement).first(),
    )


def flow_settings_for_user(user: User, engagement: Engagement, flow: str) -> FlowSettings | None:
    settings = FlowSettings.objects.filter(engagement__in=engagement_list_for_user(user))
    return settings.filter(engagement=engagement, flow=flow).first()


def shop_connection_for_webhook(token: str) -> ShopConnection | None:
    """The connection a webhook URL names (its unguessable token is the only key: no user here)."""
    return ShopConnection.objects.select_related("engagement").filter(webhook_token=token).first()


def worklist_flags(user: User, engagement_ids: list[int]) -> dict[int, list[Flag]]:
    """For the worklists (engagements.panels.register_flags): failing connections, and flows whose
    latest real run failed or left items for a person. Three queries whatever the number of runs."""
    if not user.is_internal or not engagement_ids:
        return {}
    flags: dict[int, list[Flag]] = {}
    for model, label in (
        (OdooConnection, _("Odoo connection failing")),
        (ShopConnection, _("Shop connection failing")),
    ):
        failing = model.objects.filter(engagement_id__in=engagement_ids, health=Health.FAILING)
        for pk in failing.values_list("engagement_id", flat=True):
            flags.setdefault(pk, []).append(Flag("connection", label, 4, "integration"))
    latest = SyncRun.objects.filter(engagement=OuterRef("engagement"), flow=OuterRef("flow"), dry_run=False)
    attention = (
        SyncRun.objects.filter(engagement_id__in=engagement_ids, dry_run=False)
        .exclude(flow="matching")
        .filter(status__in=[SyncRun.Status.FAILED, SyncRun.Status.PARTIAL])
        .filter(pk=Subquery(latest.order_by("-started_at", "-pk").values("pk")[:1]))
    )
    counted: dict[int, int] = {}
    for pk in attention.values_list("engagement_id", flat=True):
        counted[pk] = counted.get(pk, 0) + 1
    for pk, n in counted.items():
        label = ngettext("%(n)d flow's last run needs attention", "%(n)d flows' last runs need attention", n) % {"n": n}
        flags.setdefault(pk, []).append(Flag("runs", label, 3, "integration"))
    return flags


def runs_per_day(engagement_id: int, today: date, days: int = 14) -> list[tuple[date, int, int]]:
    """(day, runs that went well, runs that failed or left items for a person) for the last `days`
    days in the business time zone, dry runs and product matching left out. One query."""
    start = today - timedelta(days=days - 1)
    since = datetime.combine(start, time.min, tzinfo=clock.business_tz())
    runs = (
        SyncRun.objects.filter(engagement_id=engagement_id, dry_run=False, started_at__gte=since)
        .exclude(flow="matching")
        .exclude(status=SyncRun.Status.RUNNING)
        .values_list("started_at", "status")
    )
    counted = {start + timedelta(days=n): [0, 0] for n in range(days)}
    for started, status in runs:
        day = clock.local_date(started)
        if day in counted:
            counted[day][0 if status == SyncRun.Status.SUCCEEDED else 1] += 1
    return [(day, ok, bad) for day, (ok, bad) in counted.items()]
