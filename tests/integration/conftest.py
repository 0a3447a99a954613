"""An engagement wired to a fake Odoo and a fake WooCommerce shop, both live on loopback."""

import pytest

from engagements.integration import services
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
