"""The one HTTP transport of the shop adapters: where keys may go, one call's time, retries and
back-off, and what an answer means, with each platform saying only what its answers mean (`classify`).

- Keys go over HTTPS to a public address only (destinations.py); the fake shops on loopback are the
  exception, when INTEGRATION_ALLOW_LOCAL is on. Redirects are not followed.
- Each call gets `timeout` seconds, or what is left of a connection check's `Deadline`; with a
  deadline a person is waiting, so each call is tried once and nothing waits (`no_wait`).
- Nothing reached the shop (no connection): sent again. Timed out or cut after it left: sent again
  only when `repeatable` (a GET, or a write of absolute values: sending it twice gives the same
  result); any other write may have been applied, so it raises `ShopAmbiguousError` and the caller
  looks the record up before any new try.
- `classify(response)` is the platform's reading of an answer: None when it is final (the caller
  reads it), `Again(...)` when it is worth sending again (busy, throttled; `applied`: it may have been
  applied, so only a repeatable request goes again), or it raises the refusal (ShopAuthError,
  ShopPermanentError). Back-off between tries: what the shop asked (Retry-After), else 2^attempt
  seconds, capped at `max_wait`, with jitter so that clients that failed together do not come back together.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from engagements.integration import destinations
from engagements.integration.calls import Client, Deadline
from engagements.integration.shops.base import (
    ShopAmbiguousError,
    ShopPermanentError,
    ShopRetryableError,
)

NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)  # nothing reached the shop


@dataclass(frozen=True)
class Again:
    """An answer worth sending the request again for: after `wait` seconds when the shop said how long
    (0: at once), else after the back-off. `applied`: the shop may have applied it (a 5xx after it
    arrived), so a request that is not repeatable is not sent again."""

    wait: float | None = None
    applied: bool = False


def require_https(url: str) -> None:
    """Keys go over HTTPS to a public address only (destinations.py); fake shops are the exception."""
    problem = destinations.address_problem(url, resolve=True)
    if problem:
        raise ShopPermanentError(f"The shop's address is refused ({problem}).", code=f"shop_{problem}")


def call_timeout(deadline: Deadline | None, default: float) -> float:
    """The time the next call may take: `default`, or what is left of a check's deadline."""
    if deadline is None:
        return default
    if deadline.expired():
        raise ShopRetryableError("The shop did not answer in time.", code="shop_timeout")
    return deadline.timeout(default)


def no_wait(seconds: float) -> None:
    """The sleep of a client a person waits for (a connection check): asked to wait, it gives up."""
    raise ShopRetryableError(f"The shop asked to wait {seconds:.0f} s; a check does not wait.", code="shop_busy")


def retry_after(response: httpx.Response) -> float | None:
    """Retry-After in seconds, when the shop gave a number."""
    value = response.headers.get("Retry-After", "")
    try:
        return float(value) if value else None
    except ValueError:
        return None


def busy() -> ShopRetryableError:
    return ShopRetryableError("The shop is busy or unavailable; it will be tried again later.", code="shop_busy")


def json_body(response: httpx.Response) -> Any:
    """The answer's JSON, or None when it is not JSON (a proxy's page)."""
    try:
        return response.json()
    except ValueError:
        return None


class ShopHttp(Client):
    """An adapter's connection to its shop. Subclasses give `classify`, and may wrap `send` (the
    headers and authentication of one call), `before_send` (rate limits) and `pause` (how to wait)."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 20.0,
        max_attempts: int = 5,
        max_wait: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        deadline: Deadline | None = None,
    ) -> None:
        require_https(base_url)
        self.calls = 0
        self.warnings: list[str] = []  # what a run should report although it went on (Shopify's 60 days)
        if deadline is not None:  # a person waits: one try each, no waiting, one total time
            max_attempts, sleep = 1, no_wait
        self._max_attempts, self._max_wait, self._sleep = max_attempts, max_wait, sleep
        self._timeout, self._deadline = timeout, deadline
        self._http = httpx.Client(timeout=timeout, follow_redirects=False, headers={"Accept": "application/json"})

    def close(self) -> None:
        self._http.close()

    # ------------------------------------------------------------ what subclasses give
    def classify(self, response: httpx.Response) -> Again | None:
        raise NotImplementedError

    def before_send(self) -> None:
        """Called before every try (a rate limiter waits here)."""

    def pause(self, seconds: float) -> None:
        self._sleep(seconds)

    def send(self, method: str, url: str, **request: Any) -> httpx.Response:
        """One HTTP call, counted, within its time."""
        timeout = call_timeout(self._deadline, self._timeout)
        self.calls += 1
        return self._http.request(method, url, timeout=timeout, **request)

    # ------------------------------------------------------------ the exchange
    def exchange(
        self,
        method: str,
        url: str,
        *,
        repeatable: bool,
        classify: Callable[[httpx.Response], Again | None] | None = None,
        before: Callable[[], None] | None = None,
        **request: Any,
    ) -> httpx.Response:
        """Send until an answer is final (returned), a refusal is raised, or the tries run out
        (ShopRetryableError). `classify` and `before` replace the adapter's own for this call."""
        classify, before = classify or self.classify, before or self.before_send
        failure = busy()
        for attempt in range(self._max_attempts):
            before()
            try:
                response = self.send(method, url, **request)
            except NOT_SENT:
                again = Again()
            except httpx.TransportError as error:  # timed out, or cut after the request left
                if not repeatable:
                    raise ShopAmbiguousError() from error
                again, failure = Again(), ShopRetryableError("The shop did not answer in time.", code="shop_timeout")
            else:
                verdict = classify(response)
                if verdict is None:
                    return response
                if verdict.applied and not repeatable:
                    raise ShopAmbiguousError()
                again = verdict
            if attempt + 1 < self._max_attempts:
                self.back_off(attempt, again.wait)
        raise failure

    def back_off(self, attempt: int, wait: float | None) -> None:
        if wait == 0:
            return
        delay = min(self._max_wait, wait if wait is not None else 2.0**attempt)
        self.pause(delay * random.uniform(1.0, 1.25))  # noqa: S311 (spreading retries, not crypto)

    def probe_anonymously(self, method: str, url: str, looks_right: Callable[[object], bool], **request: Any) -> None:
        """Without the keys: does `url` answer as the platform's API? It must refuse an anonymous caller
        in its own words (401 or 403 and its JSON error). Anything else is not that shop: no key goes there."""
        try:
            response = self._http.request(method, url, timeout=call_timeout(self._deadline, self._timeout), **request)
        except NOT_SENT as error:
            raise ShopRetryableError("The shop is not reachable.", code="shop_unreachable") from error
        except httpx.TransportError as error:
            raise ShopRetryableError("The shop did not answer in time.", code="shop_timeout") from error
        if response.status_code in (429, 502, 503, 504):
            raise ShopRetryableError(f"The shop answered HTTP {response.status_code}.", code="shop_busy")
        if response.status_code not in (401, 403) or not looks_right(json_body(response)):
            message = f"HTTP {response.status_code}: not the answer of this platform's API."
            raise ShopPermanentError(message, code="shop_not_recognised")
