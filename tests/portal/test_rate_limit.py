"""Failed logins are limited per account and source through the shared cache, across processes:
a growing delay for a source that keeps failing, and no lock-out of the owner by anyone else."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from portal import login_throttle
from portal.audit import Code
from portal.models import AuditEvent
from tests.conftest import PASSWORD, make_user
from tests.portal.login_attempts import is_throttled, outcome

ROOT = Path(__file__).resolve().parents[2]


def _attempts(email: str, password: str, count: int) -> list[str]:
    """Log in from a separate Python process on the same database and cache."""
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "portal.settings_test"}
    result = subprocess.run(
        [sys.executable, "-m", "tests.portal.login_attempts", email, password, str(count)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout.split()


@pytest.mark.django_db(transaction=True)
def test_the_sixth_failed_login_is_refused_across_two_processes():
    assert settings.CACHES["default"]["BACKEND"].endswith("DatabaseCache")
    assert connection.vendor == "postgresql", "two processes need a shared server database"
    user = make_user("victim@andes.test")
    assert _attempts(user.email, "wrong-1", 3) == ["wrong"] * 3
    # A second process sees the first one's failures: two more fill the limit of five...
    assert _attempts(user.email, "wrong-2", 2) == ["wrong"] * 2
    # ...and the sixth attempt from that source waits (30 s), even with the right password.
    assert _attempts(user.email, PASSWORD, 1) == ["throttled"]


@pytest.mark.django_db
def test_changing_the_host_port_does_not_reset_the_count(client):
    """The count is per account and source: a Host header with another port is not another "site"."""
    user = make_user("victim2@andes.test")
    for port in range(1000, 1005):
        response = client.post(
            "/accounts/login/", {"login": user.email, "password": "wrong"}, HTTP_HOST=f"testserver:{port}"
        )
        assert response.status_code == 200 and not is_throttled(response.content.decode())
    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD}, HTTP_HOST="testserver:1005")
    assert is_throttled(response.content.decode())


# ---------------------------------------------------------------- per account and source

OWNER_IP = "10.0.0.7"


def _try(email: str, password: str, ip: str) -> str:
    response = Client(REMOTE_ADDR=ip).post("/accounts/login/", {"login": email, "password": password})
    return outcome(response.status_code, response.content.decode())


@pytest.fixture
def clock(monkeypatch):
    now = [1_000_000.0]
    monkeypatch.setattr(login_throttle, "_clock", lambda: now[0])
    return now


def test_the_delay_grows_from_the_sixth_failure_and_is_capped():
    assert [login_throttle.delay_after(n) for n in range(4, 11)] == [0, 30, 60, 120, 240, 480, 900]
    assert login_throttle.delay_after(40) == 900


def test_ipv6_sources_count_by_their_64_network():
    assert login_throttle.source_of("2001:db8:1:2:aaaa::1") == login_throttle.source_of("2001:db8:1:2:bbbb::9")
    assert login_throttle.source_of("2001:db8:1:3::1") == "2001:db8:1:3::/64"
    assert login_throttle.source_of("203.0.113.5") == "203.0.113.5"
    assert login_throttle.source_of(None) == "unknown"


@pytest.mark.django_db
def test_failures_from_other_sources_do_not_lock_the_owner_out(clock):
    owner = make_user("owner@andes.test")
    assert _try(owner.email, PASSWORD, OWNER_IP) == "ok"  # the owner's usual connection
    # Someone else fails 30 times for the owner's account, from 15 addresses (two tries each)...
    attacks = [_try(owner.email, "guess", f"203.0.113.{n // 2 + 1}") for n in range(30)]
    assert attacks.count("wrong") == 20 and attacks.count("throttled") == 10  # new places: 20 an hour
    # ...and the owner still signs in from their own network, at once.
    assert _try(owner.email, PASSWORD, OWNER_IP) == "ok"
    # A place the account never signed in from stays refused for the hour, right password or not.
    assert _try(owner.email, PASSWORD, "198.51.100.9") == "throttled"
    clock[0] += login_throttle.UNKNOWN_SOURCES_WINDOW + 1
    assert _try(owner.email, PASSWORD, "198.51.100.9") == "ok"

    # The audit shows both the account and the source of every failure and refusal.
    failure = AuditEvent.objects.filter(code=Code.LOGIN_FAILED).order_by("created_at", "id").first()
    assert failure.target == owner.email and failure.ip_address == "203.0.113.1"
    assert failure.data == {
        "source": "203.0.113.1",
        "source_failures": 1,
        "known_source": False,
        "unknown_sources_failures": 1,
        "next_wait_seconds": 0,
    }
    refused = AuditEvent.objects.filter(code=Code.LOGIN_THROTTLED, ip_address="198.51.100.9").get()
    assert refused.target == owner.email and refused.data["scope"] == "unknown_sources"
    assert refused.data["source"] == "198.51.100.9" and 0 < refused.data["wait_seconds"] <= 3600


@pytest.mark.django_db
def test_the_owners_own_network_gets_a_growing_delay_never_a_lock(clock):
    owner = make_user("owner@andes.test")
    assert _try(owner.email, PASSWORD, OWNER_IP) == "ok"
    assert [_try(owner.email, "typo", OWNER_IP) for _ in range(5)] == ["wrong"] * 5
    assert _try(owner.email, PASSWORD, OWNER_IP) == "throttled"  # within 30 s of the fifth failure
    clock[0] += 31
    assert _try(owner.email, "typo", OWNER_IP) == "wrong"  # the sixth failure: now 60 s
    clock[0] += 31
    assert _try(owner.email, PASSWORD, OWNER_IP) == "throttled"
    clock[0] += 30
    assert _try(owner.email, PASSWORD, OWNER_IP) == "ok"
    # Signing in cleared this source's count: the next typo costs nothing.
    assert _try(owner.email, "typo", OWNER_IP) == "wrong"
    assert _try(owner.email, PASSWORD, OWNER_IP) == "ok"
    throttled = AuditEvent.objects.filter(code=Code.LOGIN_THROTTLED).order_by("created_at", "id")
    assert [(e.data["scope"], e.data["source"], e.data["wait_seconds"]) for e in throttled] == [
        ("source", OWNER_IP, 30),  # right after the fifth failure
        ("source", OWNER_IP, 29),  # 31 s after the sixth, which costs 60 s
    ]


@pytest.mark.django_db
def test_a_delayed_source_does_not_slow_down_another(clock):
    owner = make_user("owner@andes.test")
    assert [_try(owner.email, "guess", "203.0.113.50") for _ in range(6)] == ["wrong"] * 5 + ["throttled"]
    assert _try(owner.email, PASSWORD, "203.0.113.51") == "ok"
