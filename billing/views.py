"""Billing pages: quotes (editor, reading, acceptance), payment requests and their PDFs, credits."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from billing import charts, exports, ledger, panels, selectors, services
from billing.forms import AcceptForm, CreditApplyForm, CreditConfirmForm, DeclineForm, PaymentForm, QuoteForm
from billing.models import CreditStatus, InvoiceStatus, Payment, QuoteKind, QuoteStatus
from billing.selectors import OPEN
from billing.webpay.gateway import is_enabled
from billing.webpay.services import can_pay
from engagements.selectors import change_request_list_for_user, engagement_list_for_user
from portal import clock
from portal.access import client_required, get_scoped_or_404, staff_required
from portal.errors import DomainError
from portal.models import ClientCompany, Role


def _quote(request: HttpRequest, public_id):
    return get_scoped_or_404(selectors.quote_list_for_user(request.user), public_id=public_id)


def _to_engagement(engagement) -> HttpResponse:
    return redirect(reverse("engagements:detail", args=[engagement.code]) + "#billing")


@staff_required
def quote_new(request: HttpRequest, code: str) -> HttpResponse:
    engagement = get_scoped_or_404(engagement_list_for_user(request.user), code=code)
    change = None
    if request.GET.get("change"):
        changes = change_request_list_for_user(request.user).filter(engagement=engagement)
        change = get_scoped_or_404(changes, public_id=request.GET["change"])
    kind = change.classification if change and change.classification in QuoteKind.values else QuoteKind.SERVICE
    refusal = services.quote_refusal(engagement, kind)
    if refusal:  # not offered on the engagement page either: say why instead of a form that fails
        messages.info(request, str(refusal))
        return _to_engagement(engagement)
    initial = {"currency": "CLP", "kind": kind, "line_0_description": change.title if change else ""}
    form = QuoteForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            quote = services.quote_create(
                actor=request.user,
                engagement=engagement,
                lines=form.lines(),
                currency=form.cleaned_data["currency"],
                tax_rate=form.tax_rate(),
                valid_until=form.cleaned_data["valid_until"],
                kind=form.cleaned_data["kind"],
                hours=form.cleaned_data["hours"],
                change_request=change,
            )
        except DomainError as error:
            form.add_error(None, str(error.message))
        else:
            messages.success(request, _("Draft quote saved. Review it and send it to the client."))
            return redirect("billing:quote", public_id=quote.public_id)
    context = {"form": form, "e": engagement, "tax_rate": settings.DEFAULT_TAX_RATE}
    return render(request, "billing/quote_form.html", context)


@login_required
def quote_detail(request: HttpRequest, public_id) -> HttpResponse:
    return _quote_page(request, _quote(request, public_id))


def _quote_page(request: HttpRequest, quote, accept_form=None, decline_form=None) -> HttpResponse:
    """The quote; a refused acceptance or decline comes back with its errors next to its fields."""
    initial = {"shown_sha256": quote.pdf_sha256, "full_name": request.user.full_name}
    context = {
        "quote": quote,
        "lines": list(quote.lines.all()),
        "e": quote.engagement,
        "accept_form": accept_form or AcceptForm(initial=initial),
        "decline_form": decline_form or DeclineForm(),
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
        return _quote_page(request, quote, accept_form=form)
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
        if error.field in form.fields:  # the reason is missing: ask for it next to its field
            if form.is_valid():
                form.add_error(error.field, str(error.message))
            return _quote_page(request, quote, decline_form=form)
        messages.error(request, str(error.message))
        return redirect("billing:quote", public_id=quote.public_id)
    messages.success(request, _("We recorded that you declined the quote. We will contact you."))
    return _to_engagement(quote.engagement)


@login_required
def invoice_pdf(request: HttpRequest, public_id) -> HttpResponse:
    invoice = get_scoped_or_404(selectors.invoice_list_for_user(request.user), public_id=public_id)
    if not invoice.pdf:
        messages.info(request, _("The PDF is being generated. Try again in a few seconds."))
        return redirect("billing:invoice", public_id=invoice.public_id)
    return FileResponse(invoice.pdf.open("rb"), as_attachment=True, filename=f"{invoice.display_number}.pdf")


# ---------------------------------------------------------------- invoices, payments, credits, finance


def _owes_by_transfer(invoice) -> bool:
    """Bank-transfer instructions where the balance cannot be paid with Webpay (USD, Webpay off)."""
    return invoice.status in OPEN and invoice.balance > 0 and not can_pay(invoice)


@login_required
def invoice_detail(request: HttpRequest, public_id) -> HttpResponse:
    invoice = get_scoped_or_404(selectors.invoice_list_for_user(request.user), public_id=public_id)
    context = {
        "invoice": invoice,
        "payments": list(invoice.payments.all()),
        "lines": list(invoice.lines.all()),
        "attempts": list(invoice.webpay_attempts.all()),
        "bank_transfer": settings.BANK_TRANSFER if _owes_by_transfer(invoice) else None,
        "panels": panels.panels_for(panels.INVOICE, invoice, request.user),
    }
    if request.user.role == Role.STAFF:
        credits = selectors.credit_list_for_user(request.user).filter(
            company=invoice.company, currency=invoice.currency, status=CreditStatus.ACTIVE
        )
        context.update(
            payment_form=PaymentForm(initial={"paid_on": clock.today(), "amount": invoice.balance}),
            apply_form=CreditApplyForm(credits=credits),
            refund_form=is_enabled(),
        )
    return render(request, "billing/invoice_detail.html", context)


@staff_required
@require_POST
def payment_new(request: HttpRequest, public_id) -> HttpResponse:
    invoice = get_scoped_or_404(selectors.invoice_list_for_user(request.user), public_id=public_id)
    form = PaymentForm(request.POST)
    if form.is_valid():
        try:
            ledger.payment_record(actor=request.user, invoice=invoice, **form.cleaned_data)
        except DomainError as error:
            messages.error(request, str(error.message))
        else:
            messages.success(request, _("Payment recorded."))
    else:
        messages.error(request, _("Check the payment: date, amount and method are required."))
    return redirect("billing:invoice", public_id=invoice.public_id)


@staff_required
@require_POST
def credit_apply(request: HttpRequest, public_id) -> HttpResponse:
    invoice = get_scoped_or_404(selectors.invoice_list_for_user(request.user), public_id=public_id)
    form = CreditApplyForm(request.POST, credits=selectors.credit_list_for_user(request.user))
    if form.is_valid():
        try:
            ledger.credit_apply(actor=request.user, invoice=invoice, **form.cleaned_data)
        except DomainError as error:
            messages.error(request, str(error.message))
        else:
            messages.success(request, _("Credit applied to the payment request."))
    else:
        messages.error(request, _("Choose a credit and an amount."))
    return redirect("billing:invoice", public_id=invoice.public_id)


@staff_required
@require_POST
def credit_confirm(request: HttpRequest, public_id) -> HttpResponse:
    credit = get_scoped_or_404(selectors.credit_list_for_user(request.user), public_id=public_id)
    form = CreditConfirmForm(request.POST)
    if form.is_valid():
        try:
            ledger.credit_confirm(actor=request.user, credit=credit, **form.cleaned_data)
        except DomainError as error:
            messages.error(request, str(error.message))
        else:
            messages.success(request, _("Credit decided."))
    else:
        messages.error(request, _("Enter the credit amount."))
    return redirect("billing:finance")


FINANCE_PAGE = 25


@login_required
def finance(request: HttpRequest) -> HttpResponse:
    """Staff: the finance overview and every payment request, filtered, a page at a time, with totals
    per currency. Clients: their payment requests and credits, how to pay each one."""
    user, today = request.user, clock.today()
    invoices = selectors.invoice_list_for_user(user)
    filters = {
        "status": request.GET.get("status", ""),
        "company": request.GET.get("company", ""),
        "overdue": request.GET.get("overdue") == "1",
    }
    invoices = selectors.invoice_filter(invoices, today=today, **filters)
    rows = invoices.select_related(None).select_related("engagement").only(*selectors.LIST_FIELDS)
    page = Paginator(rows.order_by("-issue_date", "-number", "-pk"), FINANCE_PAGE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "totals": selectors.invoice_totals(invoices),
        "credits": list(selectors.credit_list_for_user(user)),
        "filters": filters,
        "today": today,
        "statuses": InvoiceStatus.choices,
        "companies": ClientCompany.objects.order_by("legal_name") if user.role == Role.STAFF else [],
        "panels": panels.panels_for(panels.FINANCE, user),
        "bank_transfer": settings.BANK_TRANSFER
        if user.role == Role.CLIENT and any(_owes_by_transfer(i) for i in page)
        else None,
    }
    if user.role == Role.STAFF:
        overview = selectors.finance_overview(today)
        context.update(
            overview=overview,
            aging_charts=charts.aging_charts(overview["aging"]),
            monthly_charts=charts.monthly_charts(overview["monthly"]),
            confirm_form=CreditConfirmForm(),
        )
    return render(request, "billing/finance.html", context)


@staff_required
def invoices_csv(request: HttpRequest) -> HttpResponse:
    invoices = selectors.invoice_list_for_user(request.user).exclude(status=InvoiceStatus.DRAFT).order_by("number")
    return exports.invoices_csv(invoices, "solicitudes-de-pago.csv")


@staff_required
def payments_csv(request: HttpRequest) -> HttpResponse:
    payments = Payment.objects.select_related("invoice__engagement").order_by("paid_on", "id")
    return exports.payments_csv(payments, "pagos.csv")


@staff_required
@require_POST
def invoice_issue(request: HttpRequest, public_id) -> HttpResponse:
    invoice = get_scoped_or_404(selectors.invoice_list_for_user(request.user), public_id=public_id)
    services.invoice_issue(invoice=invoice)
    messages.success(request, _("Payment request issued."))
    return redirect("billing:invoice", public_id=invoice.public_id)


@staff_required
@require_POST
def invoice_void(request: HttpRequest, public_id) -> HttpResponse:
    invoice = get_scoped_or_404(selectors.invoice_list_for_user(request.user), public_id=public_id)
    try:
        note = services.invoice_void(actor=request.user, invoice=invoice, reason=request.POST.get("reason", ""))
    except DomainError as error:
        messages.error(request, str(error.message))
        return redirect("billing:invoice", public_id=invoice.public_id)
    messages.success(request, _("Payment request voided: cancellation %(number)s.") % {"number": note.display_number})
    return redirect("billing:invoice", public_id=note.public_id)
