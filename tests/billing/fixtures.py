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
