"""An engagement wired to a fake Odoo and a fake WooCommerce shop, both live on loopback."""

import pytest

from engagements.integration import connections
from engagements.integration.demo import ORDER_OPTIONS
from engagements.integration.models import Binding, FlowSettings
from tests.fakes.odoo import FakeOdoo, FakeOdooServer
from tests.fakes.woocommerce import FakeShop, FakeShopServer

SHOP_KEYS = {  # the fake shops' demo keys
    "woocommerce": ("ck_demo", "cs_demo"),
    "shopify": ("shpat_demo", ""),
    "jumpseller": ("demo-store", "0123456789abcdef0123456789abcdef"),
}


def wire(
    engagement,
    actor,
    *,
    shop_url: str,
    odoo_url: str,
    database="lab",
    login="admin",
    api_key="admin",
    platform="woocommerce",
):
    """Save both connections as a consultant would, the shop's with its fake's demo keys."""
    connections.odoo_connection_save(
        actor=actor, engagement=engagement, url=odoo_url, database=database, login=login, api_key=api_key
    )
    key, secret = SHOP_KEYS[platform]
    connections.shop_connection_save(
        actor=actor, engagement=engagement, platform=platform, base_url=shop_url, api_key=key, api_secret=secret
    )


@pytest.fixture
def connected(engagement, carla):
    """(engagement, fake odoo, fake shop) with both connections saved."""
    odoo, shop = FakeOdoo(), FakeShop()
    with FakeOdooServer(odoo) as odoo_server, FakeShopServer(shop) as shop_server:
        wire(engagement, carla, odoo_url=odoo_server.url, shop_url=shop_server.url)
        yield engagement, odoo, shop


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


def bind_variant(engagement, odoo_id: int, external_id: str, parent: str = "", sku: str = ""):
    """A product binding, as an approved SKU matching leaves it."""
    return Binding.objects.create(
        engagement=engagement,
        kind="product_variant",
        odoo_model="product.product",
        odoo_id=odoo_id,
        external_id=external_id,
        external_parent_id=parent,
        sku=sku,
    )


def bind_shopify_variant(engagement, shop, sku: str, odoo_id: int) -> dict:
    """Bind the fake Shopify's variant with this SKU to an Odoo variant; returns the shop's variant."""
    variant = next(v for v in shop.variants.values() if v["sku"] == sku)
    bind_variant(engagement, odoo_id, variant["id"].rsplit("/", 1)[1], variant["product"].rsplit("/", 1)[1], sku)
    return variant
