"""Panels other apps add to the engagement page, without engagements importing them.

billing registers a provider from its AppConfig.ready(); the engagement view
renders every registered panel. Search for `panels.register` to find them.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext, ngettext

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


# ---------------------------------------------------------------- the client's home page
# The home answers "what do I owe" and "what do you need from me" across apps: billing adds the
# money it asks for and the quotes waiting for an answer. Search for `panels.register_home`.


@dataclass(frozen=True)
class Need:
    """Something the client is asked for, with how long it has waited."""

    kind: str  # "quote", "request", "deliverable"
    title: str
    engagement: Engagement
    days: int
    url: str
    action: str  # what the link does ("Accept or decline", "Answer", "Deliver")

    @property
    def waiting(self) -> str:
        """ "waiting 3 days" (written here, not in the template: a list of them renders faster)."""
        if not self.days:
            return gettext("new today")
        return ngettext("waiting %(counter)s day", "waiting %(counter)s days", self.days) % {"counter": self.days}


@dataclass(frozen=True)
class HomePart:
    owe: Panel | None = None
    needs: tuple[Need, ...] = ()


HomeProvider = Callable[[User, dict[int, Engagement], Any], HomePart]
_home_providers: list[HomeProvider] = []


def register_home(provider: HomeProvider) -> None:
    if provider not in _home_providers:
        _home_providers.append(provider)


def home_parts(user: User, engagements: dict[int, Engagement], now) -> list[HomePart]:
    """`engagements`: the client's engagements by id (the providers read titles from them, no query)."""
    return [provider(user, engagements, now) for provider in _home_providers]


# ---------------------------------------------------------------- flags on the worklists
# What needs a person's action on an engagement, for the consultant's worklist and the staff
# pipeline. Other apps add theirs (the integration: failing connections and runs needing attention;
# billing: overdue payment requests). Search for `panels.register_flags`.


@dataclass(frozen=True)
class Flag:
    kind: str  # a stable code: answers, deliverables, logs, r1, r2, connection, runs, overdue
    label: str
    weight: int  # higher comes first on the worklist
    anchor: str = ""  # where on the engagement page it is dealt with


FlagProvider = Callable[[User, list[int]], dict[int, list[Flag]]]
_flag_providers: list[FlagProvider] = []


def register_flags(provider: FlagProvider) -> None:
    if provider not in _flag_providers:
        _flag_providers.append(provider)


def flags_for(user: User, engagement_ids: list[int]) -> dict[int, list[Flag]]:
    """Every provider's flags, by engagement id (one or two queries per provider, none per engagement)."""
    found: dict[int, list[Flag]] = {}
    for provider in _flag_providers:
        for pk, flags in provider(user, engagement_ids).items():
            found.setdefault(pk, []).extend(flags)
    return found


# ---------------------------------------------------------------- the engagement page's one query
# A panel that needs a few figures (a connection's health, the last run, a quote waiting) adds
# them to the query that loads the engagement, as subqueries, instead of making its own query:
# the page's number of queries stays small and the same whatever the data. The annotation names
# start with the app's label. Search for `panels.register_annotations`.

Annotator = Callable[[Any, User], Any]  # (QuerySet[Engagement], user) -> QuerySet[Engagement]
_annotators: list[Annotator] = []


def register_annotations(annotator: Annotator) -> None:
    if annotator not in _annotators:
        _annotators.append(annotator)


def annotate_page(queryset, user: User):
    for annotator in _annotators:
        queryset = annotator(queryset, user)
    return queryset
