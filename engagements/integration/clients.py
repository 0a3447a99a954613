"""Build the Odoo gateway and the shop client of an engagement from its stored connections (each a
context manager: `with clients.odoo_gateway_for(engagement) as odoo: ...`)."""

from django.conf import settings

from engagements.integration.calls import Deadline
from engagements.integration.errors import PermanentError
from engagements.integration.flows.runs import flow_options
from engagements.integration.gateway.base import OdooGateway
from engagements.integration.gateway.json2 import JSON2_FROM, Json2Gateway
from engagements.integration.gateway.odoo import OdoorpcGateway
from engagements.integration.models import Flow, OdooConnection, ShopConnection
from engagements.integration.shops.base import ShopClient
from engagements.integration.shops.jumpseller import JumpsellerClient
from engagements.integration.shops.shopify import ClientCredentials, ShopifyClient
from engagements.integration.shops.woocommerce import WooCommerceClient
from engagements.models import Engagement


def odoo_gateway_for(engagement: Engagement) -> OdooGateway:
    """JSON-2 when the last connection check found Odoo 19 or later (JSON-RPC is deprecated there), else odoorpc."""
    connection = OdooConnection.objects.filter(engagement=engagement).first()
    if connection is None:
        raise PermanentError("The engagement has no Odoo connection.", code="odoo_not_configured")
    if (connection.odoo_major or 0) >= JSON2_FROM:
        return Json2Gateway(
            url=connection.url,
            database=connection.database,
            api_key=connection.api_key.reveal(),
            timeout=settings.INTEGRATION_ODOO_TIMEOUT,
        )
    return OdoorpcGateway(
        url=connection.url,
        database=connection.database,
        login=connection.login,
        api_key=connection.api_key.reveal(),
        timeout=settings.INTEGRATION_ODOO_TIMEOUT,
    )


def shop_client_for(engagement: Engagement) -> ShopClient:
    connection = ShopConnection.objects.filter(engagement=engagement).first()
    if connection is None:
        raise PermanentError("The engagement has no shop connection.", code="shop_not_configured")
    return shop_client_from(connection)


def shop_client_from(connection: ShopConnection, *, deadline: Deadline | None = None) -> ShopClient:
    """WooCommerce: consumer key and secret. Shopify: an Admin API access token, or a client id and
    secret (client-credentials tokens, renewed when they expire). Jumpseller: login and auth token,
    the URL being the API's; its client keeps state between runs (`save_shop_state`). `deadline`:
    a connection check's (one try per call, no waiting, one total time)."""
    key, secret = connection.api_key.reveal(), connection.api_secret.reveal()
    if connection.platform == "woocommerce":
        return WooCommerceClient(connection.base_url, key, secret, deadline=deadline)
    if connection.platform == "shopify":
        # The stock flow's Shopify location; none: the shop's primary location.
        location = flow_options(connection.engagement_id, Flow.STOCK, {}).get("shop_location_id") or None
        if not secret:
            return ShopifyClient(connection.base_url, key, location_id=location, deadline=deadline)
        credentials = ClientCredentials(connection.base_url, key, secret, deadline=deadline)
        return ShopifyClient(connection.base_url, token_provider=credentials, location_id=location, deadline=deadline)
    if connection.platform == "jumpseller":
        state = dict(connection.adapter_state)
        return JumpsellerClient(key, secret, base_url=connection.base_url, state=state, deadline=deadline)
    raise PermanentError(f"No adapter for the platform {connection.platform}.", code="shop_unsupported")


def save_shop_state(engagement: Engagement, shop: ShopClient) -> None:
    """Keep what the adapter learnt for its next run (harmless after a dry or failed run)."""
    state = getattr(shop, "state", None)
    if state is not None:
        ShopConnection.objects.filter(engagement=engagement).update(adapter_state=state)
