"""Finance pages: scoped lists, payment entry, credit decisions, CSV exports."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.models import Credit, Invoice, InvoiceStatus
from engagements import rules
from engagements import services as lifecycle
from tests.conftest import login_with_mfa
from tests.engagements.fixtures import wait_for_days

pytestmark = pytest.mark.django_db


@pytest.fixture
def invoice(first_invoice):
    return first_invoice


def test_a_client_sees_only_their_invoices(client, invoice, alice, charlie):
    client.force_login(alice)
    assert invoice.display_number in client.get(reverse("billing:finance")).content.decode()
    client.force_login(charlie)
    assert invoice.display_number not in client.get(reverse("billing:finance")).content.decode()
    assert client.get(reverse("billing:invoice", args=[invoice.public_id])).status_code == 404


def test_staff_record_a_payment_from_the_invoice_page(client, invoice, sam):
    login_with_mfa(client, sam)
    url = reverse("billing:payment_new", args=[invoice.public_id])
    client.post(url, {"paid_on": timezone.localdate().isoformat(), "amount": "1304240", "method": "transfer"})
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID


def test_a_payment_over_the_balance_shows_an_error_and_changes_nothing(client, invoice, sam):
    login_with_mfa(client, sam)
    url = reverse("billing:payment_new", args=[invoice.public_id])
    response = client.post(url, {"paid_on": "2026-01-01", "amount": "9999999", "method": "transfer"}, follow=True)
    assert [m.level_tag for m in response.context["messages"]][-1] == "error"  # after the sign-in notice
    invoice.refresh_from_db()
    assert invoice.paid_amount == 0


def test_clients_cannot_record_payments_or_export(client, invoice, alice):
    client.force_login(alice)
    assert client.post(reverse("billing:payment_new", args=[invoice.public_id]), {}).status_code == 403
    assert client.get(reverse("billing:invoices_csv")).status_code == 403


def test_staff_confirm_the_credit_of_an_administrative_close(client, invoice, sam, alice):
    engagement = invoice.engagement
    lifecycle.engagement_transition(engagement=engagement, target=rules.WAITING, actor=None, reason="R1")
    wait_for_days(engagement, 90)
    lifecycle.engagement_admin_close(actor=sam, engagement=engagement, reason="90 días")
    credit = Credit.objects.get()
    login_with_mfa(client, sam)
    assert engagement.title in client.get(reverse("billing:finance")).content.decode()
    client.post(reverse("billing:credit_confirm", args=[credit.public_id]), {"amount": "300000", "reason": "Ajuste"})
    credit.refresh_from_db()
    assert credit.status == "active" and credit.balance == Decimal(300000)
    client.logout()
    client.force_login(alice)
    page = client.get(reverse("engagements:detail", args=[engagement.code])).content.decode()
    assert credit.valid_until.strftime("%d/%m/%Y") in page or credit.valid_until.strftime("%d-%m-%Y") in page


def test_the_csv_exports(client, invoice, sam):
    login_with_mfa(client, sam)
    body = client.get(reverse("billing:invoices_csv")).content.decode()
    assert invoice.display_number in body and "1304240" in body
    assert client.get(reverse("billing:payments_csv")).status_code == 200


def test_staff_filter_invoices_by_company_status_and_overdue(client, invoice, sam, otra):
    login_with_mfa(client, sam)
    url = reverse("billing:finance")
    assert invoice.display_number in client.get(url, {"company": invoice.company.public_id}).content.decode()
    assert invoice.display_number not in client.get(url, {"company": otra.public_id}).content.decode()
    assert invoice.display_number not in client.get(url, {"status": "paid"}).content.decode()
    assert invoice.display_number not in client.get(url, {"overdue": "1"}).content.decode()
    Invoice.objects.filter(pk=invoice.pk).update(due_date=timezone.localdate() - timezone.timedelta(days=1))
    assert invoice.display_number in client.get(url, {"overdue": "1"}).content.decode()
    assert client.get(url, {"company": "not-a-uuid"}).status_code == 200


def test_receivables_are_totalled_per_currency(invoice, andes):
    from billing.selectors import finance_overview

    Invoice.objects.create(
        series="F",
        number=99,
        status=InvoiceStatus.ISSUED,
        company=andes,
        currency="USD",
        client_name="x",
        client_rut="1",
        client_address="x",
        client_email="a@b.cl",
        tax_rate=Decimal(0),
        subtotal=Decimal("1000.00"),
        tax=0,
        total=Decimal("1000.00"),
        due_date=timezone.localdate(),
    )
    receivable = dict(finance_overview(timezone.localdate())["receivable"])
    assert receivable == {"CLP": Decimal(1304240), "USD": Decimal("1000.00")}
