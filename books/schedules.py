"""The books' schedules (created by a migration, upserted by name).

Pushes retry every 2 minutes once their back-off is over; the read-back runs every 15 minutes
(a payment reconciled in Odoo reaches the client's balance within a quarter of an hour).
"""

SCHEDULES = [
    {
        "name": "books.retry_due",
        "func": "books.tasks.retry_due",
        "schedule_type": "I",  # every `minutes`
        "minutes": 2,
        "repeats": -1,
    },
    {
        "name": "books.pull",
        "func": "books.tasks.pull",
        "schedule_type": "I",
        "minutes": 15,
        "repeats": -1,
    },
]
