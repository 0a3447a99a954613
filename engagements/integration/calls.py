"""What the gateway and the shop clients share about their calls: a total time a person waits for
(`Deadline`), and how a client holding an HTTP connection is used (`Client`: a context manager).

Neutral ground, like errors.py: gateway/ and shops/ both import it and never each other.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType
from typing import Self


class Deadline:
    """A total time for several calls, when a person waits for them (a connection check): each
    call gets what is left, and nothing waits or tries again (`attempts` is 1)."""

    attempts = 1

    def __init__(self, seconds: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds, self._clock = seconds, clock
        self._end = clock() + seconds

    def left(self) -> float:
        return max(0.0, self._end - self._clock())

    def timeout(self, default: float) -> float:
        """The time the next call may take: `default`, or less when the deadline is nearer."""
        return min(default, self.left())

    def expired(self) -> bool:
        return self.left() <= 0


class Client:
    """A gateway or shop client: `with` it, and its connections are closed however the block ends."""

    def close(self) -> None:
        """Release what the client holds (its HTTP connection pool); calling it twice is harmless."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()
