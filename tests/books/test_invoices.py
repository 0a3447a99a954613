"""Payment requests become customer invoices in the consultancy's Odoo, exactly once, whether or not
Odoo is up when the document is issued."""

from datetime import timedelta
from decimal import Decimal

import pytest

from books import check, services
from books.models import BooksConnection, BooksPush, BooksRun, Health, PushState
from tests.books.conftest import accept, committed, connect, document, issue, push_of, unreachable
from tests.fakes.odoo import FakeOdoo, FakeOdooServer
from tests.fakes.odoo_books import install

pytestmark = pytest.mark.django_db


def test_an_issued_payment_request_becomes_a_posted_invoice_with_its_folio_states_and_pdf(connected, andes):
    invoice = issue(andes)
    [move] = connected.invoices(invoice.display_number)
    assert move["state"] == "posted" and move["name"] == "FAC 000001"
    assert move["payment_reference"] == invoice.display_number
    assert (move["invoice_date"], move["invoice_date_due"]) == (
        invoice.issue_date.isoformat(),
        invoice.due_date.isoformat(),
    )
    assert move["l10n_latam_document_type_id"] == [1, "(33) Electronic Invoice"]
    assert move["journal_id"][0] == 1 and move["currency_id"] == [45, "CLP"]
    assert (move["amount_untaxed"], move["amount_tax"], move["amount_total"]) == (1000000.0, 190000.0, 1190000.0)
    [line] = [connected.odoo.data["account.move.line"][i] for i in move["invoice_line_ids"]]
    assert (line["name"], line["quantity"], line["price_unit"], line["tax_ids"]) == (
        "Hito 40% integración",
        1.0,
        1000000.0,
        [1],
    )
    assert line["product_id"][0] == 30  # the service milestones' product
    doc = document(invoice)
    assert (doc.odoo_id, doc.folio, doc.document_number, doc.document_code) == (
        move["id"],
        "FAC 000001",
        "000001",
        "33",
    )
    assert (doc.state, doc.payment_state, doc.amount_total, doc.attention) == (
        "posted",
        "not_paid",
        Decimal(1190000),
        "",
    )
    assert doc.pdf.read().startswith(b"%PDF") and b"FAC 000001" in doc.pdf.open("rb").read()
    assert push_of(invoice).state == PushState.DONE and push_of(invoice).odoo_id == move["id"]


def test_an_exempt_payment_request_is_a_34_without_tax(connected, andes):
    invoice = issue(andes, tax_rate="0")
    [move] = connected.invoices(invoice.display_number)
    assert move["l10n_latam_document_type_id"][1].startswith("(34)") and move["name"] == "FNA 000001"
    assert move["amount_tax"] == 0.0 and move["amount_total"] == 1000000.0
    assert document(invoice).document_code == "34"


def test_a_usd_payment_request_carries_its_currency(connected, andes):
    invoice = issue(andes, net="1500.50", currency="USD")
    [move] = connected.invoices(invoice.display_number)
    assert move["currency_id"] == [2, "USD"] and move["amount_total"] == 1785.6  # 1500.50 + 285.10 (19 %)
    assert document(invoice).amount_total == Decimal("1785.60") == invoice.total


def test_an_invoice_is_pushed_once_across_a_commit_then_timeout(connected, andes, settings, in_a_while):
    """Odoo commits the create but answers after our timeout: the next attempt finds it by its ref."""
    settings.BOOKS_ODOO_TIMEOUT = 1
    connected.odoo.commit_then_stall, connected.odoo.stall_models = 1.5, {"account.move"}
    invoice = issue(andes)
    push = push_of(invoice)
    assert push.state == PushState.PENDING and push.reason_code == "odoo_write_ambiguous" and push.attempts == 1
    assert len(connected.invoices(invoice.display_number)) == 1  # Odoo has it although we never heard
    connected.odoo.commit_then_stall = 0
    services.retry_due(now=in_a_while)
    assert len(connected.invoices(invoice.display_number)) == 1
    push.refresh_from_db()
    assert push.state == PushState.DONE and document(invoice).folio == "FAC 000001"
    run = BooksRun.objects.order_by("-id").first()
    assert run.items.filter(kind="invoice", action="adopted", reason_code="adopted").count() == 1


def test_odoo_down_while_issuing_the_document_is_issued_and_the_push_waits(books, andes, sam, in_a_while):
    """Nothing listens at the connection's address: issuing works, the push waits and then goes."""
    connect(books.url, sam)
    with FakeOdooServer(FakeOdoo()) as probe:
        down = probe.url  # an address that answers nothing once this server stops
    BooksConnection.objects.filter(pk=1).update(url=down)
    invoice = issue(andes)
    assert invoice.status == "issued" and invoice.number == 1 and invoice.pdf is not None
    push = push_of(invoice)
    assert (push.state, push.reason_code, push.attempts) == (PushState.PENDING, "odoo_unreachable", 1)
    assert push.next_attempt_at is not None and document(invoice).odoo_id is None
    run = BooksRun.objects.get()
    assert run.status == BooksRun.Status.FAILED and run.counts["waiting"] == 1
    assert BooksConnection.objects.get().health != Health.FAILING  # down is not refused: no pause
    odoo = FakeOdoo()
    install(odoo)
    port = int(down.rsplit(":", 1)[1])
    with FakeOdooServer(odoo, port=port):
        services.retry_due(now=in_a_while)
    push.refresh_from_db()
    assert push.state == PushState.DONE and push.attempts == 2
    assert [m["name"] for m in odoo.data["account.move"].values()] == ["FAC 000001"]


def test_a_push_that_never_succeeds_needs_attention_after_its_retries(books, andes, sam, in_a_while):
    connect(books.url, sam)
    down = unreachable()
    BooksConnection.objects.filter(pk=1).update(url=down)
    invoice = issue(andes)
    for _ in range(12):  # a day on: past the longest back-off (6 h plus 20 % jitter)
        services.retry_due(now=in_a_while + timedelta(days=1))
    push = push_of(invoice)
    assert push.state == PushState.ATTENTION and push.reason_code == "odoo_unreachable,retries_exhausted"
    assert push.attempts == 10


def test_draft_mode_leaves_the_invoice_in_draft_without_a_pdf(connected, andes, sam):
    connect(connected.url, sam, post_invoices=False)
    invoice = issue(andes)
    [move] = connected.invoices(invoice.display_number)
    assert move["state"] == "draft"
    doc = document(invoice)
    assert doc.state == "draft" and not doc.pdf and doc.folio == "FAC 000001"  # a first draft has its number


def test_a_tax_at_another_rate_needs_attention_and_nothing_is_created(connected, andes):
    connected.odoo.data["account.tax"][1]["amount"] = 10.0
    invoice = issue(andes)
    push = push_of(invoice)
    assert (push.state, push.reason_code) == (PushState.ATTENTION, "odoo_tax_rate")
    assert connected.invoices(invoice.display_number) == []


def test_odoos_refusal_needs_attention_with_odoos_words(connected, andes, sam):
    connect(connected.url, sam, service_tax_id=27)  # a tax of the other company: Odoo refuses the invoice
    connected.odoo.data["account.tax"][27]["type_tax_use"] = "sale"
    invoice = issue(andes)
    push = push_of(invoice)
    assert push.state == PushState.ATTENTION and push.reason_code == "odoo_rejected"
    assert "Incompatible companies on records" in push.message


def test_our_number_on_another_customers_invoice_needs_attention(connected, andes):
    """An invoice typed by hand in Odoo with our next number, for another customer: nothing is guessed."""
    connected.accounting.account_move_create({}, {"move_type": "out_invoice", "partner_id": 2512, "ref": "F-000001"})
    invoice = issue(andes)
    push = push_of(invoice)
    assert (push.state, push.reason_code) == (PushState.ATTENTION, "odoo_ref_taken")
    assert len(connected.invoices("F-000001")) == 1


def test_the_books_switched_off_send_nothing(connected, andes, sam):
    connect(connected.url, sam, active=False)
    invoice = issue(andes)
    assert not BooksPush.objects.exists() and connected.invoices(invoice.display_number) == []


def test_refused_credentials_pause_the_pushes_until_a_check_passes(connected, andes, sam, in_a_while):
    connected.odoo.password = "rotated"  # the key was revoked in Odoo
    invoice = issue(andes)
    push = push_of(invoice)
    assert push.state == PushState.PENDING and push.reason_code == "odoo_auth"
    assert BooksConnection.objects.get().health == Health.FAILING
    assert services.retry_due(now=in_a_while) is None  # paused: no pass, no login attempts
    connected.odoo.password = "admin"
    with committed():
        verdict = check.connection_check()
    assert verdict.get("problem") is None
    push.refresh_from_db()
    assert push.state == PushState.DONE  # the check's pass took it


def test_each_line_type_goes_with_its_product(connected, engagement, sam, alice):
    """An add-on accepted in the portal: its payment request's line carries the add-ons' product."""
    from billing import services as billing
    from billing.models import Invoice, QuoteKind

    quote = billing.quote_create(
        actor=sam,
        engagement=engagement,
        lines=[billing.LineInput("Conector B2B", Decimal(1), Decimal(300000))],
        kind=QuoteKind.ADD_ON,
    )
    accept(billing.quote_send(actor=sam, quote=quote), alice)
    invoice = Invoice.objects.get(milestone__quote=quote)
    [move] = connected.invoices(invoice.display_number)
    [line] = [connected.odoo.data["account.move.line"][i] for i in move["invoice_line_ids"]]
    assert line["product_id"][0] == 31 and line["name"].startswith("100\u00a0% al aceptar")
    assert move["amount_total"] == float(invoice.total)


def test_an_odoo_without_wkhtmltopdf_keeps_the_invoice_and_a_manual_read_back_fetches_the_pdf_later(
    connected, andes, sam
):
    connected.accounting.wkhtmltopdf = False
    invoice = issue(andes)
    doc = document(invoice)
    assert push_of(invoice).state == PushState.DONE and doc.folio == "FAC 000001"
    assert not doc.pdf and doc.pdf_problem.startswith("odoo_pdf_failed")
    services.pull_run()  # the schedule does not hammer it again
    assert not document(invoice).pdf
    connected.accounting.wkhtmltopdf = True  # installed on the Odoo server
    services.pull_run(trigger=BooksRun.Trigger.MANUAL)
    doc = document(invoice)
    assert doc.pdf and doc.pdf_problem == ""


def test_an_api_key_refused_for_the_web_login_gets_the_pdf_by_the_portal_link(connected, andes):
    connected.accounting.web_password = "the-users-password"  # the stored secret is an API key
    invoice = issue(andes)
    assert document(invoice).pdf and BooksConnection.objects.get().pdf_via_portal
    second = issue(andes)
    assert document(second).pdf
    assert len([c for c in connected.odoo.calls if c[2] == "get_portal_url"]) == 2  # each PDF by its link
    assert connected.accounting.web_logins == [False]  # the refused web login was tried once, not per PDF
