"""The client pays a payment request with Webpay in headless Chromium, against the fake
Transbank and its payment form: approved, rejected, cancelled, timed out. The hand-over to
Transbank is a plain form submitted by a static script, under the strict CSP."""

import re

import pytest

from billing.models import Invoice, Payment, WebpayAttempt
from tests.browser.helpers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CASES = {  # the fake form's button -> the portal's heading, the attempt's status, payments recorded
    "approve": ("Pagar con crédito", "Pago aprobado", "paid", 1),
    "reject": ("tarjeta rechazada", "Pago rechazado", "rejected", 0),
    "abort": ("Anular compra", "Pago anulado", "aborted", 0),
    "timeout": ("tiempo agotado", "Se acabó el tiempo", "timed_out", 0),
}


@pytest.mark.parametrize("case", CASES)
def test_the_client_pays_with_webpay(live_server, page, violations, first_invoice, alice, transbank, case):
    button, heading, status, payments = CASES[case]
    sign_in(page, live_server.url, alice.email)
    page.goto(f"{live_server.url}/portal/invoices/{first_invoice.public_id}/")
    page.click("button:has-text('Pagar con Webpay')")
    page.wait_for_url(f"{transbank.url}/webpayserver/initTransaction")  # the static script posted the token
    assert "Monto: $1.304.240" in page.content()
    page.click(f"button:has-text('{button}')")
    page.wait_for_url(re.compile(r"/portal/webpay/[0-9a-f-]{36}/$"))
    assert page.locator("h1").inner_text() == heading
    attempt = WebpayAttempt.objects.get()
    assert attempt.status == status and Payment.objects.count() == payments
    balance = "CLP 0" if payments else "CLP 1.304.240"
    page.click("text=Volver a la solicitud de pago")
    assert balance in page.locator("tfoot").inner_text()
    assert Invoice.objects.get().paid_amount == (attempt.amount if payments else 0)
    assert violations == []
