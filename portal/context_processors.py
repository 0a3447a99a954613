"""Navigation entries for the acting user's role, with how many things wait for them."""

from collections.abc import Callable

from django.core.cache import cache
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from portal.branding import brand

_NAV = {
    "client": [("engagements:home", _("My portal")), ("billing:finance", _("Payment requests and credits"))],
    "consultant": [("engagements:home", _("My work"))],
    "staff": [
        ("engagements:home", _("Pipeline")),
        ("billing:finance", _("Finance")),
        ("portal:company_list", _("Clients")),
        ("portal:team", _("Team")),
    ],
}


# url name -> how many things wait for this (internal) user there; apps register them from their
# AppConfig.ready() (engagements: the worklist). Search for `register_count`.
_COUNTS: dict[str, Callable] = {}
COUNT_SECONDS = 60  # the number in the navigation may lag this much behind the page itself


def register_count(url_name: str, counter: Callable) -> None:
    _COUNTS[url_name] = counter


def _count(user, name: str) -> int:
    return cache.get_or_set(f"nav-count:{user.pk}:{name}", lambda: _COUNTS[name](user), COUNT_SECONDS)


def navigation(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items = []
    for name, label in _NAV.get(user.role, []):
        url = reverse(name)
        item = {"url": url, "label": label, "active": request.path == url}
        if user.is_internal and name in _COUNTS:
            item.update(count=_count(user, name), count_label=_("need action"))
        items.append(item)
    return {"nav_items": items}


def branding(request: HttpRequest) -> dict:
    return {"brand": brand()}
