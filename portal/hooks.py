"""A registry of named hooks: the one mechanism apps use for effects across apps.

Each app that exposes hook points (engagements.hooks, billing.hooks) keeps one
`HookRegistry` of its names; subscribers register from their AppConfig.ready().
Not Django signals: a reader finds every subscriber by searching for a hook's
name.
"""

from collections.abc import Callable
from typing import Any


class HookRegistry:
    def __init__(self, *names: str):
        self._subscribers: dict[str, list[Callable[..., Any]]] = {name: [] for name in names}

    def register(self, hook: str, subscriber: Callable[..., Any]) -> None:
        if hook not in self._subscribers:
            raise ValueError(f"unknown hook {hook!r}")
        if subscriber not in self._subscribers[hook]:
            self._subscribers[hook].append(subscriber)

    def unregister(self, hook: str, subscriber: Callable[..., Any]) -> None:
        if subscriber in self._subscribers[hook]:
            self._subscribers[hook].remove(subscriber)

    def run(self, hook: str, **kwargs: Any) -> None:
        for subscriber in list(self._subscribers[hook]):
            subscriber(**kwargs)
