"""Lifecycle hook points that other apps subscribe to.

`engagements` never imports `billing` or `integration`. Where the lifecycle
must cause money (scope confirmed → 40% invoice), billing registers a
callable here from its AppConfig.ready(). Hooks run inside the transaction of
the transition, so a failing subscriber rolls the transition back.

To find every subscriber, search for the hook's name (e.g. PHASE_COMPLETED).
"""

from collections.abc import Callable
from typing import Any

SCOPE_CONFIRMED = "scope_confirmed"  # kwargs: engagement, actor
PHASE_COMPLETED = "phase_completed"  # kwargs: engagement, phase, actor
CLOSED = "closed"  # kwargs: engagement, actor
ADMIN_CLOSED = "admin_closed"  # kwargs: engagement, actor, reason
HOOKS = (SCOPE_CONFIRMED, PHASE_COMPLETED, CLOSED, ADMIN_CLOSED)

_registry: dict[str, list[Callable[..., Any]]] = {name: [] for name in HOOKS}


def register(hook: str, subscriber: Callable[..., Any]) -> None:
    if hook not in _registry:
        raise ValueError(f"unknown hook {hook!r}")
    if subscriber not in _registry[hook]:
        _registry[hook].append(subscriber)


def unregister(hook: str, subscriber: Callable[..., Any]) -> None:
    if subscriber in _registry[hook]:
        _registry[hook].remove(subscriber)


def run(hook: str, **kwargs: Any) -> None:
    for subscriber in list(_registry[hook]):
        subscriber(**kwargs)
