"""Recurring django-q2 schedules owned by this app, created idempotently by name.

A daily schedule may name the time it runs, `"at": "HH:MM"` on the business
clock (settings.TIME_ZONE): its first run is put at the next such moment and
django-q2 keeps the same wall-clock time from then on, across DST changes.
Without it a daily sweep would run at whatever hour the migration happened to
run, e-mails to clients included. Avoid 23:00-01:00: Chile changes its clocks
at midnight.
"""

from datetime import datetime, timedelta

from django.db import migrations

from portal import clock

SCHEDULES = [
    {
        "name": "engagements.client_wait_sweep",
        "func": "engagements.tasks.client_wait_sweep",
        "schedule_type": "D",  # daily
        "repeats": -1,
        "at": "08:00",  # its notices reach clients at the start of their day
    },
]


def next_at(at: str, now: datetime | None = None) -> datetime:
    """The first moment after `now` at which the business clock reads `at` ("HH:MM")."""
    local = clock.local(now)
    hour, minute = (int(part) for part in at.split(":"))
    candidate = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if candidate <= local:
        candidate += timedelta(days=1)  # wall-clock arithmetic: the same time the next day
    return candidate


def _runs_at(moment: datetime | None, at: str) -> bool:
    return moment is not None and clock.local(moment).strftime("%H:%M") == at


def ensure_schedules(schedule_model, schedules: list[dict] = SCHEDULES) -> None:
    """Upsert by name (takes the model so migrations can pass the historical one). A schedule
    with "at" whose next run is at another time of day is moved to the next `at`."""
    for spec in schedules:
        fields = {k: v for k, v in spec.items() if k not in ("name", "at")}
        schedule, _created = schedule_model.objects.update_or_create(name=spec["name"], defaults=fields)
        if "at" in spec and not _runs_at(schedule.next_run, spec["at"]):
            schedule.next_run = next_at(spec["at"])
            schedule.save(update_fields=["next_run"])


def ensure_operation(schedules: list[dict]) -> migrations.RunPython:
    """A migration operation that applies `schedules` (creates them, or moves them to their time)."""

    def apply(apps, schema_editor) -> None:
        ensure_schedules(apps.get_model("django_q", "Schedule"), schedules)

    return migrations.RunPython(apply, migrations.RunPython.noop)
