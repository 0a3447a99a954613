"""Stock export against the fakes: candidates from moves, buffer, clamp, push only changes, batches."""

import pytest

from engagements.integration import services
from engagements.integration.models import Binding, FlowSettings, SyncCursor

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
        Binding.objects.create(
            engagement=engagement,
            kind="product_variant",
            odoo_model="product.product",
            odoo_id=odoo_id,
            external_id=external,
            external_parent_id=parent,
            sku=sku,
        )
    return engagement, odoo, shop


def test_a_first_full_pass_pushes_buffered_clamped_quantities(wired):
    engagement, odoo, shop = wired
    odoo.move(15, 1)  # POL-M-AZUL: 1 on hand, buffer 2 -> clamped to 0
    run = services.sync_run(engagement=engagement, flow="stock")
    assert run.counts["listed"] == 3 and run.counts["updated"] == 3, list(run.items.values("reason_code", "message"))
    # CAF-1KG: free_qty at WH/Stock is 40 - 3 reserved = 37, minus the buffer of 2.
    assert shop.products[501]["stock_quantity"] == 35
    assert shop.variations[511]["stock_quantity"] == 0 and shop.variations[512]["stock_quantity"] == 0
    assert SyncCursor.objects.get(engagement=engagement, flow="stock").value == "2026-11-23 09:00:00"


def test_only_products_with_new_moves_and_a_changed_quantity_are_pushed(wired):
    engagement, odoo, shop = wired
    odoo.move(5, 1, when="2026-11-23 08:00:00")  # history before the first pass sets the cursor
    services.sync_run(engagement=engagement, flow="stock")
    pushes_before = len([r for r in shop.requests if r[0] == "POST"])
    odoo.move(4, 5, when="2026-11-23 10:00:00")  # CAF-1KG receipt
    odoo.move(16, 0, when="2026-11-23 10:00:01")  # a move that does not change the pushed quantity
    run = services.sync_run(engagement=engagement, flow="stock")
    assert run.counts["listed"] == 2 and run.counts["updated"] == 1 and run.counts["unchanged"] == 1
    assert shop.products[501]["stock_quantity"] == 40
    assert len([r for r in shop.requests if r[0] == "POST"]) - pushes_before == 1


def test_a_dry_run_pushes_nothing_and_keeps_the_cursor(wired):
    engagement, _, shop = wired
    run = services.sync_run(engagement=engagement, flow="stock", dry_run=True)
    assert run.counts["updated"] == 3 and set(run.items.values_list("action", flat=True)) == {"would_update"}
    assert not [r for r in shop.requests if r[0] == "POST"] and not SyncCursor.objects.exists()
    assert not Binding.objects.exclude(last_pushed_value=None).exists()


def test_a_shop_item_error_is_reported_and_the_others_kept(wired):
    engagement, _, _ = wired
    Binding.objects.filter(external_id="501").update(external_id="999999")
    run = services.sync_run(engagement=engagement, flow="stock")
    assert run.counts["failed"] == 1 and run.counts["updated"] == 2
    assert run.items.get(external_id="999999").reason_code == "woocommerce_rest_product_invalid_id"
