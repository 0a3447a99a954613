"""Failed logins, counted per account *and* source: slowed down, never a lock-out of the owner.

Counting per account alone (the earlier rule) let anyone lock the owner out by failing five
times, from anywhere, again and again. Here (README, "Failed logins", against ASVS 5.0 6.1.1):

- The source is the client address as allauth sees it (behind TRUSTED_PROXY_COUNT proxies);
  an IPv6 address counts by its /64, the network one subscriber gets.
- Per account and source: the first `FREE_FAILURES` failures cost nothing; after them each
  attempt from that source waits `delay_after(failures)` since the last failure (30 s, then
  doubling up to 15 minutes). A successful sign-in from that source clears its count; counts
  expire a day after the last failure. Failures from other sources never touch it.
- Per account, over the sources it has not signed in from within `KNOWN_SOURCE_DAYS` (the
  audit trail tells): after `UNKNOWN_SOURCES_LIMIT` failures within an hour, such sources are
  refused for the rest of that hour. An attacker who spreads over many addresses is stopped
  there, while the owner's own network keeps the per-source delay only.
- Per source, whatever the account (credential stuffing): allauth's `login_failed` limit
  (settings.ACCOUNT_RATE_LIMITS).

Counters live in the shared cache (database or Redis), like allauth's. Two requests at the same
instant may both read the same count (no atomic increment): one failure may go uncounted.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import time
from dataclasses import dataclass
from datetime import timedelta

from django.core.cache import cache
from django.http import HttpRequest
from django.utils import timezone

from portal.audit import Code, client_ip
from portal.models import AuditEvent

FREE_FAILURES = 5
FIRST_DELAY, MAX_DELAY = 30, 15 * 60  # seconds
SOURCE_MEMORY = 24 * 3600  # a source's count is forgotten a day after its last failure
UNKNOWN_SOURCES_LIMIT, UNKNOWN_SOURCES_WINDOW = 20, 3600
KNOWN_SOURCE_DAYS = 90
_clock = time.time  # tests move it


# ---------------------------------------------------------------- pure rules


def delay_after(failures: int) -> int:
    """Seconds an attempt must wait after the last failure, given the failures so far."""
    if failures < FREE_FAILURES:
        return 0
    return min(FIRST_DELAY * 2 ** min(failures - FREE_FAILURES, 16), MAX_DELAY)


def source_of(ip: str | None) -> str:
    """The address an attempt is counted under: IPv4 as is, IPv6 by its /64."""
    try:
        address = ipaddress.ip_address(ip or "")
    except ValueError:
        return "unknown"
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


# ---------------------------------------------------------------- state


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    source: str
    scope: str = ""  # refused: "source" (this account from this source) or "unknown_sources"
    wait_seconds: int = 0


def _account(email: str) -> str:
    return hashlib.sha256(email.lower().encode()).hexdigest()[:32]


def _source_key(email: str, source: str) -> str:
    return f"portal:login:{_account(email)}:{source}"


def _unknown_key(email: str) -> str:
    return f"portal:login:{_account(email)}:unknown-sources"


def _source_state(email: str, source: str, now: float) -> dict:
    state = cache.get(_source_key(email, source))
    return state if state and now - state["last"] < SOURCE_MEMORY else {"failures": 0, "last": 0.0}


def _unknown_state(email: str, now: float) -> dict:
    """Failures from unknown sources in the current window (the cache entry expires with it too)."""
    state = cache.get(_unknown_key(email))
    return state if state and now - state["since"] < UNKNOWN_SOURCES_WINDOW else {"failures": 0, "since": now}


def is_known_source(email: str, source: str) -> bool:
    """Did this account sign in (password and second factor) from this source lately?"""
    since = timezone.now() - timedelta(days=KNOWN_SOURCE_DAYS)
    addresses = (
        AuditEvent.objects.filter(code=Code.LOGIN_SUCCEEDED, target__iexact=email, created_at__gte=since)
        .exclude(ip_address=None)
        .values_list("ip_address", flat=True)
        .distinct()[:200]
    )
    return any(source_of(address) == source for address in addresses)


def check(request: HttpRequest, email: str) -> Verdict:
    """May this attempt go ahead? Called before the password is checked."""
    source, now = source_of(client_ip(request)), _clock()
    state = _source_state(email, source, now)
    wait = state["last"] + delay_after(state["failures"]) - now
    if wait > 0:
        return Verdict(False, source, "source", math.ceil(wait))
    unknown = _unknown_state(email, now)
    if unknown["failures"] >= UNKNOWN_SOURCES_LIMIT and not is_known_source(email, source):
        return Verdict(False, source, "unknown_sources", math.ceil(unknown["since"] + UNKNOWN_SOURCES_WINDOW - now))
    return Verdict(True, source)


def record_failure(request: HttpRequest, email: str) -> dict:
    """Count a wrong password; returns what the audit event shows about both counts."""
    source, now = source_of(client_ip(request)), _clock()
    state = {"failures": _source_state(email, source, now)["failures"] + 1, "last": now}
    cache.set(_source_key(email, source), state, SOURCE_MEMORY)
    data = {"source": source, "source_failures": state["failures"], "known_source": is_known_source(email, source)}
    if not data["known_source"]:
        unknown = _unknown_state(email, now)
        unknown["failures"] += 1
        cache.set(_unknown_key(email), unknown, max(1, int(unknown["since"] + UNKNOWN_SOURCES_WINDOW - now)))
        data["unknown_sources_failures"] = unknown["failures"]
    data["next_wait_seconds"] = delay_after(state["failures"])
    return data


def record_success(request: HttpRequest, email: str) -> None:
    """A complete sign-in: this source's failures for the account are forgotten."""
    cache.delete(_source_key(email, source_of(client_ip(request))))
