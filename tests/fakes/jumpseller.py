"""A fake Jumpseller store speaking API v1 over loopback HTTP.

Payloads, errors and headers follow tests/fakes/data (SHOPS-README.md,
jumpseller/*.json; copies in tests/fakes/data/jumpseller):
- auth: Basic `login:authtoken`, or the deprecated `?login=&authtoken=`;
- errors: `{"message": ...}`;
- JSON wrapped in a root key: `{"order": ...}`, `[{"order": ...}, ...]`;
- /orders.json: `page` and `limit` (default 50, max 100, no total header), id descending;
- /orders/after/{id}.json: ascending ids, same `limit`;
- /products.json (`page` and `limit`, id ascending, variants inside), /products/count.json;
- orders/{id}, store/info, products/{id} and products/{id}/variants/{vid} (GET and PUT),
  PUT orders/{id} with its whitelist;
- the `Jumpseller-Per{Second,Minute}RateLimit-{Limit,Remaining}` headers on every answer.

Rate limits are sliding windows on `clock`, `per_second` and `per_minute`. Over
them the answer is 429 with the limit headers, and every 429 is a hit. After
`ban_after` hits the store is banned for `ban_seconds`: a 429 carrying
`Jumpseller-BannedByRateLimit-Reset`, timed on `now`.

Knobs:
- `latency`;
- `rate_limited`: answer that many requests with the fixture's 429, whatever the windows;
- `unavailable`: that many 503s;
- `revoked`: 401 for any key;
- `ban()`: a ban starting now;
- `use_quota()`: another app of the store spends part of this minute's quota;
- `set_status()`: the shop owner changes an order, and no webhook is sent;
- `add_orders()`, `add_products()`;
- GET and POST hooks.json (the shape of docs_hook_create.json), kept in `hooks` (id -> hook): delete one
  from it as a hook Jumpseller dropped; an event outside API v1's list is refused with 422;
- the `requests` log and `writes`;
- POST products and products/{id}/variants create them (kept in `products`, logged in `created`);
  PUT products/{id} also takes `name` and `status`.

Run on its own: `python -m tests.fakes.jumpseller --port 8072` (base URL
`http://127.0.0.1:8072/v1`, login `demo-store`, token
`0123456789abcdef0123456789abcdef`).
"""

from __future__ import annotations

import base64
import copy
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from tests.fakes.loopback import LoopbackServer, json_handler, run_cli

FIXTURES = Path(__file__).resolve().parent / "data" / "jumpseller"  # see data/SHOPS-README.md
PREFIX = "/v1/"
TIME = "%Y-%m-%d %H:%M:%S UTC"
STATUS_NAMES = {"paid": "Paid", "pending_payment": "Pending Payment", "canceled": "Canceled", "abandoned": "Abandoned"}
ORDER_EDITABLE = {"status", "shipment_status", "additional_information", "additional_fields"}
PRODUCT_EDITABLE = {"price", "stock", "stock_unlimited", "compare_at_price", "sku", "barcode", "name", "status"}
ITEM_DEFAULTS = {"price": 0.0, "sku": None, "barcode": None, "stock": 0, "stock_unlimited": False}
ITEM_DEFAULTS["compare_at_price"] = None
UNAVAILABLE_HTML = "<html><body><h1>503 Service Unavailable</h1></body></html>"


def _load(name: str):
    return json.loads((FIXTURES / name).read_text())


ERRORS = _load("errors.json")
HOOK = _load("docs_hook_create.json")["response"]["hook"]
HOOK_EVENTS = {  # API v1
    *("order_updated", "order_pending_payment", "order_paid", "order_shipped", "order_canceled", "order_abandoned"),
    *("product_created", "product_updated", "product_deleted", "product_stock_updated"),
    *("customer_created", "customer_updated", "customer_deleted"),
}
RATE = _load("rate_limit_headers.json")


def _error(key: str) -> tuple[int, dict]:
    return ERRORS[key]["status"], ERRORS[key]["body"]


def _not_found(what: str) -> tuple[int, dict]:
    return 404, {"message": f"{what} not found"}  # the NotFound shape; the text is made up


def _page(rows: list, query: dict) -> list:
    limit = min(int(query.get("limit", 50)), 100)
    page = max(int(query.get("page", 1)), 1)
    return rows[(page - 1) * limit : page * limit]


@dataclass
class FakeJumpseller:
    login: str = "demo-store"
    token: str = "0123456789abcdef0123456789abcdef"
    latency: float = 0.0
    per_second: int = RATE["limits"]["per_second"]
    per_minute: int = RATE["limits"]["per_minute"]
    ban_after: int = RATE["limits"]["hits_before_temporary_ban"]
    ban_seconds: int = 900
    rate_limited: int = 0
    unavailable: int = 0
    revoked: bool = False
    clock: Callable[[], float] = time.monotonic
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    hits: int = 0
    banned_until: datetime | None = None
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path?query)
    sent_at: list[float] = field(default_factory=list)  # clock time of every request let through the limits
    writes: list[tuple[str, dict]] = field(default_factory=list)  # (path, body) of every PUT
    created: list[tuple[str, dict]] = field(default_factory=list)  # (path, body) of every product/variant POST
    orders: dict[int, dict] = field(default_factory=dict)
    products: dict[int, dict] = field(default_factory=dict)
    customers: dict[int, dict] = field(default_factory=dict)
    hooks: dict[int, dict] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._windows = {1.0: deque(), 60.0: deque()}
        if not self.orders:
            for row in _load("built_orders_list.json"):
                self.orders[row["order"]["id"]] = row["order"]
        if not self.products:
            for product in (_load("built_product_with_variants.json"), _load("docs_products_list_response.json")[0]):
                self.products[product["product"]["id"]] = product["product"]
        if not self.customers:  # the buyers of the orders, as /customers lists them
            for order in self.orders.values():
                billing = order["billing_address"]
                address = {k: billing.get(k) for k in ("name", "surname", "taxid", "address", "city", "postal")}
                address.update(
                    municipality=billing.get("municipality"),
                    region=billing.get("region_code"),
                    country=billing.get("country_code"),
                )
                extra = {"status": "approved", "billing_address": address, "shipping_address": dict(address)}
                self.customers[order["customer"]["id"]] = {**order["customer"], **extra}

    # ------------------------------------------------------------ what the shop owner does
    def add_orders(self, count: int, start_id: int = 20000, created: str = "2026-03-11 08:00:00 UTC") -> list[int]:
        """Copies of the paid order 10501 with new ids, created (and paid) at `created`."""
        template = _load("built_order_10501.json")["order"]
        for n in range(count):
            order = copy.deepcopy(template)
            order.update(id=start_id + n, created_at=created, completed_at=created)
            self.orders[order["id"]] = order
        return list(range(start_id, start_id + count))

    def add_products(self, count: int, start_id: int = 30000, sku_prefix: str = "JS-") -> list[int]:
        """Copies of the simple product 1001 with new ids and SKUs (for paging)."""
        template = _load("docs_products_list_response.json")[0]["product"]
        for n in range(count):
            product = copy.deepcopy(template)
            product.update(id=start_id + n, sku=f"{sku_prefix}{start_id + n}", name=f"Producto {start_id + n}")
            self.products[product["id"]] = product
        return list(range(start_id, start_id + count))

    def set_status(self, order_id: int, status_enum: str) -> None:
        """An edit in the admin: no webhook, and no date changes in the order except a first payment."""
        order = self.orders[order_id]
        order.update(status=STATUS_NAMES[status_enum], status_name=STATUS_NAMES[status_enum], status_enum=status_enum)
        if status_enum == "paid" and not order.get("completed_at"):
            order["completed_at"] = self.now().strftime(TIME)

    def ban(self) -> None:
        self.banned_until = self.now() + timedelta(seconds=self.ban_seconds)

    def use_quota(self, count: int) -> None:
        """Another app of the store sent `count` requests just now: they count against the same minute."""
        self._windows[60.0].extend([self.clock()] * count)

    # ------------------------------------------------------------ request handling
    def answer(self, method: str, target: str, query: dict, headers, body: bytes) -> tuple[int, dict, object]:
        """(status, extra headers, JSON body or an HTML str)."""
        with self.lock:
            self.requests.append((method, target))
        if self.latency:
            time.sleep(self.latency)
        with self.lock:
            if self.unavailable:
                self.unavailable -= 1
                return 503, {}, UNAVAILABLE_HTML
            limited = self._limit()
            if limited:
                return limited
            limit_headers = self._limit_headers()
            path = urlsplit(target).path
            if not self._authorized(query, headers):
                status, answer = _error("unauthorized_401")
            elif not path.startswith(PREFIX) or not path.endswith(".json"):
                status, answer = _not_found("Resource")
            else:
                payload = json.loads(body) if body else {}
                if method == "PUT":
                    self.writes.append((path, payload))
                status, answer = self._route(method, path[len(PREFIX) : -len(".json")].split("/"), query, payload)
            return status, limit_headers, answer

    def _limit(self) -> tuple[int, dict, object] | None:
        if self.banned_until and self.now() < self.banned_until:
            return self._banned()
        now = self.clock()
        for length, sent in self._windows.items():
            while sent and sent[0] <= now - length:
                sent.popleft()
        over = len(self._windows[1.0]) >= self.per_second or len(self._windows[60.0]) >= self.per_minute
        if not (over or self.rate_limited):
            for sent in self._windows.values():
                sent.append(now)
            self.sent_at.append(now)
            return None
        self.rate_limited = max(0, self.rate_limited - 1)
        self.hits += 1
        if self.hits > self.ban_after:
            self.ban()
            return self._banned()
        headers = dict(RATE["limited_429"]["headers"]) if not over else self._limit_headers()
        return 429, headers, {"message": "Too Many Requests"}

    def _banned(self) -> tuple[int, dict, object]:
        reset = self.banned_until.isoformat(timespec="seconds")
        return 429, {name: reset for name in RATE["banned_429"]["headers"]}, {"message": "Too Many Requests"}

    def _limit_headers(self) -> dict:
        headers = {}
        for name, length, limit in (("PerSecond", 1.0, self.per_second), ("PerMinute", 60.0, self.per_minute)):
            headers[f"Jumpseller-{name}RateLimit-Limit"] = str(limit)
            headers[f"Jumpseller-{name}RateLimit-Remaining"] = str(max(0, limit - len(self._windows[length])))
        return headers

    def _authorized(self, query: dict, headers) -> bool:
        login, token = query.get("login"), query.get("authtoken")  # the deprecated form
        header = headers.get("Authorization", "")
        if header.startswith("Basic "):
            login, _, token = base64.b64decode(header[6:]).decode().partition(":")
        return not self.revoked and login == self.login and token == self.token

    def _route(self, method: str, route: list[str], query: dict, payload: dict) -> tuple[int, object]:
        if route == ["store", "info"]:
            return 200, _load("built_store_info.json")
        if route == ["hooks"] and method == "GET":
            return 200, [{"hook": copy.deepcopy(h)} for h in sorted(self.hooks.values(), key=lambda h: h["id"])]
        if route == ["hooks"] and method == "POST":
            given = payload.get("hook") or {}
            if given.get("event") not in HOOK_EVENTS or not given.get("url"):
                return 422, {"message": "Hook event or url is invalid"}  # the text is made up
            number = max(self.hooks, default=HOOK["id"] - 1) + 1
            hook = {**HOOK, "id": number, "event": given["event"], "url": given["url"]}
            self.hooks[hook["id"]] = hook
            return 200, {"hook": copy.deepcopy(hook)}
        if route[0] == "orders":
            return self._orders(method, route[1:], query, payload)
        if route == ["customers"] and method == "GET":
            rows = sorted(self.customers.values(), key=lambda c: c["id"])
            return 200, [{"customer": c} for c in _page(copy.deepcopy(rows), query)]
        if route[0] == "customers" and len(route) == 2 and route[1].isdigit() and method == "GET":
            customer = self.customers.get(int(route[1]))
            return (200, {"customer": copy.deepcopy(customer)}) if customer else _not_found("Customer")
        if route == ["products"] and method == "GET":
            products = sorted(self.products.values(), key=lambda p: p["id"])
            return 200, [{"product": p} for p in _page(copy.deepcopy(products), query)]
        if route == ["products", "count"]:
            return 200, {"count": len(self.products)}
        if route[0] == "products" and method == "POST" and (len(route) == 1 or route[2:] == ["variants"]):
            return self._create(route, payload)
        if route[0] == "products" and len(route) in (2, 4) and route[2:3] in ([], ["variants"]):
            return self._product(method, route[1::2], payload)
        return _not_found("Resource")

    def _orders(self, method: str, route: list[str], query: dict, payload: dict) -> tuple[int, object]:
        newest_first = sorted(self.orders.values(), key=lambda o: o["id"], reverse=True)
        if not route and method == "GET":
            return 200, [{"order": o} for o in _page(copy.deepcopy(newest_first), query)]
        if route == ["count"]:
            return 200, {"count": len(self.orders)}
        if len(route) == 2 and route[0] == "after" and route[1].isdigit():
            after = [o for o in reversed(newest_first) if o["id"] > int(route[1])]
            return 200, [{"order": o} for o in _page(copy.deepcopy(after), {**query, "page": 1})]
        order = self.orders.get(int(route[0])) if len(route) == 1 and route[0].isdigit() else None
        if order is None:
            return _error("order_not_found_404")
        if method == "PUT":
            changes = {k: v for k, v in (payload.get("order") or {}).items() if k in ORDER_EDITABLE}
            if not changes:
                return _error("order_put_disallowed_params_400")
            if "status" in changes:
                names = {v: k for k, v in STATUS_NAMES.items()}
                self.set_status(order["id"], names.get(changes.pop("status"), "paid"))
            order.update(changes)
        return 200, {"order": copy.deepcopy(order)}

    def _product(self, method: str, ids: list[str], payload: dict) -> tuple[int, object]:
        if not all(part.isdigit() for part in ids):
            return _not_found("Product")
        product = self.products.get(int(ids[0]))
        if product is None:
            return _not_found("Product")
        record, root = product, "product"
        if len(ids) == 2:
            record = next((v for v in product.get("variants", []) if v["id"] == int(ids[1])), None)
            root = "variant"
            if record is None:
                return _not_found("Variant")
        if method == "PUT":
            record.update({k: v for k, v in (payload.get(root) or {}).items() if k in PRODUCT_EDITABLE})
        return 200, {root: copy.deepcopy(record)}

    def _create(self, route: list[str], payload: dict) -> tuple[int, object]:
        self.created.append(("/".join(route), copy.deepcopy(payload)))
        items = [v["id"] for p in self.products.values() for v in p.get("variants") or []]
        if len(route) == 1:
            given = payload.get("product") or {}
            product = {"id": max(self.products, default=0) + 1, **ITEM_DEFAULTS, "status": "available"}
            product.update(name=given.get("name", ""), variants=[], **{k: given[k] for k in given if k != "name"})
            self.products[product["id"]] = product
            return 200, {"product": copy.deepcopy(product)}
        product = self.products.get(int(route[1])) if route[1].isdigit() else None
        if product is None:
            return _not_found("Product")
        variant = {"id": max(items, default=90000) + 1, **ITEM_DEFAULTS, **(payload.get("variant") or {})}
        product.setdefault("variants", []).append(variant)
        return 200, {"variant": copy.deepcopy(variant)}


class FakeJumpsellerServer(LoopbackServer):
    def __init__(self, shop: FakeJumpseller | None = None, port: int = 0):
        self.shop = shop or FakeJumpseller()
        shop_ = self.shop

        super().__init__(json_handler(shop_.answer), port)
        self.api_url = self.url + "/v1"


if __name__ == "__main__":
    run_cli(
        lambda port: FakeJumpsellerServer(port=port),
        8072,
        __doc__.splitlines()[0],
        "Fake Jumpseller on {url}/v1 (demo-store / 0123456789abcdef0123456789abcdef). Ctrl-C stops it.",
    )
