"""Reads for integration pages, scoped through the engagements the user may see."""

from __future__ import annotations

from django.db.models import QuerySet

from engagements.integration.models import Flow, FlowSettings, OdooConnection, ShopConnection, SyncRun
from engagements.models import Engagement
from engagements.selectors import engagement_list_for_user
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
