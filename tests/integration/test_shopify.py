"""Shopify adapter against the fake shop over loopback HTTP (no database needed)."""

import copy
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from engagements.integration.shops import base
from engagements.integration.shops.base import (
    PriceUpdate,
    ShopAmbiguousError,
    ShopAuthError,
    ShopPermanentError,
    ShopRetryableError,
    StockUpdate,
)
from engagements.integration.shops.shopify import (
    ORDERS_QUERY,
    WARNING_60_DAYS,
    ClientCredentials,
    ShopifyClient,
    to_order,
)
from tests.fakes.shopify import GRAPHQL_PATH, FakeShopify, FakeShopifyServer

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "fakes" / "data" / "shopify"
WINDOW = {"modified_after": datetime(2026, 3, 1, tzinfo=UTC), "modified_before": datetime(2026, 12, 31, tzinfo=UTC)}
GUEST, FOREIGN = "6100000000001", "6100000000002"  # orders #1001 (CLP) and #1002 (USD presentment)
POL_M, POL_L, CAFE = "44000000001", "44000000002", "44000000003"  # variants


def _fixture(name: str) -> dict:
    return json.loads((DATA / name).read_text())


@pytest.fixture
def shop():
    fake = FakeShopify()
    with FakeShopifyServer(fake) as server:
        yield fake, server


def _client(server, fake, **kw):
    """A client whose sleeps are recorded and move the fake's cost bucket clock instead of waiting."""
    waits = []

    def sleep(seconds):
        waits.append(seconds)
        fake.advance(seconds)

    kw.setdefault("read_all_orders", True)
    token = kw.pop("token", "" if "token_provider" in kw else "shpat_demo")
    return ShopifyClient(server.url, token, sleep=sleep, **kw), waits


def _sent(fake, root: str) -> list[dict]:
    return [r for r in fake.requests if r["root"] == root]


def _raw(server, query: str, variables: dict) -> dict:
    answer = httpx.post(
        server.url + GRAPHQL_PATH,
        json={"query": query, "variables": variables},
        headers={"X-Shopify-Access-Token": "shpat_demo"},
    )
    return answer.json()


# ---------------------------------------------------------------- the fake answers like the fixtures


def test_the_fake_lists_orders_exactly_as_the_fixture(shop):
    _, server = shop
    fixture = _fixture("built_orders_query.json")
    answer = _raw(server, fixture["request"]["query"], fixture["request"]["variables"])
    expected = fixture["response"]["data"]["orders"]
    assert answer["data"]["orders"]["edges"] == expected["edges"]
    assert answer["data"]["orders"]["pageInfo"]["endCursor"] == expected["pageInfo"]["endCursor"]
    assert (
        answer["extensions"]["cost"]["requestedQueryCost"]
        == fixture["response"]["extensions"]["cost"]["requestedQueryCost"]
    )


def test_the_fake_mutations_answer_as_the_fixtures(shop):
    fake, server = shop
    prices = _fixture("built_product_variants_bulk_update.json")
    refused = _raw(server, prices["mutation"], prices["variables_with_errors"])
    assert refused["data"] == prices["response_user_errors"]["data"]
    assert fake.variants[f"gid://shopify/ProductVariant/{POL_M}"]["price"] == "12990.00"  # all or nothing
    assert _raw(server, prices["mutation"], prices["variables_ok"])["data"] == prices["response_ok"]["data"]

    stock = _fixture("built_inventory_set_quantities_2026-04.json")
    applied = _raw(server, stock["mutation"], stock["variables"])["data"]["inventorySetQuantities"]
    expected = stock["response_ok"]["data"]["inventorySetQuantities"]
    assert applied["inventoryAdjustmentGroup"]["changes"] == expected["inventoryAdjustmentGroup"]["changes"]
    assert _raw(server, stock["mutation"], stock["variables"])["data"]["inventorySetQuantities"] == applied
    other = copy.deepcopy(stock["variables"])
    other["input"]["quantities"][0]["quantity"] = 11
    assert _raw(server, stock["mutation"], other)["data"] == stock["response_key_reused_with_other_params"]["data"]
    other["idempotencyKey"] = "another-key"
    other["input"]["quantities"][0]["changeFromQuantity"] = 12  # it is 10 now
    assert _raw(server, stock["mutation"], other)["data"] == stock["response_change_from_stale"]["data"]
    assert len(fake.adjustments) == 1 and fake.quantity(POL_M) == 10


# ---------------------------------------------------------------- shop and orders


def test_status_names_the_shop_its_plan_currency_and_api_version(shop):
    fake, server = shop
    client, _ = _client(server, fake)
    assert client.status() == {"version": "2026-04", "name": "Tienda Demo", "plan": "Basic", "currency": "CLP"}
    assert client.platform == "shopify" and client.calls == 1


def test_it_pages_with_cursors_through_more_than_100_orders_oldest_change_first(shop):
    fake, server = shop
    fake.add_orders(125, updated="2026-11-20T10:00:00Z")
    client, _ = _client(server, fake)
    orders = list(client.iter_orders(**WINDOW))
    assert len(orders) == 127 and len({o.id for o in orders}) == 127
    assert [o.modified for o in orders] == sorted(o.modified for o in orders)
    pages = _sent(fake, "orders")
    assert client.calls == len(pages) == 13  # 10 a page: a page of 100 would cost over 1000 points
    assert pages[0]["variables"]["query"] == "updated_at:>='2026-03-01T00:00:00Z' updated_at:<'2026-12-31T00:00:00Z'"
    assert pages[0]["variables"]["after"] is None and pages[1]["variables"]["after"]
    assert {p["code"] for p in pages} == {None}


def test_a_page_of_100_orders_would_exceed_the_query_cost_ceiling(shop):
    fake, server = shop
    client, _ = _client(server, fake)
    with pytest.raises(ShopPermanentError) as refused:
        client._graphql(ORDERS_QUERY, {"first": 100, "after": None, "query": ""})
    assert refused.value.code == "shop_query_too_costly"


def test_an_order_is_read_as_the_flows_need_it(shop):
    """#1001: statuses, UTC time, shop-currency amounts tax-included after the 10 % coupon, numeric ids."""
    fake, server = shop
    client, _ = _client(server, fake)
    order = client.get_order(GUEST)
    assert (order.id, order.number, order.status, order.platform_status) == (GUEST, "#1001", "paid", "PAID/UNFULFILLED")
    assert order.modified == datetime(2026, 3, 10, 14, 5, 10, tzinfo=UTC)
    assert (order.currency, order.total, order.customer_id, order.refunded) == ("CLP", Decimal(41763), "", False)
    assert order.email == "juan.perez@example.cl" and order.billing.city == "Ñuñoa"
    assert (order.billing.state, order.billing.country) == ("CL-RM", "CL") and order.shipping is not None
    polera, cafe = order.lines
    assert (polera.product_id, polera.variant_id, polera.external_id, polera.sku) == (
        "8100000000001",
        POL_M,
        POL_M,
        "POL-M-AZUL",
    )
    assert (polera.quantity, polera.total, polera.tax) == (2, 2 * 12990 - 2598, 3733)
    assert (cafe.total, cafe.tax) == (15990 - 1599, 2298)
    assert [(c.kind, c.name, c.total, c.tax) for c in order.charges] == [("shipping", "Envío a domicilio", 3990, 637)]
    assert sum(line.total for line in order.lines) + sum(c.total for c in order.charges) == order.total


def test_a_buyer_paying_in_another_currency_is_booked_in_the_shop_currency(shop):
    """#1002: presentment USD, shop CLP; a customer; a custom line without variant or product."""
    fake, server = shop
    client, _ = _client(server, fake)
    order = client.get_order(FOREIGN)
    assert (order.currency, order.total, order.customer_id) == ("CLP", Decimal(36970), "7500000000001")
    wrap = order.lines[1]
    assert (wrap.product_id, wrap.variant_id, wrap.sku, wrap.total) == ("", "", "", Decimal(1000))
    assert sum(line.total for line in order.lines) + sum(c.total for c in order.charges) == order.total


def _guest_node() -> dict:
    return copy.deepcopy(_fixture("built_orders_query.json")["response"]["data"]["orders"]["edges"][0]["node"])


@pytest.mark.parametrize(
    ("financial", "fulfillment", "cancelled", "status", "refunded"),
    [
        ("PAID", "FULFILLED", None, base.COMPLETED, False),
        ("PARTIALLY_REFUNDED", "UNFULFILLED", None, base.PAID, True),
        ("REFUNDED", "UNFULFILLED", None, base.REFUNDED, True),
        ("PENDING", "UNFULFILLED", None, base.ON_HOLD, False),
        ("AUTHORIZED", "UNFULFILLED", None, base.ON_HOLD, False),
        ("PARTIALLY_PAID", "UNFULFILLED", None, base.ON_HOLD, False),
        ("VOIDED", "UNFULFILLED", None, base.FAILED, False),
        ("REFUNDED", "UNFULFILLED", "2026-03-11T10:00:00Z", base.CANCELLED, True),
    ],
)
def test_statuses_map_onto_the_normalized_set(financial, fulfillment, cancelled, status, refunded):
    node = _guest_node()
    node.update(displayFinancialStatus=financial, displayFulfillmentStatus=fulfillment, cancelledAt=cancelled)
    order = to_order(node)
    assert (order.status, order.refunded) == (status, refunded)
    assert order.platform_status.endswith(f"{financial}/{fulfillment}")


def test_prices_without_tax_get_it_added_and_a_rut_attribute_is_read():
    node = _guest_node()
    node["taxesIncluded"] = False
    node["customAttributes"] = [{"key": "RUT", "value": "12.345.678-5"}]
    order = to_order(node)
    assert order.lines[0].total == 2 * 12990 - 2598 + 3733 and order.charges[0].total == 3990 + 637
    assert order.tax_id == "12.345.678-5"


def test_an_order_with_more_than_50_lines_is_read_whole(shop):
    fake, server = shop
    order = fake.orders[f"gid://shopify/Order/{GUEST}"]
    template = order["lineItems"]["nodes"][1]
    order["lineItems"]["nodes"] += [
        {**template, "id": f"gid://shopify/LineItem/{16000000000000 + n}"} for n in range(58)
    ]
    client, _ = _client(server, fake)
    assert len(client.get_order(GUEST).lines) == 60
    assert [r["root"] for r in fake.requests] == ["order", "order"]


def test_an_unknown_order_is_permanent(shop):
    fake, server = shop
    client, _ = _client(server, fake)
    with pytest.raises(ShopPermanentError) as refused:
        client.get_order("999")
    assert refused.value.code == "shop_order_not_found"


def test_a_window_older_than_60_days_without_read_all_orders_is_reported(shop):
    fake, server = shop
    fake.scopes.discard("read_all_orders")
    now = datetime.now(UTC)
    stamp = lambda days: (now - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    old = fake.add_orders(1, updated=stamp(70), created=stamp(80), start=6300000000000)
    recent = fake.add_orders(1, updated=stamp(5), created=stamp(10), start=6400000000000)
    client, _ = _client(server, fake, read_all_orders=None)
    listed = [o.id for o in client.iter_orders(modified_after=now - timedelta(days=90), modified_before=now)]
    assert listed == recent and client.warnings == [WARNING_60_DAYS]  # Shopify left the old one out, silently
    assert len(_sent(fake, "currentAppInstallation")) == 1

    client, _ = _client(server, fake, read_all_orders=None)
    list(client.iter_orders(modified_after=now - timedelta(days=30), modified_before=now))
    assert client.warnings == [] and len(_sent(fake, "currentAppInstallation")) == 1  # not even asked

    fake.scopes.add("read_all_orders")
    client, _ = _client(server, fake, read_all_orders=None)
    listed = [o.id for o in client.iter_orders(modified_after=now - timedelta(days=90), modified_before=now)]
    assert listed == old + recent and client.warnings == []


# ---------------------------------------------------------------- throttling, retries, auth


def test_the_client_waits_for_the_cost_bucket_instead_of_being_throttled():
    fake = FakeShopify(max_available=700, restore_rate=50)
    fake.add_orders(40, updated="2026-11-20T10:00:00Z")
    with FakeShopifyServer(fake) as server:
        client, waits = _client(server, fake)
        assert len(list(client.iter_orders(**WINDOW))) == 42
    assert waits and client.throttle_wait == pytest.approx(sum(waits))
    assert {r["code"] for r in fake.requests} == {None}  # never THROTTLED


def test_a_throttled_answer_is_retried_after_the_bucket_refills(shop):
    fake, server = shop
    fake.throttled = 1
    client, waits = _client(server, fake)
    assert client.get_order(GUEST).id == GUEST
    assert [r["code"] for r in fake.requests] == ["THROTTLED", None]
    assert waits == [pytest.approx((67 - 42) / 100, abs=0.01)]  # (requested - available) / restore rate


def test_a_shop_that_stays_throttled_ends_in_a_retryable_error(shop):
    fake, server = shop
    fake.throttled = 99
    client, _ = _client(server, fake, max_attempts=3)
    with pytest.raises(ShopRetryableError) as busy:
        client.get_order(GUEST)
    assert busy.value.code == "shop_busy" and len(fake.requests) == 3


def test_503_and_429_are_retried_with_back_off_honouring_retry_after(shop):
    fake, server = shop
    fake.unavailable, fake.rate_limited = 1, 1
    client, waits = _client(server, fake)
    assert client.status()["name"] == "Tienda Demo"
    assert [r["status"] for r in fake.requests] == [503, 429, 200]
    assert len(waits) == 2 and 2.0 <= waits[1] <= 2.5  # Retry-After: 2.0, with jitter


def test_a_revoked_token_is_an_auth_error_not_a_retry_storm(shop):
    fake, server = shop
    fake.revoked = True
    client, waits = _client(server, fake)
    with pytest.raises(ShopAuthError) as refused:
        client.status()
    assert refused.value.code == "shop_auth" and len(fake.requests) == 1 and waits == []


def test_an_expired_client_credentials_token_is_renewed_once(shop):
    fake, server = shop
    client, _ = _client(server, fake, token_provider=ClientCredentials(server.url, "demo_client", "demo_secret"))
    client.status()
    fake.expire_tokens()
    assert client.status()["name"] == "Tienda Demo"
    assert [(r["root"], r["status"]) for r in fake.requests] == [
        ("access_token", 200),
        ("shop", 200),
        ("shop", 401),
        ("access_token", 200),
        ("shop", 200),
    ]


def test_a_renewed_token_refused_again_is_an_auth_error(shop):
    fake, server = shop
    fake.revoked = True
    client, _ = _client(server, fake, token_provider=ClientCredentials(server.url, "demo_client", "demo_secret"))
    with pytest.raises(ShopAuthError):
        client.status()
    assert [r["root"] for r in fake.requests] == ["access_token", "shop", "access_token", "shop"]


def test_wrong_client_credentials_are_an_auth_error(shop):
    _, server = shop
    with pytest.raises(ShopAuthError):
        ClientCredentials(server.url, "demo_client", "wrong")()


def test_plain_http_is_refused_for_real_shops():
    for build in (
        lambda: ShopifyClient("http://tienda.myshopify.com", "shpat_x"),
        lambda: ClientCredentials("http://tienda.myshopify.com", "id", "secret"),
    ):
        with pytest.raises(ShopPermanentError) as refused:
            build()
        assert refused.value.code == "shop_https_required"


# ---------------------------------------------------------------- stock


def test_300_stock_updates_go_in_two_mutations(shop):
    fake, server = shop
    variants = fake.add_variants(300)
    client, _ = _client(server, fake)
    results = client.set_stock([StockUpdate("8200000000001", v, n % 7) for n, v in enumerate(variants)])
    assert [r.external_id for r in results] == variants and all(r.ok for r in results)
    sizes = [len(r["variables"]["input"]["quantities"]) for r in _sent(fake, "inventorySetQuantities")]
    assert sizes == [250, 50]
    assert len(_sent(fake, "nodes")) == 2 and len(_sent(fake, "location")) == 1
    assert fake.quantity(variants[8]) == 1 and fake.quantity(variants[299]) == 299 % 7
    client.set_stock([StockUpdate("8200000000001", variants[0], 5)])  # inventory items and location are cached
    assert len(_sent(fake, "nodes")) == 2 and len(_sent(fake, "location")) == 1


def test_stock_errors_are_reported_item_by_item(shop):
    fake, server = shop
    untracked = fake.add_variants(1, tracked=False)[0]
    unstocked = fake.add_variants(1, start=45100000000)[0]
    fake.levels.pop(next(k for k in fake.levels if k[0] == "gid://shopify/InventoryItem/45101000000"))
    client, _ = _client(server, fake)
    updates = [
        StockUpdate("8100000000001", POL_M, 7),
        StockUpdate("8100000000001", "44999999999", 1),
        StockUpdate("8200000000001", untracked, 3),
        StockUpdate("8200000000001", unstocked, 4),
        StockUpdate("8100000000002", CAFE, 9),
    ]
    results = client.set_stock(updates)
    assert [(r.external_id, r.ok, r.error_code) for r in results] == [
        (POL_M, True, ""),
        ("44999999999", False, "shop_variant_not_found"),
        (untracked, False, "shop_stock_not_managed"),
        (unstocked, False, "shopify_item_not_stocked_at_location"),
        (CAFE, True, ""),
    ]
    # Shopify refused the whole first mutation for one item; the others went again without it.
    assert [len(r["variables"]["input"]["quantities"]) for r in _sent(fake, "inventorySetQuantities")] == [3, 2]
    assert (fake.quantity(POL_M), fake.quantity(CAFE), fake.quantity(untracked)) == (7, 9, 0)


def test_manage_stock_switches_tracking_on_first(shop):
    fake, server = shop
    untracked = fake.add_variants(1, tracked=False)[0]
    client, _ = _client(server, fake)
    assert client.set_stock([StockUpdate("8200000000001", untracked, 3)], manage_stock=True)[0].ok
    assert fake.variants[f"gid://shopify/ProductVariant/{untracked}"]["inventoryItem"]["tracked"] is True
    assert fake.quantity(untracked) == 3


def test_a_stale_compare_quantity_is_reported_as_stock_changed(shop):
    fake, server = shop
    client, _ = _client(server, fake)
    updates = [StockUpdate("8100000000001", POL_M, 10), StockUpdate("8100000000002", CAFE, 38)]
    results = client.set_stock(updates, change_from={POL_M: 11, CAFE: 40})  # POL-M is at 12 in the shop
    assert [(r.ok, r.error_code) for r in results] == [(False, "shop_stock_changed"), (True, "")]
    assert (fake.quantity(POL_M), fake.quantity(CAFE)) == (12, 38)
    first = _sent(fake, "inventorySetQuantities")[0]["variables"]["input"]["quantities"]
    assert [q["changeFromQuantity"] for q in first] == [11, 40]
    client.set_stock([StockUpdate("8100000000001", POL_M, 10)])  # without a compare value: explicit null
    last = _sent(fake, "inventorySetQuantities")[-1]["variables"]["input"]["quantities"][0]
    assert "changeFromQuantity" in last and last["changeFromQuantity"] is None and fake.quantity(POL_M) == 10


def test_a_stock_mutation_whose_answer_was_lost_is_resent_with_its_key_and_applied_once():
    fake = FakeShopify(slow_replies=1, reply_delay=1.0)
    with FakeShopifyServer(fake) as server:
        client, waits = _client(server, fake, timeout=0.3)
        results = client.set_stock([StockUpdate("8100000000001", POL_M, 5)])
    sent = _sent(fake, "inventorySetQuantities")
    assert results[0].ok and len(sent) == 2 and len(waits) == 1
    assert sent[0]["variables"]["idempotencyKey"] == sent[1]["variables"]["idempotencyKey"]
    assert len(fake.adjustments) == 1 and fake.quantity(POL_M) == 5


def test_a_stock_mutation_still_running_is_waited_for(shop):
    fake, server = shop
    fake.concurrent_replies = 1
    client, waits = _client(server, fake)
    assert client.set_stock([StockUpdate("8100000000001", POL_M, 6)])[0].ok
    sent = _sent(fake, "inventorySetQuantities")
    assert len(sent) == 2 and len({s["variables"]["idempotencyKey"] for s in sent}) == 1 and len(waits) == 1
    assert len(fake.adjustments) == 1


# ---------------------------------------------------------------- prices


def test_prices_go_per_product_with_per_item_errors(shop):
    fake, server = shop
    fake.variants[f"gid://shopify/ProductVariant/{CAFE}"]["compareAtPrice"] = "15990.00"  # a sale set in Shopify
    client, _ = _client(server, fake)
    results = client.set_prices(
        [
            PriceUpdate("8100000000001", POL_M, Decimal("13990")),
            PriceUpdate("8100000000001", POL_L, Decimal("-1")),
            PriceUpdate("8100000000002", CAFE, Decimal("14990")),
            PriceUpdate("8100000000001", "44999999999", Decimal("5000")),
        ]
    )
    assert [(r.external_id, r.ok, r.error_code, r.warning) for r in results] == [
        (POL_M, True, "", ""),
        (POL_L, False, "shopify_greater_than_or_equal_to", ""),
        (CAFE, True, "", "shop_compare_at_kept"),
        ("44999999999", False, "shopify_product_variant_does_not_exist", ""),
    ]
    sent = [(r["variables"]["productId"][-13:], len(r["variables"]["variants"])) for r in fake.requests]
    assert sent == [("8100000000001", 3), ("8100000000001", 1), ("8100000000002", 1)]
    assert all(set(v) == {"id", "price"} for r in fake.requests for v in r["variables"]["variants"])  # price only
    variant = fake.variants[f"gid://shopify/ProductVariant/{CAFE}"]
    assert (variant["price"], variant["compareAtPrice"]) == ("14990.00", "15990.00")  # the compare-at is kept
    assert "discount" in results[2].message
    assert fake.variants[f"gid://shopify/ProductVariant/{POL_L}"]["price"] == "12990.00"


def test_a_price_mutation_whose_answer_was_lost_is_not_resent():
    fake = FakeShopify(slow_replies=1, reply_delay=1.0)
    with FakeShopifyServer(fake) as server:
        client, _ = _client(server, fake, timeout=0.3)
        with pytest.raises(ShopAmbiguousError) as lost:
            client.set_prices([PriceUpdate("8100000000002", CAFE, Decimal("14990"))])
    assert lost.value.code == "shop_write_ambiguous" and len(fake.requests) == 1
