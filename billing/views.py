"""Billing pages: quotes (editor, reading, acceptance) and invoice PDFs."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from billing import selectors, services
from billing.forms import AcceptForm, DeclineForm, QuoteForm
from billing.models import QuoteStatus
from engagements.selectors import engagement_list_for_user
from portal.access import client_required, get_scoped_or_404, staff_required
from portal.errors import DomainError


def _quote(request: HttpRequest, public_id):
    return get_scoped_or_404(selectors.quote_list_for_user(request.user), public_id=public_id)


def _to_engagement(engagement) -> HttpResponse:
    return redirect(reverse("engagements:detail", args=[engagement.code]) + "#billing")


@staff_required
def quote_new(request: HttpRequest, code: str) -> HttpResponse:
    engagement = get_scoped_or_404(engagement_list_for_user(request.user), code=code)
    form = QuoteForm(request.POST or None, initial={"currency": "CLP"})
    if request.method == "POST" and form.is_valid():
        try:
            quote = services.quote_create(
                actor=request.user,
                engagement=engagement,
                lines=form.lines(),
                currency=form.cleaned_data["currency"],
                tax_rate=form.tax_rate(),
                valid_until=form.cleaned_data["valid_until"],
            )
        except DomainError as error:
            form.add_error(None, str(error.message))
        else:
            messages.success(request, _("Draft quote saved. Review it and send it to the client."))
            return redirect("billing:quote", public_id=quote.public_id)
    return render(request, "billing/quote_form.html", {"form": form, "e": engagement})


@login_required
def quote_detail(request: HttpRequest, public_id) -> HttpResponse:
    quote = _quote(request, public_id)
    context = {
        "quote": quote,
        "lines": list(quote.lines.all()),
        "e": quote.engagement,
        "accept_form": AcceptForm(initial={"shown_sha256": quote.pdf_sha256, "full_name": request.user.full_name}),
        "decline_form": DeclineForm(),
        "can_answer": request.user.is_client and quote.status == QuoteStatus.SENT,
    }
    return render(request, "billing/quote_detail.html", context)


@login_required
def quote_pdf(request: HttpRequest, public_id) -> FileResponse:
    """The frozen PDF of an issued quote: the bytes whose hash acceptance records."""
    quote = _quote(request, public_id)
    if not quote.pdf:
        raise Http404
    return FileResponse(
        quote.pdf.open("rb"), as_attachment=True, filename=f"cotizacion-{quote.engagement.code}-v{quote.version}.pdf"
    )


@staff_required
@require_POST
def quote_send(request: HttpRequest, public_id) -> HttpResponse:
    quote = _quote(request, public_id)
    try:
        services.quote_send(actor=request.user, quote=quote)
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("Quote sent to the client."))
    return redirect("billing:quote", public_id=quote.public_id)


@client_required
@require_POST
def quote_accept(request: HttpRequest, public_id) -> HttpResponse:
    quote = _quote(request, public_id)
    form = AcceptForm(request.POST)
    if not form.is_valid():
        messages.error(request, str(services.QUOTE_NAME_REQUIRED))
        return redirect("billing:quote", public_id=quote.public_id)
    try:
        services.quote_accept(user=request.user, quote=quote, request=request, **form.cleaned_data)
    except DomainError as error:
        messages.error(request, str(error.message))
        return redirect("billing:quote", public_id=quote.public_id)
    messages.success(request, _("Quote accepted. Thank you! Your engagement has started."))
    return _to_engagement(quote.engagement)


@client_required
@require_POST
def quote_decline(request: HttpRequest, public_id) -> HttpResponse:
    quote = _quote(request, public_id)
    form = DeclineForm(request.POST)
    try:
        services.quote_decline(user=request.user, quote=quote, reason=form.data.get("reason", ""))
    except DomainError as error:
        messages.error(request, str(error.message))
        return redirect("billing:quote", public_id=quote.public_id)
    messages.success(request, _("We recorded that you declined the quote. We will contact you."))
    return _to_engagement(quote.engagement)


@login_required
def invoice_pdf(request: HttpRequest, public_id) -> HttpResponse:
    invoice = get_scoped_or_404(selectors.invoice_list_for_user(request.user), public_id=public_id)
    if not invoice.pdf:
        messages.info(request, _("The PDF is being generated. Try again in a few seconds."))
        return _to_engagement(invoice.engagement)
    return FileResponse(invoice.pdf.open("rb"), as_attachment=True, filename=f"{invoice.display_number}.pdf")
