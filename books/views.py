"""The books' pages: staff set up the consultancy's Odoo and follow the pushes; everyone who may
see a payment request may download its legal PDF from Odoo (stored by the worker: no web request
waits on Odoo)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_q.tasks import async_task

from billing.selectors import invoice_list_for_user
from books import selectors, services
from books.forms import ConnectionForm, SettingsForm
from books.models import BooksConnection
from portal.access import get_scoped_or_404, staff_required
from portal.errors import DomainError

CONNECTION_FIELDS = ("url", "database", "login", "company_id")


def _forms(request: HttpRequest, connection: BooksConnection | None) -> tuple[ConnectionForm, SettingsForm]:
    posted = request.POST if request.method == "POST" else None
    connection_form = ConnectionForm(
        posted if "save_connection" in request.POST else None,
        has_key=bool(connection and connection.api_key),
        initial={name: getattr(connection, name) for name in CONNECTION_FIELDS} if connection else {},
    )
    settings_form = SettingsForm(
        posted if "save_settings" in request.POST else None,
        initial={name: getattr(connection, name) for name in services.SETTINGS}
        if connection
        else {"post_invoices": True},
    )
    return connection_form, settings_form


@staff_required
def page(request: HttpRequest) -> HttpResponse:
    context = selectors.books_page(request.user)
    connection_form, settings_form = _forms(request, context["connection"])
    if request.method == "POST":
        if "save_connection" in request.POST and connection_form.is_valid():
            saved = services.connection_save(actor=request.user, **connection_form.cleaned_data)
            if saved.api_key:
                messages.success(request, _("Connection saved. Check it to see if it works."))
            else:
                messages.warning(
                    request,
                    _(
                        "Saved. The API key was cleared because the address or the database changed: "
                        "enter the key for this Odoo."
                    ),
                )
            return redirect("books:page")
        if "save_settings" in request.POST and settings_form.is_valid():
            try:
                services.settings_save(actor=request.user, **settings_form.cleaned_data)
            except DomainError as error:
                settings_form.add_error(None, str(error.message))
            else:
                messages.success(request, _("Settings saved."))
                return redirect("books:page")
    found = context["connection"].last_check.get("settings", {}) if context["connection"] else {}
    problems = [
        (settings_form.fields[name].label, code) for name, code in found.items() if name in settings_form.fields
    ]
    context.update(connection_form=connection_form, settings_form=settings_form, setting_problems=problems)
    return render(request, "books/page.html", context)


@staff_required
@require_POST
def check(request: HttpRequest) -> HttpResponse:
    if BooksConnection.objects.filter(pk=1).exists():
        services.check_request()
        messages.info(request, _("Checking the connection; the verdict appears here in a few seconds."))
    return redirect("books:page")


@staff_required
@require_POST
def pull(request: HttpRequest) -> HttpResponse:
    transaction.on_commit(lambda: async_task("books.tasks.pull_now"))
    messages.info(request, _("Reading back from Odoo; the pass appears in the list below."))
    return redirect("books:page")


@staff_required
def run_detail(request: HttpRequest, public_id) -> HttpResponse:
    run = get_scoped_or_404(selectors.run_list_for_user(request.user), public_id=public_id)
    items = list(run.items.select_related("invoice", "push"))
    return render(request, "books/run_detail.html", {"run": run, "items": items})


def _push_decision(request: HttpRequest, public_id, decide, message: str) -> HttpResponse:
    push = get_scoped_or_404(selectors.push_list_for_user(request.user), public_id=public_id)
    decide(actor=request.user, push=push)
    messages.info(request, message)
    return redirect("books:page")


@staff_required
@require_POST
def push_retry(request: HttpRequest, public_id) -> HttpResponse:
    return _push_decision(request, public_id, services.push_retry, _("Sent again to Odoo."))


@staff_required
@require_POST
def push_handled(request: HttpRequest, public_id) -> HttpResponse:
    return _push_decision(request, public_id, services.push_handled, _("Marked as done by hand in Odoo."))


@staff_required
@require_POST
def document_send(request: HttpRequest, public_id) -> HttpResponse:
    invoice = get_scoped_or_404(invoice_list_for_user(request.user), public_id=public_id)
    try:
        services.document_send(actor=request.user, invoice=invoice)
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.info(request, _("Sent to Odoo; its folio appears here once Odoo has it."))
    return redirect("billing:invoice", public_id=invoice.public_id)


@login_required
def document_pdf(request: HttpRequest, public_id) -> FileResponse:
    """Odoo's PDF of the legal invoice, as the worker stored it once the invoice was posted."""
    doc = get_scoped_or_404(selectors.document_list_for_user(request.user), invoice__public_id=public_id)
    if not doc.pdf:
        raise Http404
    name = (doc.folio or doc.invoice.display_number).replace("/", "-").replace(" ", "-")
    return FileResponse(doc.pdf.open("rb"), as_attachment=True, filename=f"{name}.pdf", content_type="application/pdf")
