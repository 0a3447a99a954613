"""A fake WooCommerce shop speaking REST API v3 over loopback HTTP.

Payloads, errors and headers follow tests/fakes/data (SHOPS-README.md,
woocommerce/*.json): Basic auth or the `consumer_key`/`consumer_secret`
query fallback, `{code, message, data: {status}}` errors, page/per_page with
X-WP-Total and X-WP-TotalPages, `modified_after`/`modified_before` with
`dates_are_gmt`, batch writes of at most 100 items answered item by item.

Knobs: `latency`, `rate_limited` (answer that many requests with the host's
429 HTML page and Retry-After), `unavailable` (that many 503 HTML pages),
`strip_authorization` (the host drops the Authorization header, as some
do), `revoked` (the key was deleted: 401), `after_list` (a callback run
after each order listing, to change orders mid-run), `listings_before_failure`
(order listings answered before a 500), `requests`, `writes` (path and body
of every batch) and `add_products()`. Batches also create products and variations (new ids from
`next_id`; a SKU already in the shop is refused item by item, as WooCommerce's
`product_invalid_sku`, and so is any SKU in `refuse_skus`); `stall_writes` answers that many batch
POSTs `stall_delay` seconds late, after the change was made (the client times out, the shop has it);
`lost_answers` answers that many POSTs with the host proxy's 502 page after the change was made, and
`lost_requests` that many before WooCommerce saw them (from outside, both look the same). A batch that changes `regular_price` or
`sale_price` recomputes `price` and `on_sale` as WooCommerce does.
Webhooks: GET (paged, `status` filter), POST and PUT /webhooks, kept in `webhooks` (id -> the REST
object, with the secret WooCommerce keeps, never shown); set a hook's `status` to `disabled` as
WooCommerce does after 5 failed deliveries; `read_only` (a read-only key: writes refused with 401).

Run on its own: `python -m tests.fakes.woocommerce --port 8070` (key
`ck_demo`, secret `cs_demo`).
"""

from __future__ import annotations

import base64
import copy
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

from tests.fakes.loopback import LoopbackServer, json_handler, run_cli

FIXTURES = Path(__file__).resolve().parent / "data" / "woocommerce"  # see data/SHOPS-README.md
PREFIX = "/wp-json/wc/v3"
ERRORS = json.loads((FIXTURES / "errors.json").read_text())
BATCH_LIMIT = 100
# nginx's own page (no fixture has one): what a host's proxy answers when PHP's answer does not reach it.
BAD_GATEWAY_HTML = (
    "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center>"
    "<hr><center>nginx</center></body></html>"
)


def _load(name: str):
    return json.loads((FIXTURES / name).read_text())


def _error(key: str) -> tuple[int, dict]:
    entry = ERRORS[key]
    return entry["status"], entry["body"]


@dataclass
class FakeShop:
    key: str = "ck_demo"
    secret: str = "cs_demo"
    latency: float = 0.0
    rate_limited: int = 0
    unavailable: int = 0
    strip_authorization: bool = False
    revoked: bool = False
    requests: list[tuple[str, str]] = field(default_factory=list)
    writes: list[tuple[str, dict]] = field(default_factory=list)  # (path, body) of every batch POST
    orders: dict[int, dict] = field(default_factory=dict)
    products: dict[int, dict] = field(default_factory=dict)
    variations: dict[int, dict] = field(default_factory=dict)  # variation id -> variation (with parent_id)
    customers: dict[int, dict] = field(default_factory=dict)
    listings_before_failure: int | None = None  # answer order listings with HTTP 500 after this many
    after_list: Callable[[dict], None] | None = None  # called after each order listing (to change data mid-run)
    stall_writes: int = 0  # batch POSTs answered `stall_delay` s late, after the change was made
    stall_delay: float = 1.0
    lost_answers: int = 0  # POSTs answered 502 by the host's proxy after the change was made
    lost_answers_for: str = ""  # only the POSTs to paths ending so ("variations/batch")
    lost_requests: int = 0  # POSTs answered 502 by the host's proxy before WooCommerce saw them
    refuse_skus: set[str] = field(default_factory=set)  # items carrying these SKUs get an item error
    next_id: int = 9000  # ids of created products and variations
    webhooks: dict[int, dict] = field(default_factory=dict)
    read_only: bool = False  # the key has read permission only: every write is refused
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if not self.orders:
            for name in ("built_order_guest.json", "built_order_customer.json"):
                order = _load(name)
                self.orders[order["id"]] = order
        if not self.products:
            for name in ("built_product_simple.json", "built_product_variable.json"):
                product = _load(name)
                self.products[product["id"]] = product
            for variation in _load("built_product_variations_510.json"):
                self.variations[variation["id"]] = {**variation, "parent_id": 510}
        if not self.customers:
            for name in ("built_customer.json", "docs_customer_25.json"):
                customer = _load(name)
                self.customers[customer["id"]] = customer

    def add_orders(self, count: int, start_id: int = 5000, modified: str = "2026-03-11T10:00:00") -> list[int]:
        """Copies of the guest order with new ids (for pagination and benchmarks)."""
        template = _load("built_order_guest.json")
        ids = []
        for n in range(count):
            order = copy.deepcopy(template)
            order.update(id=start_id + n, number=str(start_id + n), date_modified_gmt=modified)
            self.orders[order["id"]] = order
            ids.append(order["id"])
        return ids

    def add_products(self, count: int, start_id: int = 7000, sku_prefix: str = "SKU-") -> list[int]:
        """Copies of the simple product CAF-1KG with new ids and SKUs (for paging and batches)."""
        template = _load("built_product_simple.json")
        for n in range(count):
            product = copy.deepcopy(template)
            product.update(id=start_id + n, sku=f"{sku_prefix}{start_id + n}", name=f"Producto {start_id + n}")
            self.products[product["id"]] = product
        return list(range(start_id, start_id + count))

    # ------------------------------------------------------------ request handling
    def answer(self, method: str, path: str, query: dict, headers, body: bytes) -> tuple[int, dict, object]:
        """(status, extra headers, JSON body or an HTML str)."""
        if self.latency:
            time.sleep(self.latency)
        self.requests.append((method, path))
        if self.rate_limited:
            self.rate_limited -= 1
            entry = ERRORS["host_rate_limited_429_html"]
            return 429, {"Retry-After": entry["headers"]["Retry-After"]}, entry["body_text"]
        if self.unavailable:
            self.unavailable -= 1
            return 503, {}, ERRORS["host_unavailable_503_html"]["body_text"]
        if self.lost_requests and method == "POST":
            self.lost_requests -= 1
            return 502, {}, BAD_GATEWAY_HTML  # the proxy failed before WooCommerce saw the request
        auth = self._auth(query, headers)
        if auth is not None:
            return (*auth[:1], {}, auth[1])
        if not path.startswith(PREFIX):
            return (*_error("rest_no_route_404")[:1], {}, _error("rest_no_route_404")[1])
        route = path[len(PREFIX) :].strip("/").split("/")
        payload = json.loads(body) if body else {}
        with self.lock:
            answer = self._route(method, route, query, payload)
        if self.stall_writes and method == "POST" and route[-1:] == ["batch"]:
            self.stall_writes -= 1
            time.sleep(self.stall_delay)  # the change is made; the answer comes too late
        if self.lost_answers and method == "POST" and path.endswith(self.lost_answers_for):
            self.lost_answers -= 1
            return 502, {}, BAD_GATEWAY_HTML  # made, but the host's proxy lost the answer
        return answer

    def _auth(self, query: dict, headers) -> tuple[int, dict] | None:
        key, secret = query.get("consumer_key"), query.get("consumer_secret")
        header = "" if self.strip_authorization else headers.get("Authorization", "")
        if header.startswith("Basic "):
            key, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        if key is None:
            return _error("no_auth_cannot_list_401")
        if self.revoked or key != self.key:
            return _error("consumer_key_invalid_401")
        if secret != self.secret:
            return _error("consumer_secret_invalid_401")
        return None

    def _route(self, method: str, route: list[str], query: dict, payload: dict) -> tuple[int, dict, object]:
        if route == ["system_status"]:
            return 200, {}, {"environment": {"version": "8.6.1", "site_url": "https://tienda.example.cl"}}
        if route[:1] == ["webhooks"]:
            return self._webhooks(method, route[1:], query, payload)
        if route == ["orders"] and method == "GET":
            return self._list_orders(query)
        if len(route) == 2 and route[0] == "orders" and method == "GET":
            order = self.orders.get(int(route[1])) if route[1].isdigit() else None
            return (
                (200, {}, order)
                if order
                else (*_error("order_invalid_id_404")[:1], {}, _error("order_invalid_id_404")[1])
            )
        if route == ["customers"] and method == "GET":
            return self._page(sorted(copy.deepcopy(list(self.customers.values())), key=lambda c: c["id"]), query)
        if len(route) == 2 and route[0] == "customers" and method == "GET":
            customer = self.customers.get(int(route[1])) if route[1].isdigit() else None
            if customer is None:  # as WC_REST_Customers_Controller answers
                invalid = {"code": "woocommerce_rest_invalid_id", "message": "Invalid resource ID."}
                return 404, {}, {**invalid, "data": {"status": 404}}
            return 200, {}, copy.deepcopy(customer)
        if route == ["products"] and method == "GET":
            found = [p for p in self.products.values() if not query.get("sku") or p["sku"] == query["sku"]]
            found = [p for p in found if not query.get("type") or p.get("type") == query["type"]]
            ordered = sorted(copy.deepcopy(found), key=lambda p: p["id"], reverse=query.get("order") == "desc")
            return self._page(ordered, query)
        if len(route) == 3 and route[0] == "products" and route[2] == "variations" and method == "GET":
            parent = int(route[1])
            found = [v for v in self.variations.values() if v["parent_id"] == parent]
            return self._page(sorted(copy.deepcopy(found), key=lambda v: v["id"]), query)
        if route == ["products", "batch"] and method == "POST":
            self.writes.append(("/".join(route), copy.deepcopy(payload)))
            return self._batch(payload, self.products, "products", parent=None)
        if len(route) == 4 and route[0] == "products" and route[2:] == ["variations", "batch"] and method == "POST":
            self.writes.append(("/".join(route), copy.deepcopy(payload)))
            parent = int(route[1])
            scoped = {k: v for k, v in self.variations.items() if v["parent_id"] == parent}
            return self._batch(payload, scoped, "variations", parent=parent)
        return (*_error("rest_no_route_404")[:1], {}, _error("rest_no_route_404")[1])

    def _webhooks(self, method: str, route: list[str], query: dict, payload: dict) -> tuple[int, dict, object]:
        """WC_REST_Webhooks_Controller: list, create (201), update; the secret is kept, never shown."""
        if method != "GET" and self.read_only:  # WC_REST_Authentication::check_permissions
            refused = {"code": "woocommerce_rest_authentication_error", "data": {"status": 401}}
            return 401, {}, {**refused, "message": "The API key provided does not have write permissions."}
        if not route and method == "GET":
            wanted = query.get("status", "all")
            rows = [_shown(w) for w in sorted(self.webhooks.values(), key=lambda w: w["id"])]
            return self._page([w for w in rows if wanted in ("all", w["status"])], query)
        if not route and method == "POST":
            if not payload.get("topic") or not payload.get("delivery_url"):
                message = "Missing parameter(s): topic, delivery_url"
                return 400, {}, {"code": "rest_missing_callback_param", "message": message, "data": {"status": 400}}
            resource, _, event = payload["topic"].partition(".")
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
            hook = {"id": self.next_id, "name": "", "status": "active", "resource": resource, "event": event}
            hook.update(hooks=WEBHOOK_ACTIONS.get(payload["topic"], []), secret="")
            hook.update(payload)
            hook.update(date_created=stamp, date_created_gmt=stamp, date_modified=stamp, date_modified_gmt=stamp)
            self.next_id += 1
            self.webhooks[hook["id"]] = hook
            return 201, {}, _shown(hook)
        hook = self.webhooks.get(int(route[0])) if len(route) == 1 and route[0].isdigit() else None
        if hook is None:
            invalid = {"code": "woocommerce_rest_webhook_invalid_id", "message": "Invalid webhook ID."}
            return 404, {}, {**invalid, "data": {"status": 404}}
        if method == "PUT":
            hook.update({k: v for k, v in payload.items() if k in ("name", "status", "secret", "delivery_url")})
        return 200, {}, _shown(hook)

    def _list_orders(self, query: dict) -> tuple[int, dict, object]:
        if self.listings_before_failure is not None:
            if self.listings_before_failure <= 0:
                return 500, {}, {"code": "internal_server_error", "message": "Error crítico.", "data": {"status": 500}}
            self.listings_before_failure -= 1
        orders = list(self.orders.values())
        if query.get("modified_after"):
            orders = [o for o in orders if o["date_modified_gmt"] > query["modified_after"]]
        if query.get("modified_before"):
            orders = [o for o in orders if o["date_modified_gmt"] < query["modified_before"]]
        if query.get("status") and query["status"] != "any":
            wanted = set(query["status"].split(","))
            orders = [o for o in orders if o["status"] in wanted]
        key = "date_modified_gmt" if query.get("orderby") == "modified" else "id"
        orders.sort(key=lambda o: (o[key], o["id"]), reverse=query.get("order", "desc") == "desc")
        answer = self._page(orders, query)
        if self.after_list:
            self.after_list(query)
        return answer

    def _page(self, rows: list[dict], query: dict) -> tuple[int, dict, object]:
        per_page = min(int(query.get("per_page", 10)), 100)
        page = int(query.get("page", 1))
        total_pages = max(1, -(-len(rows) // per_page))
        chunk = copy.deepcopy(rows[(page - 1) * per_page : page * per_page])
        return 200, {"X-WP-Total": str(len(rows)), "X-WP-TotalPages": str(total_pages)}, chunk

    def _batch(self, payload: dict, records: dict[int, dict], kind: str, parent=None) -> tuple[int, dict, object]:
        items = sum(len(payload.get(op, [])) for op in ("create", "update", "delete"))
        if items > BATCH_LIMIT:
            return (*_error("batch_too_large_413")[:1], {}, _error("batch_too_large_413")[1])
        results = []
        created = [self._create(change, parent) for change in payload.get("create", [])]
        for change in payload.get("update", []):
            record = records.get(change.get("id"))
            if change.get("sku") in self.refuse_skus:
                results.append({"id": change.get("id"), "error": _invalid_sku()})
                continue
            if record is None:
                results.append({"id": change.get("id"), "error": _error("product_invalid_id_on_update_400")[1]})
                continue
            record.update({k: v for k, v in change.items() if k != "id"})
            if record.get("manage_stock") is not True:  # as WooCommerce: the quantity is dropped
                record["stock_quantity"] = None
            elif "stock_quantity" in change:
                record["stock_status"] = "instock" if change["stock_quantity"] > 0 else "outofstock"
            if "regular_price" in change or "sale_price" in change:
                _reprice(record)
            results.append(copy.deepcopy(record))
        return 200, {}, {"update": results, **({"create": created} if "create" in payload else {})}

    def _create(self, change: dict, parent: int | None) -> dict:
        sku = change.get("sku") or ""
        taken = {r.get("sku") for r in (*self.products.values(), *self.variations.values())}
        if sku in self.refuse_skus or (sku and sku in taken):
            return {"id": 0, "error": _invalid_sku()}
        record = {"id": self.next_id, "type": "simple", "status": "publish", "sku": "", "regular_price": ""}
        record.update({"sale_price": "", "manage_stock": False, "stock_quantity": None, "attributes": [], **change})
        self.next_id += 1
        _reprice(record)
        if parent is None:
            self.products[record["id"]] = record
        else:
            self.variations[record["id"]] = {**record, "parent_id": parent}
        return copy.deepcopy(record)


WEBHOOK_ACTIONS = {  # WC_Webhook::get_hooks for the order topics
    "order.created": ["woocommerce_new_order"],
    "order.updated": ["woocommerce_update_order", "woocommerce_order_refunded"],
}


def _shown(hook: dict) -> dict:
    return copy.deepcopy({k: v for k, v in hook.items() if k != "secret"})


def _invalid_sku() -> dict:
    return {"code": "product_invalid_sku", "message": "Invalid or duplicated SKU.", "data": {"status": 400}}


def _reprice(record: dict) -> None:
    """WooCommerce's active price: the sale price while it is set and below the regular one."""
    regular, sale = record.get("regular_price") or "", record.get("sale_price") or ""
    on_sale = bool(sale) and bool(regular) and Decimal(sale) < Decimal(regular)
    record.update(price=sale if on_sale else regular, on_sale=on_sale)


class FakeShopServer(LoopbackServer):
    def __init__(self, shop: FakeShop | None = None, port: int = 0):
        self.shop = shop or FakeShop()
        shop_ = self.shop

        def serve(method, path, query, headers, body):
            return shop_.answer(method, urlsplit(path).path, query, headers, body)

        super().__init__(json_handler(serve), port)


if __name__ == "__main__":
    run_cli(
        lambda port: FakeShopServer(port=port),
        8070,
        __doc__.splitlines()[0],
        "Fake WooCommerce on {url} (ck_demo / cs_demo). Ctrl-C stops it.",
    )
