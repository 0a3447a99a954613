"""The books' pages: the Odoo folio beside the payment request for its client and staff, the legal
PDF for whoever may see the document (404 for another company), and the staff page with what
needs attention, what waits and the passes."""

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.models import Invoice
from books.models import BooksConnection, BooksPush, BooksRun, PushState
from tests.books.conftest import accept, committed, connect, document, issue, push_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def make_user_carlos(db):
    """A consultant assigned to nothing of Andes'."""
    from portal.models import Role
    from tests.conftest import make_user

    return make_user("carlos@consultora.test", Role.CONSULTANT)


@pytest.fixture
def accepted(connected, sent_quote, alice):
    """The client accepts the quote: its 40 % payment request is issued and pushed (the real chain)."""
    accept(sent_quote, alice)
    return Invoice.objects.get()


def test_the_client_sees_the_odoo_folio_and_downloads_the_legal_pdf(accepted, alice, client):
    invoice = accepted
    client.force_login(alice)
    page = client.get(reverse("billing:invoice", args=[invoice.public_id])).content.decode()
    assert "FAC 000001" in page and "Validada" in page and "No pagada" in page and "tipo SII 33" in page
    assert "Reintentar" not in page and "Factura de cliente" not in page  # the pushes are staff's
    response = client.get(reverse("books:document_pdf", args=[invoice.public_id]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    body = b"".join(response.streaming_content)
    assert body.startswith(b"%PDF") and b"FAC 000001" in body
    assert 'filename="FAC-000001.pdf"' in response["Content-Disposition"]


def test_another_companys_client_and_an_unassigned_consultant_get_404(accepted, charlie, make_user_carlos, client):
    invoice = accepted
    for intruder in (charlie, make_user_carlos):
        client.force_login(intruder)
        response = client.get(reverse("books:document_pdf", args=[invoice.public_id]))
        assert response.status_code == 404 and b"%PDF" not in response.content


def test_no_pdf_before_odoo_posted_the_invoice(connected, sent_quote, sam, alice, client):
    connect(connected.url, sam, post_invoices=False)
    accept(sent_quote, alice)
    invoice = Invoice.objects.get()
    client.force_login(alice)
    assert client.get(reverse("books:document_pdf", args=[invoice.public_id])).status_code == 404
    page = client.get(reverse("billing:invoice", args=[invoice.public_id])).content.decode()
    assert "Borrador en Odoo" in page and "Descargar la factura tributaria" not in page


def test_the_books_page_is_staff_only(connected, carla, alice, client):
    for person in (carla, alice):
        client.force_login(person)
        assert client.get(reverse("books:page")).status_code == 403


def test_staff_see_what_needs_attention_and_send_it_again(connected, andes, sam, client):
    connected.odoo.data["account.tax"][1]["amount"] = 10.0
    invoice = issue(andes)
    push = push_of(invoice)
    client.force_login(sam)
    page = client.get(reverse("books:page")).content.decode()
    assert invoice.display_number in page and "La tasa del impuesto de Odoo no es la del documento." in page
    finance = client.get(reverse("billing:finance")).content.decode()
    assert "1 requiere atención" in finance
    connected.odoo.data["account.tax"][1]["amount"] = 19.0  # fixed in Odoo
    with committed():
        client.post(reverse("books:push_retry", args=[push.public_id]))
    push.refresh_from_db()
    assert push.state == PushState.DONE and document(invoice).folio == "FAC 000001"


def test_staff_close_a_push_done_by_hand_in_odoo(connected, andes, sam, client):
    connected.odoo.data["account.tax"][1]["amount"] = 10.0
    push = push_of(issue(andes))
    client.force_login(sam)
    client.post(reverse("books:push_handled", args=[push.public_id]))
    push.refresh_from_db()
    assert push.state == PushState.DONE and push.message.startswith("handled by hand")


def test_a_run_shows_its_items_with_reasons(connected, andes, sam, client, settings):
    settings.BOOKS_ODOO_TIMEOUT = 1
    connected.odoo.commit_then_stall, connected.odoo.stall_models = 1.5, {"account.move"}
    issue(andes)
    run = BooksRun.objects.get()
    client.force_login(sam)
    page = client.get(reverse("books:run", args=[run.public_id])).content.decode()
    assert "Odoo no confirmó a tiempo" in page and "Intento 1" in page


def test_a_document_issued_before_the_books_were_on_is_sent_by_staff_with_its_payments(connected, andes, sam, client):
    connect(connected.url, sam, active=False)
    invoice = issue(andes)
    from tests.books.conftest import pay

    pay(invoice, 100000, actor=sam)
    assert not BooksPush.objects.exists()
    connect(connected.url, sam, active=True)
    client.force_login(sam)
    page = client.get(reverse("billing:invoice", args=[invoice.public_id])).content.decode()
    assert "Enviar a Odoo" in page
    with committed():
        client.post(reverse("books:document_send", args=[invoice.public_id]))
    assert push_of(invoice).state == PushState.DONE
    assert BooksPush.objects.get(kind="payment").state == PushState.DONE
    assert len(connected.records("account.payment")) == 1
    response = client.post(reverse("books:document_send", args=[invoice.public_id]), follow=True)
    assert "Este documento ya está en la cola de la contabilidad." in response.content.decode()


def test_the_settings_form_keeps_what_was_typed_when_it_is_wrong(connected, sam, client):
    client.force_login(sam)
    response = client.post(reverse("books:page"), {"save_settings": "1", "active": "on", "sale_journal_id": "uno"})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'value="uno"' in page and "Introduzca un número entero." in page
    assert BooksConnection.objects.get().sale_journal_id == 1  # unchanged


def test_reading_back_now_is_queued_and_listed(connected, andes, sam, client):
    issue(andes)
    client.force_login(sam)
    with committed():
        client.post(reverse("books:pull"))
    assert BooksRun.objects.filter(kind="pull", trigger="manual").count() == 1
    assert "Lectura desde Odoo" in client.get(reverse("books:page")).content.decode()


def test_a_check_and_a_running_pass_update_their_part_of_the_page_until_they_end(connected, andes, sam, client):
    """No timed reload of the whole page (it would throw away a half-typed form): while a check or a
    pass runs, only its part re-reads the page; once it ended, the part no longer polls."""
    client.force_login(sam)
    connection = BooksConnection.objects.get()
    BooksConnection.objects.filter(pk=connection.pk).update(check_requested_at=timezone.now())
    page = client.get(reverse("books:page")).content.decode()
    assert 'http-equiv="refresh"' not in page
    assert 'id="books-check" aria-live="polite" hx-get="/' in page and 'hx-trigger="every 3s"' in page
    BooksConnection.objects.filter(pk=connection.pk).update(last_check_at=timezone.now())
    assert 'hx-trigger="every 3s"' not in client.get(reverse("books:page")).content.decode()

    run = BooksRun.objects.create(kind=BooksRun.Kind.PULL, trigger=BooksRun.Trigger.MANUAL)
    page = client.get(reverse("books:run", args=[run.public_id])).content.decode()
    assert 'http-equiv="refresh"' not in page and 'id="books-run" aria-live="polite" hx-get="/' in page
    BooksRun.objects.filter(pk=run.pk).update(status=BooksRun.Status.SUCCEEDED)
    assert "hx-trigger" not in client.get(reverse("books:run", args=[run.public_id])).content.decode()
