"""A fake Shopify shop speaking the Admin GraphQL API (2026-04) over loopback HTTP.

It parses no GraphQL: an operation is dispatched on its root field (the first field of its selection)
and its variables, and answered in the shapes of the recorded payloads (in
data/shopify), from state seeded with the fixtures' orders, variants, inventory items and location:
- `orders` with opaque cursors like the fixture's and `updated_at` bounds in `query`; `order` (with
  line-item pages); `nodes` for variants; `location` (the primary one); `shop`; the app's scopes;
- `inventorySetQuantities` with the 2026-04 rules: `@idempotent(key:)` and `changeFromQuantity`
  required, a key re-sent with the same input answered with the first result (applied once) and with
  another input IDEMPOTENCY_KEY_PARAMETER_MISMATCH;
- `productVariantsBulkUpdate`. Both mutations refuse everything when one item is wrong;
- `productVariants` (the catalogue, by id, cursor paging; no fixture: the documented ProductVariant fields);
- `productSet` (synchronous; creates the product and the variants without an id; as Shopify, the product's
  variants its list leaves out are deleted: they go to `deleted_variants`, so a test can assert none was)
  and `productUpdate` (status), kept in `products`.
- `webhookSubscriptions` (filtered by `topics`) and `webhookSubscriptionCreate`, kept in `subscriptions`
  (GID -> id, topic, uri, format); an address that is not https:// or already taken for the topic is
  refused in `userErrors`, an order topic without `read_orders` with ACCESS_DENIED. Shopify has no
  disabled state: it deletes a failing subscription (delete it from `subscriptions`).
Every answer carries `extensions.cost` from a leaky bucket: over it, THROTTLED; over 1000 points for one
query, MAX_COST_EXCEEDED. Without `read_all_orders` in `scopes`, orders created more than 60 days ago
are left out, as Shopify does. Tokens: `token`, or those issued by the client-credentials grant
(`POST /admin/oauth/access_token`). Bodies the fixtures do not have (503, the grant, the missing
directive) are built.

Knobs: `latency`, `unavailable` / `rate_limited` (that many 503s / 429s), `throttled` (that many
THROTTLED answers whatever the bucket), `max_available` / `restore_rate` (the bucket), `revoked` (every
token refused), `expire_tokens()`, `slow_replies` / `reply_delay` (that many answers held back after the
change was made: the client times out), `concurrent_replies` (IDEMPOTENCY_CONCURRENT_REQUEST), `scopes`,
`advance()` (moves the bucket's clock: give it to the client as its sleep), and the `requests` log.

Run on its own: `python -m tests.fakes.shopify --port 8071` (token `shpat_demo`; client credentials
`demo_client` / `demo_secret`).
"""

from __future__ import annotations

import base64
import copy
import itertools
import json
import operator
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from tests.fakes.loopback import LoopbackServer, json_handler, run_cli

FIXTURES = Path(__file__).resolve().parent / "data" / "shopify"  # see data/SHOPS-README.md
API_VERSION = "2026-04"
GRAPHQL_PATH = f"/admin/api/{API_VERSION}/graphql.json"
TOKEN_PATH = "/admin/oauth/access_token"
ORDER_COST = 67  # requested points an order with 50 lines (the fixture: 136 for first: 2)
MAX_COST = 1000
INPUT_LIMIT = 250
LINES_PAGE = 50
MUTATIONS = {"inventorySetQuantities", "productVariantsBulkUpdate", "productSet", "productUpdate"}
MUTATIONS |= {"webhookSubscriptionCreate"}
WEBHOOK_TOPICS = {"ORDERS_CREATE", "ORDERS_UPDATED", "ORDERS_PAID", "ORDERS_CANCELLED", "PRODUCTS_UPDATE"}
# (variant, product, inventory item, sku, price): the ids the order, bulk-update and stock fixtures share.
CATALOGUE = [
    ("44000000001", "8100000000001", "46000000001", "POL-M-AZUL", "12990.00"),
    ("44000000002", "8100000000001", "46000000002", "POL-L-AZUL", "12990.00"),
    ("44000000003", "8100000000002", "46000000003", "CAF-1KG", "15990.00"),
]
# Titles for the catalogue listing (productVariants): a product without options has one "Default Title" variant.
PRODUCT_TITLES = {"8100000000001": "Polera algodón", "8100000000002": "Café de grano 1 kg"}
VARIANT_TITLES = {"44000000001": "M / Azul", "44000000002": "L / Azul", "44000000003": "Default Title"}


def _load(name: str):
    return json.loads((FIXTURES / name).read_text())


ERRORS = _load("errors.json")
THROTTLED = _load("built_throttled_response.json")["response"]
STOCK = _load("built_inventory_set_quantities_2026-04.json")


def _gid(kind: str, number) -> str:
    return f"gid://shopify/{kind}/{number}"


def _cursor(last_id, last_value) -> str:
    raw = json.dumps({"last_id": int(last_id), "last_value": last_value}, separators=(",", ":"))
    return base64.b64encode(raw.encode()).decode()


def _uncursor(cursor: str) -> dict:
    return json.loads(base64.b64decode(cursor))


def _when(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def _order_key(order: dict) -> tuple[datetime, int]:
    return _when(order["updatedAt"]), int(order["legacyResourceId"])


def _root(query: str) -> str:
    match = re.search(r"\{\s*(\w+)", query)
    return match.group(1) if match else ""


def _error(message: str, code: str) -> dict:
    return {"errors": [{"message": message, "extensions": {"code": code}}]}


@dataclass
class FakeShopify:
    token: str = "shpat_demo"
    client_id: str = "demo_client"
    client_secret: str = "demo_secret"
    scopes: set[str] = field(
        default_factory=lambda: (
            {"read_orders", "read_all_orders", "read_products", "write_products"}
            | {"read_inventory", "write_inventory", "read_locations", "read_customers"}
        )
    )
    latency: float = 0.0
    unavailable: int = 0
    rate_limited: int = 0
    throttled: int = 0
    max_available: float = 2000.0
    restore_rate: float = 100.0
    revoked: bool = False
    slow_replies: int = 0
    reply_delay: float = 1.0
    concurrent_replies: int = 0
    requests: list[dict] = field(default_factory=list)
    orders: dict[str, dict] = field(default_factory=dict)  # order GID → node, with all its lines
    variants: dict[str, dict] = field(default_factory=dict)  # variant GID → variant
    customers: dict[str, dict] = field(default_factory=dict)  # customer GID → customer
    levels: dict[tuple[str, str], int] = field(default_factory=dict)  # (item GID, location GID) → available
    locations: list[str] = field(default_factory=list)  # the first is the primary one
    adjustments: list[dict] = field(default_factory=list)  # applied inventory adjustment groups
    products: dict[str, dict] = field(default_factory=dict)  # product GID → title, status, options (set ones)
    deleted_variants: list[str] = field(default_factory=list)  # variants a productSet left out
    subscriptions: dict[str, dict] = field(default_factory=dict)  # webhook subscription GID → subscription
    issued: list[str] = field(default_factory=list)  # tokens from the client-credentials grant
    expired: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.available, self.skew, self._at = self.max_available, 0.0, time.monotonic()
        self._idempotency: dict[str, tuple[str, dict]] = {}
        self._ids = itertools.count(90000000001)
        if not self.orders:
            for edge in _load("built_orders_query.json")["response"]["data"]["orders"]["edges"]:
                self.orders[edge["node"]["id"]] = edge["node"]
        if not self.customers:  # each buyer of the orders, as the Customer object serves them
            for order in self.orders.values():
                if order.get("customer"):
                    address = order.get("billingAddress")
                    extra = {"updatedAt": order["updatedAt"], "defaultAddress": address, "metafields": {"nodes": []}}
                    self.customers[order["customer"]["id"]] = {**order["customer"], **extra}
        if not self.variants:
            quantities = STOCK["variables"]["input"]["quantities"]
            self.locations = self.locations or [quantities[0]["locationId"]]
            before = {  # what the stock fixture's changes started from
                change["item"]["id"]: change["quantityAfterChange"] - change["delta"]
                for change in STOCK["response_ok"]["data"]["inventorySetQuantities"]["inventoryAdjustmentGroup"][
                    "changes"
                ]
                if change["name"] == "available"
            }
            for variant, product, item, sku, price in CATALOGUE:
                self._add_variant(variant, product, item, sku, price, before.get(_gid("InventoryItem", item), 0))

    def _add_variant(self, variant, product, item, sku, price, quantity, tracked=True) -> None:
        title = VARIANT_TITLES.get(variant, f"Variante {variant}")
        product_title = PRODUCT_TITLES.get(product, "Producto de prueba")
        self.variants[_gid("ProductVariant", variant)] = {
            "id": _gid("ProductVariant", variant),
            "sku": sku,
            "barcode": None,
            "title": title,
            "displayName": f"{product_title} - {title}",
            "price": price,
            "compareAtPrice": None,
            "product": _gid("Product", product),
            "productTitle": product_title,
            "inventoryItem": {"id": _gid("InventoryItem", item), "tracked": tracked},
        }
        self.levels[(_gid("InventoryItem", item), self.locations[0])] = quantity

    # ------------------------------------------------------------ test helpers
    def add_orders(self, count: int, *, updated: str, created: str | None = None, start: int = 6200000000000):
        """Copies of order #1001 with new ids (for paging); returns their numeric ids."""
        template = next(iter(self.orders.values()))
        ids = []
        for n in range(count):
            order = copy.deepcopy(template)
            number = start + n
            order.update(id=_gid("Order", number), legacyResourceId=str(number), name=f"#{number}")
            order.update(updatedAt=updated, createdAt=created or updated)
            self.orders[order["id"]] = order
            ids.append(str(number))
        return ids

    def add_variants(
        self, count: int, *, product: str = "8200000000001", tracked: bool = True, start: int = 45000000000
    ):
        """Variants of one product, stocked at the primary location with 0; returns their numeric ids."""
        ids = [str(start + n) for n in range(count)]
        for n, variant in enumerate(ids):
            self._add_variant(variant, product, str(start + 1000000 + n), f"SKU-{variant}", "1000.00", 0, tracked)
        return ids

    def quantity(self, variant_id: str) -> int | None:
        item = self.variants[_gid("ProductVariant", variant_id)]["inventoryItem"]["id"]
        return self.levels.get((item, self.locations[0]))

    def expire_tokens(self) -> None:
        self.expired.update(self.issued)

    def advance(self, seconds: float) -> None:
        self.skew += seconds

    # ------------------------------------------------------------ request handling
    def answer(self, path: str, headers, body: bytes) -> tuple[int, dict, object]:
        """(status, extra headers, JSON body or an HTML str)."""
        if self.latency:
            time.sleep(self.latency)
        if path == TOKEN_PATH:
            return self._grant(body)
        request = json.loads(body or b"{}")
        query, variables = request.get("query") or "", request.get("variables") or {}
        entry = {"root": _root(query), "variables": variables, "token": headers.get("X-Shopify-Access-Token")}
        self.requests.append(entry)
        status, extra, payload = self._answer(path, entry, query, variables)
        entry["status"], entry["code"] = status, _code(payload)
        if self.slow_replies and entry["root"] in MUTATIONS:
            self.slow_replies -= 1
            time.sleep(self.reply_delay)  # the change is made; the answer comes too late
        return status, extra, payload

    def _answer(self, path: str, entry: dict, query: str, variables: dict) -> tuple[int, dict, object]:
        if path != GRAPHQL_PATH:
            return 404, {}, {"errors": "Not Found"}
        if self.unavailable:
            self.unavailable -= 1
            return 503, {}, "<html><body><h1>503 Service Unavailable</h1></body></html>"
        if self.rate_limited:
            self.rate_limited -= 1
            return 429, {"Retry-After": "2.0"}, {"errors": "Exceeded 2 calls per second for api client."}
        token = entry["token"]
        if self.revoked or token in self.expired or token not in {self.token, *self.issued}:
            return ERRORS["invalid_token_401"]["status"], {}, ERRORS["invalid_token_401"]["body"]
        with self.lock:
            return 200, {}, self._graphql(entry, query, variables)

    def _grant(self, body: bytes) -> tuple[int, dict, object]:
        form = {k: v[-1] for k, v in parse_qs(body.decode()).items()}
        self.requests.append({"root": "access_token", "variables": {}, "token": None, "status": 200})
        if (form.get("client_id"), form.get("client_secret")) != (self.client_id, self.client_secret):
            return 400, {}, {"error": "invalid_client", "error_description": "Client credentials are invalid."}
        token = f"shpat_cc_{len(self.issued) + 1:028d}"
        self.issued.append(token)
        return 200, {}, {"access_token": token, "scope": ",".join(sorted(self.scopes)), "expires_in": 86399}

    def _graphql(self, entry: dict, query: str, variables: dict) -> dict:
        root = entry["root"]
        requested = self._requested(root, variables)
        if requested > MAX_COST:
            body = copy.deepcopy(ERRORS["max_cost_exceeded_200"]["body"])
            body["errors"][0]["message"] = re.sub(r"cost is \d+", f"cost is {requested}", body["errors"][0]["message"])
            body["errors"][0]["extensions"]["cost"] = requested
            return body
        now = time.monotonic() + self.skew
        self.available = min(self.max_available, self.available + (now - self._at) * self.restore_rate)
        self._at = now
        if self.throttled:
            self.throttled -= 1
            return self._throttled(requested, THROTTLED["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"])
        if requested > self.available:
            return self._throttled(requested, self.available)
        handler = getattr(self, f"_op_{root}", None)
        if handler is None:
            return _error(f"Field '{root}' doesn't exist on type 'QueryRoot'", "undefinedField")
        answer = handler(query, variables)
        if "errors" in answer:
            return answer
        actual = self._actual(root, answer, requested)
        self.available -= actual
        return {"data": answer, "extensions": {"cost": self._cost(requested, actual)}}

    def _cost(self, requested: float, actual: float | None) -> dict:
        status = {"maximumAvailable": self.max_available, "currentlyAvailable": round(self.available, 1)}
        return {
            "requestedQueryCost": requested,
            "actualQueryCost": actual,
            "throttleStatus": {**status, "restoreRate": self.restore_rate},
        }

    def _throttled(self, requested: float, available: float) -> dict:
        body = copy.deepcopy(THROTTLED)
        body["extensions"]["cost"] = self._cost(requested, None)
        body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] = round(available, 1)
        return body

    @staticmethod
    def _requested(root: str, variables: dict) -> int:
        if root == "orders":
            return 2 + ORDER_COST * int(variables.get("first") or 0)
        if root == "order":
            return ORDER_COST
        if root == "nodes":
            return 1 + 3 * len(variables.get("ids") or [])
        if root == "productVariants":
            return 2 + 2 * int(variables.get("first") or 0)
        if root == "customers":
            return 2 + 4 * int(variables.get("first") or 0)
        return 10 if root in MUTATIONS else 1

    @staticmethod
    def _actual(root: str, data: dict, requested: int) -> int:
        if root == "orders":
            return 1 + 9 * len(data["orders"]["edges"])  # the fixture: 19 for two orders
        if root == "order":
            return 10
        if root == "nodes":
            return 1 + len(data["nodes"])
        if root == "productVariants":
            return 2 + len(data["productVariants"]["nodes"])
        if root == "customers":
            return 1 + 2 * len(data["customers"]["edges"])
        return requested

    # ------------------------------------------------------------ queries
    def _op_shop(self, query: str, variables: dict) -> dict:
        return {"shop": {"name": "Tienda Demo", "currencyCode": "CLP", "plan": {"displayName": "Basic"}}}

    def _op_currentAppInstallation(self, query: str, variables: dict) -> dict:
        return {"currentAppInstallation": {"accessScopes": [{"handle": h} for h in sorted(self.scopes)]}}

    def _op_location(self, query: str, variables: dict) -> dict:
        return {"location": {"id": self.locations[0]} if self.locations else None}

    def _visible(self, order: dict) -> bool:
        recent = datetime.now(UTC) - timedelta(days=60)
        return "read_all_orders" in self.scopes or _when(order["createdAt"]) >= recent

    def _op_orders(self, query: str, variables: dict) -> dict:
        first = int(variables["first"])
        if first > INPUT_LIMIT:
            return _error("The first argument must not exceed 250.", "BAD_REQUEST")
        rows = [o for o in self.orders.values() if self._visible(o) and self._matches(o, variables.get("query") or "")]
        rows.sort(key=_order_key)
        if variables.get("after"):
            last = _uncursor(variables["after"])
            after = (datetime.strptime(last["last_value"], "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=UTC), last["last_id"])
            rows = [o for o in rows if _order_key(o) > after]
        edges = [
            {
                "cursor": _cursor(o["legacyResourceId"], _when(o["updatedAt"]).strftime("%Y-%m-%d %H:%M:%S.%f")),
                "node": self._served(o),
            }
            for o in rows[:first]
        ]
        page_info = {"hasNextPage": len(rows) > first, "endCursor": edges[-1]["cursor"] if edges else None}
        return {"orders": {"pageInfo": page_info, "edges": edges}}

    @staticmethod
    def _matches(order: dict, search: str) -> bool:
        checks = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt}
        updated = _when(order["updatedAt"])
        return all(
            checks[op](updated, _when(value))
            for op, value in re.findall(r"updated_at:(>=|<=|>|<)'?([^'\s]+)'?", search)
        )

    def _served(self, order: dict, after: str | None = None) -> dict:
        """The order with one page of its lines, as Shopify serves a connection."""
        lines = order["lineItems"]["nodes"]
        start = 0
        if after:
            last = _uncursor(after)["last_id"]
            start = next(i for i, line in enumerate(lines) if int(line["id"].rsplit("/", 1)[1]) == last) + 1
        page = lines[start : start + LINES_PAGE]
        last_id = page[-1]["id"].rsplit("/", 1)[1] if page else None
        page_info = {
            "hasNextPage": start + LINES_PAGE < len(lines),
            "endCursor": _cursor(last_id, int(last_id)) if page else None,
        }
        return copy.deepcopy({**order, "lineItems": {"pageInfo": page_info, "nodes": page}})

    def _op_customers(self, query: str, variables: dict) -> dict:
        first = int(variables["first"])
        rows = [c for c in self.customers.values() if self._matches(c, variables.get("query") or "")]
        rows.sort(key=lambda c: (_when(c["updatedAt"]), int(c["legacyResourceId"])))
        if variables.get("after"):
            last = _uncursor(variables["after"])
            after = (_when(last["last_value"]), last["last_id"])
            rows = [c for c in rows if (_when(c["updatedAt"]), int(c["legacyResourceId"])) > after]
        edges = [
            {"cursor": _cursor(int(c["legacyResourceId"]), c["updatedAt"]), "node": copy.deepcopy(c)}
            for c in rows[:first]
        ]
        page_info = {"hasNextPage": len(rows) > first, "endCursor": edges[-1]["cursor"] if edges else None}
        return {"customers": {"pageInfo": page_info, "edges": edges}}

    def _op_customer(self, query: str, variables: dict) -> dict:
        return {"customer": copy.deepcopy(self.customers.get(variables.get("id")))}

    def _op_order(self, query: str, variables: dict) -> dict:
        order = self.orders.get(variables.get("id"))
        return {"order": self._served(order, variables.get("after")) if order and self._visible(order) else None}

    def _op_nodes(self, query: str, variables: dict) -> dict:
        ids = variables.get("ids") or []
        if len(ids) > INPUT_LIMIT:
            return _error("The ids argument must not exceed 250 ids.", "BAD_REQUEST")
        nodes = []
        for node_id in ids:
            variant = self.variants.get(node_id)
            node = (
                {"id": node_id, "product": {"id": variant["product"]}, "inventoryItem": dict(variant["inventoryItem"])}
                if variant
                else None
            )
            if node and "inventoryLevel" in query:  # null when the item is not stocked at the location
                level = self.levels.get((node["inventoryItem"]["id"], variables.get("location")))
                quantities = [{"name": "available", "quantity": level}]
                node["inventoryItem"]["inventoryLevel"] = None if level is None else {"quantities": quantities}
            nodes.append(node)
        return {"nodes": nodes}

    def _op_productVariants(self, query: str, variables: dict) -> dict:
        first = int(variables["first"])
        if first > INPUT_LIMIT:
            return _error("The first argument must not exceed 250.", "BAD_REQUEST")
        rows = sorted(self.variants.values(), key=lambda v: int(v["id"].rsplit("/", 1)[1]))
        if variables.get("after"):
            last = _uncursor(variables["after"])["last_id"]
            rows = [v for v in rows if int(v["id"].rsplit("/", 1)[1]) > last]
        nodes = [
            {
                **{k: v[k] for k in ("id", "sku", "barcode", "title", "displayName", "price")},
                "product": {"id": v["product"], "title": v["productTitle"]},
            }
            for v in rows[:first]
        ]
        last_id = nodes[-1]["id"].rsplit("/", 1)[1] if nodes else None
        page_info = {"hasNextPage": len(rows) > first, "endCursor": _cursor(last_id, int(last_id)) if nodes else None}
        return {"productVariants": {"pageInfo": page_info, "nodes": copy.deepcopy(nodes)}}

    def _op_webhookSubscriptions(self, query: str, variables: dict) -> dict:
        topics = variables.get("topics") or WEBHOOK_TOPICS
        nodes = [copy.deepcopy(s) for s in self.subscriptions.values() if s["topic"] in topics]
        return {"webhookSubscriptions": {"nodes": nodes, "pageInfo": {"hasNextPage": False, "endCursor": None}}}

    # ------------------------------------------------------------ mutations
    def _op_webhookSubscriptionCreate(self, query: str, variables: dict) -> dict:
        topic, given = variables.get("topic"), variables.get(_argument(query, "webhookSubscription")) or {}
        if topic not in WEBHOOK_TOPICS:
            message = f"Variable $topic of type WebhookSubscriptionTopic! was provided invalid value {topic}"
            return _error(message, "INVALID_VARIABLE")
        if topic.startswith("ORDERS_") and "read_orders" not in self.scopes:
            return _error("Access denied for webhookSubscriptionCreate field.", "ACCESS_DENIED")
        uri = given.get("uri") or ""
        taken = any(s["topic"] == topic and s["uri"] == uri for s in self.subscriptions.values())
        message = "Address protocol is not supported" if not uri.startswith("https://") else ""
        message = message or ("Address for this topic has already been taken" if taken else "")
        if message:
            error = {"field": ["webhookSubscription", "uri"], "message": message}
            return {"webhookSubscriptionCreate": {"webhookSubscription": None, "userErrors": [error]}}
        node = {"id": _gid("WebhookSubscription", next(self._ids)), "topic": topic, "uri": uri}
        node.update(format=given.get("format", "JSON"), apiVersion={"handle": API_VERSION})
        self.subscriptions[node["id"]] = node
        return {"webhookSubscriptionCreate": {"webhookSubscription": copy.deepcopy(node), "userErrors": []}}

    def _op_inventorySetQuantities(self, query: str, variables: dict) -> dict:
        key = _idempotency_key(query, variables)
        if not key:
            return _error("The @idempotent directive is required for inventorySetQuantities.", "BAD_REQUEST")
        given = variables.get("input") or {}
        fingerprint = json.dumps(given, sort_keys=True)
        if key in self._idempotency:
            seen, data = self._idempotency[key]
            return copy.deepcopy(
                data if seen == fingerprint else STOCK["response_key_reused_with_other_params"]["data"]
            )
        if self.concurrent_replies:
            self.concurrent_replies -= 1
            message = "A request with this idempotency key is being processed."
            return _stock_refused([{"code": "IDEMPOTENCY_CONCURRENT_REQUEST", "field": None, "message": message}])
        quantities = given.get("quantities") or []
        if len(quantities) > INPUT_LIMIT or any("changeFromQuantity" not in q for q in quantities):
            return _error(
                "quantities: at most 250, each with changeFromQuantity (an integer or null).", "INVALID_VARIABLE"
            )
        errors = [error for i, q in enumerate(quantities) if (error := self._quantity_error(i, q))]
        data = _stock_refused(errors) if errors else self._apply_quantities(given, quantities)
        self._idempotency[key] = (fingerprint, data)
        return copy.deepcopy(data)

    def _quantity_error(self, index: int, quantity: dict) -> dict | None:
        path = ["input", "quantities", str(index)]
        current = self.levels.get((quantity["inventoryItemId"], quantity["locationId"]))
        if current is None:
            message = "The inventory item is not stocked at the location."
            return {"code": "ITEM_NOT_STOCKED_AT_LOCATION", "field": [*path, "locationId"], "message": message}
        if quantity["quantity"] < 0:
            return {"code": "INVALID_QUANTITY_NEGATIVE", "field": [*path, "quantity"], "message": "Negative quantity."}
        if quantity["changeFromQuantity"] is not None and quantity["changeFromQuantity"] != current:
            stale = STOCK["response_change_from_stale"]["data"]["inventorySetQuantities"]["userErrors"][0]
            return {"code": stale["code"], "field": [*path, "changeFromQuantity"], "message": stale["message"]}
        return None

    def _apply_quantities(self, given: dict, quantities: list[dict]) -> dict:
        skus = {v["inventoryItem"]["id"]: v["sku"] for v in self.variants.values()}
        changes = []
        for q in quantities:
            level = (q["inventoryItemId"], q["locationId"])
            delta, self.levels[level] = q["quantity"] - self.levels[level], q["quantity"]
            for name in ("available", "on_hand"):
                item = {"id": q["inventoryItemId"], "sku": skus.get(q["inventoryItemId"])}
                changes.append(
                    {
                        "name": name,
                        "delta": delta,
                        "quantityAfterChange": q["quantity"],
                        "item": item,
                        "location": {"id": q["locationId"]},
                    }
                )
        group = {
            "id": _gid("InventoryAdjustmentGroup", next(self._ids)),
            "createdAt": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "reason": given.get("reason"),
            "referenceDocumentUri": given.get("referenceDocumentUri"),
            "changes": changes,
        }
        self.adjustments.append(group)
        return {"inventorySetQuantities": {"inventoryAdjustmentGroup": group, "userErrors": []}}

    def _op_productVariantsBulkUpdate(self, query: str, variables: dict) -> dict:
        product, changes = variables.get("productId"), variables.get("variants") or []
        if len(changes) > INPUT_LIMIT:
            return _error("variants: at most 250.", "INVALID_VARIABLE")
        if not any(v["product"] == product for v in self.variants.values()):
            errors = [{"field": ["productId"], "message": "Product does not exist", "code": "PRODUCT_DOES_NOT_EXIST"}]
        else:
            errors = [error for i, change in enumerate(changes) if (error := self._variant_error(i, change, product))]
        if errors:
            return {"productVariantsBulkUpdate": {"product": None, "productVariants": None, "userErrors": errors}}
        updated = [self._apply_variant(change) for change in changes]
        return {"productVariantsBulkUpdate": {"product": {"id": product}, "productVariants": updated, "userErrors": []}}

    def _product(self, product: str) -> dict | None:
        if product not in self.products and any(v["product"] == product for v in self.variants.values()):
            title = PRODUCT_TITLES.get(product.rsplit("/", 1)[1], "Producto de prueba")
            self.products[product] = {"id": product, "title": title, "status": "ACTIVE", "options": []}
        return self.products.get(product)

    def _op_productSet(self, query: str, variables: dict) -> dict:
        given, product = variables.get("input") or {}, (variables.get("identifier") or {}).get("id")
        if product and self._product(product) is None:
            return _product_missing("productSet", ["identifier", "id"])
        if len(given.get("productOptions") or []) > 3 or len(given.get("variants") or []) > 100:
            error = {"field": ["input"], "message": "Too many options or variants.", "code": "VARIANTS_OVER_LIMIT"}
            return {"productSet": {"product": None, "userErrors": [error]}}
        product = product or _gid("Product", next(self._ids))
        record = self.products.setdefault(product, {"id": product, "title": "", "status": "ACTIVE", "options": []})
        record.update(
            title=given.get("title", record["title"]),
            status=given.get("status", record["status"]),
            options=given.get("productOptions", record["options"]),
        )
        if "variants" in given:
            listed = [self._set_variant(product, row) for row in given["variants"]]
            for gone in [k for k, v in self.variants.items() if v["product"] == product and k not in listed]:
                self.deleted_variants.append(gone)
                del self.variants[gone]
        nodes = [{"id": v["id"], "sku": v["sku"]} for v in self.variants.values() if v["product"] == product]
        return {"productSet": {"product": {"id": product, "variants": {"nodes": nodes}}, "userErrors": []}}

    def _set_variant(self, product: str, row: dict) -> str:
        variant_id = row.get("id")
        if variant_id not in self.variants:
            number = str(next(self._ids))
            self._add_variant(number, product.rsplit("/", 1)[1], str(next(self._ids)), "", "0.00", 0)
            variant_id = _gid("ProductVariant", number)
        variant, title = self.variants[variant_id], " / ".join(v["name"] for v in row.get("optionValues") or [])
        variant.update(sku=row.get("sku", variant["sku"]), title=title, productTitle=self.products[product]["title"])
        variant.update(inventoryPolicy=row.get("inventoryPolicy", variant.get("inventoryPolicy", "DENY")))
        variant["displayName"] = f"{variant['productTitle']} - {title}"
        if "price" in row:
            variant["price"] = f"{Decimal(row['price']):.2f}"
        return variant_id

    def _op_productUpdate(self, query: str, variables: dict) -> dict:
        given = variables.get("product") or {}
        record = self._product(given.get("id") or "")
        if record is None:
            return _product_missing("productUpdate", ["id"])
        record.update({k: v for k, v in given.items() if k in ("title", "status")})
        return {"productUpdate": {"product": {"id": record["id"], "status": record["status"]}, "userErrors": []}}

    def _variant_error(self, index: int, change: dict, product: str) -> dict | None:
        variant = self.variants.get(change.get("id"))
        if variant is None or variant["product"] != product:
            field_ = ["variants", str(index), "id"]
            return {
                "field": field_,
                "message": "Product variant does not exist",
                "code": "PRODUCT_VARIANT_DOES_NOT_EXIST",
            }
        for name in ("price", "compareAtPrice"):
            if change.get(name) is not None and Decimal(change[name]) < 0:
                message = f"{'Price' if name == 'price' else 'Compare at price'} must be greater than or equal to 0"
                return {"field": ["variants", str(index), name], "message": message, "code": "GREATER_THAN_OR_EQUAL_TO"}
        return None

    def _apply_variant(self, change: dict) -> dict:
        variant = self.variants[change["id"]]
        for name in ("price", "compareAtPrice"):
            if name in change:
                variant[name] = None if change[name] is None else f"{Decimal(change[name]):.2f}"
        item = change.get("inventoryItem") or {}
        variant["sku"] = item.get("sku", variant["sku"])
        variant["inventoryItem"]["tracked"] = item.get("tracked", variant["inventoryItem"]["tracked"])
        shown = ("id", "sku", "price", "compareAtPrice")
        return {**{k: variant[k] for k in shown}, "inventoryItem": dict(variant["inventoryItem"])}


def _product_missing(root: str, path: list[str]) -> dict:
    error = {"field": path, "message": "Product does not exist", "code": "PRODUCT_DOES_NOT_EXIST"}
    return {root: {"product": None, "userErrors": [error]}}


def _stock_refused(errors: list[dict]) -> dict:
    return {"inventorySetQuantities": {"inventoryAdjustmentGroup": None, "userErrors": errors}}


def _code(payload) -> str | None:
    """The first GraphQL error's code (THROTTLED, MAX_COST_EXCEEDED...), for the request log."""
    errors = payload.get("errors") if isinstance(payload, dict) else None
    return (errors[0].get("extensions") or {}).get("code") if isinstance(errors, list) and errors else None


def _argument(query: str, name: str) -> str:
    """The variable a mutation passes as its argument `name` (`webhookSubscription: $input` → input)."""
    match = re.search(rf"\b{name}:\s*\$(\w+)", query)
    return match.group(1) if match else name


def _idempotency_key(query: str, variables: dict) -> str | None:
    match = re.search(r"@idempotent\(\s*key:\s*(?:\$(\w+)|\"([^\"]*)\")\s*\)", query)
    if not match:
        return None
    return variables.get(match.group(1)) if match.group(1) else match.group(2)


class FakeShopifyServer(LoopbackServer):
    def __init__(self, shop: FakeShopify | None = None, port: int = 0):
        self.shop = shop or FakeShopify()
        shop_ = self.shop

        def serve(method, path, query, headers, body):
            return shop_.answer(urlsplit(path).path, headers, body)

        super().__init__(json_handler(serve), port)


if __name__ == "__main__":
    run_cli(
        lambda port: FakeShopifyServer(port=port),
        8071,
        __doc__.splitlines()[0],
        "Fake Shopify on {url} (token shpat_demo; client credentials demo_client / demo_secret). Ctrl-C stops it.",
    )
