"""Quotes: pricing, issue, acceptance with the PDF hash, milestones that invoice themselves."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from billing import pdf
from billing import services as billing
from billing.models import Invoice, InvoiceStatus, PaymentMilestone, Quote, QuoteStatus
from engagements import rules
from engagements import services as lifecycle
from portal.errors import DomainError

pytestmark = pytest.mark.django_db


def _accept(quote, user, **overrides):
    args = {"full_name": "Alice Andes", "accepted_policy": True, "shown_sha256": quote.pdf_sha256, "request": None}
    return billing.quote_accept(user=user, quote=quote, **{**args, **overrides})


class TestQuoteCreation:
    def test_lines_tax_and_total_are_stored_rounded(self, sent_quote):
        assert sent_quote.subtotal == Decimal("2740000")
        assert sent_quote.tax == Decimal("520600") and sent_quote.total == Decimal("3260600")
        plan = [Decimal(step["amount"]) for step in sent_quote.milestone_plan]
        assert plan == [Decimal("1304240"), Decimal("978180"), Decimal("978180")] and sum(plan) == sent_quote.total

    def test_sending_moves_the_engagement_to_quoted_and_freezes_the_pdf(self, sent_quote):
        sent_quote.engagement.refresh_from_db()
        assert sent_quote.engagement.status == rules.QUOTED
        assert pdf.sha256(sent_quote.pdf.read()) == sent_quote.pdf_sha256

    def test_a_quote_needs_a_complete_diagnosis(self, quoted, sam):
        with pytest.raises(DomainError) as refused:
            billing.quote_create(actor=sam, engagement=quoted, lines=[billing.LineInput("x", Decimal(1), Decimal(1))])
        assert refused.value.message == billing.QUOTE_NEEDS_DIAGNOSIS

    @pytest.mark.parametrize(
        ("quantity", "price", "currency"),
        [
            (Decimal(0), Decimal(10), "CLP"),
            (Decimal(-1), Decimal(10), "CLP"),
            (Decimal(1), Decimal("10.5"), "CLP"),
            (Decimal(1), Decimal("10.555"), "USD"),
            (Decimal(1), Decimal(-5), "CLP"),
        ],
    )
    def test_bad_lines_are_refused_and_nothing_is_created(self, sent_quote, sam, quantity, price, currency):
        with pytest.raises(DomainError):
            billing.quote_create(
                actor=sam,
                engagement=sent_quote.engagement,
                currency=currency,
                lines=[billing.LineInput("x", quantity, price)],
            )
        assert Quote.objects.count() == 1

    def test_an_issued_quote_cannot_be_sent_again_and_a_revision_supersedes_it(self, sent_quote, sam):
        with pytest.raises(DomainError):
            billing.quote_send(actor=sam, quote=sent_quote)
        revision = billing.quote_revise(
            actor=sam, quote=sent_quote, lines=[billing.LineInput("Integración", Decimal(1), Decimal("2000000"))]
        )
        billing.quote_send(actor=sam, quote=revision)
        sent_quote.refresh_from_db()
        assert (sent_quote.status, revision.version) == (QuoteStatus.SUPERSEDED, 2)
        assert sent_quote.lines.count() == 2  # the issued version is untouched


class TestAcceptance:
    def test_accepting_records_who_and_the_hash_and_confirms_scope(self, sent_quote, alice):
        acceptance = _accept(sent_quote, alice)
        engagement = sent_quote.engagement
        engagement.refresh_from_db()
        assert engagement.status == rules.ACTIVE and engagement.sessions.count() == 5
        assert acceptance.pdf_sha256 == pdf.sha256(sent_quote.pdf.open("rb").read())
        assert acceptance.full_name == "Alice Andes" and acceptance.user == alice

    def test_the_40_percent_invoice_is_issued_at_once(self, sent_quote, alice):
        _accept(sent_quote, alice)
        invoice = Invoice.objects.get()
        assert invoice.status == InvoiceStatus.ISSUED and invoice.number == 1
        assert invoice.total == Decimal("1304240") and invoice.subtotal + invoice.tax == invoice.total
        assert invoice.client_rut == "765432103" and invoice.milestone.code == "scope_confirmed"

    def test_phase_and_close_issue_the_other_two(self, sent_quote, alice, carla):
        _accept(sent_quote, alice)
        engagement = sent_quote.engagement
        lifecycle.phase_complete(actor=carla, engagement=engagement, phase=rules.PLANNING, reason="r")
        assert Invoice.objects.count() == 1
        lifecycle.phase_complete(actor=carla, engagement=engagement, phase=rules.CONFIGURATION, reason="r")
        assert Invoice.objects.count() == 2
        lifecycle.phase_complete(actor=carla, engagement=engagement, phase=rules.TESTING, reason="r")
        lifecycle.engagement_close(actor=carla, engagement=engagement, reason="Puesta en marcha")
        invoices = list(Invoice.objects.order_by("number"))
        assert [i.number for i in invoices] == [1, 2, 3]
        assert sum(i.total for i in invoices) == sent_quote.total
        assert (
            sum(i.subtotal for i in invoices) == sent_quote.subtotal and sum(i.tax for i in invoices) == sent_quote.tax
        )
        assert PaymentMilestone.objects.filter(reached_at__isnull=True).count() == 0

    def test_accepting_twice_is_refused(self, sent_quote, alice):
        _accept(sent_quote, alice)
        with pytest.raises(DomainError):
            _accept(sent_quote, alice)
        assert Invoice.objects.count() == 1

    def test_a_tampered_hash_is_refused_and_nothing_changes(self, sent_quote, alice):
        with pytest.raises(DomainError) as refused:
            _accept(sent_quote, alice, shown_sha256="0" * 64)
        assert refused.value.message == billing.QUOTE_TAMPERED
        sent_quote.refresh_from_db()
        assert sent_quote.status == QuoteStatus.SENT and not Invoice.objects.exists()

    def test_an_expired_quote_is_refused(self, sent_quote, alice):
        Quote.objects.filter(pk=sent_quote.pk).update(valid_until=timezone.localdate() - timedelta(days=1))
        with pytest.raises(DomainError) as refused:
            _accept(sent_quote, alice)
        assert refused.value.message == billing.QUOTE_EXPIRED

    def test_a_superseded_quote_is_refused(self, sent_quote, alice, sam):
        revision = billing.quote_revise(
            actor=sam, quote=sent_quote, lines=[billing.LineInput("x", Decimal(1), Decimal(1))]
        )
        billing.quote_send(actor=sam, quote=revision)
        with pytest.raises(DomainError):
            _accept(sent_quote, alice)

    def test_policy_and_name_are_required(self, sent_quote, alice):
        with pytest.raises(DomainError):
            _accept(sent_quote, alice, accepted_policy=False)
        with pytest.raises(DomainError):
            _accept(sent_quote, alice, full_name="  ")

    def test_declining_needs_a_reason(self, sent_quote, alice):
        with pytest.raises(DomainError):
            billing.quote_decline(user=alice, quote=sent_quote, reason="")
        billing.quote_decline(user=alice, quote=sent_quote, reason="Muy caro")
        sent_quote.refresh_from_db()
        assert sent_quote.status == QuoteStatus.DECLINED


class TestExpirySweep:
    def test_it_expires_only_sent_quotes(self, sent_quote, alice, sam):
        past = timezone.localdate() - timedelta(days=1)
        declined = billing.quote_create(
            actor=sam, engagement=sent_quote.engagement, lines=[billing.LineInput("x", Decimal(1), Decimal(1))]
        )
        Quote.objects.filter(pk=declined.pk).update(status=QuoteStatus.DECLINED, valid_until=past)
        Quote.objects.filter(pk=sent_quote.pk).update(valid_until=past)
        assert billing.quote_expire_sweep(today=timezone.localdate()) == 1
        assert billing.quote_expire_sweep(today=timezone.localdate()) == 0
        assert Quote.objects.get(pk=declined.pk).status == QuoteStatus.DECLINED
        assert Quote.objects.get(pk=sent_quote.pk).status == QuoteStatus.EXPIRED


def test_an_issued_quote_cannot_be_deleted(sent_quote):
    from billing.models import ImmutableError

    with pytest.raises(ImmutableError):
        sent_quote.delete()
    assert Quote.objects.filter(pk=sent_quote.pk).exists()


def test_a_second_service_quote_replaces_the_first_and_only_one_can_be_accepted(sent_quote, sam, alice):
    other = billing.quote_create(
        actor=sam,
        engagement=sent_quote.engagement,
        lines=[billing.LineInput("Integración (corregida)", Decimal(1), Decimal(2000000))],
    )
    billing.quote_send(actor=sam, quote=other)
    sent_quote.refresh_from_db()
    assert sent_quote.status == QuoteStatus.SUPERSEDED
    _accept(Quote.objects.get(pk=other.pk), alice)
    with pytest.raises(DomainError):
        _accept(sent_quote, alice)
    assert PaymentMilestone.objects.count() == 3 and Invoice.objects.count() == 1


def test_a_voided_add_on_invoice_is_not_billed_again_by_the_next_add_on(sent_quote, alice, sam):
    from billing.models import QuoteKind

    _accept(sent_quote, alice)
    first = billing.quote_create(
        actor=sam,
        engagement=sent_quote.engagement,
        kind=QuoteKind.ADD_ON,
        lines=[billing.LineInput("Add-on A", Decimal(1), Decimal(100000))],
    )
    _accept(billing.quote_send(actor=sam, quote=first), alice)
    billing.invoice_void(actor=sam, invoice=Invoice.objects.get(milestone__quote=first), reason="error")
    second = billing.quote_create(
        actor=sam,
        engagement=sent_quote.engagement,
        kind=QuoteKind.ADD_ON,
        lines=[billing.LineInput("Add-on B", Decimal(1), Decimal(200000))],
    )
    _accept(billing.quote_send(actor=sam, quote=second), alice)
    assert Invoice.objects.filter(milestone__quote=second).count() == 1
    assert Invoice.objects.filter(milestone__quote=first).count() == 1
