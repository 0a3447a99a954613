"""The consultant tests the connections, dry-runs and runs the flows, and reads a report, in headless Chromium.

Odoo and the shop are the fake servers on loopback (the `connected` fixture), as `make run` wires the demo.
"""

from pathlib import Path

import pytest

from engagements.integration.models import Binding, FlowSettings, SyncRun
from tests.browser.helpers import sign_in
from tests.integration.fixtures import ORDER_OPTIONS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def test_the_consultant_checks_connections_runs_the_flows_and_reads_the_report(live_server, page, connected, carla):
    ARTIFACTS.mkdir(exist_ok=True)
    engagement, odoo, shop = connected
    FlowSettings.objects.create(engagement=engagement, flow="orders", enabled=True, options=ORDER_OPTIONS)
    FlowSettings.objects.create(engagement=engagement, flow="stock", enabled=True, options={"buffer": 1})
    Binding.objects.create(
        engagement=engagement, kind="product_variant", odoo_model="product.product", odoo_id=4, external_id="501"
    )
    sign_in(page, live_server.url, carla.email, totp=True)
    page.goto(f"{live_server.url}/portal/e/{engagement.code}/integration/")

    page.fill("#shop_api_key", "a key half typed")  # the checks below replace only their own part
    page.click("form[action$='/integration/odoo/check/'] button")
    page.locator("#odoo-check", has_text="Conectado a Odoo 17.0").wait_for()
    page.click("form[action$='/integration/shop/check/'] button")
    page.locator("#shop-check", has_text="Conectado a la tienda (WooCommerce").wait_for()
    assert page.input_value("#shop_api_key") == "a key half typed"
    assert "admin" not in page.input_value("#odoo_api_key")  # write-only fields

    page.click("text=Simulación: pedidos")
    page.wait_for_load_state()
    assert not odoo.data["sale.order"]  # the dry run wrote nothing in Odoo
    page.click("text=Importar pedidos ahora")
    page.wait_for_load_state()
    page.click("text=Exportar stock ahora")
    page.wait_for_load_state()
    assert shop.products[501]["stock_quantity"] == 37 - 1  # free qty minus the buffer (orders already imported)
    page.screenshot(path=str(ARTIFACTS / "integration-page.png"), full_page=True)

    run = SyncRun.objects.get(flow="orders", dry_run=False)
    page.click(f"a[href$='/runs/{run.public_id}/']")
    page.wait_for_load_state()
    content = page.content()
    assert run.counts["created"] == 2 and "S00008" in content and "creados 2" in content
    assert "ck_demo" not in content and "cs_demo" not in content
    page.screenshot(path=str(ARTIFACTS / "integration-run-report.png"), full_page=True)
