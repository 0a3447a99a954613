"""Webpay pages: start a payment, the hand-over to Transbank, the return, the outcome, refunds."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from billing import selectors
from billing.forms import RefundForm
from billing.models import WebpayStatus
from billing.webpay import services
from portal.access import client_required, get_scoped_or_404, staff_required
from portal.errors import DomainError

TOKEN_LIFE = timedelta(minutes=5)  # Transbank's: after it the payment form no longer opens
NO_CHARGE = gettext_lazy("No charge was made.")
OUTCOMES = {  # status -> (heading, explanation, Bootstrap alert colour)
    WebpayStatus.PENDING: (
        gettext_lazy("We are confirming your payment"),
        gettext_lazy(
            "Transbank has not confirmed the outcome yet. Reload this page in a few minutes "
            "and do not pay again in the meantime: we check pending payments automatically."
        ),
        "info",
    ),
    WebpayStatus.PAID: (
        gettext_lazy("Payment approved"),
        gettext_lazy("Thank you! We received your payment."),
        "success",
    ),
    WebpayStatus.REJECTED: (
        gettext_lazy("Payment rejected"),
        gettext_lazy("The bank rejected the payment. You can try again with another card or pay by bank transfer."),
        "danger",
    ),
    WebpayStatus.ABORTED: (
        gettext_lazy("Payment cancelled"),
        gettext_lazy("You cancelled the payment on Webpay's page."),
        "warning",
    ),
    WebpayStatus.TIMED_OUT: (
        gettext_lazy("Time ran out"),
        gettext_lazy("The time to pay on Webpay's page ran out before the payment was made."),
        "warning",
    ),
    WebpayStatus.FORM_ERROR: (
        gettext_lazy("Webpay's payment form failed"),
        gettext_lazy("There was an error on Webpay's payment form. You can try again in a few minutes."),
        "warning",
    ),
    WebpayStatus.CLOSED: (
        gettext_lazy("Payment not completed"),
        gettext_lazy("This payment was not completed on Webpay."),
        "secondary",
    ),
    WebpayStatus.BALANCE_CHANGED: (
        gettext_lazy("The amount due changed"),
        gettext_lazy(
            "The balance of this payment request changed while you were paying (another payment was recorded), "
            "so we did not confirm the transaction. Check the new balance before paying again."
        ),
        "warning",
    ),
    WebpayStatus.REVIEW: (
        gettext_lazy("We are reviewing your payment"),
        gettext_lazy(
            "Transbank reported a payment that does not match this payment request. Our team will review it "
            "and contact you; please do not pay again."
        ),
        "warning",
    ),
}
CHARGED = {WebpayStatus.PAID, WebpayStatus.REVIEW, WebpayStatus.PENDING}


def _attempt(request: HttpRequest, public_id):
    return get_scoped_or_404(selectors.webpay_attempt_list_for_user(request.user), public_id=public_id)


@client_required
@require_POST
def webpay_start(request: HttpRequest, public_id) -> HttpResponse:
    invoice = get_scoped_or_404(selectors.invoice_list_for_user(request.user), public_id=public_id)
    return_url = request.build_absolute_uri(reverse("billing:webpay_return"))
    try:
        attempt = services.attempt_start(user=request.user, invoice=invoice, return_url=return_url, request=request)
    except DomainError as error:
        messages.error(request, str(error.message))
        return redirect("billing:invoice", public_id=invoice.public_id)
    return redirect("billing:webpay_attempt", public_id=attempt.public_id)


@login_required
def webpay_attempt(request: HttpRequest, public_id) -> HttpResponse:
    """While the token is fresh, its owner gets the form that hands the browser to Webpay;
    otherwise (and afterwards) everyone who may see the payment request gets the outcome."""
    attempt = _attempt(request, public_id)
    hand_over = (
        attempt.status == WebpayStatus.PENDING
        and attempt.user_id == request.user.pk
        and timezone.now() - attempt.created_at < TOKEN_LIFE
        and not attempt.checked_at
    )
    heading, text, colour = OUTCOMES[attempt.status]
    context = {
        "attempt": attempt,
        "invoice": attempt.invoice,
        "hand_over": hand_over,
        "heading": heading,
        "text": text,
        "colour": colour,
        "no_charge": "" if attempt.status in CHARGED else NO_CHARGE,
        "can_retry": request.user.is_client and services.can_pay(attempt.invoice),
    }
    response = render(request, "billing/webpay.html", context)
    if hand_over:
        # The CSP's form-action allows our own origin only; this page alone may post to Transbank.
        parts = urlsplit(attempt.redirect_url)
        response._csp_update = {"form-action": [f"{parts.scheme}://{parts.netloc}"]}
    return response


@csrf_exempt  # Transbank's page sends the browser back here, by GET or by a cross-site POST
@require_http_methods(["GET", "POST"])
def webpay_return(request: HttpRequest) -> HttpResponse:
    """Transbank's return URL. Only the token is taken from the browser; the outcome comes from
    our own commit or status call. No session is needed (a cross-site POST carries none)."""
    params = services.ReturnParams.of({**request.GET.dict(), **request.POST.dict()})
    attempt = services.attempt_return(params)
    if attempt is None:
        return render(request, "billing/webpay_unknown.html", status=400)
    return redirect("billing:webpay_attempt", public_id=attempt.public_id)


@staff_required
@require_POST
def payment_refund(request: HttpRequest, public_id) -> HttpResponse:
    payment = get_scoped_or_404(selectors.payment_list_for_user(request.user), public_id=public_id)
    form = RefundForm(request.POST)
    if form.is_valid():
        try:
            services.payment_refund(actor=request.user, payment=payment, amount=form.cleaned_data["amount"])
        except DomainError as error:
            messages.error(request, str(error.message))
        else:
            messages.success(request, _("Refund made in Webpay and recorded."))
    else:
        messages.error(request, _("Enter the amount to refund."))
    return redirect("billing:invoice", public_id=payment.invoice.public_id)
