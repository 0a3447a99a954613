"""Run items link to their record in Odoo and, where the platform has a stable admin page, in the shop."""

from engagements.integration.links import odoo_link, shop_link
from engagements.integration.models import OdooConnection, ShopConnection, SyncItem


def test_each_item_kind_links_to_its_odoo_model():
    odoo = OdooConnection(url="https://cliente.odoo.com")
    assert odoo_link(odoo, SyncItem(kind="sale_order", odoo_id=8)).endswith("id=8&model=sale.order&view_type=form")
    assert "model=res.partner" in odoo_link(odoo, SyncItem(kind="partner", odoo_id=3))
    assert "model=product.product" in odoo_link(odoo, SyncItem(kind="stock", odoo_id=4))
    assert odoo_link(odoo, SyncItem(kind="sale_order", odoo_id=None)) == ""
    assert odoo_link(None, SyncItem(kind="sale_order", odoo_id=8)) == ""


def test_shop_links_follow_the_platform():
    order = SyncItem(kind="sale_order", external_id="6100000000001")
    woo = ShopConnection(platform="woocommerce", base_url="https://tienda.cl")
    shopify = ShopConnection(platform="shopify", base_url="https://cafe.myshopify.com")
    jumpseller = ShopConnection(platform="jumpseller", base_url="https://api.jumpseller.com/v1")
    assert shop_link(woo, SyncItem(kind="sale_order", external_id="2001")) == (
        "https://tienda.cl/wp-admin/post.php?post=2001&action=edit"
    )
    assert shop_link(shopify, order) == "https://cafe.myshopify.com/admin/orders/6100000000001"
    assert shop_link(jumpseller, order) == ""  # its admin is on the store's own domain
    assert shop_link(woo, SyncItem(kind="partner", external_id="guest:ana@x.cl")) == ""
