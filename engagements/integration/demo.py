"""Demo wiring (seed_demo): one engagement per shop platform talks to the
simulated Odoo and shops that `make run` starts (tests/fakes, on loopback)."""

import os
from datetime import timedelta
from typing import NamedTuple, TextIO

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from engagements.integration.models import Binding, FlowSettings, Health, OdooConnection, ShopConnection, SyncRun
from engagements.models import Engagement

ODOO_URL = os.environ.get("DEMO_ODOO_URL", "http://127.0.0.1:8069")
SHOP_URL = os.environ.get("DEMO_SHOP_URL", "http://127.0.0.1:8070")
SHOPIFY_URL = os.environ.get("DEMO_SHOPIFY_URL", "http://127.0.0.1:8071")
JUMPSELLER_URL = os.environ.get("DEMO_JUMPSELLER_URL", "http://127.0.0.1:8072/v1")
WEBHOOK_SECRET = "demo-webhook-secret"  # for signed test webhooks (README, curl); a demo value only


class Demo(NamedTuple):
    title: str
    platform: str
    url: str
    keys: tuple[str, str]
    bindings: list[tuple[int, str, str, str]]  # Odoo variant, shop variant, shop product, SKU


# The catalogues are already matched, as after an approved SKU matching.
DEMOS = [
    Demo(
        "Tienda Andina · WooCommerce",
        "woocommerce",
        SHOP_URL,
        ("ck_demo", "cs_demo"),
        [(4, "501", "", "CAF-1KG"), (15, "511", "510", "POL-M-AZUL"), (16, "512", "510", "POL-L-AZUL")],
    ),
    Demo(
        "Café Austral · Tienda Shopify",
        "shopify",
        SHOPIFY_URL,
        ("shpat_demo", ""),
        [
            (4, "44000000003", "8100000000002", "CAF-1KG"),
            (15, "44000000001", "8100000000001", "POL-M-AZUL"),
            (16, "44000000002", "8100000000001", "POL-L-AZUL"),
        ],
    ),
    Demo(
        "Café Austral · Jumpseller",
        "jumpseller",
        JUMPSELLER_URL,
        ("demo-store", "0123456789abcdef0123456789abcdef"),
        [(15, "88001", "7001", "POL-M-AZUL"), (16, "88002", "7001", "POL-L-AZUL")],
    ),
]
ORDER_OPTIONS = {
    "shipping_product_id": 12,
    "fee_product_id": 13,
    "placeholder_product_id": 14,
    "tax_included_id": 4,
    "confirm": True,
    "initial_days": 3650,
}


def seed(out: TextIO) -> list[str]:
    lines = []
    for demo in DEMOS:
        engagement = Engagement.objects.filter(title=demo.title).first()
        if engagement is not None:
            _wire(engagement, demo)
            _history(engagement, failing=demo.platform == "jumpseller")
            lines.append(
                f"{'consultant':<10} {engagement.code}: simulated Odoo {ODOO_URL} and {demo.platform} {demo.url}"
            )
            lines.append(f"{'':<10} webhooks: {_webhook_url(engagement)}")
    return lines


def _webhook_url(engagement: Engagement) -> str:
    """Give the demo shop a known webhook secret (README: post a signed test webhook with curl)."""
    connection = ShopConnection.objects.get(engagement=engagement)
    if not connection.webhook_secret:
        connection.webhook_secret = WEBHOOK_SECRET
        connection.save(update_fields=["webhook_secret"])
    return settings.SITE_URL + reverse("integration:webhook", args=[connection.webhook_token])


def _wire(engagement: Engagement, demo: Demo) -> None:
    if not OdooConnection.objects.filter(engagement=engagement).exists():
        OdooConnection.objects.create(
            engagement=engagement, url=ODOO_URL, database="lab", login="admin", api_key="admin"
        )
    if not ShopConnection.objects.filter(engagement=engagement).exists():
        key, secret = demo.keys
        ShopConnection.objects.create(
            engagement=engagement, platform=demo.platform, base_url=demo.url, api_key=key, api_secret=secret
        )
    FlowSettings.objects.get_or_create(
        engagement=engagement, flow="orders", defaults={"enabled": True, "options": ORDER_OPTIONS}
    )
    FlowSettings.objects.get_or_create(
        engagement=engagement, flow="stock", defaults={"enabled": True, "options": {"location_id": 8, "buffer": 1}}
    )
    for odoo_id, external, parent, sku in demo.bindings:
        Binding.objects.get_or_create(
            engagement=engagement,
            kind="product_variant",
            external_id=external,
            defaults={"odoo_model": "product.product", "odoo_id": odoo_id, "external_parent_id": parent, "sku": sku},
        )


def _history(engagement: Engagement, *, failing: bool) -> None:
    """Two weeks of past order imports (the runs-per-day picture), once. On `failing`, the shop
    connection has stopped answering and the last import failed: both are flagged on the worklists."""
    if SyncRun.objects.filter(engagement=engagement).exists():
        return
    now = timezone.now()
    for days in range(13, 0, -1):
        status = SyncRun.Status.PARTIAL if days == 6 else SyncRun.Status.SUCCEEDED
        counts = {"listed": 4, "created": 3, "review": 1} if days == 6 else {"listed": 3, "created": 3}
        run = SyncRun.objects.create(
            engagement=engagement, flow="orders", trigger="schedule", status=status, counts=counts
        )
        SyncRun.objects.filter(pk=run.pk).update(
            started_at=now - timedelta(days=days, hours=2), finished_at=now - timedelta(days=days, hours=2)
        )
    if failing:
        run = SyncRun.objects.create(
            engagement=engagement,
            flow="orders",
            trigger="schedule",
            status=SyncRun.Status.FAILED,
            summary="shop_auth: 401 Unauthorized",
        )
        SyncRun.objects.filter(pk=run.pk).update(
            started_at=now - timedelta(hours=5), finished_at=now - timedelta(hours=5)
        )
        ShopConnection.objects.filter(engagement=engagement).update(
            health=Health.FAILING,
            last_check_at=now - timedelta(hours=5),
            last_check={"reachable": True, "message": "La tienda rechazó la clave API: revise el token de Jumpseller."},
        )
