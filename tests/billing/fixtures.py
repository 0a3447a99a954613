"""Billing fixtures: a sent service quote for alice's company, and its first invoice."""

from decimal import Decimal

import pytest

from billing import services as billing
from billing.models import Invoice
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


@pytest.fixture
def first_invoice(sent_quote, alice) -> Invoice:
    """alice accepts the quote: the 40% invoice (1.304.240) is issued."""
    billing.quote_accept(
        user=alice,
        quote=sent_quote,
        full_name="Alice",
        accepted_policy=True,
        shown_sha256=sent_quote.pdf_sha256,
        request=None,
    )
    return Invoice.objects.get()
