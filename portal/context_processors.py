"""Navigation entries for the acting user's role."""

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

_NAV = {
    "client": [("engagements:home", _("My portal")), ("billing:finance", _("Payment requests and credits"))],
    "consultant": [("engagements:home", _("Workspace"))],
    "staff": [
        ("engagements:home", _("Pipeline")),
        ("billing:finance", _("Finance")),
        ("portal:company_list", _("Clients")),
        ("portal:team", _("Team")),
    ],
}


def navigation(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items = [
        {"url": reverse(name), "label": label, "active": request.path == reverse(name)}
        for name, label in _NAV.get(user.role, [])
    ]
    return {"nav_items": items}
