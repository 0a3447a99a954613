"""Persistent database connections survive a PostgreSQL restart: the first request after it is
served (CONN_HEALTH_CHECKS), not a 500. A real gunicorn worker keeps its connection between the
two requests (DB_CONN_MAX_AGE), and the test's own PostgreSQL cluster is really restarted."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from django.db import connection

from engagements import services
from tests.integration.test_crash import _wait
from tests.portal.test_health import _free_port

ROOT = Path(__file__).resolve().parents[2]


def _get(url: str) -> int | None:
    try:
        return httpx.get(url, timeout=10).status_code
    except httpx.HTTPError:
        return None


def _backends() -> set[int]:
    """Process ids of the connections to the test database, other than this one."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.django_db(transaction=True)  # the web process must see the published service page
def test_the_first_request_after_a_postgresql_restart_succeeds(tmp_path):
    assert connection.vendor == "postgresql" and os.environ.get("PG_TMP"), "runs on scripts/test.sh's cluster"
    services.service_publish_catalogue()
    db, port = connection.settings_dict, _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings_test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "DB_CONN_MAX_AGE": "600",  # as in production: the worker keeps its connection
    }
    log = tmp_path / "gunicorn.log"
    gunicorn = ["-m", "gunicorn", "portal.wsgi", "--workers", "1", "--no-control-socket", "--error-logfile", str(log)]
    web = subprocess.Popen(
        [sys.executable, *gunicorn, "--bind", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    page = f"http://127.0.0.1:{port}/servicio/"
    try:
        assert _wait(lambda: _get(page) == 200, 45), log.read_text()
        assert _get(page) == 200 and len(_backends()) == 1  # one persistent connection, kept
        connection.close()
        subprocess.run(["scripts/pg-throwaway.sh", "restart", os.environ["PG_TMP"]], cwd=ROOT, check=True)
        assert not _backends()  # the restart cut the web worker's connection
        assert _get(page) == 200  # ...and the very next request is served
        assert _get(page) == 200
    finally:
        os.killpg(web.pid, signal.SIGTERM)
        web.wait(30)
