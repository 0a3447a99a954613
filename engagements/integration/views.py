"""Integration pages (consultants and staff): connections and their checks."""

import hashlib

from django.contrib import messages
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django_htmx.middleware import HtmxDetails

from engagements.integration import charts, connections, links, runner, selectors, services, webhooks
from engagements.integration.flows import orders
from engagements.integration.forms import (
    OdooConnectionForm,
    OrderSettingsForm,
    PriceSettingsForm,
    ProductSettingsForm,
    ShopConnectionForm,
    StockSettingsForm,
)
from engagements.integration.models import OdooConnection, ShopConnection, SyncRun
from engagements.models import Engagement
from engagements.selectors import engagement_list_for_user
from portal import clock
from portal.access import consultant_required, get_scoped_or_404
from portal.errors import DomainError
from portal.models import User


class PortalRequest(HttpRequest):
    """What these views get: a request past `consultant_required` (its user signed in), with django-htmx's details."""

    user: User
    htmx: HtmxDetails


def _engagement(request: PortalRequest, code: str):
    return get_scoped_or_404(engagement_list_for_user(request.user), code=code)


def _initial(connection, fields: tuple[str, ...]) -> dict:
    return {name: getattr(connection, name) for name in fields} if connection else {}


@consultant_required
def integration(request: PortalRequest, code: str) -> HttpResponse:
    engagement = _engagement(request, code)
    odoo, shop = selectors.connections_for_user(request.user, engagement)
    odoo_form = OdooConnectionForm(
        request.POST if "save_odoo" in request.POST else None,
        has_key=bool(odoo and odoo.api_key),
        initial=_initial(odoo, ("url", "database", "login")),
        auto_id="odoo_%s",  # both forms have an api_key field: distinct ids keep each label on its own field
    )
    shop_form = ShopConnectionForm(
        request.POST if "save_shop" in request.POST else None,
        has_key=bool(shop and shop.api_key),
        initial=_initial(shop, ("platform", "base_url")),
        auto_id="shop_%s",
    )
    if request.method == "POST":
        form, save = (
            (odoo_form, connections.odoo_connection_save)
            if "save_odoo" in request.POST
            else (shop_form, connections.shop_connection_save)
        )
        if form.is_valid() and _saved(request, form, save, engagement):
            messages.success(request, _("Connection saved. Test it to see if it works."))
            return redirect("integration:page", code=engagement.code)
    context = {
        "e": engagement,
        "odoo": odoo,
        "shop": shop,
        "odoo_form": odoo_form,
        "shop_form": shop_form,
        "webhook_url": request.build_absolute_uri(reverse("integration:webhook", args=[shop.webhook_token]))
        if shop
        else "",
        "odoo_check": _check_context(engagement, odoo),
        "shop_check": _check_context(engagement, shop),
        "runs_chart": charts.runs_chart(engagement.pk, clock.today()),
        **_runs_context(request, engagement),
    }
    return render(request, "integration/page.html", context)


def _saved(request: PortalRequest, form, save, engagement) -> bool:
    """Call the save service; a secret it still needs is shown next to its field (nothing typed is lost)."""
    try:
        save(actor=request.user, engagement=engagement, request=request, **form.cleaned_data)
    except connections.SecretsRequired as refused:
        for name in refused.fields:
            form.add_error(name, refused.message)
        return False
    return True


# ---------------------------------------------------------------- parts of pages that follow the worker
# A part polls (hx-trigger "every 3s") while something runs, and says what it shows in `seen`. An
# unchanged part is answered 204 (htmx swaps nothing); a changed one replaces itself and the short
# status line above it (an aria-live region, read out once per change). A part that no longer runs
# leaves out its trigger: the polling stops. The rest of the page, and what is typed in it, stays.


def _seen(*values) -> str:
    return hashlib.sha256(repr(values).encode()).hexdigest()[:16]


def _polled(request: PortalRequest, template: str, context: dict) -> HttpResponse:
    if request.GET.get("seen") == context["seen"]:
        return HttpResponse(status=204)
    return render(request, template, {**context, "oob": True})


def _runs_context(request: PortalRequest, engagement) -> dict:
    runs = list(selectors.run_list_for_user(request.user).filter(engagement=engagement)[:20])
    running = any(r.status == SyncRun.Status.RUNNING for r in runs)
    status = _("A run is in progress; the list follows it.") if running else _("No run in progress.")
    seen = _seen([(r.public_id, r.status, r.counts, r.summary) for r in runs])
    return {"e": engagement, "runs": runs, "running": running, "runs_status": status, "seen": seen}


def _check_context(engagement, connection) -> dict:
    if connection is None:
        return {}
    kind = "odoo" if isinstance(connection, OdooConnection) else "shop"
    going_on = connection.check_going_on()
    if going_on:
        status = _("Checking the connection: %(step)s…") % {"step": connection.get_check_state_display()}
    else:
        status = connection.last_check.get("message", "")
    return {
        "e": engagement,
        "kind": kind,
        "c": connection,
        "action": reverse(f"integration:{kind}_check", args=[engagement.code]),
        "going_on": going_on,
        "status": status,
        "seen": _seen(going_on, connection.check_state, connection.last_check_at, connection.revision),
    }


@consultant_required
def integration_part(request: PortalRequest, code: str, part: str) -> HttpResponse:
    """The runs table, or a connection's check, for the page's polling."""
    engagement = _engagement(request, code)
    if part == "runs":
        return _polled(request, "integration/_runs.html", _runs_context(request, engagement))
    if part not in ("odoo", "shop"):
        raise Http404
    check = _check_context(engagement, _connection(request, engagement, part))
    return _polled(request, "integration/_check.html", {"check": check, "seen": check["seen"]})


def _connection(request: PortalRequest, engagement: Engagement, kind: str) -> OdooConnection | ShopConnection:
    if kind == "odoo":
        return get_scoped_or_404(selectors.odoo_connection_list_for_user(request.user), engagement=engagement)
    return get_scoped_or_404(selectors.shop_connection_list_for_user(request.user), engagement=engagement)


def _check(request: PortalRequest, code: str, kind: str) -> HttpResponse:
    """Queue a check for the worker. From htmx, the answer is the check's part, which then polls."""
    engagement = _engagement(request, code)
    connection = _connection(request, engagement, kind)
    refused = None
    try:
        connections.connection_check_request(actor=request.user, connection=connection, request=request)
    except DomainError as error:
        refused = error.message
    if request.htmx:
        connection.refresh_from_db()
        context = {"check": {**_check_context(engagement, connection), "refused": refused}, "oob": True}
        return render(request, "integration/_check.html", context)
    if refused:
        messages.error(request, str(refused))
    else:
        messages.info(request, _("Checking the connection; the result appears on this page."))
    return redirect("integration:page", code=engagement.code)


@consultant_required
@require_POST
def odoo_check(request: PortalRequest, code: str) -> HttpResponse:
    return _check(request, code, "odoo")


@consultant_required
@require_POST
def shop_check(request: PortalRequest, code: str) -> HttpResponse:
    return _check(request, code, "shop")


@consultant_required
@require_POST
def run_now(request: PortalRequest, code: str, flow: str) -> HttpResponse:
    """Queue a run (or a dry run) for the worker; the page follows its progress."""
    engagement = _engagement(request, code)
    if flow not in runner.FLOWS:
        raise Http404
    dry_run = request.POST.get("dry_run") == "1"
    try:
        services.run_request(engagement=engagement, flow=flow, dry_run=dry_run)
    except DomainError as refused:
        messages.error(request, str(refused.message))
    else:
        messages.info(request, _("Dry run queued.") if dry_run else _("Run queued."))
    return redirect("integration:page", code=engagement.code)


def _run_context(request: PortalRequest, public_id) -> dict:
    run = get_scoped_or_404(selectors.run_list_for_user(request.user), public_id=public_id)
    odoo, shop = selectors.connections_for_user(request.user, run.engagement)
    items = [(item, links.odoo_link(odoo, item), links.shop_link(shop, item)) for item in run.items.all()]
    running = run.status == SyncRun.Status.RUNNING
    if running:
        status = _("The run is in progress; this report follows it.")
    else:
        status = _("The run is over: %(status)s.") % {"status": run.get_status_display()}
    seen = _seen(run.status, run.counts, run.summary, len(items))
    return {"run": run, "items": items, "e": run.engagement, "running": running, "status": status, "seen": seen}


@consultant_required
def run_detail(request: PortalRequest, public_id) -> HttpResponse:
    return render(request, "integration/run_detail.html", _run_context(request, public_id))


@consultant_required
def run_progress(request: PortalRequest, public_id) -> HttpResponse:
    """The run's report, for the run page's polling while it runs."""
    return _polled(request, "integration/_run_report.html", _run_context(request, public_id))


SETTINGS_FORMS = {
    "orders": OrderSettingsForm,
    "stock": StockSettingsForm,
    "prices": PriceSettingsForm,
    "products": ProductSettingsForm,
}


@consultant_required
def flow_settings(request: PortalRequest, code: str, flow: str) -> HttpResponse:
    engagement = _engagement(request, code)
    if flow not in SETTINGS_FORMS:
        raise Http404
    current = selectors.flow_settings_for_user(request.user, engagement, flow)
    initial = {
        **(current.options if current else {}),
        "enabled": bool(current and current.enabled),
        "every_minutes": current.every_minutes if current else None,
    }
    if "statuses" in initial:  # stored before statuses were the same for every shop
        initial["statuses"] = [orders.LEGACY_STATUSES.get(status, status) for status in initial["statuses"]]
    form = SETTINGS_FORMS[flow](request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        services.flow_settings_save(
            actor=request.user,
            engagement=engagement,
            flow=flow,
            enabled=form.cleaned_data["enabled"],
            every_minutes=form.cleaned_data["every_minutes"],
            options=form.options(),
        )
        messages.success(request, _("Settings saved."))
        return redirect("integration:page", code=engagement.code)
    return render(request, "integration/flow_settings.html", {"e": engagement, "form": form, "flow": flow})


@csrf_exempt
@require_POST
def webhook(request: PortalRequest, token: str) -> HttpResponse:
    """A shop's webhook: no login and no CSRF token; the HMAC over the raw body authenticates it.
    Answers with a status only (nothing rendered); the work happens in the worker."""
    connection = selectors.shop_connection_for_webhook(token)
    if connection is None:
        return HttpResponse(status=404)
    try:
        webhooks.webhook_receive(connection=connection, headers=request.headers, body=request.body)
    except RequestDataTooBig:
        return HttpResponse(status=413)
    except webhooks.Refused as refused:
        return HttpResponse(status=refused.status)
    return HttpResponse(status=200)


def _matching_context(request: PortalRequest, engagement) -> dict:
    matching_runs = list(selectors.matching_run_list_for_user(request.user, engagement)[:20])
    proposal = next((r for r in matching_runs if r.dry_run), None)
    applied = next((r for r in matching_runs if not r.dry_run), None)
    items = list(proposal.items.all()) if proposal else []
    finished = proposal is not None and proposal.status in (SyncRun.Status.SUCCEEDED, SyncRun.Status.PARTIAL)
    running = any(r.status == SyncRun.Status.RUNNING for r in matching_runs)
    status = _("Matching in progress; the result appears here by itself.") if running else _("No matching going on.")
    return {
        "e": engagement,
        "proposal": proposal,
        "applied": applied,
        "proposed": [i for i in items if i.action == "would_bind"],
        "review": [i for i in items if i.outcome == "review"],
        "bound": [i for i in items if i.outcome == "unchanged"],
        "unmatched": [i for i in items if i.outcome == "skipped"],
        "running": running,
        "status": status,
        "seen": _seen([(r.public_id, r.status, r.counts) for r in matching_runs]),
        "can_approve": proposal is not None
        and finished
        and proposal.counts.get("created", 0) > 0
        and not (applied and applied.started_at > proposal.started_at),
    }


@consultant_required
def bindings(request: PortalRequest, code: str) -> HttpResponse:
    """Product matching: the latest proposal, grouped for review, and its approval."""
    return render(request, "integration/bindings.html", _matching_context(request, _engagement(request, code)))


@consultant_required
def bindings_state(request: PortalRequest, code: str) -> HttpResponse:
    """The matching part of the page, for its polling while a proposal or an approval runs."""
    return _polled(request, "integration/_matching.html", _matching_context(request, _engagement(request, code)))


def _matching_queued(request: PortalRequest, engagement, proposal: SyncRun | None = None) -> HttpResponse:
    try:
        services.matching_request(engagement=engagement, proposal=proposal, actor=request.user)
    except DomainError as refused:
        messages.error(request, str(refused.message))
    else:
        messages.info(request, _("Queued: the result appears on this page."))
    return redirect("integration:bindings", code=engagement.code)


@consultant_required
@require_POST
def bindings_propose(request: PortalRequest, code: str) -> HttpResponse:
    return _matching_queued(request, _engagement(request, code))


@consultant_required
@require_POST
def bindings_approve(request: PortalRequest, code: str) -> HttpResponse:
    """Approve one proposal: the worker matches again and binds only what is still proposed the same way."""
    engagement = _engagement(request, code)
    proposals = selectors.matching_run_list_for_user(request.user, engagement).filter(dry_run=True)
    proposal = get_scoped_or_404(proposals, public_id=request.POST.get("proposal"))
    return _matching_queued(request, engagement, proposal)
