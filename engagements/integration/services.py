"""Writes the integration pages ask for, besides the connections (connections.py): a flow's settings,
and runs queued for the worker (a person waits on the page, which follows the run)."""

from __future__ import annotations

from django.db import transaction
from django_q.tasks import async_task

from engagements.integration import schedules
from engagements.integration.errors import RunInProgress
from engagements.integration.models import Flow, FlowSettings, SyncRun
from engagements.models import Engagement
from engagements.services import event_record
from portal.models import User

RUN_TASK = "engagements.integration.tasks.sync_run"
MATCHING_TASK = "engagements.integration.matching.bindings_task"


@transaction.atomic
def flow_settings_save(
    *,
    actor: User,
    engagement: Engagement,
    flow: str,
    enabled: bool,
    options: dict,
    every_minutes: int | None = None,
) -> None:
    """The form's options replace theirs; options the form does not show (set by the team) are kept.
    `every_minutes` schedules the flow (None: run by hand only)."""
    current = FlowSettings.objects.filter(engagement=engagement, flow=flow).values_list("options", flat=True).first()
    FlowSettings.objects.update_or_create(
        engagement=engagement,
        flow=flow,
        defaults={"enabled": enabled, "options": {**(current or {}), **options}, "every_minutes": every_minutes},
    )
    schedules.sync_schedules(engagement)
    event_record(
        engagement,
        "integration.flow_settings_saved",
        actor=actor,
        client_visible=False,
        data={"flow": flow, "enabled": enabled, "every_minutes": every_minutes},
    )


def _queue(engagement: Engagement, flow: str, task: str, *args: object) -> None:
    """Queue `task` after commit, unless a run of `flow` is going on (RunInProgress: the worker would
    refuse it anyway, and the person is told now)."""
    if SyncRun.objects.filter(engagement=engagement, flow=flow, status=SyncRun.Status.RUNNING).exists():
        raise RunInProgress()
    transaction.on_commit(lambda: async_task(task, engagement.pk, *args))


def run_request(*, engagement: Engagement, flow: str, dry_run: bool) -> None:
    """A run (or a dry run) of a flow, for the worker."""
    _queue(engagement, flow, RUN_TASK, flow, dry_run)


def matching_request(*, engagement: Engagement, proposal: SyncRun | None = None, actor: User | None = None) -> None:
    """A product matching proposal, or the approval of `proposal` by `actor`, for the worker."""
    args = () if proposal is None else (str(proposal.public_id), actor.pk if actor else None)
    _queue(engagement, Flow.MATCHING, MATCHING_TASK, *args)
