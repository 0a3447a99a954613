"""An engagement wired to a fake Odoo and a fake WooCommerce shop, both live on loopback."""

import pytest

from engagements.integration import services
from engagements.integration.models import FlowSettings
from tests.fakes.odoo import FakeOdoo, FakeOdooServer
from tests.fakes.woocommerce import FakeShop, FakeShopServer


@pytest.fixture
def connected(engagement, carla):
    """(engagement, fake odoo, fake shop) with both connections saved as a consultant would."""
    odoo, shop = FakeOdoo(), FakeShop()
    with FakeOdooServer(odoo) as odoo_server, FakeShopServer(shop) as shop_server:
        services.odoo_connection_save(
            actor=carla, engagement=engagement, url=odoo_server.url, database="lab", login="admin", api_key="admin"
        )
        services.shop_connection_save(
            actor=carla,
            engagement=engagement,
            platform="woocommerce",
            base_url=shop_server.url,
            api_key="ck_demo",
            api_secret="cs_demo",
        )
        yield engagement, odoo, shop


ORDER_OPTIONS = {
    "shipping_product_id": 12,
    "fee_product_id": 13,
    "placeholder_product_id": 14,
    "tax_included_id": 4,
    "confirm": True,
    "initial_days": 3650,
}
WRITES = {"create", "write", "unlink", "action_confirm", "action_cancel"}


@pytest.fixture
def orders_flow(connected):
    """`connected`, with the order import switched on (shipping, fee and placeholder products, IVA incl.)."""
    engagement, odoo, shop = connected
    FlowSettings.objects.create(engagement=engagement, flow="orders", enabled=True, options=ORDER_OPTIONS)
    return engagement, odoo, shop


def sale_orders(odoo, ref=None) -> list[dict]:
    rows = odoo.data["sale.order"].values()
    return [o for o in rows if ref is None or o["client_order_ref"] == ref]
