"""Demo wiring (seed_demo): the WooCommerce demo engagement talks to the
simulated Odoo and shop that `make run` starts (tests/fakes, on loopback)."""

import os
from typing import TextIO

from engagements.integration.models import Binding, FlowSettings, OdooConnection, ShopConnection
from engagements.models import Engagement

ODOO_URL = os.environ.get("DEMO_ODOO_URL", "http://127.0.0.1:8069")
SHOP_URL = os.environ.get("DEMO_SHOP_URL", "http://127.0.0.1:8070")
BINDINGS = [(4, "501", "", "CAF-1KG"), (15, "511", "510", "POL-M-AZUL"), (16, "512", "510", "POL-L-AZUL")]
ORDER_OPTIONS = {
    "shipping_product_id": 12,
    "fee_product_id": 13,
    "placeholder_product_id": 14,
    "tax_included_id": 4,
    "confirm": True,
    "initial_days": 3650,
}


def seed(out: TextIO) -> list[str]:
    engagement = Engagement.objects.filter(title="Tienda Andina · WooCommerce").first()
    if engagement is None:
        return []
    if not OdooConnection.objects.filter(engagement=engagement).exists():
        OdooConnection.objects.create(
            engagement=engagement, url=ODOO_URL, database="lab", login="admin", api_key="admin"
        )
    if not ShopConnection.objects.filter(engagement=engagement).exists():
        ShopConnection.objects.create(
            engagement=engagement, platform="woocommerce", base_url=SHOP_URL, api_key="ck_demo", api_secret="cs_demo"
        )
    FlowSettings.objects.get_or_create(
        engagement=engagement, flow="orders", defaults={"enabled": True, "options": ORDER_OPTIONS}
    )
    FlowSettings.objects.get_or_create(
        engagement=engagement, flow="stock", defaults={"enabled": True, "options": {"location_id": 8, "buffer": 1}}
    )
    # The catalogue is already matched (SKU matching is the next integration step).
    for odoo_id, external, parent, sku in BINDINGS:
        Binding.objects.get_or_create(
            engagement=engagement,
            kind="product_variant",
            external_id=external,
            defaults={"odoo_model": "product.product", "odoo_id": odoo_id, "external_parent_id": parent, "sku": sku},
        )
    return [f"{'consultant':<10} {engagement.code}: simulated Odoo {ODOO_URL} and WooCommerce {SHOP_URL}"]
