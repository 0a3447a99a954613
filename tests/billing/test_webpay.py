"""Webpay Plus: paying a payment request against the fake Transbank over loopback HTTP.

alice (Andes) pays the first payment request (40%: CLP 1.304.240); sam is staff; charlie is
another company's client.
"""

from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from billing import ledger
from billing.models import Invoice, InvoiceStatus, Payment, PaymentMethod, WebpayAttempt, WebpayStatus
from billing.services import invoice_pdf_context
from billing.webpay import services as webpay
from portal.models import AuditEvent
from tests.fakes.transbank import API_KEY_SECRET

pytestmark = pytest.mark.django_db
BALANCE = Decimal("1304240")


def _start(client, invoice) -> WebpayAttempt:
    response = client.post(reverse("billing:webpay_start", args=[invoice.public_id]))
    attempt = WebpayAttempt.objects.order_by("-id").first()
    assert response.status_code == 302 and response["Location"] == reverse(
        "billing:webpay_attempt", args=[attempt.public_id]
    )
    return attempt


def _return(client, method="get", **params):
    return getattr(client, method)(reverse("billing:webpay_return"), params)


def _calls(transbank, method: str) -> int:
    return sum(1 for m, _path in transbank.requests if m == method)


@pytest.fixture
def paying(client, alice, first_invoice, transbank):
    """alice has started paying: the attempt exists, the browser is at Transbank's form."""
    client.force_login(alice)
    return _start(client, first_invoice)


class TestThePayJourney:
    def test_it_creates_a_transaction_for_the_balance_and_hands_the_token_to_transbank(self, client, paying):
        assert paying.amount == BALANCE and paying.status == WebpayStatus.PENDING
        assert len(paying.buy_order) <= 26 and paying.buy_order.startswith(paying.invoice.display_number)
        page = client.get(reverse("billing:webpay_attempt", args=[paying.public_id]))
        body = page.content.decode()
        assert f'action="{paying.redirect_url}"' in body and f'value="{paying.token}"' in body
        assert "js/webpay-redirect.js" in body and "<script>" not in body  # no inline script (CSP)
        form_action = page["Content-Security-Policy"].split("form-action")[1].split(";")[0]
        assert paying.redirect_url.rsplit("/webpayserver", 1)[0] in form_action
        assert API_KEY_SECRET not in body

    def test_an_approved_return_records_one_webpay_payment_with_the_card_details(self, client, paying, transbank):
        transbank.approve(paying.token, card="installments")
        response = _return(client, token_ws=paying.token)
        assert response["Location"] == reverse("billing:webpay_attempt", args=[paying.public_id])
        page = client.get(response["Location"]).content.decode()
        assert "Pago aprobado" in page and "1213" in page and "6623" in page and "3 cuotas" in page
        payment = Payment.objects.get()
        assert payment.method == PaymentMethod.WEBPAY and payment.amount == BALANCE
        assert "aut. 1213" in payment.reference and "****6623" in payment.reference
        paying.refresh_from_db()
        assert paying.status == WebpayStatus.PAID and paying.payment == payment and paying.installments == 3
        invoice = Invoice.objects.get(pk=paying.invoice_id)
        assert invoice.status == InvoiceStatus.PAID and invoice.balance == 0

    def test_a_reload_and_a_post_of_the_same_return_record_nothing_more(self, client, paying, transbank):
        transbank.approve(paying.token)
        for method in ("get", "get", "post"):
            assert _return(client, method, token_ws=paying.token).status_code == 302
        assert Payment.objects.count() == 1
        assert _calls(transbank, "PUT") == 1  # a final attempt asks Transbank nothing more

    def test_a_double_click_reuses_the_fresh_attempt(self, client, paying, transbank):
        again = _start(client, paying.invoice)
        assert again == paying and _calls(transbank, "POST") == 1

    def test_a_rejected_card_changes_no_balance(self, client, paying, transbank):
        transbank.reject(paying.token)
        page = client.get(_return(client, token_ws=paying.token)["Location"]).content.decode()
        assert "Pago rechazado" in page and "No se hizo ningún cargo" in page
        paying.refresh_from_db()
        assert paying.status == WebpayStatus.REJECTED and paying.response_code == -1
        assert not Payment.objects.exists()
        assert Invoice.objects.get().balance == BALANCE

    @pytest.mark.parametrize(
        ("method", "params", "status", "heading"),
        [
            (
                "post",
                {"TBK_TOKEN": "token", "TBK_ORDEN_COMPRA": "order", "TBK_ID_SESION": "session"},
                "aborted",
                "Pago anulado",
            ),
            ("get", {"TBK_ORDEN_COMPRA": "order", "TBK_ID_SESION": "session"}, "timed_out", "Se acabó el tiempo"),
            (
                "post",
                {"token_ws": "token", "TBK_TOKEN": "token", "TBK_ORDEN_COMPRA": "order", "TBK_ID_SESION": "session"},
                "form_error",
                "falló",
            ),
        ],
        ids=["aborted", "timeout", "error-on-the-form"],
    )
    def test_returns_without_a_payment_ask_status_never_commit(
        self, client, paying, transbank, method, params, status, heading
    ):
        values = {"token": paying.token, "order": paying.buy_order, "session": paying.session_id}
        response = _return(client, method, **{k: values[v] for k, v in params.items()})
        page = client.get(response["Location"]).content.decode()
        assert heading in page and "No se hizo ningún cargo" in page
        paying.refresh_from_db()
        assert paying.status == status
        assert _calls(transbank, "PUT") == 0 and _calls(transbank, "GET") == 1
        assert not Payment.objects.exists() and Invoice.objects.get().balance == BALANCE

    def test_a_timeout_return_needs_both_the_order_and_the_session(self, client, paying, transbank):
        response = _return(client, TBK_ORDEN_COMPRA=paying.buy_order, TBK_ID_SESION="not-the-session")
        assert response.status_code == 400
        paying.refresh_from_db()
        assert paying.status == WebpayStatus.PENDING and not transbank.requests[1:]

    def test_an_unknown_token_is_a_clear_page_and_changes_nothing(self, client, paying):
        response = _return(client, token_ws="f" * 64)
        assert response.status_code == 400 and "No pudimos asociar" in response.content.decode()
        assert WebpayAttempt.objects.get().status == WebpayStatus.PENDING

    def test_the_return_works_without_a_session_and_without_a_csrf_token(self, paying, transbank):
        from django.test import Client

        transbank.approve(paying.token)
        response = Client(enforce_csrf_checks=True).post(reverse("billing:webpay_return"), {"token_ws": paying.token})
        assert response.status_code == 302 and Payment.objects.count() == 1

    def test_every_attempt_and_outcome_is_in_the_history_and_the_audit_trail(self, client, paying, transbank):
        transbank.approve(paying.token)
        _return(client, token_ws=paying.token)
        kinds = list(paying.invoice.engagement.events.values_list("kind", flat=True))
        assert "invoice.webpay_started" in kinds and "invoice.webpay_paid" in kinds
        codes = list(AuditEvent.objects.filter(target=paying.buy_order).order_by("id").values_list("code", flat=True))
        assert codes == ["billing.webpay.started", "billing.webpay.paid"]
        assert API_KEY_SECRET not in str(list(AuditEvent.objects.values())) + str(list(Payment.objects.values()))
        invoice_page = client.get(reverse("billing:invoice", args=[paying.invoice.public_id])).content.decode()
        assert "Pagos con Webpay" in invoice_page and "Pagado" in invoice_page


class TestExactlyOnce:
    def test_the_balance_changed_between_create_and_commit_is_not_charged(self, client, paying, transbank, sam):
        ledger.payment_record(
            actor=sam, invoice=paying.invoice, paid_on=timezone.localdate(), amount=Decimal(1000), method="transfer"
        )
        transbank.approve(paying.token)
        page = client.get(_return(client, token_ws=paying.token)["Location"]).content.decode()
        assert "El monto a pagar cambió" in page
        paying.refresh_from_db()
        assert paying.status == WebpayStatus.BALANCE_CHANGED and _calls(transbank, "PUT") == 0
        assert Invoice.objects.get().balance == BALANCE - 1000  # only the transfer counted
        # A new attempt is for the new balance.
        assert _start(client, paying.invoice).amount == BALANCE - 1000

    def test_an_amount_that_does_not_match_the_attempt_is_never_a_payment(
        self, client, paying, transbank, django_capture_on_commit_callbacks
    ):
        transbank.approve(paying.token)
        transbank.amount_skew = -240
        with django_capture_on_commit_callbacks(execute=True):
            _return(client, token_ws=paying.token)
        paying.refresh_from_db()
        assert paying.status == WebpayStatus.REVIEW and "not this attempt" in paying.detail
        assert not Payment.objects.exists() and Invoice.objects.get().balance == BALANCE
        assert any("revisión" in m.subject for m in mail.outbox)

    def test_a_commit_that_times_out_stays_pending_and_the_next_return_settles_it(
        self, client, paying, transbank, settings
    ):
        transbank.approve(paying.token)
        settings.WEBPAY = {**settings.WEBPAY, "timeout": 0.3}
        transbank.latency = 0.6
        page = client.get(_return(client, token_ws=paying.token)["Location"]).content.decode()
        assert "Estamos confirmando su pago" in page
        assert WebpayAttempt.objects.get().status == WebpayStatus.PENDING and not Payment.objects.exists()
        transbank.latency = 0
        _return(client, token_ws=paying.token)  # the fake committed the first time: 422, then status
        assert WebpayAttempt.objects.get().status == WebpayStatus.PAID and Payment.objects.count() == 1


class TestReconciliation:
    def _abandon(self, attempt, minutes=20):
        WebpayAttempt.objects.filter(pk=attempt.pk).update(
            created_at=timezone.now() - timezone.timedelta(minutes=minutes)
        )

    def test_the_sweep_settles_an_attempt_whose_browser_never_came_back(self, paying, transbank):
        transbank.approve(paying.token)
        self._abandon(paying)
        assert webpay.reconcile_sweep(now=timezone.now()) == 1
        assert webpay.reconcile_sweep(now=timezone.now()) == 0  # safe to run twice
        paying.refresh_from_db()
        assert paying.status == WebpayStatus.PAID and Payment.objects.count() == 1
        assert _calls(transbank, "PUT") == 0  # settled from status: the sweep never commits

    def test_the_sweep_closes_an_abandoned_unpaid_attempt_and_leaves_a_fresh_one(self, paying, transbank, client):
        self._abandon(paying)
        fresh = WebpayAttempt.objects.create(
            invoice=paying.invoice, buy_order="F-fresh", session_id="s", token="t" * 64, redirect_url="x", amount=1
        )
        assert webpay.reconcile_sweep(now=timezone.now()) == 1
        paying.refresh_from_db()
        assert paying.status == WebpayStatus.CLOSED and fresh.status == WebpayStatus.PENDING
        assert "billing.webpay.closed" in AuditEvent.objects.values_list("code", flat=True)

    def test_past_transbanks_seven_days_a_person_reviews_it(self, paying, transbank):
        transbank.age(paying.token, 8 * 86400)
        self._abandon(paying, minutes=8 * 24 * 60)
        webpay.reconcile_sweep(now=timezone.now())
        paying.refresh_from_db()
        assert paying.status == WebpayStatus.REVIEW and "7 days" in paying.detail

    def test_the_migrations_schedule_the_sweep_every_15_minutes_and_its_task_runs(self, paying, transbank):
        from django_q.models import Schedule

        from billing import tasks

        schedule = Schedule.objects.get(name="billing.webpay_reconcile_sweep")
        assert (schedule.func, schedule.schedule_type, schedule.minutes) == (
            "billing.tasks.webpay_reconcile_sweep",
            "I",
            15,
        )
        transbank.approve(paying.token)
        self._abandon(paying)
        assert tasks.webpay_reconcile_sweep() == 1 and Payment.objects.count() == 1

    def test_the_sweep_keeps_an_attempt_pending_while_transbank_is_down(self, paying, transbank):
        self._abandon(paying)
        transbank.unavailable = 5
        assert webpay.reconcile_sweep(now=timezone.now()) == 0
        assert WebpayAttempt.objects.get().status == WebpayStatus.PENDING


class TestRefunds:
    @pytest.fixture
    def paid(self, client, paying, transbank, sam):
        transbank.approve(paying.token)
        _return(client, token_ws=paying.token)
        client.force_login(sam)
        return Payment.objects.get()

    def _refund(self, client, payment, amount):
        return client.post(reverse("billing:payment_refund", args=[payment.public_id]), {"amount": amount}, follow=True)

    def test_a_partial_then_the_rest_refund_through_transbank_and_the_balance_follows(self, client, paid, transbank):
        page = client.get(reverse("billing:invoice", args=[paid.invoice.public_id])).content.decode()
        assert "Anular en Webpay" in page
        self._refund(client, paid, "304240")
        invoice = Invoice.objects.get()
        assert invoice.balance == Decimal("304240") and invoice.status == InvoiceStatus.PARTIALLY_PAID
        assert transbank.transactions[paid.webpay_attempt.token].status == "PARTIALLY_NULLIFIED"
        self._refund(client, paid, "1000000")
        invoice.refresh_from_db()
        assert invoice.balance == BALANCE and invoice.status == InvoiceStatus.ISSUED
        refunds = list(paid.refunds.values_list("amount", flat=True))
        assert sorted(refunds) == [Decimal("-1000000"), Decimal("-304240")]
        assert AuditEvent.objects.filter(code="billing.webpay.refunded").count() == 2

    def test_more_than_is_left_is_refused_before_asking_transbank(self, client, paid, transbank):
        before = len(transbank.requests)
        page = self._refund(client, paid, "2000000").content.decode()
        assert "como máximo" in page and len(transbank.requests) == before
        assert Invoice.objects.get().status == InvoiceStatus.PAID

    def test_transbanks_refusal_is_shown_and_nothing_is_recorded(self, client, paid, transbank):
        transbank.transactions[paid.webpay_attempt.token].card = transbank.transactions[
            paid.webpay_attempt.token
        ].card.__class__("7763", "VD")  # a debit card: only a full refund is allowed
        page = self._refund(client, paid, "1000").content.decode()
        assert "Transbank rechazó la anulación" in page and "308" in page
        assert not paid.refunds.exists() and Invoice.objects.get().status == InvoiceStatus.PAID

    def test_clients_cannot_refund(self, client, paid, alice):
        client.force_login(alice)
        assert client.post(reverse("billing:payment_refund", args=[paid.public_id]), {"amount": "1"}).status_code == 403


class TestScopeAndConfiguration:
    def test_another_companys_client_gets_404_for_the_attempt_and_cannot_start_one(self, client, paying, charlie):
        client.force_login(charlie)
        response = client.get(reverse("billing:webpay_attempt", args=[paying.public_id]))
        assert response.status_code == 404 and paying.buy_order not in response.content.decode()
        assert client.post(reverse("billing:webpay_start", args=[paying.invoice.public_id])).status_code == 404
        assert WebpayAttempt.objects.count() == 1

    def test_another_member_of_the_company_sees_the_outcome_but_not_the_hand_over(self, client, paying, bob):
        client.force_login(bob)
        body = client.get(reverse("billing:webpay_attempt", args=[paying.public_id])).content.decode()
        assert paying.token not in body and paying.buy_order in body

    def test_webpay_is_off_unless_configured_and_the_page_shows_the_bank_transfer(self, client, alice, first_invoice):
        client.force_login(alice)
        body = client.get(reverse("billing:invoice", args=[first_invoice.public_id])).content.decode()
        assert "Pagar con Webpay" not in body and "Pagar por transferencia" in body and "00-000-00000-00" in body
        response = client.post(reverse("billing:webpay_start", args=[first_invoice.public_id]), follow=True)
        assert "transferencia" in response.content.decode() and not WebpayAttempt.objects.exists()

    def test_a_usd_payment_request_shows_the_bank_transfer_instead(self, client, alice, first_invoice, transbank):
        Invoice.objects.filter(pk=first_invoice.pk).update(currency="USD")
        client.force_login(alice)
        body = client.get(reverse("billing:invoice", args=[first_invoice.public_id])).content.decode()
        assert "Pagar con Webpay" not in body and "Pagar por transferencia" in body

    def test_the_clp_payment_request_offers_webpay_on_its_page_and_in_the_lists(
        self, client, alice, first_invoice, transbank
    ):
        client.force_login(alice)
        start = reverse("billing:webpay_start", args=[first_invoice.public_id])
        for url in (
            reverse("billing:invoice", args=[first_invoice.public_id]),
            reverse("billing:finance"),
            reverse("engagements:detail", args=[first_invoice.engagement.code]),
        ):
            body = client.get(url).content.decode()
            assert start in body and "Pagar con Webpay" in body, url

    def test_transbank_down_at_the_start_is_a_message_and_no_attempt(self, client, alice, first_invoice, transbank):
        transbank.unavailable = 1
        client.force_login(alice)
        response = client.post(reverse("billing:webpay_start", args=[first_invoice.public_id]), follow=True)
        assert "Webpay no respondió" in response.content.decode() and not WebpayAttempt.objects.exists()

    def test_every_payment_request_pdf_says_how_to_pay_by_transfer(self, first_invoice):
        from django.template.loader import render_to_string

        html = render_to_string("billing/pdf/invoice.html", {**invoice_pdf_context(first_invoice), "consultancy": {}})
        assert "00-000-00000-00" in html and first_invoice.display_number in html
