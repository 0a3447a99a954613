"""Daily billing sweeps as django-q2 schedules (created by a migration, idempotent by name).

Times are on the business clock (see engagements.schedules): expiries just after the day they
fall on has ended, reminders in office hours. Webpay reconciliation runs every 15 minutes: an
abandoned payment is settled or closed well within Transbank's 7 days of status.
"""

TIMES = {"quote_expire_sweep": "01:15", "credit_expire_sweep": "01:20", "invoice_reminder_sweep": "09:00"}

SCHEDULES = [
    {"name": f"billing.{name}", "func": f"billing.tasks.{name}", "schedule_type": "D", "repeats": -1, "at": at}
    for name, at in TIMES.items()
]

SCHEDULES.append(
    {
        "name": "billing.webpay_reconcile_sweep",
        "func": "billing.tasks.webpay_reconcile_sweep",
        "schedule_type": "I",  # every `minutes`
        "minutes": 15,
        "repeats": -1,
    }
)
