"""Reads for integration pages, scoped through the engagements the user may see."""

from django.db.models import QuerySet

from engagements.integration.models import SyncRun
from engagements.selectors import engagement_list_for_user
from portal.models import User


def run_list_for_user(user: User) -> QuerySet[SyncRun]:
    return SyncRun.objects.filter(engagement__in=engagement_list_for_user(user)).select_related("engagement")
