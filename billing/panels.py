"""Panels other apps add to billing's pages, without billing importing them.

The consultancy's books (`books`) register a provider from their AppConfig.ready():
the Odoo folio beside a payment request, and what needs attention on the finance
page. Search for `panels.register` to find them.
"""

from collections.abc import Callable

from engagements.panels import Panel

INVOICE = "invoice"  # provider(invoice, user): beside a payment request or a credit note
FINANCE = "finance"  # provider(user): on the finance page
_providers: dict[str, list[Callable[..., Panel | None]]] = {INVOICE: [], FINANCE: []}


def register(slot: str, provider: Callable[..., Panel | None]) -> None:
    if provider not in _providers[slot]:
        _providers[slot].append(provider)


def panels_for(slot: str, *args) -> list[Panel]:
    return [panel for provider in _providers[slot] if (panel := provider(*args)) is not None]
