"""Navigation entries for the acting user's role."""

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

_NAV = {
    "client": [("portal:dashboard", _("My portal"))],
    "consultant": [("portal:dashboard", _("Workspace"))],
    "staff": [
        ("portal:dashboard", _("Overview")),
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
