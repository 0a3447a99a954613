"""Out-of-scope work: add-ons invoiced on acceptance, hour banks that cover session overage."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from billing import selectors
from billing import services as billing
from billing.models import Invoice, Quote, QuoteKind
from engagements import services as lifecycle
from portal.errors import DomainError
from tests.conftest import login_with_mfa

pytestmark = pytest.mark.django_db


def _accept(quote, user):
    return billing.quote_accept(
        user=user, quote=quote, full_name="Alice", accepted_policy=True, shown_sha256=quote.pdf_sha256, request=None
    )


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
    _accept(Quote.objects.get(pk=quote.pk), alice)
    invoice = Invoice.objects.get()
    assert invoice.total == Decimal(595000) and invoice.milestone.percent == 100


def test_an_hour_bank_covers_time_beyond_the_included_300_minutes(engagement, alice, sam, carla):
    bank = billing.quote_create(
        actor=sam,
        engagement=engagement,
        kind=QuoteKind.HOUR_BANK,
        hours=Decimal(2),
        lines=[billing.LineInput("Bolsa de 2 horas", Decimal(2), Decimal(60000))],
    )
    _accept(billing.quote_send(actor=sam, quote=bank), alice)
    for session in engagement.sessions.all():
        lifecycle.session_schedule(
            actor=carla,
            session=session,
            scheduled_at=timezone.now() + timezone.timedelta(days=1),
            video_link="https://meet.x/a",
        )
        lifecycle.session_log_publish(
            actor=carla,
            session=session,
            values={"objective": "o", "activity": "a", "minutes_used": 75, "progress_status": "on_track"},
            next_steps=[{"description": "s", "owner": "client", "due_date": timezone.localdate()}],
        )
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
