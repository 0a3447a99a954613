"""Tasks and hooks the scale-out tests give to real clusters. They run in the cluster's processes,
which inherit SCALEOUT_CLUSTER (A or B) from the test that started them."""

import os
import time

from django.core.cache import cache
from django.db import connection


def _insert(key: str) -> str:
    cluster = os.environ.get("SCALEOUT_CLUSTER", "?")
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO scaleout_mark (key, cluster) VALUES (%s, %s)", [key, cluster])
    return cluster


def mark(key: str, pause: float = 0.0) -> str:
    """One row per execution, and one increment of a counter in the shared cache."""
    cluster = _insert(key)
    cache.add("scaleout:executions", 0)
    cache.incr("scaleout:executions")  # atomic in Redis, whichever process calls it
    time.sleep(pause)  # long enough that both clusters get a share of the queue
    return cluster


def note_cluster(task) -> None:
    """Result hook: called by the monitor of the cluster that ran the task, so it records where it ran."""
    _insert(task.id)
