"""Integration pages (consultants and staff): connections and their checks."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from engagements.integration import services
from engagements.integration.forms import OdooConnectionForm, ShopConnectionForm
from engagements.integration.models import OdooConnection, ShopConnection
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
    context = {"e": engagement, "odoo": odoo, "shop": shop, "odoo_form": odoo_form, "shop_form": shop_form}
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
