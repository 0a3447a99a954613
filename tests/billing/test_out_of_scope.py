"""Out-of-scope work: add-ons invoiced on acceptance, hour banks that cover session overage."""

from decimal import Decimal

import pytest
from django.urls import reverse

from billing import selectors
from billing import services as billing
from billing.models import Invoice, Quote, QuoteKind
from engagements import services as lifecycle
from portal.errors import DomainError
from tests.billing.fixtures import accept, accepted_hour_bank
from tests.conftest import login_with_mfa
from tests.engagements.fixtures import log_session

pytestmark = pytest.mark.django_db


def test_a_classified_change_becomes_an_add_on_invoiced_in_full_on_acceptance(client, engagement, alice, sam):
    change = lifecycle.change_request_raise(actor=alice, engagement=engagement, title="Mercado Libre", description="x")
    lifecycle.change_request_classify(actor=sam, change=change, classification="add_on")
    login_with_mfa(client, sam)
    url = reverse("billing:quote_new", args=[engagement.code]) + f"?change={change.public_id}"
    assert "Mercado Libre" in client.get(url).content.decode()
    client.post(
        url,
        {
            "kind": "add_on",
            "currency": "CLP",
            "valid_until": "2030-01-01",
            "line_0_description": "Conector Mercado Libre",
            "line_0_quantity": "1",
            "line_0_unit_price": "500000",
        },
    )
    quote = Quote.objects.get(change_request=change)
    billing.quote_send(actor=sam, quote=quote)
    accept(Quote.objects.get(pk=quote.pk), alice)
    invoice = Invoice.objects.get()
    assert invoice.total == Decimal(595000) and invoice.milestone.percent == 100


def test_an_hour_bank_covers_time_beyond_the_included_300_minutes(engagement, alice, sam, carla):
    accepted_hour_bank(engagement, sam, alice, hours=2, unit_price=60000)
    for session in engagement.sessions.all():
        log_session(session, carla, minutes=75)
    summary = selectors.hour_bank(engagement)  # 5 x 75 = 375 minutes: 75 beyond the included 300
    assert summary == {"hours": Decimal("2.00"), "used_minutes": 75, "remaining_minutes": 45, "uncovered_minutes": 0}


def test_an_hour_bank_needs_hours(engagement, sam):
    with pytest.raises(DomainError):
        billing.quote_create(
            actor=sam,
            engagement=engagement,
            kind=QuoteKind.HOUR_BANK,
            lines=[billing.LineInput("x", Decimal(1), Decimal(1))],
        )
