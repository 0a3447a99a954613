"""Links from a run item to its record in Odoo and in the shop's admin, where the platform has a
stable address for it (Jumpseller's admin lives on the store's own domain: no link)."""

from __future__ import annotations

from engagements.integration.models import OdooConnection, ShopConnection, SyncItem

ODOO_MODELS = {
    "sale_order": "sale.order",
    "partner": "res.partner",
    "stock": "product.product",
    "price": "product.product",
    "product_variant": "product.product",
    "product": "product.template",
    "product_template": "product.template",
}
SHOP_PAGES = {  # (platform, item kind) → admin page of the record
    ("woocommerce", "sale_order"): "{base}/wp-admin/post.php?post={id}&action=edit",
    ("woocommerce", "partner"): "{base}/wp-admin/user-edit.php?user_id={id}",
    ("shopify", "sale_order"): "{base}/admin/orders/{id}",
    ("shopify", "partner"): "{base}/admin/customers/{id}",
}


def odoo_link(connection: OdooConnection | None, item: SyncItem) -> str:
    model = ODOO_MODELS.get(item.kind)
    if not (connection and model and item.odoo_id):
        return ""
    return f"{connection.url}/web#id={item.odoo_id}&model={model}&view_type=form"


def shop_link(connection: ShopConnection | None, item: SyncItem) -> str:
    page = SHOP_PAGES.get((connection.platform, item.kind)) if connection else None
    if connection is None or not (page and item.external_id.isdigit()):  # guest keys ("guest:…") have no page
        return ""
    return page.format(base=connection.base_url, id=item.external_id)
