"""A void in the portal (billing's credit note) becomes a credit note in Odoo that reverses the
invoice (a 61 with the Chilean documents), exactly once."""

import pytest

from billing import services as billing
from books import services
from books.models import BooksConnection, PushState
from tests.books.conftest import committed, connect, document, issue, push_of, unreachable

pytestmark = pytest.mark.django_db


def _void(invoice, sam, reason="Monto mal calculado"):
    with committed():
        return billing.invoice_void(actor=sam, invoice=invoice, reason=reason)


def test_a_void_is_a_credit_note_reversing_the_invoice(connected, andes, sam):
    invoice = issue(andes)
    note = _void(invoice, sam)
    push = push_of(note, "void")
    assert push.state == PushState.DONE, push.message
    [refund] = connected.records("account.move", move_type="out_refund")
    [move] = connected.invoices(invoice.display_number)
    assert refund["reversed_entry_id"][0] == move["id"] and move["reversal_move_id"] == [refund["id"]]
    assert refund["state"] == "posted" and refund["name"] == "N/C 000001"
    assert refund["l10n_latam_document_type_id"] == [3, "(61) Electronic Credit Note"]
    assert (
        refund["ref"]
        == f"Reversal of: FAC 000001, {note.display_number}: Anula la solicitud de pago {invoice.display_number}: Monto mal calculado"
    )
    assert refund["amount_total"] == move["amount_total"]
    credit = document(note)
    assert (credit.odoo_id, credit.folio, credit.document_code, credit.state) == (
        refund["id"],
        "N/C 000001",
        "61",
        "posted",
    )
    assert credit.pdf and credit.pdf.open("rb").read().startswith(b"%PDF")
    original = document(invoice)
    assert (original.payment_state, original.amount_residual) == ("reversed", 0)


def test_a_credit_note_already_made_in_odoo_is_adopted_not_made_twice(connected, andes, sam):
    """A reversal that Odoo made although we did not hear back: the invoice's reversal_move_id is the marker."""
    invoice = issue(andes)
    odoo_id = document(invoice).odoo_id
    context = {"active_model": "account.move", "active_ids": [odoo_id]}
    wizard = connected.accounting.account_move_reversal_create(
        context, {"move_ids": [(6, 0, [odoo_id])], "reason": "x"}
    )
    connected.accounting.account_move_reversal_refund_moves(context, [wizard])
    note = _void(invoice, sam)
    assert push_of(note, "void").state == PushState.DONE
    assert len(connected.records("account.move", move_type="out_refund")) == 1
    assert document(note).state == "posted"  # the adopted draft was posted


def test_voiding_an_invoice_left_in_draft_cancels_it_in_odoo(connected, andes, sam):
    connect(connected.url, sam, post_invoices=False)
    invoice = issue(andes)
    note = _void(invoice, sam)
    assert push_of(note, "void").state == PushState.DONE
    [move] = connected.invoices(invoice.display_number)
    assert move["state"] == "cancel" and connected.records("account.move", move_type="out_refund") == []
    assert document(invoice).state == "cancel" and document(note).state == "cancel"


def test_a_void_made_while_odoo_was_down_follows_its_invoice(books, andes, sam, in_a_while):
    """Both wait; the retry pass takes the invoice first, then its credit note."""
    connect(books.url, sam)
    down = unreachable()
    BooksConnection.objects.filter(pk=1).update(url=down)
    invoice = issue(andes)
    note = _void(invoice, sam)
    assert push_of(note, "void").state == PushState.PENDING
    BooksConnection.objects.filter(pk=1).update(url=books.url)
    services.retry_due(now=in_a_while)
    assert push_of(invoice).state == push_of(note, "void").state == PushState.DONE
    assert [m["name"] for m in books.records("account.move")] == ["FAC 000001", "N/C 000001"]


def test_a_void_of_a_document_the_books_never_had_sends_nothing(connected, andes, sam):
    connect(connected.url, sam, active=False)
    invoice = issue(andes)
    connect(connected.url, sam, active=True)
    note = _void(invoice, sam)
    assert not note.books_pushes.exists() and connected.records("account.move") == []
