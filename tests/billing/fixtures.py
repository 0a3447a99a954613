"""Billing fixtures: a sent service quote for alice's company, its first payment request, and a
fake Transbank the portal's Webpay settings point at."""

from decimal import Decimal

import pytest

from billing import services as billing
from billing.models import Invoice
from engagements import rules
from tests.fakes.transbank import API_KEY_SECRET, COMMERCE_CODE, FakeTransbankServer


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
    """alice accepts the quote: the 40% payment request (1.304.240) is issued."""
    accept(sent_quote, alice)
    return Invoice.objects.get()


@pytest.fixture
def transbank(settings):
    """A fake Transbank on loopback with Webpay switched on against it (integration credentials)."""
    with FakeTransbankServer() as server:
        settings.WEBPAY = {
            **settings.WEBPAY,
            "commerce_code": COMMERCE_CODE,
            "api_key_secret": API_KEY_SECRET,
            "api_url": server.url,
        }
        yield server.transbank


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
