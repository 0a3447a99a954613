"""Recurring django-q2 schedules owned by this app, created idempotently by name."""

SCHEDULES = [
    {
        "name": "engagements.client_wait_sweep",
        "func": "engagements.tasks.client_wait_sweep",
        "schedule_type": "D",  # daily
        "repeats": -1,
    },
]


def ensure_schedules(schedule_model, schedules: list[dict] = SCHEDULES) -> None:
    """Upsert by name (takes the model so migrations can pass the historical one)."""
    for spec in schedules:
        defaults = {k: v for k, v in spec.items() if k != "name"}
        schedule_model.objects.update_or_create(name=spec["name"], defaults=defaults)
