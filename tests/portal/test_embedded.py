"""Embedded mode: SQLite file with WAL and IMMEDIATE transactions.

`make test` runs these with DATABASE_URL unset, so the default database is
the SQLite file the settings describe.
"""

import threading

import pytest
from django.db import OperationalError, connection, connections, transaction

from portal.models import AuditEvent

pytestmark = [pytest.mark.embedded, pytest.mark.django_db(transaction=True)]
THREADS, WRITES = 8, 50


def test_it_runs_on_sqlite_with_wal_and_immediate_transactions():
    assert connection.vendor == "sqlite"
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
    assert connection.settings_dict["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_eight_concurrent_writers_get_no_database_is_locked_error():
    errors: list[str] = []
    barrier = threading.Barrier(THREADS)

    def writer(n: int) -> None:
        try:
            barrier.wait()
            for i in range(WRITES):
                try:
                    # Read then write in one transaction: the pattern that fails
                    # with "database is locked" under DEFERRED transactions.
                    with transaction.atomic():
                        seen = AuditEvent.objects.filter(code="test.write").count()
                        AuditEvent.objects.create(code="test.write", target=f"{n}-{i}", data={"seen": seen})
                except OperationalError as exc:
                    errors.append(str(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert AuditEvent.objects.filter(code="test.write").count() == THREADS * WRITES
