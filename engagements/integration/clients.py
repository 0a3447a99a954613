"""Build the Odoo gateway and the shop client of an engagement from its stored connections."""

from django.conf import settings

from engagements.integration.gateway.base import PermanentError
from engagements.integration.gateway.odoo import OdoorpcGateway
from engagements.integration.models import OdooConnection, ShopConnection
from engagements.integration.shops.base import ShopClient
from engagements.integration.shops.woocommerce import WooCommerceClient
from engagements.models import Engagement


def odoo_gateway_for(engagement: Engagement) -> OdoorpcGateway:
    connection = OdooConnection.objects.filter(engagement=engagement).first()
    if connection is None:
        raise PermanentError("The engagement has no Odoo connection.", code="odoo_not_configured")
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
    if connection.platform != "woocommerce":
        raise PermanentError(f"{connection.platform} comes with the next integration step.", code="shop_unsupported")
    return WooCommerceClient(connection.base_url, connection.api_key.reveal(), connection.api_secret.reveal())
