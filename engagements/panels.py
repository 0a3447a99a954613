"""Panels other apps add to the engagement page, without engagements importing them.

billing registers a provider from its AppConfig.ready(); the engagement view
renders every registered panel. Search for `panels.register` to find them.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from engagements.models import Engagement
from portal.models import User


@dataclass(frozen=True)
class Panel:
    template: str
    context: dict[str, Any]


Provider = Callable[[Engagement, User], Panel | None]
_providers: list[Provider] = []


def register(provider: Provider) -> None:
    if provider not in _providers:
        _providers.append(provider)


def panels_for(engagement: Engagement, user: User) -> list[Panel]:
    return [panel for provider in _providers if (panel := provider(engagement, user)) is not None]
