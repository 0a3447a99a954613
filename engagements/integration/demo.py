"""Demo wiring (seed_demo): the WooCommerce demo engagement talks to the
simulated Odoo and shop that `make run` starts (tests/fakes, on loopback)."""

import os
from typing import TextIO

from engagements.integration.models import FlowSettings, OdooConnection, ShopConnection
from engagements.models import Engagement

ODOO_URL = os.environ.get("DEMO_ODOO_URL", "http://127.0.0.1:8069")
SHOP_URL = os.environ.get("DEMO_SHOP_URL", "http://127.0.0.1:8070")
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
    return [f"{'consultant':<10} {engagement.code}: simulated Odoo {ODOO_URL} and WooCommerce {SHOP_URL}"]
