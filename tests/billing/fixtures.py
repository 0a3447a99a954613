"""Billing fixtures: a sent service quote for alice's company."""

from decimal import Decimal

import pytest

from billing import services as billing
from engagements import rules


@pytest.fixture
def quoted(make_engagement, andes):
    return make_engagement(andes, rules.DIAGNOSIS)


@pytest.fixture
def sent_quote(quoted, sam, carla):
    from engagements import services
    from tests.engagements.fixtures import DIAGNOSIS

    services.diagnosis_save(actor=carla, engagement=quoted, values=DIAGNOSIS, complete=True)
    quote = billing.quote_create(
        actor=sam,
        engagement=quoted,
        lines=[
            billing.LineInput("Integración Odoo ↔ WooCommerce", Decimal("1"), Decimal("2500000")),
            billing.LineInput("Mapeo de impuestos <script>", Decimal("2"), Decimal("120000")),
        ],
    )
    return billing.quote_send(actor=sam, quote=quote)


def accept(quote, user):
    """The client accepts the exact document they were shown."""
    return billing.quote_accept(
        user=user, quote=quote, full_name="Alice", accepted_policy=True, shown_sha256=quote.pdf_sha256, request=None
    )


def accepted_hour_bank(engagement, staff, client, *, hours: int, unit_price: int):
    """An hour bank of `hours` at `unit_price` (net) an hour, quoted, sent and accepted (100 % on acceptance)."""
    bank = billing.quote_create(
        actor=staff,
        engagement=engagement,
        kind="hour_bank",
        hours=Decimal(hours),
        lines=[billing.LineInput(f"Bolsa de {hours} horas", Decimal(hours), Decimal(unit_price))],
    )
    bank = billing.quote_send(actor=staff, quote=bank)
    accept(bank, client)
    return bank
