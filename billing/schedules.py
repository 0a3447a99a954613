"""Daily billing sweeps as django-q2 schedules (created by a migration, idempotent by name).

Times are on the business clock (see engagements.schedules): expiries just after the day they
fall on has ended, reminders in office hours.
"""

TIMES = {"quote_expire_sweep": "01:15", "credit_expire_sweep": "01:20", "invoice_reminder_sweep": "09:00"}

SCHEDULES = [
    {"name": f"billing.{name}", "func": f"billing.tasks.{name}", "schedule_type": "D", "repeats": -1, "at": at}
    for name, at in TIMES.items()
]
