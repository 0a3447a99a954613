"""A schedule that is due fires once when two clusters share the database, with either broker.

django-q2's scheduler reads the due schedules with SELECT ... FOR UPDATE, creates each task and moves
`next_run` in the same transaction: a second scheduler waits for the lock, then PostgreSQL re-checks
`next_run < now` on the updated row and skips it. The test holds the lock itself until both clusters'
schedulers are queued behind it, so the two really run at the same moment.
"""

import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone
from django_q.models import Schedule, Task

from tests.integration.test_crash import _wait
from tests.scaleout.conftest import LABELS, clusters

pytestmark = pytest.mark.django_db(transaction=True)


def _schedulers_waiting() -> int:
    """Database sessions of other processes waiting for a lock on the schedule table."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # else the view is frozen for this transaction
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND wait_event_type = 'Lock' AND query LIKE '%django_q_schedule%'"
        )
        return cursor.fetchone()[0]


@pytest.mark.parametrize("broker", ["redis", "orm"])
def test_a_due_schedule_fires_once_with_two_clusters(broker, redis_url, marks):
    assert connection.vendor == "postgresql", "the scheduler's row lock needs a shared server database"
    Schedule.objects.all().delete()  # only ours is due (the app's own ones come from migrations)
    Schedule.objects.create(
        name="scaleout.due",
        func="tests.scaleout.tasks.mark",
        args="'scheduled'",
        schedule_type=Schedule.MINUTES,
        minutes=10,
        repeats=-1,
        next_run=timezone.now() - timedelta(minutes=1),
    )
    with clusters(REDIS_URL=redis_url if broker == "redis" else ""):
        with transaction.atomic():
            Schedule.objects.select_for_update().get(name="scaleout.due")
            # Each cluster's guard loop calls the scheduler about 30 s after it starts.
            queued = _wait(lambda: _schedulers_waiting() == len(LABELS), 50)
        fired = _wait(lambda: bool(marks()), 10)
        time.sleep(2)  # a second firing would have run by now
    assert queued, "the two schedulers never waited on the due schedule together"
    assert fired, "the schedule never fired"
    (key, cluster), *more = marks()
    print(f"{broker} broker: the schedule fired on cluster {cluster}")
    assert key == "scheduled" and not more  # once, not once per cluster
    assert Task.objects.filter(group="scaleout.due").count() == 1
    assert Schedule.objects.get(name="scaleout.due").next_run > timezone.now()
