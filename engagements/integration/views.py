"""Integration pages (consultants and staff): connections and their checks."""

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_q.tasks import async_task

from engagements.integration import selectors, services
from engagements.integration.flows import orders
from engagements.integration.flows.runs import RUN_IN_PROGRESS
from engagements.integration.forms import OdooConnectionForm, OrderSettingsForm, ShopConnectionForm, StockSettingsForm
from engagements.integration.models import FlowSettings, OdooConnection, ShopConnection, SyncRun
from engagements.selectors import engagement_list_for_user
from portal.access import consultant_required, get_scoped_or_404


def _engagement(request: HttpRequest, code: str):
    return get_scoped_or_404(engagement_list_for_user(request.user), code=code)


def _initial(connection, fields: tuple[str, ...]) -> dict:
    return {name: getattr(connection, name) for name in fields} if connection else {}


@consultant_required
def integration(request: HttpRequest, code: str) -> HttpResponse:
    engagement = _engagement(request, code)
    odoo = OdooConnection.objects.filter(engagement=engagement).first()
    shop = ShopConnection.objects.filter(engagement=engagement).first()
    odoo_form = OdooConnectionForm(
        request.POST if "save_odoo" in request.POST else None,
        has_key=bool(odoo and odoo.api_key),
        initial=_initial(odoo, ("url", "database", "login")),
    )
    shop_form = ShopConnectionForm(
        request.POST if "save_shop" in request.POST else None,
        has_key=bool(shop and shop.api_key),
        initial=_initial(shop, ("platform", "base_url")),
    )
    if request.method == "POST":
        form, save = (
            (odoo_form, services.odoo_connection_save)
            if "save_odoo" in request.POST
            else (shop_form, services.shop_connection_save)
        )
        if form.is_valid():
            save(actor=request.user, engagement=engagement, **form.cleaned_data)
            messages.success(request, _("Connection saved. Test it to see if it works."))
            return redirect("integration:page", code=engagement.code)
    runs = list(selectors.run_list_for_user(request.user).filter(engagement=engagement)[:20])
    context = {
        "e": engagement,
        "odoo": odoo,
        "shop": shop,
        "odoo_form": odoo_form,
        "shop_form": shop_form,
        "runs": runs,
        "running": any(r.status == SyncRun.Status.RUNNING for r in runs),
    }
    return render(request, "integration/page.html", context)


@consultant_required
@require_POST
def odoo_check(request: HttpRequest, code: str) -> HttpResponse:
    engagement = _engagement(request, code)
    connection = get_scoped_or_404(OdooConnection.objects.filter(engagement=engagement))
    verdict = services.odoo_connection_check(connection=connection)
    level = messages.error if verdict.get("problem") else messages.success
    level(request, verdict["message"])
    return redirect("integration:page", code=engagement.code)


@consultant_required
@require_POST
def shop_check(request: HttpRequest, code: str) -> HttpResponse:
    engagement = _engagement(request, code)
    connection = get_scoped_or_404(ShopConnection.objects.filter(engagement=engagement))
    verdict = services.shop_connection_check(connection=connection)
    level = messages.error if verdict.get("problem") else messages.success
    level(request, verdict["message"])
    return redirect("integration:page", code=engagement.code)


@consultant_required
@require_POST
def run_now(request: HttpRequest, code: str, flow: str) -> HttpResponse:
    """Queue a run (or a dry run) for the worker; the page follows its progress."""
    engagement = _engagement(request, code)
    if flow not in services.FLOWS:
        raise Http404
    dry_run = request.POST.get("dry_run") == "1"
    if SyncRun.objects.filter(engagement=engagement, flow=flow, status=SyncRun.Status.RUNNING).exists():
        messages.error(request, str(RUN_IN_PROGRESS))
        return redirect("integration:page", code=engagement.code)
    transaction.on_commit(lambda: async_task("engagements.integration.tasks.sync_run", engagement.pk, flow, dry_run))
    messages.info(request, _("Dry run queued.") if dry_run else _("Run queued."))
    return redirect("integration:page", code=engagement.code)


@consultant_required
def run_detail(request: HttpRequest, public_id) -> HttpResponse:
    run = get_scoped_or_404(selectors.run_list_for_user(request.user), public_id=public_id)
    odoo = OdooConnection.objects.filter(engagement=run.engagement).first()
    shop = ShopConnection.objects.filter(engagement=run.engagement).first()
    context = {
        "run": run,
        "items": list(run.items.all()),
        "e": run.engagement,
        "odoo_url": odoo.url if odoo else "",
        "shop_url": shop.base_url if shop else "",
    }
    return render(request, "integration/run_detail.html", context)


SETTINGS_FORMS = {"orders": OrderSettingsForm, "stock": StockSettingsForm}


@consultant_required
def flow_settings(request: HttpRequest, code: str, flow: str) -> HttpResponse:
    engagement = _engagement(request, code)
    if flow not in SETTINGS_FORMS:
        raise Http404
    current = FlowSettings.objects.filter(engagement=engagement, flow=flow).first()
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
