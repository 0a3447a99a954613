"""Daily billing sweeps as django-q2 schedules (created by a migration, idempotent by name)."""

SCHEDULES = [
    {"name": f"billing.{name}", "func": f"billing.tasks.{name}", "schedule_type": "D", "repeats": -1}
    for name in ("quote_expire_sweep", "credit_expire_sweep", "invoice_reminder_sweep")
]
