"""Jumpseller adapter against the fake store over loopback HTTP, on a fake clock.

The client and the fake share one `FakeClock`: sleeps advance it instead of
passing, so the rate-limit tests assert the sleeps, not wall time.
"""

import copy
import json
from collections import deque
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from engagements.integration.shops import base
from engagements.integration.shops.base import (
    PriceUpdate,
    ShopAuthError,
    ShopPermanentError,
    ShopRetryableError,
    StockUpdate,
)
from engagements.integration.shops.jumpseller import JumpsellerClient, RateLimiter, to_order
from tests.fakes.jumpseller import FakeJumpseller, FakeJumpsellerServer

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "fakes" / "data" / "jumpseller"
START = datetime(2026, 3, 11, 9, 0, tzinfo=UTC)  # the day after the fixture orders


def _fixture(name: str):
    return json.loads((DATA / name).read_text())


class FakeClock:
    def __init__(self, start: datetime = START):
        self.t, self.start, self.sleeps = 0.0, start, []

    def monotonic(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.t)


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def shop(clock):
    fake = FakeJumpseller(clock=clock.monotonic, now=clock.now)
    with FakeJumpsellerServer(fake) as server:
        yield fake, server


def _client(server, clock, **kw):
    return JumpsellerClient(
        kw.pop("login", server.shop.login),
        kw.pop("token", server.shop.token),
        base_url=server.api_url,
        clock=clock.monotonic,
        sleep=clock.sleep,
        now=clock.now,
        **kw,
    )


def _paths(fake) -> list[str]:
    return [target for _method, target in fake.requests]


def _max_in_window(times: list[float], length: float) -> int:
    """The most requests in any half-open window (t - length, t]."""
    window, most = deque(), 0
    for t in times:
        window.append(t)
        while window[0] <= t - length:
            window.popleft()
        most = max(most, len(window))
    return most


# ---------------------------------------------------------------- orders


def test_new_orders_come_from_orders_after_page_by_page(shop, clock):
    fake, server = shop
    added = fake.add_orders(250)
    client = _client(server, clock)
    orders = list(client.iter_orders_after(10502))
    assert [int(o.id) for o in orders] == added  # lowest id first, each once
    assert _paths(fake) == [
        "/v1/orders/after/10502.json?limit=100",
        "/v1/orders/after/20099.json?limit=100",
        "/v1/orders/after/20199.json?limit=100",
        "/v1/orders/after/20249.json?limit=100",  # empty: no total is given, so it asks until nothing comes
    ]
    assert client.state["after_id"] == 20249


def test_a_first_run_then_new_orders_oldest_change_first(shop, clock):
    fake, server = shop
    first = _client(server, clock)
    orders = list(first.iter_orders(modified_after=datetime(2026, 3, 10, tzinfo=UTC), modified_before=START))
    # A blank state reads the real dates: paid at 14:05:10 UTC, then created at 15:30.
    assert [(o.id, o.modified) for o in orders] == [
        ("10501", datetime(2026, 3, 10, 14, 5, 10, tzinfo=UTC)),
        ("10502", datetime(2026, 3, 10, 15, 30, tzinfo=UTC)),
    ]
    assert first.state["after_id"] == 10502

    fake.add_orders(150)
    clock.t += 600
    fake.requests.clear()
    second = _client(server, clock, state=first.state)
    orders = list(second.iter_orders(modified_after=START - timedelta(minutes=5), modified_before=clock.now()))
    assert [int(o.id) for o in orders] == list(range(20000, 20150))  # seen at the run's end, then by id
    assert {o.modified for o in orders} == {clock.now()}
    assert _paths(fake) == [
        "/v1/orders/after/10502.json?limit=100",  # the new ones by id
        "/v1/orders/after/20099.json?limit=100",
        "/v1/orders/after/20149.json?limit=100",
        "/v1/orders.json?page=1&limit=100",  # and the re-scan, newest first, down to the horizon
        "/v1/orders.json?page=2&limit=100",
        "/v1/orders.json?page=3&limit=100",
    ]
    assert second.state["after_id"] == 20149


def test_a_new_order_dated_before_the_window_is_still_listed(shop, clock):
    """It showed up late in the API, or the shop's clock runs behind ours: a new id is stamped
    when it is first seen, so it cannot fall behind the flow's cursor."""
    fake, server = shop
    client = _client(server, clock)
    assert len(list(client.iter_orders(modified_after=START - timedelta(days=2), modified_before=START))) == 2
    fake.add_orders(1, created="2026-03-11 08:30:00 UTC")  # half an hour before the last run's end
    clock.t += 300
    orders = list(client.iter_orders(modified_after=START - timedelta(minutes=5), modified_before=clock.now()))
    assert [(o.id, o.modified) for o in orders] == [("20000", clock.now())]


def test_an_old_order_changed_without_a_webhook_is_caught_by_the_rescan(shop, clock):
    """An order paid yesterday is cancelled in the admin today; nothing dates that change
    and no webhook arrives. The re-scan sees a new version and stamps it with the run's time."""
    fake, server = shop
    first = _client(server, clock)
    assert [o.id for o in first.iter_orders(modified_after=START - timedelta(days=2), modified_before=START)] == [
        "10501",
        "10502",
    ]
    saved = json.loads(json.dumps(first.state))  # what the caller persists between runs

    fake.set_status(10501, "canceled")
    clock.t += 3600
    run_end = clock.now()
    second = _client(server, clock, state=saved)
    changed = list(second.iter_orders(modified_after=run_end - timedelta(minutes=10), modified_before=run_end))
    assert [(o.id, o.status, o.platform_status, o.modified) for o in changed] == [
        ("10501", base.CANCELLED, "Canceled", run_end)
    ]
    # Later than the version imported before, so the flow's external_updated_at check acts on it.
    assert changed[0].modified > datetime(2026, 3, 10, 14, 5, 10, tzinfo=UTC)
    assert second.get_order("10501").modified == run_end  # the flow re-fetches it: same version, same time
    # The next run's overlap lists it again as the same version (the flow: "unchanged"); past it, nothing.
    clock.t += 300
    again = second.iter_orders(modified_after=run_end - timedelta(minutes=5), modified_before=clock.now())
    assert [(o.id, o.modified) for o in again] == [("10501", run_end)]
    assert list(second.iter_orders(modified_after=run_end, modified_before=clock.now())) == []


def test_without_the_saved_state_an_old_status_change_is_invisible(shop, clock):
    """Why the caller must persist `client.state`: the payload keeps its old dates."""
    fake, server = shop
    fake.set_status(10501, "canceled")
    client = _client(server, clock)
    assert list(client.iter_orders(modified_after=START - timedelta(minutes=10), modified_before=START)) == []
    assert "/v1/orders.json?page=1&limit=100" in _paths(fake)  # it was scanned, but nothing says it changed


def test_the_rescan_stops_at_its_horizon(shop, clock):
    fake, server = shop
    fake.add_orders(150)  # created 2026-03-11 08:00; the fixture orders on 2026-03-10
    client = _client(server, clock, rescan_days=0.5)
    orders = list(client.iter_orders(modified_after=START - timedelta(minutes=10), modified_before=START))
    assert orders == []  # everything is older than the window and seen for the first time
    assert _paths(fake) == ["/v1/orders.json?page=1&limit=100", "/v1/orders.json?page=2&limit=100"]
    assert set(client.state["versions"]) == {str(n) for n in range(20000, 20150)}  # older ones are not watched


def test_an_order_the_running_state_never_saw_counts_as_news_when_fetched(shop, clock):
    """A webhook about an order older than the re-scan horizon: its dates say nothing about the
    change, so it is stamped when fetched and the flow checks it again."""
    _, server = shop
    client = _client(server, clock, state={"after_id": 20000, "versions": {}})
    assert client.get_order("10501").modified == START
    clock.t += 60
    assert client.get_order("10501").modified == START  # the same version keeps its time


def test_an_order_is_read_as_the_flows_need_it(shop, clock):
    """Status, UTC time, CLP amounts with IVA included, lines after discounts, shipping, customer, RUT."""
    _, server = shop
    order = _client(server, clock).get_order("10501")
    assert (order.status, order.platform_status, order.number, order.currency) == ("paid", "Paid", "10501", "CLP")
    assert order.modified == datetime(2026, 3, 10, 14, 5, 10, tzinfo=UTC)
    assert order.total == Decimal("30072")
    assert (order.customer_id, order.email, order.tax_id) == ("20100001", "juan.perez@example.cl", "12.345.678-5")
    assert (order.billing.name, order.billing.city, order.billing.state, order.billing.country) == (
        "Juan Pérez",
        "Ñuñoa",
        "CL-RM",
        "CL",
    )
    assert order.shipping is not None and order.shipping.street == "Los Aromos 456"
    assert [(ln.product_id, ln.variant_id, ln.external_id, ln.sku, ln.quantity, ln.total) for ln in order.lines] == [
        ("7001", "88001", "88001", "POL-M-AZUL", 1, 12990 - 1299),
        ("7002", "", "7002", "CAF-1KG", 1, 15990 - 1599),
    ]
    assert [(c.kind, c.name, c.total) for c in order.charges] == [("shipping", "Envío a domicilio", 3990)]
    assert sum(ln.total for ln in order.lines) + sum(c.total for c in order.charges) == order.total


def test_a_real_clp_order_with_free_shipping_and_no_rut():
    order = to_order(_fixture("real_webhook_order_paid_clp.json")["order"])
    assert (order.id, order.status, order.total, order.tax_id) == ("1012", "paid", 50, "")
    assert order.modified == datetime(2026, 7, 23, 17, 50, 17, tzinfo=UTC)
    assert [(c.kind, c.name, c.total) for c in order.charges] == [("shipping", "BlueExpress", 0)]  # promotion
    assert sum(ln.total for ln in order.lines) + sum(c.total for c in order.charges) == order.total


def test_an_order_level_discount_becomes_a_negative_fee():
    raw = copy.deepcopy(_fixture("built_order_10501.json")["order"])
    for product in raw["products"]:
        product["discount"] = 0.0  # the same 10 % coupon, not spread over the lines
    order = to_order(raw)
    assert [(c.kind, c.name, c.total) for c in order.charges] == [
        ("shipping", "Envío a domicilio", 3990),
        ("fee", "BIENVENIDA10", -2898),
    ]
    assert sum(ln.total for ln in order.lines) + sum(c.total for c in order.charges) == order.total


@pytest.mark.parametrize(
    ("status_enum", "shipment", "payment", "expected"),
    [
        ("pending_payment", "unfulfilled", "webpay_plus", base.PENDING),
        ("pending_payment", "unfulfilled", "manual", base.ON_HOLD),  # a bank transfer to confirm
        ("paid", "unfulfilled", "webpay_plus", base.PAID),
        ("paid", "requested", "webpay_plus", base.PAID),
        ("paid", "in_transit", "webpay_plus", base.COMPLETED),
        ("paid", "delivered", "webpay_plus", base.COMPLETED),
        ("canceled", "unfulfilled", "webpay_plus", base.CANCELLED),
        ("abandoned", "unfulfilled", "webpay_plus", base.FAILED),
        ("something_new", "unfulfilled", "webpay_plus", base.ON_HOLD),  # a person decides
    ],
)
def test_statuses_are_normalized(status_enum, shipment, payment, expected):
    raw = {**_fixture("built_order_10501.json")["order"], "status_enum": status_enum}
    raw.update(shipment_status_enum=shipment, payment_method_type=payment)
    assert to_order(raw).status == expected


def test_a_webhook_body_without_status_enum_and_a_string_customer_id():
    body = {
        "id": 1026,
        "created_at": "2025-01-01 10:18:51 UTC",
        "status": "Pending Payment",
        "customer": {"id": "123", "email": "Test@Gmail.com"},
    }
    order = to_order(body)
    assert (order.status, order.customer_id, order.email, order.lines, order.shipping) == (
        base.PENDING,
        "123",
        "test@gmail.com",
        (),
        None,
    )


def test_an_unknown_order_is_permanent(shop, clock):
    _, server = shop
    with pytest.raises(ShopPermanentError) as refused:
        _client(server, clock).get_order("999")
    assert refused.value.code == "jumpseller_not_found" and str(refused.value) == "Order not found"


# ---------------------------------------------------------------- rate limits and errors


def test_the_limiter_keeps_within_20_a_second_and_800_a_minute(clock):
    limiter = RateLimiter(clock=clock.monotonic, sleep=clock.sleep)
    sent = []
    for _ in range(850):
        limiter.acquire()
        sent.append(clock.t)
    assert _max_in_window(sent, 1.0) == 20 and _max_in_window(sent, 60.0) == 800
    # 20 each second for 40 seconds, then the 801st waits for the first one's minute to pass.
    assert clock.sleeps[:40] == [1.0] * 39 + [21.0]
    assert sent[799] == 39.0 and sent[800] == 60.0
    assert limiter.waited == sum(clock.sleeps)


def test_the_client_never_trips_the_stores_limits(shop, clock):
    fake, server = shop
    client = _client(server, clock)
    for _ in range(830):
        client.status()
    assert fake.hits == 0 and client.calls == 830
    assert _max_in_window(fake.sent_at, 1.0) <= 20 and _max_in_window(fake.sent_at, 60.0) <= 800
    assert clock.t >= 60  # the 801st request waited for the first minute to end


def test_the_remaining_headers_slow_the_client_when_other_apps_use_the_quota(shop, clock):
    fake, server = shop
    fake.use_quota(799)  # another app of the store used 799 requests this minute
    client = _client(server, clock)
    client.status()  # answered with PerMinute-Remaining: 0
    client.status()
    assert clock.sleeps == [60.0] and fake.hits == 0


def test_a_429_is_honoured(shop, clock):
    fake, server = shop
    fake.rate_limited = 1  # the fixture's 429: both Remaining headers at 0
    order = _client(server, clock).get_order("10501")
    assert order.id == "10501"
    assert clock.sleeps == [60.0]  # a whole minute, the longer of the two exhausted windows
    assert len(fake.requests) == 2 and fake.hits == 1


def test_a_ban_stops_the_client_until_its_reset(shop, clock):
    fake, server = shop
    fake.ban_after, fake.rate_limited = 1, 2  # the second 429 crosses the threshold
    client = _client(server, clock)
    with pytest.raises(ShopRetryableError) as banned:
        client.get_order("10501")
    reset = (clock.now() + timedelta(seconds=fake.ban_seconds)).isoformat(timespec="seconds")
    assert banned.value.code == "shop_banned" and reset in str(banned.value)
    assert len(fake.requests) == 2
    with pytest.raises(ShopRetryableError, match="banned"):
        client.get_order("10501")
    assert len(fake.requests) == 2  # nothing sent during the ban
    clock.t += fake.ban_seconds + 1
    assert client.get_order("10501").id == "10501"


def test_a_ban_header_raises_at_once(shop, clock):
    fake, server = shop
    fake.ban()
    client = _client(server, clock)
    with pytest.raises(ShopRetryableError) as banned:
        client.status()
    assert banned.value.code == "shop_banned" and clock.sleeps == [] and client.calls == 1


def test_revoked_keys_are_an_auth_error_not_a_retry_storm(shop, clock):
    fake, server = shop
    fake.revoked = True
    client = _client(server, clock)
    with pytest.raises(ShopAuthError) as refused:
        client.status()
    assert refused.value.code == "shop_auth" and client.calls == 1 and clock.sleeps == []


def test_503_is_retried_with_back_off(shop, clock):
    fake, server = shop
    fake.unavailable = 2
    assert _client(server, clock).get_order("10501").id == "10501"
    assert len(clock.sleeps) == 2 and 1.0 <= clock.sleeps[0] <= 1.25 and 2.0 <= clock.sleeps[1] <= 2.5


def test_a_shop_that_stays_down_ends_in_a_retryable_error(shop, clock):
    fake, server = shop
    fake.unavailable = 99
    client = _client(server, clock, max_attempts=3)
    with pytest.raises(ShopRetryableError) as busy:
        client.status()
    assert busy.value.code == "shop_busy" and client.calls == 3


def test_a_stock_put_that_timed_out_is_sent_again(shop, clock):
    """Setting stock to 10 twice leaves 10: the PUT is repeatable (a POST would not be re-sent)."""
    fake, server = shop
    fake.latency = 0.4
    client = _client(server, clock, timeout=0.1, max_attempts=2)
    with pytest.raises(ShopRetryableError):
        client.set_stock([StockUpdate("7001", "88001", 10)])
    assert [m for m, _ in fake.requests] == ["PUT", "PUT"]


def test_plain_http_is_refused_outside_loopback():
    with pytest.raises(ShopPermanentError) as refused:
        JumpsellerClient("store", "token", base_url="http://api.jumpseller.com/v1")
    assert refused.value.code == "shop_https_required"
    JumpsellerClient("store", "token", base_url="http://127.0.0.1:8072/v1").close()


# ---------------------------------------------------------------- stock and prices


def test_stock_goes_item_by_item_with_per_item_errors(shop, clock):
    fake, server = shop
    fake.products[1001]["stock_unlimited"] = True
    client = _client(server, clock)
    results = client.set_stock(
        [StockUpdate("7001", "88001", 10), StockUpdate("7001", "88999", 3), StockUpdate("1001", "", 5)]
    )
    assert [(r.external_id, r.ok, r.error_code) for r in results] == [
        ("88001", True, ""),
        ("88999", False, "jumpseller_not_found"),
        ("1001", False, "shop_stock_not_managed"),
    ]
    assert results[1].message == "Variant not found"
    assert fake.writes == [
        ("/v1/products/7001/variants/88001.json", {"variant": {"stock": 10}}),
        ("/v1/products/7001/variants/88999.json", {"variant": {"stock": 3}}),
        ("/v1/products/1001.json", {"product": {"stock": 5}}),
    ]
    assert client.calls == 3  # one call per item: Jumpseller has no batch endpoint
    # Asked to manage stock, the client switches unlimited stock off.
    assert client.set_stock([StockUpdate("1001", "", 5)], manage_stock=True)[0].ok
    assert fake.products[1001]["stock_unlimited"] is False and fake.products[1001]["stock"] == 5


def test_prices_and_stock_end_as_the_documented_variant_update(shop, clock):
    fake, server = shop
    documented = _fixture("built_variant_update.json")
    client = _client(server, clock)
    assert client.set_prices([PriceUpdate("7001", "88001", Decimal("13990"))])[0].ok
    assert client.set_stock([StockUpdate("7001", "88001", 10)])[0].ok
    variant = fake.products[7001]["variants"][0]
    assert {k: variant[k] for k in ("id", "price", "stock")} == {
        k: documented["response"]["variant"][k] for k in ("id", "price", "stock")
    }
    assert fake.writes[0] == (documented["request"]["url"].split(".com", 1)[1], {"variant": {"price": 13990}})


def test_a_revoked_key_stops_a_stock_push(shop, clock):
    fake, server = shop
    fake.revoked = True
    with pytest.raises(ShopAuthError):
        _client(server, clock).set_stock([StockUpdate("7001", "88001", 1), StockUpdate("1001", "", 1)])
    assert len(fake.requests) == 1


# ---------------------------------------------------------------- fixtures


def test_status_names_the_store_and_keeps_the_hooks_token_out(shop, clock):
    _, server = shop
    status = _client(server, clock).status()
    assert status == {
        "version": "API v1",
        "name": "Tienda Demo",
        "code": "tienda-demo",
        "currency": "CLP",
        "country": "CL",
        "timezone": "America/Santiago",
    }
