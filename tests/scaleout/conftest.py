"""Scale-out fixtures: a real redis-server, a scratch table the workers write to, two clusters.

Every test here runs several real processes (qcluster, gunicorn) against the one PostgreSQL test
database and one Redis, the way several machines would share them.
"""

import os
import shutil
import signal
import socket
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import django_q.conf
import pytest
import redis
from django.core.cache.backends.redis import RedisCache
from django.db import connection
from django_q.brokers.redis_broker import Redis as RedisBroker

from tests.integration.test_crash import _cluster, _wait

# Loopback only, nothing written to disk: a cache and a queue for the length of the session.
REDIS_OPTIONS = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
LABELS = ("A", "B")  # SCALEOUT_CLUSTER of each cluster: the workers and hooks record it


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _answers(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory) -> Iterator[str]:
    """A throwaway redis-server on a free loopback port, nothing persisted; its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail(
            "redis-server is not installed: the scale-out tests need Debian's redis-server "
            "(scripts/system-deps.sh installs it; `apt-get install redis-server`).",
            pytrace=False,
        )
    workdir = tmp_path_factory.mktemp("redis")
    port = free_port()
    with (workdir / "redis.log").open("wb") as log:  # the child keeps its own handle
        server = subprocess.Popen(
            [binary, *REDIS_OPTIONS, "--port", str(port), "--dir", str(workdir)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        if not _wait(lambda: _answers(redis.Redis.from_url(url)), 15):
            output = (workdir / "redis.log").read_text()[-2000:]
            pytest.fail(f"redis-server did not answer on port {port}: {output}", pytrace=False)
        yield url
    finally:
        server.terminate()
        server.wait(10)


@pytest.fixture
def redis_url(redis_server) -> str:
    """The shared Redis, emptied: no queue, stats or rate-limit counters from an earlier test."""
    redis.Redis.from_url(redis_server).flushall()
    return redis_server


@pytest.fixture
def redis_cache(redis_url) -> RedisCache:
    """The cache the processes share, as the web and worker processes configure it from REDIS_URL."""
    return RedisCache(redis_url, {})


@pytest.fixture
def redis_broker(redis_url, monkeypatch) -> RedisBroker:
    """Enqueue from the test process into the clusters' Redis queue (the test settings use the ORM)."""
    monkeypatch.setattr(django_q.conf.Conf, "SYNC", False)
    monkeypatch.setattr(django_q.conf.Conf, "REDIS", redis_url)
    return RedisBroker()


def clusters_up(url: str) -> int:
    """How many clusters of the Redis broker are running (each keeps a stat key fresh)."""
    return len(redis.Redis.from_url(url).keys("django_q:portal:cluster:*"))


def own_queue(label: str) -> str:
    """The queue a cluster started with `own_queues` reads instead of the shared one."""
    return f"portal-{label}"


@contextmanager
def clusters(own_queues: bool = False, **env: str) -> Iterator[None]:
    """Two real qcluster processes on the test database, labelled A and B, killed on exit.

    They share one queue, unless `own_queues`: then each reads `own_queue(label)`, so a test can
    hand a task to each cluster for certain (a shared queue may give both to the same one).
    """
    started = [
        _cluster(SCALEOUT_CLUSTER=label, **({"Q_CLUSTER_NAME": own_queue(label)} if own_queues else {}), **env)
        for label in LABELS
    ]
    try:
        yield
    finally:
        for process in started:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


@pytest.fixture
def marks(transactional_db) -> Iterator[Callable[[], list[tuple[str, str]]]]:
    """A scratch table (no unique key, so a duplicate would show) and a reader of its (key, cluster) rows."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE scaleout_mark (key text NOT NULL, cluster text NOT NULL)")

    def rows() -> list[tuple[str, str]]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT key, cluster FROM scaleout_mark ORDER BY key")
            return cursor.fetchall()

    yield rows
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE scaleout_mark")
