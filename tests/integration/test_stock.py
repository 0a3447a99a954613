"""Stock export against the fakes: candidates from moves, buffer, clamp, push only changes, batches."""

import pytest

from engagements.integration import runner
from engagements.integration.models import Binding, FlowSettings, SyncCursor
from tests.integration.fixtures import bind_variant

pytestmark = pytest.mark.django_db


@pytest.fixture
def wired(connected):
    engagement, odoo, shop = connected
    FlowSettings.objects.create(engagement=engagement, flow="stock", options={"location_id": 8, "buffer": 2})
    for odoo_id, external, parent, sku in [
        (4, "501", "", "CAF-1KG"),
        (15, "511", "510", "POL-M-AZUL"),
        (16, "512", "510", "POL-L-AZUL"),
    ]:
        bind_variant(engagement, odoo_id, external, parent, sku)
    return engagement, odoo, shop


def test_a_first_full_pass_pushes_buffered_clamped_quantities(wired):
    engagement, odoo, shop = wired
    odoo.move(15, 1)  # POL-M-AZUL: 1 on hand, buffer 2 -> clamped to 0
    run = runner.run_flow(engagement=engagement, flow="stock")
    assert run.counts["listed"] == 3 and run.counts["updated"] == 3, list(run.items.values("reason_code", "message"))
    # CAF-1KG: free_qty at WH/Stock is 40 - 3 reserved = 37, minus the buffer of 2.
    assert shop.products[501]["stock_quantity"] == 35
    assert shop.variations[511]["stock_quantity"] == 0 and shop.variations[512]["stock_quantity"] == 0
    # The latest move's second, and which moves of that second were seen (Odoo reads write_date to the second).
    assert SyncCursor.objects.get(engagement=engagement, flow="stock").value.startswith("2026-11-23 09:00:00|")


def test_only_products_with_new_moves_and_a_changed_quantity_are_pushed(wired):
    engagement, odoo, shop = wired
    odoo.move(5, 1, when="2026-11-23 08:00:00")  # history before the first pass sets the cursor
    runner.run_flow(engagement=engagement, flow="stock")
    pushes_before = len([r for r in shop.requests if r[0] == "POST"])
    odoo.move(4, 5, when="2026-11-23 10:00:00")  # CAF-1KG receipt
    odoo.move(16, 0, when="2026-11-23 10:00:01")  # a move that does not change the pushed quantity
    run = runner.run_flow(engagement=engagement, flow="stock")
    assert run.counts["listed"] == 2 and run.counts["updated"] == 1 and run.counts["unchanged"] == 1
    assert shop.products[501]["stock_quantity"] == 40
    assert len([r for r in shop.requests if r[0] == "POST"]) - pushes_before == 1


def test_a_dry_run_pushes_nothing_and_keeps_the_cursor(wired):
    engagement, _, shop = wired
    run = runner.run_flow(engagement=engagement, flow="stock", dry_run=True)
    assert run.counts["updated"] == 3 and set(run.items.values_list("action", flat=True)) == {"would_update"}
    assert not [r for r in shop.requests if r[0] == "POST"] and not SyncCursor.objects.exists()
    assert not Binding.objects.exclude(last_pushed_value=None).exists()


def test_a_shop_item_error_is_reported_and_the_others_kept(wired):
    engagement, _, _ = wired
    Binding.objects.filter(external_id="501").update(external_id="999999")
    run = runner.run_flow(engagement=engagement, flow="stock")
    assert run.counts["failed"] == 1 and run.counts["updated"] == 2
    assert run.items.get(external_id="999999").reason_code == "woocommerce_rest_product_invalid_id"


def test_a_receipt_and_a_return_each_count_once(wired):
    """Quantities are absolute, read from Odoo, never deltas added up: nothing counts twice."""
    engagement, odoo, shop = wired
    runner.run_flow(engagement=engagement, flow="stock")
    odoo.move(4, 5, when="2026-11-23 10:00:00")  # a receipt of 5
    runner.run_flow(engagement=engagement, flow="stock")
    assert shop.products[501]["stock_quantity"] == 40
    again = runner.run_flow(engagement=engagement, flow="stock")
    assert again.counts["listed"] == 0 and shop.products[501]["stock_quantity"] == 40
    odoo.move(4, 1, when="2026-11-23 11:00:00")  # a customer return of 1 back into stock
    runner.run_flow(engagement=engagement, flow="stock")
    assert shop.products[501]["stock_quantity"] == 41


def test_units_sold_in_the_shop_and_not_imported_yet_are_held_back(wired):
    """Orders 2001 and 2002 (paid, not imported) took 3 CAF-1KG and 3 POL-M-AZUL off the shop's
    stock. Pushing Odoo's quantity as it is would put them back on sale."""
    engagement, odoo, shop = wired
    FlowSettings.objects.create(
        engagement=engagement, flow="orders", enabled=True, options={"initial_days": 3650, "confirm": True}
    )
    odoo.move(15, 10)
    run = runner.run_flow(engagement=engagement, flow="stock")
    assert shop.products[501]["stock_quantity"] == 37 - 2 - 3  # free qty, buffer, 1 in 2001 and 2 in 2002
    assert shop.variations[511]["stock_quantity"] == 10 - 2 - 3  # 2 in 2001 and 1 in 2002
    assert run.counts["updated"] == 3
    Binding.objects.create(
        engagement=engagement, kind="sale_order", odoo_model="sale.order", odoo_id=1, external_id="2001"
    )
    runner.run_flow(engagement=engagement, flow="stock", full=True)
    assert shop.variations[511]["stock_quantity"] == 10 - 2 - 1  # 2001 is in Odoo now: its units are Odoo's


def test_a_shop_item_without_stock_management_is_reported_or_switched_on(wired):
    """WooCommerce answers 200 and silently drops the quantity of an item that does not manage stock."""
    engagement, _, shop = wired
    shop.products[501]["manage_stock"] = False
    run = runner.run_flow(engagement=engagement, flow="stock")
    item = run.items.get(external_id="501")
    assert item.action == "failed" and item.reason_code == "shop_stock_not_managed"
    assert Binding.objects.get(external_id="501").last_pushed_value is None  # tried again next time
    FlowSettings.objects.filter(engagement=engagement, flow="stock").update(
        options={"location_id": 8, "buffer": 2, "manage_stock": True}
    )
    runner.run_flow(engagement=engagement, flow="stock", full=True)
    assert shop.products[501]["manage_stock"] is True and shop.products[501]["stock_quantity"] == 35


def test_a_deleted_odoo_product_sets_its_binding_aside(wired):
    """Reported, no crash, and no longer a candidate until someone re-maps it."""
    engagement, odoo, _ = wired
    del odoo.data["product.product"][16]
    run = runner.run_flow(engagement=engagement, flow="stock")
    assert run.items.get(external_id="512").reason_code == "odoo_record_deleted" and run.counts["updated"] == 2
    assert Binding.objects.get(external_id="512").state == Binding.State.ORPHANED
    assert runner.run_flow(engagement=engagement, flow="stock", full=True).counts["listed"] == 2


def test_the_quantity_field_and_location_are_the_configured_ones(wired):
    """On-hand (`qty_available`) instead of free quantity, at the returns location."""
    engagement, _, shop = wired
    FlowSettings.objects.filter(engagement=engagement, flow="stock").update(
        options={"location_id": 17, "stock_field": "qty_available", "buffer": 0}
    )
    runner.run_flow(engagement=engagement, flow="stock")
    assert shop.products[501]["stock_quantity"] == 3  # CAF-1KG: 3 units at WH/Devoluciones
    FlowSettings.objects.filter(engagement=engagement, flow="stock").update(
        options={"location_id": 8, "stock_field": "qty_available", "buffer": 0}
    )
    runner.run_flow(engagement=engagement, flow="stock", full=True)
    assert shop.products[501]["stock_quantity"] == 40  # on hand, the 3 reserved included


@pytest.mark.parametrize("major", [17, 18])
def test_a_service_is_never_pushed_as_stock_whatever_the_odoo_version(wired, major):
    """The storable flag is `detailed_type` on 16/17 and `is_storable` on 18 (the other
    field does not exist there: reading it would fail the whole run)."""
    engagement, odoo, shop = wired
    version = {"server_version": f"{major}.0", "server_version_info": [major, 0, 0, "final", 0, ""]}
    odoo.version_info = {**odoo.version_info, **version, "server_serie": f"{major}.0"}
    Binding.objects.create(
        engagement=engagement, kind="product_variant", odoo_model="product.product", odoo_id=12, external_id="600"
    )
    run = runner.run_flow(engagement=engagement, flow="stock", full=True)
    assert run.counts["listed"] == 4 and run.counts["updated"] == 3 and run.counts["skipped"] == 1, run.summary
    assert run.items.get(external_id="600").reason_code == "not_storable"
    assert all("600" not in str(body) for _path, body in shop.writes)
