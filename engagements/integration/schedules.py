"""Per engagement and flow, the django-q2 schedule that runs the flow every N minutes.

Created, changed or removed idempotently by name from the flow settings; paused (repeats = 0,
which the django-q2 scheduler skips) while a connection of the engagement is failing, and
resumed when a connection test passes. A scheduled run that still starts while paused is
refused by `runner.run_flow` (FlowPaused) without calling anyone.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_q.models import Schedule

from engagements.integration.models import FlowSettings, Health, OdooConnection, ShopConnection
from engagements.models import Engagement

TASK = "engagements.integration.tasks.sync_run"
# Schedules of the whole integration (created by a migration, upserted by name).
SCHEDULES = [
    {
        "name": "integration.retry_due",
        "func": "engagements.integration.tasks.retry_due",
        "schedule_type": "I",  # minutes
        "minutes": 5,
        "repeats": -1,
    },
    {
        "name": "integration.reconcile",
        "func": "engagements.integration.tasks.reconcile_all",
        "schedule_type": "D",  # daily
        "repeats": -1,
        "at": "03:00",  # at night: the shops and Odoo are quiet
    },
]
EVERY_MINUTES = (15, 30, 60, 180, 360, 720, 1440)


def schedule_name(engagement: Engagement, flow: str) -> str:
    return f"integration.{engagement.code}.{flow}"


def paused(engagement: Engagement) -> bool:
    """A connection marked failing (refused keys) pauses the flows until a connection test passes."""
    return (
        OdooConnection.objects.filter(engagement=engagement, health=Health.FAILING).exists()
        or ShopConnection.objects.filter(engagement=engagement, health=Health.FAILING).exists()
    )


def sync_schedules(engagement: Engagement) -> None:
    """Make the engagement's schedules match its flow settings and connection health."""
    is_paused = paused(engagement)
    wanted = {
        settings.flow: settings.every_minutes
        for settings in FlowSettings.objects.filter(engagement=engagement, enabled=True, every_minutes__isnull=False)
        if settings.every_minutes is not None
    }
    prefix = schedule_name(engagement, "")
    Schedule.objects.filter(name__startswith=prefix).exclude(
        name__in=[schedule_name(engagement, flow) for flow in wanted]
    ).delete()
    for flow, minutes in wanted.items():
        name = schedule_name(engagement, flow)
        current = Schedule.objects.filter(name=name).first()
        repeats = 0 if is_paused else -1
        if current and (current.minutes, current.repeats) == (minutes, repeats):
            continue  # unchanged: keep its next_run
        Schedule.objects.update_or_create(
            name=name,
            defaults={
                "func": TASK,
                "args": f"{engagement.pk},{flow!r}",
                "kwargs": "trigger='schedule'",
                "schedule_type": Schedule.MINUTES,
                "minutes": minutes,
                "repeats": repeats,
                "next_run": timezone.now() + timedelta(minutes=minutes),
            },
        )
