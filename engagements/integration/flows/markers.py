"""Our marks on what the imports create in Odoo, so a record is found again instead of created twice:
an order's `client_order_ref` ("WOO-2001") and a registered customer's partner `ref` ("WOO-C31").

Both start with the connection's prefix: the orders flow's `marker_prefix` option, or the platform's
default. Markers are matched before anything else, so two shops feeding one Odoo with the same
prefix would take each other's orders and partners (the same customer id or order number in two
shops is two different people). `check_unshared` refuses to run then, until one of them is given
its own prefix. Two engagements of the same shop (a new engagement for the same store) share its
markers on purpose: they are the same orders and customers.
"""

from __future__ import annotations

from engagements.integration.destinations import Destination
from engagements.integration.errors import PermanentError
from engagements.integration.flows.runs import flow_options
from engagements.integration.models import Flow, OdooConnection, ShopConnection
from engagements.models import Engagement

DEFAULT_PREFIXES = {"woocommerce": "WOO-", "shopify": "SHOPIFY-", "jumpseller": "JS-"}


def prefix(engagement: Engagement | int, platform: str) -> str:
    """The connection's marker prefix."""
    configured = flow_options(engagement, Flow.ORDERS, {"marker_prefix": ""})["marker_prefix"]
    return configured or DEFAULT_PREFIXES.get(platform, "")


def order_marker(prefix: str, number: str) -> str:
    return f"{prefix}{number.lstrip('#')}"


def partner_marker(prefix: str, customer_id: str) -> str:
    """The `ref` of a partner we create for a registered customer ("WOO-C31"); "" for a guest."""
    return f"{prefix}C{customer_id}" if customer_id else ""


def check_unshared(engagement: Engagement, platform: str) -> None:
    """Refuse (PermanentError "marker_prefix_shared") when another engagement feeds the same Odoo
    database from another shop with the same marker prefix."""
    odoo = OdooConnection.objects.filter(engagement=engagement).first()
    shop = ShopConnection.objects.filter(engagement=engagement).first()
    if odoo is None or shop is None:
        return
    mine, ours = Destination.of(odoo.url, odoo.database), prefix(engagement, platform)
    shops = {s.engagement_id: s for s in ShopConnection.objects.exclude(engagement=engagement)}
    for other in OdooConnection.objects.exclude(engagement=engagement).filter(database=odoo.database):
        theirs = shops.get(other.engagement_id)
        if theirs is None or Destination.of(other.url, other.database) != mine:
            continue
        same_shop = Destination.of(theirs.base_url, theirs.platform) == Destination.of(shop.base_url, shop.platform)
        if not same_shop and prefix(other.engagement_id, theirs.platform) == ours:
            raise PermanentError(
                f"Another engagement feeds this Odoo from another shop with the marker prefix {ours!r}: "
                "give this connection its own prefix in the order settings.",
                code="marker_prefix_shared",
            )
