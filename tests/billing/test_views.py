"""Billing pages: ownership, acceptance through the page, PDF downloads."""

from decimal import Decimal

import pytest
from django.urls import reverse

from billing import pdf
from billing.models import Invoice, Quote, QuoteStatus
from tests.conftest import login_with_mfa

pytestmark = pytest.mark.django_db


def _accept_post(client, quote, **overrides):
    data = {"full_name": "Alice Andes", "accepted_policy": "on", "shown_sha256": quote.pdf_sha256, **overrides}
    return client.post(reverse("billing:quote_accept", args=[quote.public_id]), data, follow=True)


class TestOwnership:
    def test_another_company_gets_404_on_quote_pdf_and_invoice(self, client, sent_quote, alice, charlie):
        client.force_login(alice)
        _accept_post(client, sent_quote)
        invoice = Invoice.objects.get()
        client.force_login(charlie)
        for url in [
            reverse("billing:quote", args=[sent_quote.public_id]),
            reverse("billing:quote_pdf", args=[sent_quote.public_id]),
            reverse("billing:invoice_pdf", args=[invoice.public_id]),
        ]:
            response = client.get(url)
            assert response.status_code == 404 and b"Andes" not in response.content, url
        response = client.post(reverse("billing:quote_decline", args=[sent_quote.public_id]), {"reason": "x"})
        assert response.status_code == 404

    def test_clients_never_see_drafts(self, client, sent_quote, sam, alice):
        from billing import services as billing

        draft = billing.quote_revise(
            actor=sam, quote=sent_quote, lines=[billing.LineInput("x", Decimal(1), Decimal(1))]
        )
        client.force_login(alice)
        assert client.get(reverse("billing:quote", args=[draft.public_id])).status_code == 404

    def test_staff_pages_are_403_for_clients(self, client, sent_quote, alice):
        client.force_login(alice)
        assert client.get(reverse("billing:quote_new", args=[sent_quote.engagement.code])).status_code == 403
        assert client.post(reverse("billing:quote_send", args=[sent_quote.public_id])).status_code == 403


class TestAcceptancePage:
    def test_the_client_accepts_and_the_hash_matches_the_downloaded_pdf(self, client, sent_quote, alice):
        client.force_login(alice)
        downloaded = b"".join(client.get(reverse("billing:quote_pdf", args=[sent_quote.public_id])).streaming_content)
        response = _accept_post(client, sent_quote, shown_sha256=pdf.sha256(downloaded))
        assert response.status_code == 200
        sent_quote.refresh_from_db()
        assert sent_quote.status == QuoteStatus.ACCEPTED
        assert sent_quote.acceptance.pdf_sha256 == pdf.sha256(downloaded)
        assert sent_quote.acceptance.ip_address == "127.0.0.1"
        invoice = Invoice.objects.get()
        page = client.get(reverse("engagements:detail", args=[sent_quote.engagement.code])).content.decode()
        assert invoice.display_number in page

    def test_without_the_policy_box_nothing_happens(self, client, sent_quote, alice):
        client.force_login(alice)
        _accept_post(client, sent_quote, accepted_policy="")
        assert Quote.objects.get(pk=sent_quote.pk).status == QuoteStatus.SENT

    def test_a_consultant_cannot_accept_for_the_client(self, client, sent_quote, carla):
        login_with_mfa(client, carla)
        assert client.post(reverse("billing:quote_accept", args=[sent_quote.public_id])).status_code == 403


class TestStaffEditor:
    def test_staff_write_and_send_a_quote(self, client, quoted, sam, carla):
        from engagements import services
        from tests.engagements.fixtures import DIAGNOSIS

        services.diagnosis_save(actor=carla, engagement=quoted, values=DIAGNOSIS, complete=True)
        login_with_mfa(client, sam)
        response = client.post(
            reverse("billing:quote_new", args=[quoted.code]),
            {
                "kind": "service",
                "currency": "CLP",
                "valid_until": "2030-01-31",
                "line_0_description": "Integración",
                "line_0_quantity": "1",
                "line_0_unit_price": "1000000",
            },
        )
        quote = Quote.objects.get()
        assert response["Location"] == reverse("billing:quote", args=[quote.public_id])
        client.post(reverse("billing:quote_send", args=[quote.public_id]))
        quote.refresh_from_db()
        assert quote.status == QuoteStatus.SENT and quote.total == 1190000

    def test_decimals_the_currency_does_not_have_are_refused(self, client, quoted, sam, carla):
        from engagements import services
        from tests.engagements.fixtures import DIAGNOSIS

        services.diagnosis_save(actor=carla, engagement=quoted, values=DIAGNOSIS, complete=True)
        login_with_mfa(client, sam)
        response = client.post(
            reverse("billing:quote_new", args=[quoted.code]),
            {
                "kind": "service",
                "currency": "CLP",
                "valid_until": "2030-01-31",
                "line_0_description": "Integración",
                "line_0_quantity": "1",
                "line_0_unit_price": "1000.50",
            },
        )
        assert response.status_code == 200 and response.context["form"].non_field_errors()
        assert not Quote.objects.exists()
