"""Payments both ways, each once: a payment recorded in the portal is registered on the Odoo
invoice; a payment registered in Odoo (the accountant reconciling the bank) reaches the portal's
ledger through the read-back, and neither comes back to where it started."""

from decimal import Decimal

import pytest

from billing import ledger
from billing.models import Payment
from books import rules, services
from books.models import BooksConnection, BooksPush, PushState
from engagements.integration.gateway.odoo import OdoorpcGateway
from tests.books.conftest import committed, connect, document, issue, pay

pytestmark = pytest.mark.django_db


def _accountant_pays(books, move_id: int, amount: float, *, memo="Transferencia 4411") -> int:
    """What the accountant does in Odoo: the payment wizard on the invoice (over the real protocol)."""
    gateway = OdoorpcGateway(url=books.url, database="lab", login="admin", api_key="admin", timeout=5)
    context = {"active_model": "account.move", "active_ids": [move_id]}
    values = {"amount": amount, "payment_date": "2026-12-07", "journal_id": 6, "communication": memo}
    wizard = gateway.create("account.payment.register", [values], context=context)
    return gateway.call("account.payment.register", "action_create_payments", wizard, context=context)["res_id"]


def test_a_payment_in_the_portal_appears_in_odoo_once(connected, andes, sam):
    invoice = issue(andes)
    payment = pay(invoice, 500000, actor=sam)
    push = BooksPush.objects.get(payment=payment)
    assert push.state == PushState.DONE, push.message
    marker = rules.payment_marker(payment.public_id.hex, invoice.display_number)
    [odoo_payment] = connected.records("account.payment")
    assert (odoo_payment["ref"], odoo_payment["amount"], odoo_payment["journal_id"][0]) == (marker, 500000.0, 6)
    assert odoo_payment["state"] == "posted" and push.odoo_id == odoo_payment["id"]
    doc = document(invoice)
    assert (doc.payment_state, doc.amount_residual) == ("partial", Decimal(690000))
    for _ in range(2):  # the read-back sees it is Odoo's view of our own payment: nothing comes back
        services.pull_run()
    assert list(invoice.payments.values_list("amount", flat=True)) == [Decimal(500000)]
    assert len(connected.records("account.payment")) == 1


def test_a_payment_made_in_odoo_appears_in_the_portal_once(connected, andes):
    invoice = issue(andes)
    _accountant_pays(connected, document(invoice).odoo_id, 1190000.0)
    with committed():
        run = services.pull_run()
    assert run.counts["recorded"] == 1
    [payment] = invoice.payments.all()
    assert (payment.amount, payment.method, payment.reference) == (Decimal(1190000), "transfer", "Odoo FAC 000001")
    assert payment.gateway_ref.startswith(rules.ODOO_PAYMENT_REF)
    invoice.refresh_from_db()
    assert invoice.status == "paid" and invoice.balance == 0
    with committed():
        services.pull_run()
        services.pull_run()
    assert invoice.payments.count() == 1
    assert len(connected.records("account.payment")) == 1  # not pushed back to Odoo
    assert not BooksPush.objects.filter(kind="payment").exists()
    assert document(invoice).payment_state == "paid"


def test_a_partial_payment_in_odoo_then_one_in_the_portal_each_once(connected, andes, sam):
    invoice = issue(andes)
    _accountant_pays(connected, document(invoice).odoo_id, 190000.0)
    with committed():
        services.pull_run()
    invoice.refresh_from_db()
    assert invoice.balance == Decimal(1000000)
    pay(invoice, 1000000, actor=sam)
    with committed():
        services.pull_run()
    assert sorted(invoice.payments.values_list("amount", flat=True)) == [Decimal(190000), Decimal(1000000)]
    assert len(connected.records("account.payment")) == 2
    assert document(invoice).payment_state == "paid"


def test_a_payment_registration_that_committed_but_timed_out_is_adopted(connected, andes, sam, settings, in_a_while):
    settings.BOOKS_ODOO_TIMEOUT = 1
    connected.accounting.stall_after[("account.payment.register", "action_create_payments")] = 1.5
    invoice = issue(andes)
    payment = pay(invoice, 1190000, actor=sam)
    push = BooksPush.objects.get(payment=payment)
    assert push.state == PushState.PENDING and len(connected.records("account.payment")) == 1
    connected.accounting.stall_after.clear()
    with committed():
        services.pull_run()  # meanwhile the read-back leaves the invoice alone: its payment is not settled
    assert invoice.payments.count() == 1
    services.retry_due(now=in_a_while)
    push.refresh_from_db()
    assert push.state == PushState.DONE and len(connected.records("account.payment")) == 1
    assert push.items.filter(action="adopted").exists()


def test_a_payment_on_an_invoice_left_in_draft_waits_for_it_to_be_posted(connected, andes, sam, in_a_while):
    connect(connected.url, sam, post_invoices=False)
    invoice = issue(andes)
    payment = pay(invoice, 1000, actor=sam)
    push = BooksPush.objects.get(payment=payment)
    assert (push.state, push.reason_code) == (PushState.PENDING, "invoice_draft_in_odoo")
    connected.accounting.account_move_action_post({}, [document(invoice).odoo_id])  # the accountant posts it
    services.retry_due(now=in_a_while)
    push.refresh_from_db()
    assert push.state == PushState.DONE and len(connected.records("account.payment")) == 1


def test_odoo_already_paid_by_hand_needs_attention_instead_of_a_second_payment(connected, andes, sam):
    invoice = issue(andes)
    _accountant_pays(connected, document(invoice).odoo_id, 1190000.0)
    payment = pay(invoice, 1190000, actor=sam)  # the same transfer, recorded in the portal too
    push = BooksPush.objects.get(payment=payment)
    assert (push.state, push.reason_code) == (PushState.ATTENTION, "odoo_residual_lower")
    assert len(connected.records("account.payment")) == 1
    with committed():
        services.pull_run()  # and the read-back does not record Odoo's as a third
    assert invoice.payments.count() == 1


def test_a_refund_in_the_portal_is_money_paid_back_in_odoo(connected, andes, sam):
    invoice = issue(andes)
    payment = pay(invoice, 1190000, actor=sam, method="webpay")
    with committed():
        refund = ledger.payment_refund_record(actor=sam, payment=payment, amount=Decimal(190000))
    push = BooksPush.objects.get(payment=refund)
    assert push.state == PushState.DONE
    outbound = connected.records("account.payment", payment_type="outbound")
    assert [(p["amount"], p["state"]) for p in outbound] == [(190000.0, "posted")]
    assert outbound[0]["ref"] == rules.payment_marker(refund.public_id.hex, invoice.display_number, refund=True)
    with committed():
        services.pull_run()  # Odoo still shows the invoice paid (the refund is not reconciled): nothing recorded
    assert sorted(invoice.payments.values_list("amount", flat=True)) == [Decimal(-190000), Decimal(1190000)]


def test_a_portal_payment_waiting_for_odoo_is_not_counted_twice_by_the_read_back(connected, andes, sam):
    invoice = issue(andes)
    BooksConnection.objects.filter(pk=1).update(payment_journal_id=None)  # the push will need attention
    payment = pay(invoice, 1190000, actor=sam)
    assert BooksPush.objects.get(payment=payment).state == PushState.ATTENTION
    _accountant_pays(connected, document(invoice).odoo_id, 1190000.0)  # the accountant registers it by hand
    with committed():
        run = services.pull_run()
    assert run.counts["waiting"] == 1 and invoice.payments.count() == 1
    services.push_handled(actor=sam, push=BooksPush.objects.get(payment=payment))
    with committed():
        services.pull_run()
    assert list(Payment.objects.filter(invoice=invoice).values_list("amount", flat=True)) == [Decimal(1190000)]
    assert document(invoice).attention == ""
