"""WooCommerce adapter against the fake shop over loopback HTTP."""

import itertools
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from engagements.integration.shops.base import (
    ProductPayload,
    ShopAmbiguousError,
    ShopAuthError,
    ShopPermanentError,
    ShopRetryableError,
    StockUpdate,
    VariantPayload,
)
from engagements.integration.shops.woocommerce import WooCommerceClient
from tests.fakes.woocommerce import FakeShop, FakeShopServer

WINDOW = {"modified_after": datetime(2026, 3, 1, tzinfo=UTC), "modified_before": datetime(2026, 12, 31, tzinfo=UTC)}


@pytest.fixture
def shop():
    fake = FakeShop()
    with FakeShopServer(fake) as server:
        yield fake, server


def _client(server, **kw):
    waits = []
    client = WooCommerceClient(
        server.url, kw.pop("key", "ck_demo"), kw.pop("secret", "cs_demo"), sleep=waits.append, **kw
    )
    return client, waits


def test_it_pages_through_orders_in_the_window_oldest_first(shop):
    fake, server = shop
    fake.add_orders(230, modified="2026-03-12T09:00:00")
    client, _ = _client(server)
    orders = list(client.iter_orders(**WINDOW))
    assert len(orders) == 232 and len({o.id for o in orders}) == 232
    assert orders[0].modified <= orders[-1].modified
    # 2 older + 98 at 09:00:00, then the 230 sharing that second page by page from 08:59:59.
    assert client.calls == 4


def test_a_first_run_pages_beyond_ten_thousand_orders(shop):
    """No page-number ceiling; each of 10,050 orders once, in change order, 100 a page."""
    fake, server = shop
    base = datetime(2026, 3, 12, tzinfo=UTC)
    for n, order_id in enumerate(fake.add_orders(10_050, start_id=100000)):  # one change a second
        fake.orders[order_id]["date_modified_gmt"] = (base + timedelta(seconds=n)).strftime("%Y-%m-%dT%H:%M:%S")
    client, _ = _client(server)
    orders = list(client.iter_orders(**WINDOW))
    assert len(orders) == 10_052 and len({o.id for o in orders}) == 10_052
    assert all(a.modified <= b.modified for a, b in itertools.pairwise(orders))
    assert client.calls <= 10_052 // 100 + 3  # pages overlap by one second: a few orders read twice


def test_an_order_modified_while_paging_shifts_nothing_out(shop):
    """With page numbers, an order leaving the window mid-listing shifts the next page by one
    and an order is never seen. Keyset pages (from the last change seen) lose none."""
    fake, server = shop
    ids = [
        i
        for n in range(150)
        for i in fake.add_orders(1, start_id=9000 + n, modified=f"2026-04-01T10:{n // 60:02d}:{n % 60:02d}")
    ]
    pages = []

    def touch_the_first_order(query):
        pages.append(query)
        if len(pages) == 1:  # after the first page, the shop owner edits the oldest order
            fake.orders[2001]["date_modified_gmt"] = "2027-01-01T00:00:00"

    fake.after_list = touch_the_first_order
    client, _ = _client(server)
    listed = [int(o.id) for o in client.iter_orders(**WINDOW)]
    assert set(ids) <= set(listed) and len(listed) == len(set(listed))


def test_the_window_bounds_are_applied(shop):
    _, server = shop
    client, _ = _client(server)
    after = datetime(2026, 3, 10, 14, 5, 10, tzinfo=UTC)
    ids = [o["id"] for o in client.iter_raw_orders(modified_after="2026-03-10T14:05:10", modified_before="2026-12-31")]
    assert 2001 not in ids  # modified exactly at the lower bound is outside "after"
    # Times are UTC whatever the zone they are given in (the shop's local time is 3 hours behind).
    local = after.astimezone(timezone(timedelta(hours=-3)))
    assert [o.id for o in client.iter_orders(modified_after=local, modified_before=WINDOW["modified_before"])] == [
        "2002"
    ]


def test_it_falls_back_to_query_auth_when_the_host_strips_the_header(shop):
    fake, server = shop
    fake.strip_authorization = True
    client, _ = _client(server)
    assert client.get_order("2001").id == "2001" and client.query_auth is True


def test_a_revoked_key_is_an_auth_error_not_a_retry_storm(shop):
    fake, server = shop
    fake.revoked = True
    client, waits = _client(server)
    with pytest.raises(ShopAuthError):
        client.get_order(2001)
    assert waits == [] and client.calls == 2  # the header try and the query-string try, nothing more


def test_429_and_503_html_are_retried_with_back_off_honouring_retry_after(shop):
    fake, server = shop
    fake.rate_limited, fake.unavailable = 1, 1
    client, waits = _client(server)
    assert client.get_order("2001").id == "2001"
    assert len(waits) == 2 and 30 <= waits[0] <= 37.5  # Retry-After: 30, with jitter


def test_a_host_that_stays_busy_ends_in_a_retryable_error(shop):
    fake, server = shop
    fake.unavailable = 99
    client, waits = _client(server, max_attempts=3)
    with pytest.raises(ShopRetryableError):
        client.get_order(2001)
    assert len(waits) == 2


def test_an_unknown_order_is_permanent(shop):
    _, server = shop
    client, _ = _client(server)
    with pytest.raises(ShopPermanentError) as refused:
        client.get_order("999")
    assert refused.value.code == "woocommerce_rest_shop_order_invalid_id"


def test_stock_goes_in_batches_of_100_with_per_item_errors(shop):
    fake, server = shop
    client, _ = _client(server)
    updates = [StockUpdate("501", "", 7), StockUpdate("510", "511", 3), StockUpdate("510", "512", 0)]
    results = client.set_stock(updates + [StockUpdate(str(900000 + n), "", 1) for n in range(150)])
    ok = {r.external_id for r in results if r.ok}
    assert ok == {"501", "511", "512"}
    assert sum(not r.ok for r in results) == 150
    assert {r.error_code for r in results if not r.ok} == {"woocommerce_rest_product_invalid_id"}
    assert fake.products[501]["stock_quantity"] == 7 and fake.variations[511]["stock_quantity"] == 3
    assert client.calls == 3  # products batch 100 + 51, variations batch 2


def test_plain_http_is_refused_for_real_shops():
    with pytest.raises(ShopPermanentError):
        WooCommerceClient("http://tienda.example.cl", "ck", "cs")


def test_an_order_is_read_as_the_flows_need_it(shop):
    """Statuses, UTC times, tax-included amounts after coupons, shipping and fees as charges."""
    _, server = shop
    client, _ = _client(server)
    order = client.get_order("2001")
    assert (order.status, order.platform_status, order.number, order.customer_id) == ("paid", "processing", "2001", "")
    assert order.modified == datetime(2026, 3, 10, 14, 5, 10, tzinfo=UTC)
    assert order.email == "juan.perez@example.cl" and order.shipping is not None and order.billing.city == "Ñuñoa"
    polera = order.lines[0]
    assert (polera.external_id, polera.sku, polera.quantity, polera.total) == ("511", "POL-M-AZUL", 2, 19649 + 3733)
    assert [(c.kind, c.total) for c in order.charges] == [("shipping", 3990), ("fee", 1000), ("fee", -1000)]
    assert sum(line.total for line in order.lines) + sum(c.total for c in order.charges) == order.total


# ---------------------------------------------------------------- a create is never sent twice


def _payload(key: str, *variants: tuple[int, str, tuple]) -> ProductPayload:
    return ProductPayload(
        key=key,
        name=f"Producto {key}",
        variants=tuple(VariantPayload(odoo_id, sku, Decimal("9990"), options) for odoo_id, sku, options in variants),
    )


def _creates(fake: FakeShop, path: str = "products/batch") -> list[list[dict]]:
    return [body["create"] for written, body in fake.writes if written == path and body.get("create")]


def test_a_variable_product_whose_create_got_a_502_is_found_by_its_marker_not_created_twice(shop):
    """The host's proxy answers 502 after WooCommerce made the product. A variable parent has no SKU:
    sent again it would make a second, empty product. It is found by the template id in its meta data."""
    fake, server = shop
    fake.lost_answers = 1
    payload = _payload("77", (701, "TAZA-R", (("Color", "Rojo"),)), (702, "TAZA-A", (("Color", "Azul"),)))
    client, waits = _client(server)
    [result] = client.upsert_products([payload])
    parents = [p for p in fake.products.values() if p["name"] == "Producto 77"]
    assert len(parents) == 1 and len(_creates(fake)) == 1 and not waits  # one create, no waiting
    assert result.ok and result.product_id == str(parents[0]["id"])
    assert sorted(result.variant_ids) == [701, 702]  # its variations made once, under that parent
    assert len(_creates(fake, f"products/{parents[0]['id']}/variations/batch")) == 1


def test_a_simple_product_whose_create_got_a_502_is_found_by_its_sku(shop):
    fake, server = shop
    fake.lost_answers = 1
    client, _ = _client(server)
    [result] = client.upsert_products([_payload("78", (801, "FIL-NEW", ()))])
    [made] = [p for p in fake.products.values() if p["sku"] == "FIL-NEW"]
    assert result.ok and result.product_id == str(made["id"]) and len(_creates(fake)) == 1


def test_a_variation_whose_create_got_a_502_is_found_by_its_sku(shop):
    fake, server = shop
    client, _ = _client(server)
    first = client.upsert_products([_payload("79", (901, "VAR-S", (("Talla", "S"),)))])[0]
    fake.lost_answers, fake.lost_answers_for = 1, "variations/batch"  # the parent's update goes through
    small = VariantPayload(901, "VAR-S", Decimal("9990"), (("Talla", "S"),), variant_id=first.variant_ids[901])
    medium = VariantPayload(902, "VAR-M", Decimal("9990"), (("Talla", "M"),))
    [result] = client.upsert_products([ProductPayload("79", "Producto 79", (small, medium), first.product_id)])
    skus = [v["sku"] for v in fake.variations.values() if v["parent_id"] == int(first.product_id)]
    assert result.ok and sorted(skus) == ["VAR-M", "VAR-S"] and 902 in result.variant_ids
    assert len(_creates(fake, f"products/{first.product_id}/variations/batch")) == 2  # the first one, and VAR-M's


def test_an_unconfirmed_create_that_cannot_be_found_fails_without_being_sent_again(shop):
    fake, server = shop
    """The proxy failed before the shop saw it: nothing to find. Whether it was made cannot be known from
    outside, so it is not sent again here: the next run looks it up by SKU first (the products flow)."""
    fake.lost_requests = 1
    client, _ = _client(server)
    [result] = client.upsert_products([_payload("80", (811, "FIL-LOST", ()))])
    assert not result.ok and result.error_code == "shop_write_ambiguous"
    assert fake.requests.count(("POST", "/wp-json/wc/v3/products/batch")) == 1
    assert "FIL-LOST" not in {p["sku"] for p in fake.products.values()}


def test_an_absolute_update_after_a_502_is_sent_again(shop):
    """Setting a quantity twice sets it once: a stock batch is repeatable, so a lost answer is retried."""
    fake, server = shop
    fake.lost_answers = 1
    client, waits = _client(server)
    [result] = client.set_stock([StockUpdate("501", "", 7)], manage_stock=True)
    assert result.ok and fake.products[501]["stock_quantity"] == 7 and len(waits) == 1


def test_a_webhook_whose_create_got_a_502_is_not_created_twice(shop):
    fake, server = shop
    fake.lost_answers = 1
    client, _ = _client(server)
    with pytest.raises(ShopAmbiguousError) as lost:
        client.ensure_webhooks("https://portal.example/integration/webhooks/t/", "secret", ("order.created",))
    assert lost.value.code == "shop_write_ambiguous" and len(fake.webhooks) == 1
    assert client.ensure_webhooks("https://portal.example/integration/webhooks/t/", "secret", ("order.created",)).ok
