"""Jumpseller API v1 adapter on httpx.

Transport: HTTP Basic `login:authtoken` (the documented way; the query
form `?login=&authtoken=` is deprecated), over HTTPS except on loopback.
Every request first passes `RateLimiter`: never more than 20 requests in any
second nor 800 in any minute. The `Jumpseller-Per{Second,Minute}RateLimit-
Remaining` headers slow it down further, because other apps of the same store
use the same quota. A 429 is waited out, but every 429 counts towards
Jumpseller's ban (after 2000 of them). A ban (`Jumpseller-BannedByRateLimit-
Reset`) raises ShopRetryableError "shop_banned" at once, and this client sends
nothing more until the reset. 5xx and network errors are retried with back-off
for GET and for PUT. Every write here is a PUT of an absolute value (stock 10,
price 13990), so sending it twice gives the same result. Any other method is
never re-sent once it may have reached the shop. 401/403 raise ShopAuthError
with no retry.

Orders: Jumpseller has no "updated since" filter and no update time. See
`JumpsellerClient.iter_orders` for how changes are found anyway.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import count
from typing import Any

import httpx

from engagements.integration.shops import base
from engagements.integration.shops.base import (
    BatchResult,
    Charge,
    OrderLine,
    PriceUpdate,
    ProductPayload,
    ProductResult,
    ShopAuthError,
    ShopCustomer,
    ShopError,
    ShopOrder,
    ShopPermanentError,
    ShopRetryableError,
    ShopVariant,
    StockUpdate,
)
from engagements.integration.shops.customers import (
    jumpseller_address,
    jumpseller_customer,
    jumpseller_customer_signature,
)
from engagements.integration.shops.http import Again, ShopHttp, json_body, retry_after

API_URL = "https://api.jumpseller.com/v1"
PAGE_LIMIT = 100  # the API's maximum
RETRY_STATUSES = {429, 500, 502, 503, 504}
# Order events that webhooks.acted_on takes (API v1 has no order_created: a new order comes as
# order_pending_payment or order_paid; a pending one is not imported, so its payment is enough).
WEBHOOK_EVENTS = ("order_paid", "order_updated", "order_canceled")
REPEATABLE = {"GET", "PUT"}  # our PUTs set absolute values: a second copy changes nothing
BAN_HEADER = "Jumpseller-BannedByRateLimit-Reset"
REMAINING_HEADERS = (  # (header, its window in seconds, "few left" threshold)
    ("Jumpseller-PerSecondRateLimit", 1.0, 2),
    ("Jumpseller-PerMinuteRateLimit", 60.0, 40),
)
# `status_enum` (the `status` text is translated). OpenAPI v1 lists only the first four plus
# `created` (a status filter); "refunded" is not in v1 and is mapped in case a store sends it.
STATUSES = {
    "pending_payment": base.PENDING,
    "created": base.PENDING,
    "paid": base.PAID,
    "canceled": base.CANCELLED,
    "abandoned": base.FAILED,
    "refunded": base.REFUNDED,
}
SHIPPED = {"in_transit", "pickup_available", "delivered"}  # `shipment_status_enum`: a paid order left the shop
RUT_LABELS = {"rut", "run"}  # additional checkout fields that may carry the RUT


def _utcnow() -> datetime:
    return datetime.now(UTC)


class RateLimiter:
    """At most `per_second` requests in any second and `per_minute` in any minute.

    Sliding windows hold the send times of the latest requests. Classic
    refilling token buckets are not enough here: a full bucket of 20,
    refilled at 20/s, lets 40 requests through within one second (and 1600
    within a minute), and those are the hits that lead to a ban. `hold()`
    pauses everything (the server asked for it). `waited` adds up the sleeps
    for the run report. The clock and the sleep are injectable for tests.
    """

    def __init__(
        self,
        per_second: int = 20,
        per_minute: int = 800,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.limits = {1.0: per_second, 60.0: per_minute}
        self._sent: dict[float, deque[float]] = {1.0: deque(), 60.0: deque()}
        self._clock, self._sleep = clock, sleep
        self._hold_until = 0.0
        self.waited = 0.0

    def acquire(self) -> None:
        """Wait until one more request fits in both windows, then count it as sent."""
        now = self._clock()
        delay = self._hold_until - now
        for length, sent in self._sent.items():
            while sent and sent[0] <= now - length:
                sent.popleft()
            limit = self.limits[length]
            if len(sent) >= limit:
                delay = max(delay, sent[-limit] + length - now)
        if delay > 0:
            self._sleep(delay)
            self.waited += delay
            now += delay
        for sent in self._sent.values():
            sent.append(now)

    def hold(self, seconds: float) -> None:
        self._hold_until = max(self._hold_until, self._clock() + seconds)

    def holding(self) -> bool:
        return self._hold_until > self._clock()

    def observe(self, headers: Mapping[str, str]) -> None:
        """What the server counted: none left means a whole window's wait. A few left means
        going at the average rate (window / limit), so the quota lasts to the window's end."""
        for prefix, length, few in REMAINING_HEADERS:
            left, limit = headers.get(f"{prefix}-Remaining", ""), headers.get(f"{prefix}-Limit", "")
            if not left.isdigit():
                continue
            if int(left) == 0:
                self.hold(length)
            elif int(left) <= few:
                self.hold(length / (int(limit) if limit.isdigit() and int(limit) else self.limits[length]))


class JumpsellerClient(ShopHttp):
    platform = "jumpseller"

    def __init__(
        self,
        login: str,
        token: str,
        *,
        base_url: str = API_URL,
        state: dict | None = None,
        rescan_days: float = 7,
        per_second: int = 20,
        per_minute: int = 800,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = _utcnow,
        **transport: Any,
    ):
        super().__init__(base_url, **transport)
        self.base = base_url.rstrip("/")
        self.state = state if state is not None else {}  # JSON; the caller persists it (see iter_orders)
        self.state.setdefault("versions", {})
        self.rescan = timedelta(days=rescan_days)
        self.limiter = RateLimiter(per_second, per_minute, clock=clock, sleep=self._sleep)
        self._now = now
        self._banned_until: datetime | None = None
        self._auth = (login, token)

    # ------------------------------------------------------------ transport (shops/http.py)
    def before_send(self) -> None:
        """Nothing is sent during a ban; every request waits for room in both rate windows."""
        if self._banned_until and self._now() < self._banned_until:
            raise self._ban_error(self._banned_until.isoformat())
        self.limiter.acquire()

    def pause(self, seconds: float) -> None:
        self.limiter.hold(seconds)  # the next request waits for it, in the limiter

    def classify(self, response: httpx.Response) -> Again | None:
        """What the server counted slows the limiter; a ban stops the client at once. 429 and 5xx are
        worth another try (a 5xx may have applied a write); 401/403 are the keys, 404 a missing record."""
        self.limiter.observe(response.headers)
        reset = response.headers.get(BAN_HEADER)
        if reset:
            try:
                self._banned_until = _time(reset)
            except ValueError:
                self._banned_until = datetime.max.replace(tzinfo=UTC)  # unknown end: stop for this run
            raise self._ban_error(reset)
        if response.status_code in RETRY_STATUSES:
            return Again(wait=retry_after(response), applied=response.status_code != 429)
        if response.status_code < 400:
            return None
        body = json_body(response)
        message = str(body.get("message", "")) if isinstance(body, dict) else response.text[:200]
        if response.status_code in (401, 403):
            raise ShopAuthError(f"Jumpseller refused the login or the token ({message or response.status_code}).")
        if response.status_code == 404:
            raise ShopPermanentError(message or "Not found.", code="jumpseller_not_found")
        raise ShopPermanentError(
            message or f"HTTP {response.status_code}", code=f"jumpseller_http_{response.status_code}"
        )

    @staticmethod
    def _ban_error(reset: str) -> ShopRetryableError:
        return ShopRetryableError(
            f"Jumpseller banned this store's API access after too many rate-limit hits, until {reset}.",
            code="shop_banned",
        )

    def request(self, method: str, path: str, *, params: dict | None = None, body: Any = None) -> httpx.Response:
        """Every write here is a PUT of an absolute value (stock 10, price 13990): repeatable, as a GET."""
        url = self.base + path
        return self.exchange(method, url, repeatable=method in REPEATABLE, params=params, json=body, auth=self._auth)

    def probe(self) -> None:
        """Without the login and token: does this address answer as Jumpseller's API? It refuses an
        anonymous caller with 401 and its `message`. Only then are they sent."""
        self.probe_anonymously(
            "GET", self.base + "/store/info.json", lambda body: isinstance(body, dict) and "message" in body
        )

    # ------------------------------------------------------------ store
    def store_info(self) -> dict:
        """/store/info.json as is. It includes `hooks_token`, the key that signs webhooks: keep it out of reports."""
        return self.request("GET", "/store/info.json").json()

    def status(self) -> dict:
        info = self.store_info()
        keys = ("name", "code", "currency", "country", "timezone")
        return {"version": "API v1", **{key: info.get(key) or "" for key in keys}}

    # ------------------------------------------------------------ orders
    def get_order(self, order_id: str) -> ShopOrder:
        raw = self.request("GET", f"/orders/{order_id}.json").json()["order"]
        return to_order(raw, modified=self._version(raw, self._now()))

    def iter_orders_after(self, after_id: int) -> Iterator[ShopOrder]:
        """New orders (id above `after_id`), lowest id first. `state["after_id"]` follows them."""
        observed = self._now()
        self.state["after_id"] = max(self.state.get("after_id") or 0, int(after_id))
        for raw in self._raw_after(after_id):
            order = to_order(raw, modified=self._version(raw, observed))
            self.state["after_id"] = max(self.state["after_id"], raw["id"])
            yield order

    def iter_orders(self, *, modified_after: datetime, modified_before: datetime) -> Iterator[ShopOrder]:
        """Orders created or changed in (modified_after, modified_before], oldest change first, each id once.

        What the payloads offer: `created_at` and `completed_at` (the first time
        the order was completed, i.e. paid), as "2026-03-10 14:05:10 UTC". There is
        no update time. A cancellation, an abandonment, a shipment status change or
        an edit in the admin leaves no date in the order.

        So the client keeps its own "last modified" index in `state["versions"]`:
        for each order id, a signature of what the flows read (status, shipment
        status, totals, lines) and the time that version was first seen.
        `ShopOrder.modified` is:
        - for an unchanged signature: the stored time, so the flow's `external_updated_at`
          comparison answers "unchanged";
        - for a new signature of a known order, and for any order the running state has
          not seen (a new one, or an old one reached by id): the time it was observed. That
          is the window's end, capped at now, and always later than a stored time, so the
          flow sees a change it can act on. Observation times come from our clock alone,
          so an order that shows up late, or a shop clock that runs behind, cannot land
          before the window and be missed;
        - on a blank state (first run: no `after_id` yet): max(created_at, completed_at),
          the real dates.

        Candidates come from three places:
        1. new orders: `orders/after/{state["after_id"]}.json`, paged by the highest id seen
           (keyset paging, so orders placed meanwhile cannot shift it);
        2. the rolling re-scan: `orders.json` newest first (id descending), 100 a page, until
           orders were created before min(modified_after, modified_before - rescan_days). This
           catches status changes no webhook announced;
        3. orders whose stored version time falls in the window but that 1 and 2 did not reach
           (changed long ago, e.g. seen by `get_order` from a webhook). These are fetched by id.

        The caller must persist `client.state` (JSON) between runs. Without it every run
        starts blank: new orders are still found, but a status change of an order seen
        in an earlier run is invisible, because its dates do not move. Saving the state
        after a dry run or a failed run is harmless: it only records when each version
        was first seen, and the flow's cursor decides what gets listed again (a failed
        order pulls the window back to its version time). Limits: a change to an order
        created before the horizon is not seen unless it is fetched by id. Page-number
        paging can skip an order only if orders are deleted during the scan.
        """
        observed = min(modified_before, self._now())
        cutoff = min(modified_after, modified_before - self.rescan)
        known_up_to = self.state.get("after_id")
        found: dict[int, dict] = {}
        if known_up_to:
            found.update((raw["id"], raw) for raw in self._raw_after(known_up_to))
        found.update((raw["id"], raw) for raw in self._raw_recent(cutoff))
        for order_id in self._stamped_between(modified_after, modified_before) - found.keys():
            try:
                found[order_id] = self.request("GET", f"/orders/{order_id}.json").json()["order"]
            except ShopPermanentError as error:
                if error.code != "jumpseller_not_found":
                    raise
                self.state["versions"].pop(str(order_id), None)  # deleted in the shop
        orders = [to_order(raw, modified=self._version(raw, observed)) for raw in found.values()]
        if found:
            self.state["after_id"] = max(known_up_to or 0, *found)
        self._forget_older_than(cutoff, keep=found.keys())
        listed = [o for o in orders if modified_after < o.modified <= modified_before]
        yield from sorted(listed, key=lambda o: (o.modified, int(o.id)))

    def _raw_after(self, after_id: int) -> Iterator[dict]:
        cursor = int(after_id)
        while True:
            page = self.request("GET", f"/orders/after/{cursor}.json", params={"limit": PAGE_LIMIT}).json()
            rows = sorted((o for o in _unwrap(page) if o["id"] > cursor), key=lambda o: o["id"])
            if not rows:  # no total is given: loop until a page comes back empty
                return
            yield from rows
            cursor = rows[-1]["id"]

    def _raw_recent(self, cutoff: datetime) -> Iterator[dict]:
        for page in count(1):
            rows = _unwrap(self.request("GET", "/orders.json", params={"page": page, "limit": PAGE_LIMIT}).json())
            yield from (o for o in rows if _time(o["created_at"]) >= cutoff)
            if not rows or min(_time(o["created_at"]) for o in rows) < cutoff:
                return

    def _version(self, raw: dict, observed: datetime) -> datetime:
        """The order's version time (see iter_orders), recorded in the state. One the running state
        never saw is news, whatever its dates say; on a blank state its real dates are used."""
        unseen = observed if self.state.get("after_id") else _dated(raw)
        return self._versioned("versions", str(raw["id"]), _signature(raw), observed, unseen)

    def _versioned(self, bucket: str, key: str, signature: str, observed: datetime, unseen: datetime) -> datetime:
        """The time a record's content (`signature`) was first seen: kept while it does not change,
        later than the previous version when it does, `unseen` for a record never seen."""
        versions = self.state.setdefault(bucket, {})
        known = versions.get(key)
        if known and known[0] == signature:
            return datetime.fromisoformat(known[1])
        stamp = max(observed, datetime.fromisoformat(known[1]) + timedelta(microseconds=1)) if known else unseen
        versions[key] = [signature, stamp.isoformat()]
        return stamp

    # ------------------------------------------------------------ customers
    def get_customer(self, customer_id: str) -> ShopCustomer:
        raw = self.request("GET", f"/customers/{customer_id}.json").json()
        return self._customer(raw.get("customer", raw), self._now())

    def iter_customers(self, *, modified_after: datetime, modified_before: datetime) -> Iterator[ShopCustomer]:
        """No update time and no filter: every customer is listed (100 a page, until an empty page)
        and versioned by content in state["customer_versions"], as orders are (see iter_orders)."""
        observed = min(modified_before, self._now())
        listed = []
        for page in count(1):
            rows = self.request("GET", "/customers.json", params={"page": page, "limit": PAGE_LIMIT}).json()
            if not rows:
                break
            listed += [row.get("customer", row) for row in rows]
        customers = [self._customer(raw, observed) for raw in listed]
        window = (c for c in customers if modified_after < c.modified <= modified_before)
        yield from sorted(window, key=lambda c: (c.modified, c.id))

    def _customer(self, raw: dict, observed: datetime) -> ShopCustomer:
        signature = jumpseller_customer_signature(raw)
        modified = self._versioned("customer_versions", str(raw["id"]), signature, observed, observed)
        return jumpseller_customer(raw, modified=modified)

    def _stamped_between(self, after: datetime, before: datetime) -> set[int]:
        versions = self.state["versions"].items()
        return {int(key) for key, (_, stamp) in versions if after < datetime.fromisoformat(stamp) <= before}

    def _forget_older_than(self, cutoff: datetime, keep) -> None:
        versions = self.state["versions"]
        for key in [k for k, (_, stamp) in versions.items() if datetime.fromisoformat(stamp) < cutoff]:
            if int(key) not in keep:
                del versions[key]

    # ------------------------------------------------------------ stock and prices
    def set_stock(
        self, updates: list[StockUpdate], *, manage_stock: bool = False, change_from: Mapping[str, int] | None = None
    ) -> list[BatchResult]:
        """One PUT per item (Jumpseller has no batch endpoint), one result per update. Jumpseller has
        no compare-and-set: `change_from` is ignored (the write is absolute).

        A variant goes to products/{id}/variants/{vid}.json and a simple product to
        products/{id}.json. An item with unlimited stock ignores the quantity, so it comes
        back as an error, unless `manage_stock` switches unlimited stock off. A refusal of
        one item is its result. Auth, busy and ban errors stop the batch: every PUT sets an
        absolute value, so a later run can simply send them all again."""
        results = []
        for update in updates:
            fields: dict[str, Any] = {"stock": update.quantity}
            if manage_stock:
                fields["stock_unlimited"] = False
            results.append(self._put_item(update.product_id, update.variant_id, fields, stock=True))
        return results

    def set_prices(self, updates: list[PriceUpdate]) -> list[BatchResult]:
        """Like set_stock, for `price`, what customers pay (tax included in Chilean stores). The
        `compare_at_price` is not sent: the shop keeps it, and an item that has one is reported
        with the warning "shop_compare_at_kept"."""
        return [self._put_item(u.product_id, u.variant_id, {"price": _number(u.price)}, price=True) for u in updates]

    def _put_item(
        self, product_id: str, variant_id: str, fields: dict, *, stock: bool = False, price: bool = False
    ) -> BatchResult:
        external_id = variant_id or product_id
        root = "variant" if variant_id else "product"
        path = f"/products/{product_id}/variants/{variant_id}.json" if variant_id else f"/products/{product_id}.json"
        try:
            saved = self.request("PUT", path, body={root: fields}).json().get(root) or {}
        except ShopAuthError:
            raise
        except ShopPermanentError as error:
            return BatchResult(external_id, False, error.code, str(error))
        if stock and saved.get("stock_unlimited"):
            return BatchResult(
                external_id,
                False,
                "shop_stock_not_managed",
                "The shop gives this item unlimited stock, so it ignored the quantity.",
            )
        compare_at = saved.get("compare_at_price")
        if price and compare_at is not None:
            shown = "shown as a discount from it" if _money(compare_at) > _money(saved.get("price")) else "not shown"
            message = f"The shop keeps its compare-at price {compare_at} ({shown})."
            return BatchResult(external_id, True, warning="shop_compare_at_kept", message=message)
        return BatchResult(external_id, True)

    # ------------------------------------------------------------ products (Odoo → shop)
    def upsert_products(self, products: list[ProductPayload]) -> list[ProductResult]:
        """One POST or PUT per product (`status: available`), then one per variant (no batch endpoint):
        products/{id}/variants.json creates one with its `options` ({name, value}). Jumpseller variants
        have no visibility of their own: an archived variant is kept and reported
        ("jumpseller_variant_not_hidden"). A timeout fails the product: what it created may exist."""
        return [self._upsert_product(product) for product in products]

    def _upsert_product(self, product: ProductPayload) -> ProductResult:
        body: dict[str, Any] = {"name": product.name, "status": "available"}
        if product.simple:
            body.update(sku=product.variants[0].sku, price=_number(product.variants[0].price))
        product_id, ids = product.product_id, {}
        try:
            if product_id:
                self.request("PUT", f"/products/{product_id}.json", body={"product": body})
            else:
                product_id = str(self.request("POST", "/products.json", body={"product": body}).json()["product"]["id"])
            if product.simple:
                ids[product.variants[0].odoo_id] = product_id
            for variant in [] if product.simple else product.variants:
                fields: dict[str, Any] = {"sku": variant.sku, "price": _number(variant.price)}
                if variant.variant_id:
                    path = f"/products/{product_id}/variants/{variant.variant_id}.json"
                    self.request("PUT", path, body={"variant": fields})
                    ids[variant.odoo_id] = variant.variant_id
                    continue
                fields["options"] = [{"name": name, "value": value} for name, value in variant.options]
                saved = self.request("POST", f"/products/{product_id}/variants.json", body={"variant": fields}).json()
                ids[variant.odoo_id] = str(saved["variant"]["id"])
        except ShopAuthError:
            raise
        except ShopError as error:
            return ProductResult(product.key, False, product_id, ids, error.code, str(error))
        kept = [v.sku for v in product.variants if not v.active]
        if not kept:
            return ProductResult(product.key, True, product_id, ids)
        message = f"Jumpseller cannot hide one variant: {', '.join(kept)} kept in the shop."
        return ProductResult(product.key, True, product_id, ids, "", message, "jumpseller_variant_not_hidden")

    def hide_products(self, product_ids: list[str]) -> list[BatchResult]:
        """`status: disabled`: off the shop front, kept in the catalogue."""
        return [self._put_item(product_id, "", {"status": "disabled"}) for product_id in product_ids]

    # ------------------------------------------------------------ webhooks
    def ensure_webhooks(
        self, url: str, secret: str, topics: tuple[str, ...] = (), *, secret_changed: bool = False
    ) -> base.WebhookReport:
        """`GET /hooks.json` (`[{"hook": {id, event, url, ...}}]`); ours have `url`. A missing one is
        created with `POST /hooks.json {"hook": {event, url}}`. API v1 gives a hook no status to read
        or set. Deliveries are signed with the store's hooks token, which cannot be set: `secret` is
        not sent (the connection's webhook secret must be that token)."""
        hooks = [row.get("hook", row) for row in self.request("GET", "/hooks.json").json() or []]
        found = {hook.get("event"): hook for hook in hooks if hook.get("url") == url}
        return base.ensure_each(
            topics or WEBHOOK_EVENTS,
            found,
            create=lambda event: self.request("POST", "/hooks.json", body={"hook": {"event": event, "url": url}}),
        )

    # ------------------------------------------------------------ catalogue
    def get_stock(self, items: list[StockUpdate]) -> dict[str, int | None]:
        return base.stock_in(self.iter_variants(), {i.variant_id or i.product_id for i in items})

    def iter_variants(self) -> Iterator[ShopVariant]:
        """`products.json`, 100 a page until a short or empty page (no total is given); each product's
        variants, or the product itself when it has none. Ids seen once."""
        seen: set[int] = set()
        for page in count(1):
            rows = self.request("GET", "/products.json", params={"page": page, "limit": PAGE_LIMIT}).json()
            products = [row.get("product", row) for row in rows or []]
            for product in products:
                if product["id"] in seen:
                    continue
                seen.add(product["id"])
                yield from _variants(product)
            if len(products) < PAGE_LIMIT:
                return


def _variants(product: dict) -> Iterator[ShopVariant]:
    for variant in product.get("variants") or []:
        options = ", ".join(str(o.get("value")) for o in variant.get("options") or [] if o.get("value"))
        yield ShopVariant(
            product_id=str(product["id"]),
            variant_id=str(variant["id"]),
            sku=str(variant.get("sku") or "").strip(),
            barcode=str(variant.get("barcode") or "").strip(),
            name=f"{product.get('name') or ''} ({options})" if options else product.get("name") or "",
            price=_money(variant["price"]) if variant.get("price") is not None else None,
            quantity=_stock(variant),
        )
    if not product.get("variants"):
        yield ShopVariant(
            product_id=str(product["id"]),
            variant_id="",
            sku=str(product.get("sku") or "").strip(),
            barcode=str(product.get("barcode") or "").strip(),
            name=product.get("name") or "",
            price=_money(product["price"]) if product.get("price") is not None else None,
            quantity=_stock(product),
        )


def _stock(item: dict) -> int | None:
    """Unlimited stock is not tracked: there is no quantity to compare."""
    return None if item.get("stock_unlimited") or item.get("stock") is None else int(item["stock"])


# ---------------------------------------------------------------- payload → normalized order


def _unwrap(payload: Any) -> list[dict]:
    """`[{"order": {...}}, ...]`; OpenAPI declares orders/after as one `{"order": {...}}`: accept both."""
    rows = payload if isinstance(payload, list) else [payload] if payload else []
    return [row.get("order", row) for row in rows]


def _time(text: str) -> datetime:
    """ "2026-03-10 14:05:10 UTC" (orders) or ISO with an offset (the ban header) → aware UTC."""
    text = text.strip()
    if text.endswith(" UTC"):
        return datetime.fromisoformat(text[:-4]).replace(tzinfo=UTC)
    moment = datetime.fromisoformat(text)
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _dated(raw: dict) -> datetime:
    """The latest moment the payload itself dates: creation, or payment."""
    return max(_time(raw[key]) for key in ("created_at", "completed_at") if raw.get(key))


def _signature(raw: dict) -> str:
    essentials = [
        raw.get("status_enum") or raw.get("status"),
        raw.get("shipment_status_enum"),
        raw.get("completed_at"),
        [str(raw.get(key)) for key in ("total", "subtotal", "shipping", "discount")],
        [
            [p.get(k) for k in ("id", "variant_id", "sku", "qty", "price", "discount")]
            for p in raw.get("products") or []
        ],
    ]
    return hashlib.sha256(json.dumps(essentials, default=str).encode()).hexdigest()[:16]


def _money(value) -> Decimal:
    return Decimal(str(value or "0"))


def _number(amount: Decimal) -> int | float:
    return int(amount) if amount == amount.to_integral_value() else float(amount)


def _status(raw: dict) -> str:
    """status_enum → normalized. A paid order that has shipped is completed; a pending manual
    payment (bank transfer the merchant confirms) is on hold, as in WooCommerce."""
    key = raw.get("status_enum") or (raw.get("status") or "").strip().lower().replace(" ", "_")
    status = STATUSES.get(key, base.ON_HOLD)  # an unknown status waits for a person
    if status == base.PAID and raw.get("shipment_status_enum") in SHIPPED:
        return base.COMPLETED
    if status == base.PENDING and raw.get("payment_method_type") == "manual":
        return base.ON_HOLD
    return status


def _rut(raw: dict) -> str:
    taxid = (raw.get("billing_address") or {}).get("taxid")
    if taxid:
        return str(taxid)
    fields = raw.get("additional_fields") or []
    return next((str(f["value"]) for f in fields if str(f.get("label", "")).strip().lower() in RUT_LABELS), "")


def _line(product: dict) -> OrderLine:
    """Line total = price * qty - discount + tax. Chilean prices include IVA (tax 0). Whether
    `discount` and `tax` are per unit or per line is undocumented: read here as per line."""
    quantity, tax = _money(product.get("qty")), _money(product.get("tax"))
    return OrderLine(
        product_id=str(product.get("id") or ""),
        variant_id=str(product.get("variant_id") or ""),
        sku=product.get("sku") or "",
        name=product.get("name") or "",
        quantity=quantity,
        total=_money(product.get("price")) * quantity - _money(product.get("discount")) + tax,
        tax=tax,
    )


def _charges(raw: dict) -> tuple[Charge, ...]:
    """Shipping net of its discount. What remains of `discount` after the line discounts and
    the shipping discount is an order-level discount: a negative fee."""
    charges = []
    shipping, shipping_tax = _money(raw.get("shipping")), _money(raw.get("shipping_tax"))
    shipping_discount = _money(raw.get("shipping_discount"))
    if shipping:
        name = raw.get("shipping_method_name") or "Shipping"
        charges.append(Charge("shipping", name, shipping - shipping_discount + shipping_tax, shipping_tax))
    line_discounts = sum((_money(p.get("discount")) for p in raw.get("products") or []), Decimal(0))
    order_discount = _money(raw.get("discount")) - line_discounts - shipping_discount
    if order_discount > 0:
        charges.append(Charge("fee", _discount_name(raw), -order_discount, Decimal(0)))
    return tuple(charges)


def _discount_name(raw: dict) -> str:
    names = [p.get("name") if isinstance(p, dict) else str(p) for p in raw.get("promotions") or []]
    return raw.get("coupons") or ", ".join(filter(None, names)) or "Discount"


def to_order(raw: dict, modified: datetime | None = None) -> ShopOrder:
    """An API v1 order (or a webhook body's `order`) as the flows read it. `modified` is the
    client's version time (see iter_orders); alone, the latest date in the payload."""
    customer = raw.get("customer") or {}
    email = (customer.get("email") or "").strip().lower()
    phone = " ".join(filter(None, (customer.get("phone_prefix"), customer.get("phone"))))
    shipping = raw.get("shipping_address") or {}
    return ShopOrder(
        id=str(raw["id"]),
        number=str(raw["id"]),
        status=_status(raw),
        platform_status=raw.get("status") or raw.get("status_enum") or "",
        modified=modified or _dated(raw),
        currency=raw.get("currency") or "",
        total=_money(raw.get("total")),
        customer_id=str(customer.get("id") or ""),  # an integer, or a string in some webhooks
        email=email,
        billing=jumpseller_address(raw.get("billing_address") or {}, phone=phone, email=email),
        shipping=jumpseller_address(shipping) if shipping.get("address") else None,
        lines=tuple(_line(p) for p in raw.get("products") or []),
        charges=_charges(raw),
        tax_id=_rut(raw),
        raw=raw,
    )
