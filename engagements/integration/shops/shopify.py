"""Shopify Admin GraphQL adapter on httpx, pinned to API_VERSION (the shared fixtures' version).

Transport
- `POST {shop}/admin/api/{API_VERSION}/graphql.json` with `X-Shopify-Access-Token`, over HTTPS
  (plain HTTP only on loopback, for the fake shop).
- Cost-based throttling: every answer's `extensions.cost` is remembered (the bucket level and restore
  rate, and the requested cost per operation). Before sending an operation whose last requested cost is
  more than the bucket holds now, the client sleeps until it is restored. A `THROTTLED` answer (HTTP 200,
  `errors[].extensions.code`) waits for the bucket and is retried; after `max_attempts` the run gets a
  ShopRetryableError ("shop_busy"). `throttle_wait` sums the seconds spent waiting, for the run report.
- HTTP 429 and 5xx are retried with back-off, Retry-After honoured.
- Network errors are retried for reads. A mutation is re-sent only when it cannot have been applied (no
  connection was made; 429, 502, 503) or when it carries an `@idempotent` key: `inventorySetQuantities` does, and
  Shopify answers a re-send with the same key with the first result instead of applying it twice.
  Otherwise a lost answer is a ShopRetryableError ("shop_timeout"): the caller re-reads before retrying.
- 401 is an auth error, never retried, unless a `token_provider` is given: client-credentials tokens
  expire after 24 h and Shopify answers an expired token with the same 401 as a revoked one, so the
  provider is asked once for a new token and the request sent once more; a second 401 is ShopAuthError.
  `ClientCredentials` is such a provider.

Orders
- `orders(sortKey: UPDATED_AT, query: "updated_at:>='…' updated_at:<'…'")` with cursor paging. A page is
  ORDERS_PAGE orders, not 100: with 50 lines per order the fixture's query costs 67 points an order, and
  one query may cost at most 1000. Orders with more than 50 lines have the rest fetched per order.
- Statuses (cancelled first, then the financial status; a paid order that is fulfilled is completed):
  PAID → paid; PARTIALLY_REFUNDED → paid, `refunded`; REFUNDED → refunded; cancelledAt → cancelled;
  VOIDED, EXPIRED → failed. PENDING (manual payment: transfer, cash on delivery), AUTHORIZED (not
  captured) and PARTIALLY_PAID → on_hold, not pending: Shopify takes the units off its stock when the
  order is placed, and on_hold is the normalized status that says so (STOCK_TAKEN).
- Amounts are the shop currency (`shopMoney`), whatever the buyer paid in (`presentmentMoney`): that is
  what Odoo books. Line totals are `originalUnitPrice * quantity - discount allocations`, tax added when
  the order's prices exclude it (`taxesIncluded` false). Ids are the numeric part of the GIDs.
  Quantities and the total are as ordered (`quantity`, `totalPriceSet`): an order edited after checkout
  is not re-read line by line here.
- The RUT comes from an order attribute (`customAttributes`) named like RUT_KEYS, if the shop adds one.
- 60 days: without the `read_all_orders` scope Shopify silently returns only orders created in the
  last 60 days. When a window starts before that, the client checks its scopes (once) and, if the scope
  is missing, appends WARNING_60_DAYS to `warnings` (and logs it) instead of raising: the run goes on
  with what Shopify gives, and the caller copies `warnings` into the run report. Even a recent window
  misses changes to orders created more than 60 days ago (a late refund) without that scope.

Stock and prices
- `set_stock` resolves each variant to its inventory item (one `nodes` query per 250 variants, cached)
  and the location (`location_id`, or the shop's primary location fetched once), then sends
  `inventorySetQuantities` (name "available", reason "correction"), 250 quantities at most, each with
  a new idempotency key. `changeFromQuantity` is required from 2026-04: the value given in
  `change_from` (compare-and-set) or an explicit null. A stale value comes back as "shop_stock_changed".
- `set_prices` sends `productVariantsBulkUpdate` per product, 250 variants at most, with `price` alone: no
  inventory field, and no `compareAtPrice`, which Shopify keeps as it is. A variant that keeps one comes
  back with the warning "shop_compare_at_kept" (above the new price, the shop shows a discount from it).

Catalogue
- `iter_variants` pages `productVariants` (VARIANTS_PAGE a page, ≈ 2 points a variant, so a page stays
  under the 1000-point ceiling) through the same cost-aware transport.
- Both mutations refuse everything when one item is wrong (the fixtures' reading: the payload is null);
  the refused items get their error and the others are sent again without them.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx

from engagements.integration.gateway.base import Deadline
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
from engagements.integration.shops.customers import RUT_KEYS, shopify_address, shopify_customer

logger = logging.getLogger(__name__)

API_VERSION = "2026-04"
ORDERS_PAGE = 10  # ≈ 67 points an order (fixture: 136 for 2): 10 a page stays under the 1000-point ceiling
LINES_PAGE = 50
INPUT_LIMIT = 250  # items per input array and ids per `nodes` query
VARIANTS_PAGE = 250  # requested cost ≈ 2 + 2 per variant (the node and its product): ≈ 502 points a page
RECENT_DAYS = 60
WARNING_60_DAYS = "shopify_60_day_window"
RETRY_STATUSES = {429, 500, 502, 503, 504}
MAYBE_APPLIED_STATUSES = {500, 504}  # a mutation without an idempotency key may have run
STALE_CODES = {"CHANGE_FROM_QUANTITY_STALE", "COMPARE_QUANTITY_STALE"}
FINANCIAL_STATUSES = {
    "PENDING": base.ON_HOLD,
    "AUTHORIZED": base.ON_HOLD,
    "PARTIALLY_PAID": base.ON_HOLD,
    "PAID": base.PAID,
    "PARTIALLY_REFUNDED": base.PAID,
    "REFUNDED": base.REFUNDED,
    "VOIDED": base.FAILED,
    "EXPIRED": base.FAILED,
}

_MONEY = "shopMoney { amount currencyCode } presentmentMoney { amount currencyCode }"
_TAX_LINES = f"taxLines {{ title rate priceSet {{ {_MONEY} }} }}"
LINE_FIELDS = f"""fragment LineFields on LineItem {{
  id name sku quantity currentQuantity
  variant {{ id legacyResourceId sku title }}
  product {{ id }}
  originalUnitPriceSet {{ {_MONEY} }}
  discountedUnitPriceAfterAllDiscountsSet {{ {_MONEY} }}
  discountAllocations {{ allocatedAmountSet {{ {_MONEY} }} discountApplication {{ index }} }}
  {_TAX_LINES}
}}"""
ORDER_FIELDS = f"""fragment OrderFields on Order {{
  id legacyResourceId name email createdAt updatedAt processedAt cancelledAt
  displayFinancialStatus displayFulfillmentStatus currencyCode presentmentCurrencyCode taxesIncluded
  totalPriceSet {{ {_MONEY} }}
  currentTotalPriceSet {{ {_MONEY} }}
  customAttributes {{ key value }}
  customer {{ id legacyResourceId firstName lastName defaultEmailAddress {{ emailAddress }} }}
  billingAddress {{ firstName lastName company address1 address2 city provinceCode zip countryCodeV2 phone }}
  shippingAddress {{ firstName lastName company address1 address2 city provinceCode zip countryCodeV2 phone }}
  shippingLines(first: 5) {{ nodes {{ id title discountedPriceSet {{ {_MONEY} }} {_TAX_LINES} }} }}
  lineItems(first: {LINES_PAGE}) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ ...LineFields }} }}
}}
{LINE_FIELDS}"""
STATUS_QUERY = "query ShopStatus { shop { name currencyCode plan { displayName } } }"
SCOPES_QUERY = "query AccessScopes { currentAppInstallation { accessScopes { handle } } }"
LOCATION_QUERY = "query PrimaryLocation { location { id } }"  # no id: the shop's primary location
ORDERS_QUERY = f"""query OrdersUpdatedSince($first: Int!, $after: String, $query: String) {{
  orders(first: $first, after: $after, sortKey: UPDATED_AT, query: $query) {{
    pageInfo {{ hasNextPage endCursor }}
    edges {{ cursor node {{ ...OrderFields }} }}
  }}
}}
{ORDER_FIELDS}"""
ORDER_QUERY = f"query Order($id: ID!) {{ order(id: $id) {{ ...OrderFields }} }}\n{ORDER_FIELDS}"
LINES_QUERY = f"""query OrderLines($id: ID!, $after: String) {{
  order(id: $id) {{
    lineItems(first: {LINES_PAGE}, after: $after) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ ...LineFields }} }}
  }}
}}
{LINE_FIELDS}"""
INVENTORY_ITEMS_QUERY = """query InventoryItems($ids: [ID!]!) {
  nodes(ids: $ids) { ... on ProductVariant { id product { id } inventoryItem { id tracked } } }
}"""
LEVELS_QUERY = """query StockLevels($ids: [ID!]!, $location: ID!) {
  nodes(ids: $ids) { ... on ProductVariant { id inventoryItem { id tracked
    inventoryLevel(locationId: $location) { quantities(names: ["available"]) { name quantity } } } } }
}"""
SET_QUANTITIES = """mutation SetStock($input: InventorySetQuantitiesInput!, $idempotencyKey: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $idempotencyKey) {
    inventoryAdjustmentGroup { id }
    userErrors { code field message }
  }
}"""
VARIANTS_UPDATE = """mutation UpdateVariants($productId: ID!, $variants: [ProductVariantsBulkInput!]!) {
  productVariantsBulkUpdate(productId: $productId, variants: $variants) {
    productVariants { id price compareAtPrice }
    userErrors { field message code }
  }
}"""
CUSTOMER_FIELDS = """fragment CustomerFields on Customer {
  id legacyResourceId firstName lastName updatedAt
  defaultEmailAddress { emailAddress }
  defaultPhoneNumber { phoneNumber }
  defaultAddress { firstName lastName company address1 address2 city provinceCode zip countryCodeV2 phone }
  metafields(first: 10) { nodes { namespace key value } }
}"""
CUSTOMERS_QUERY = f"""query CustomersUpdatedSince($first: Int!, $after: String, $query: String) {{
  customers(first: $first, after: $after, sortKey: UPDATED_AT, query: $query) {{
    pageInfo {{ hasNextPage endCursor }}
    edges {{ node {{ ...CustomerFields }} }}
  }}
}}
{CUSTOMER_FIELDS}"""
CUSTOMER_QUERY = f"query Customer($id: ID!) {{ customer(id: $id) {{ ...CustomerFields }} }}\n{CUSTOMER_FIELDS}"
CUSTOMERS_PAGE = 100
PRODUCT_SET = """mutation ProductSet($input: ProductSetInput!, $identifier: ProductSetIdentifiers) {
  productSet(input: $input, identifier: $identifier, synchronous: true) {
    product { id variants(first: 250) { nodes { id sku } } }
    userErrors { field message code }
  }
}"""
PRODUCT_HIDE = """mutation HideProduct($product: ProductUpdateInput!) {
  productUpdate(product: $product) { product { id status } userErrors { field message } }
}"""
WEBHOOK_TOPICS = ("ORDERS_CREATE", "ORDERS_UPDATED")  # the order topics webhooks.acted_on takes
WEBHOOKS_PAGE = 100  # our topics' subscriptions, all URLs: one page (more would mean a stray app)
# `uri` replaces the deprecated `callbackUrl` / `endpoint` (2025-10 on; API_VERSION has it).
WEBHOOKS_QUERY = """query WebhookSubscriptions($first: Int!, $topics: [WebhookSubscriptionTopic!]) {
  webhookSubscriptions(first: $first, topics: $topics) { nodes { id topic uri } }
}"""
WEBHOOK_CREATE = """mutation WebhookCreate($topic: WebhookSubscriptionTopic!, $input: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $input) {
    webhookSubscription { id topic uri }
    userErrors { field message }
  }
}"""
MAX_OPTIONS, MAX_VARIANTS = 3, 100  # Shopify's limits for one product (without Extended Variants)
VARIANTS_QUERY = """query ProductVariants($first: Int!, $after: String) {
  productVariants(first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { id sku barcode title displayName price product { id title } }
  }
}"""


def gid(kind: str, value: str | int) -> str:
    value = str(value)
    return value if value.startswith("gid://") else f"gid://shopify/{kind}/{value}"


def numeric_id(value: str | None) -> str:
    """`gid://shopify/ProductVariant/44000000001` → `44000000001`."""
    return (value or "").rsplit("/", 1)[-1].split("?", 1)[0]


def _retry_after(response: httpx.Response | None) -> float | None:
    try:
        return float(response.headers["Retry-After"]) if response is not None else None
    except (KeyError, ValueError):
        return None


@dataclass
class _Bucket:
    """The cost bucket as of the last answer, refilled at `rate` points a second since `at`."""

    available: float
    maximum: float
    rate: float
    at: float

    def level(self) -> float:
        return min(self.maximum, self.available + (time.monotonic() - self.at) * self.rate)


@dataclass(frozen=True)
class _Item:
    variant: str  # GIDs
    product: str
    inventory_item: str
    tracked: bool


class ClientCredentials:
    """A token provider for the client-credentials grant (apps of the client's own organisation):
    each call asks the shop for a new token, valid 24 h."""

    def __init__(
        self,
        shop_url: str,
        client_id: str,
        client_secret: str,
        *,
        timeout: float = 20.0,
        deadline: Deadline | None = None,
    ):
        base.require_https(shop_url)
        self.url = shop_url.rstrip("/") + "/admin/oauth/access_token"
        self._form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret}
        self._timeout, self._deadline = timeout, deadline

    def __call__(self) -> str:
        try:
            timeout = base.call_timeout(self._deadline, self._timeout)
            response = httpx.post(self.url, data=self._form, timeout=timeout)
        except httpx.TransportError as error:
            raise ShopRetryableError("The shop did not answer the token request.", code="shop_busy") from error
        if response.status_code in (400, 401, 403):
            raise ShopAuthError("The shop refused the app's client credentials.", code="shop_auth")
        if response.status_code >= 300:
            raise ShopRetryableError(f"Token request: HTTP {response.status_code}.", code="shop_busy")
        return response.json()["access_token"]


class ShopifyClient:
    platform = "shopify"

    def __init__(
        self,
        shop_url: str,
        token: str = "",
        *,
        token_provider: Callable[[], str] | None = None,
        location_id: str | None = None,
        read_all_orders: bool | None = None,
        timeout: float = 20.0,
        max_attempts: int = 5,
        max_wait: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        deadline: Deadline | None = None,
    ):
        base.require_https(shop_url)
        if not token and token_provider is None:
            raise ShopAuthError("No access token for the shop.", code="shop_auth")
        self.endpoint = f"{shop_url.rstrip('/')}/admin/api/{API_VERSION}/graphql.json"
        self._token, self._token_provider = token, token_provider
        self._location = gid("Location", location_id) if location_id else ""
        self._read_all_orders = read_all_orders  # None: ask the shop when it matters
        self.calls = 0
        self.warnings: list[str] = []
        self.throttle_wait = 0.0
        self._bucket: _Bucket | None = None
        self._costs: dict[str, float] = {}  # last requested cost per operation
        self._items: dict[str, _Item] = {}  # variant id → its inventory item
        if deadline is not None:  # a person waits: one try each, no waiting, one total time
            max_attempts, sleep = 1, base.no_wait
        self._max_attempts, self._max_wait, self._sleep = max_attempts, max_wait, sleep
        self._timeout, self._deadline = timeout, deadline
        self._http = httpx.Client(timeout=timeout, headers={"Accept": "application/json"})

    def close(self) -> None:
        self._http.close()

    # ------------------------------------------------------------ transport
    def _post(self, query: str, variables: dict) -> httpx.Response:
        if not self._token:
            self._token = self._token_provider()
        timeout = base.call_timeout(self._deadline, self._timeout)
        self.calls += 1
        return self._http.post(
            self.endpoint,
            json={"query": query, "variables": variables},
            headers={"X-Shopify-Access-Token": self._token},
            timeout=timeout,
        )

    def probe(self) -> None:
        """Without the token: does this address answer as Shopify's Admin API? It refuses an anonymous
        query with 401 and its `errors`. Only then is a token (or the app's secret) sent."""
        timeout = base.call_timeout(self._deadline, self._timeout)
        base.probe(
            lambda: self._http.post(self.endpoint, json={"query": STATUS_QUERY}, timeout=timeout),
            lambda body: isinstance(body, dict) and "errors" in body,
        )

    def _pause(self, seconds: float, *, throttled: bool = False) -> None:
        seconds = min(self._max_wait, seconds)
        if throttled:
            self.throttle_wait += seconds
        self._sleep(seconds)

    def _back_off(self, attempt: int, response: httpx.Response | None = None) -> None:
        if attempt + 1 < self._max_attempts:
            delay = _retry_after(response) or 2**attempt
            self._pause(delay * random.uniform(1.0, 1.25))  # noqa: S311 (jitter, not crypto)

    def _await_budget(self, operation: str) -> None:
        """Sleep until the bucket holds what this operation asked for last time."""
        cost, bucket = self._costs.get(operation, 0.0), self._bucket
        if bucket is None or not bucket.rate or cost <= (level := bucket.level()):
            return
        delay = (cost - level) / bucket.rate
        self._pause(delay, throttled=True)
        bucket.available, bucket.at = level + min(delay, self._max_wait) * bucket.rate, time.monotonic()

    def _remember_cost(self, operation: str, answer: dict) -> dict:
        cost = (answer.get("extensions") or {}).get("cost") or {}
        status = cost.get("throttleStatus")
        if status:
            self._bucket = _Bucket(
                float(status["currentlyAvailable"]),
                float(status["maximumAvailable"]),
                float(status["restoreRate"]),
                time.monotonic(),
            )
        if cost.get("requestedQueryCost") is not None:
            self._costs[operation] = float(cost["requestedQueryCost"])
        return cost

    def _graphql(self, query: str, variables: dict | None = None, *, write: bool = False, key: bool = False) -> dict:
        """The `data` of one named operation (the name keys its last requested cost). `write`: a mutation;
        `key`: it carries an idempotency key, so re-sending it cannot apply it twice."""
        operation = query.split("(")[0].split("{")[0].split()[-1]  # the operation's name
        resend_safe = not write or key
        refreshed = False
        for attempt in range(self._max_attempts):
            self._await_budget(operation)
            try:
                response = self._post(query, variables or {})
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout):
                self._back_off(attempt)  # never reached the shop
                continue
            except httpx.TransportError as error:
                if not resend_safe:
                    raise ShopRetryableError("The shop did not confirm the change.", code="shop_timeout") from error
                self._back_off(attempt)
                continue
            if response.status_code == 401 and self._token_provider is not None and not refreshed:
                refreshed, self._token = True, self._token_provider()
                continue
            if response.status_code in RETRY_STATUSES:
                if not resend_safe and response.status_code in MAYBE_APPLIED_STATUSES:
                    raise ShopRetryableError("The shop did not confirm the change.", code="shop_timeout")
                self._back_off(attempt, response)
                continue
            answer = self._checked(response)
            cost = self._remember_cost(operation, answer)
            errors = answer.get("errors") or []
            code = ((errors[0].get("extensions") or {}).get("code", "")) if errors else ""
            if code == "THROTTLED":
                if not cost.get("throttleStatus"):  # otherwise the next turn waits for the bucket
                    self._back_off(attempt)
                continue
            if code == "INTERNAL_SERVER_ERROR" and resend_safe:
                self._back_off(attempt)
                continue
            if errors:
                raise _graphql_error(errors[0], code)
            return answer.get("data") or {}
        raise ShopRetryableError("The shop is busy or unavailable; it will be tried again later.", code="shop_busy")

    @staticmethod
    def _checked(response: httpx.Response) -> dict:
        if response.status_code in (401, 403):
            raise ShopAuthError(f"The shop refused the access token (HTTP {response.status_code}).", code="shop_auth")
        if response.status_code >= 400:
            raise ShopPermanentError(f"HTTP {response.status_code}", code=f"http_{response.status_code}")
        try:
            return response.json()
        except ValueError as error:
            raise ShopRetryableError("The shop answered something that is not JSON.", code="shop_busy") from error

    # ------------------------------------------------------------ shop and orders
    def status(self) -> dict:
        shop = self._graphql(STATUS_QUERY)["shop"]
        plan = (shop.get("plan") or {}).get("displayName") or ""
        return {"version": API_VERSION, "name": shop["name"], "plan": plan, "currency": shop.get("currencyCode", "")}

    def can_read_all_orders(self) -> bool:
        if self._read_all_orders is None:
            scopes = self._graphql(SCOPES_QUERY)["currentAppInstallation"]["accessScopes"]
            self._read_all_orders = any(scope["handle"] == "read_all_orders" for scope in scopes)
        return self._read_all_orders

    def _check_window(self, modified_after: datetime) -> None:
        if modified_after >= datetime.now(UTC) - timedelta(days=RECENT_DAYS) or self.can_read_all_orders():
            return
        if WARNING_60_DAYS not in self.warnings:
            self.warnings.append(WARNING_60_DAYS)
        logger.warning("Shopify lists only the last %s days of orders without read_all_orders", RECENT_DAYS)

    def iter_orders(self, *, modified_after: datetime, modified_before: datetime) -> Iterator[ShopOrder]:
        self._check_window(modified_after)
        for node in self._updated_between(ORDERS_QUERY, "orders", ORDERS_PAGE, modified_after, modified_before):
            yield to_order(self._all_lines(node))

    def _updated_between(self, query: str, root: str, first: int, after_: datetime, before: datetime) -> Iterator[dict]:
        """Cursor paging of a connection sorted by UPDATED_AT in a window; each node once (a record
        changed while we page may come again)."""
        search = f"updated_at:>='{_stamp(after_)}' updated_at:<'{_stamp(before)}'"
        seen: set[str] = set()
        after = None
        while True:
            page = self._graphql(query, {"first": first, "after": after, "query": search})[root]
            for edge in page["edges"]:
                if edge["node"]["id"] not in seen:
                    seen.add(edge["node"]["id"])
                    yield edge["node"]
            if not page["pageInfo"]["hasNextPage"]:
                return
            after = page["pageInfo"]["endCursor"]

    # ------------------------------------------------------------ customers (needs read_customers)
    def iter_customers(self, *, modified_after: datetime, modified_before: datetime) -> Iterator[ShopCustomer]:
        window = (modified_after, modified_before)
        for node in self._updated_between(CUSTOMERS_QUERY, "customers", CUSTOMERS_PAGE, *window):
            yield shopify_customer(node)

    def get_customer(self, customer_id: str) -> ShopCustomer:
        node = self._graphql(CUSTOMER_QUERY, {"id": gid("Customer", customer_id)})["customer"]
        if node is None:
            raise ShopPermanentError(f"The shop has no customer {customer_id}.", code="shop_customer_not_found")
        return shopify_customer(node)

    def get_order(self, order_id: str) -> ShopOrder:
        node = self._graphql(ORDER_QUERY, {"id": gid("Order", order_id)})["order"]
        if node is None:
            raise ShopPermanentError(f"The shop has no order {order_id}.", code="shop_order_not_found")
        return to_order(self._all_lines(node))

    def _all_lines(self, node: dict) -> dict:
        lines = node["lineItems"]
        while lines["pageInfo"]["hasNextPage"]:
            variables = {"id": node["id"], "after": lines["pageInfo"]["endCursor"]}
            order = self._graphql(LINES_QUERY, variables)["order"]
            if order is None:
                raise ShopPermanentError(f"The order {node['id']} disappeared.", code="shop_order_not_found")
            more = order["lineItems"]
            lines = {"pageInfo": more["pageInfo"], "nodes": lines["nodes"] + more["nodes"]}
        return {**node, "lineItems": lines}

    # ------------------------------------------------------------ stock
    def set_stock(
        self,
        updates: list[StockUpdate],
        *,
        manage_stock: bool = False,
        change_from: Mapping[str, int] | None = None,
    ) -> list[BatchResult]:
        """Absolute available quantities at the location. `change_from` maps a variant id to the quantity
        we believe the shop has (compare-and-set); `manage_stock` switches tracking on where it is off."""
        results: dict[str, BatchResult] = {}
        items = self._inventory_items([u.variant_id for u in updates if u.variant_id])
        wanted: dict[str, tuple[_Item, int]] = {}
        for update in updates:
            key = update.variant_id or update.product_id
            item = items.get(update.variant_id)
            if item is None:
                results[key] = BatchResult(key, False, "shop_variant_not_found", "No such variant in the shop.")
            elif not item.tracked and not manage_stock:
                results[key] = BatchResult(
                    key, False, "shop_stock_not_managed", "The shop does not track this variant's inventory."
                )
            else:
                wanted[key] = (item, update.quantity)
        results.update(self._track({key: item for key, (item, _) in wanted.items() if not item.tracked}))
        ready = [(key, item, qty) for key, (item, qty) in wanted.items() if key not in results]
        if ready:
            location = self._primary_location()
            for start in range(0, len(ready), INPUT_LIMIT):
                results.update(self._set_quantities(ready[start : start + INPUT_LIMIT], location, change_from or {}))
        return [results[u.variant_id or u.product_id] for u in updates]

    def _inventory_items(self, variant_ids: list[str]) -> dict[str, _Item]:
        missing = list(dict.fromkeys(v for v in variant_ids if v not in self._items))
        for start in range(0, len(missing), INPUT_LIMIT):
            chunk = missing[start : start + INPUT_LIMIT]
            nodes = self._graphql(INVENTORY_ITEMS_QUERY, {"ids": [gid("ProductVariant", v) for v in chunk]})["nodes"]
            for variant_id, node in zip(chunk, nodes, strict=True):
                if node and node.get("inventoryItem"):
                    item = node["inventoryItem"]
                    self._items[variant_id] = _Item(node["id"], node["product"]["id"], item["id"], item["tracked"])
        return {v: self._items[v] for v in variant_ids if v in self._items}

    def get_stock(self, items: list[StockUpdate]) -> dict[str, int | None]:
        """The "available" quantity at the location the stock flow writes to, 250 variants a query. An
        item not tracked, or not stocked at that location, is None."""
        location, found = self._primary_location(), {}
        variant_ids = [i.variant_id or i.product_id for i in items]
        for start in range(0, len(variant_ids), INPUT_LIMIT):
            chunk = variant_ids[start : start + INPUT_LIMIT]
            ids = [gid("ProductVariant", v) for v in chunk]
            nodes = self._graphql(LEVELS_QUERY, {"ids": ids, "location": location})["nodes"]
            for variant_id, node in zip(chunk, nodes, strict=True):
                item = (node or {}).get("inventoryItem") or {}
                level = item.get("inventoryLevel") if item.get("tracked") else None
                quantities = {q["name"]: q["quantity"] for q in (level or {}).get("quantities") or []}
                found[variant_id] = quantities.get("available")
        return found

    def _primary_location(self) -> str:
        if not self._location:
            location = self._graphql(LOCATION_QUERY).get("location")
            if not location:
                raise ShopPermanentError("The shop has no active location.", code="shop_no_location")
            self._location = location["id"]
        return self._location

    def _track(self, items: dict[str, _Item]) -> dict[str, BatchResult]:
        """Switch inventory tracking on, per product (variant id → item); returns the failures."""
        by_product: dict[str, list[tuple[str, dict]]] = {}
        for key, item in items.items():
            by_product.setdefault(item.product, []).append(
                (key, {"id": item.variant, "inventoryItem": {"tracked": True}})
            )
        failed: dict[str, BatchResult] = {}
        for product, changes in by_product.items():
            for key, result in self._update_variants(product, changes).items():
                if result.ok:
                    self._items[key] = replace(self._items[key], tracked=True)
                else:
                    failed[key] = result
        return failed

    def _set_quantities(
        self, chunk: list[tuple[str, _Item, int]], location: str, change_from: Mapping[str, int]
    ) -> dict[str, BatchResult]:
        def send(positions: list[int]) -> list[dict]:
            quantities = [
                {
                    "inventoryItemId": chunk[p][1].inventory_item,
                    "locationId": location,
                    "quantity": chunk[p][2],
                    "changeFromQuantity": change_from.get(chunk[p][0]),  # explicit null: no compare
                }
                for p in positions
            ]
            variables = {
                "idempotencyKey": str(uuid.uuid4()),  # one per operation; transport retries reuse it
                "input": {"name": "available", "reason": "correction", "quantities": quantities},
            }
            for attempt in range(self._max_attempts):
                payload = self._graphql(SET_QUANTITIES, variables, write=True, key=True)["inventorySetQuantities"]
                errors = payload.get("userErrors") or []
                if not any(e.get("code") == "IDEMPOTENCY_CONCURRENT_REQUEST" for e in errors):
                    return errors
                self._back_off(attempt)  # our own earlier attempt is still running: wait for its result
            raise ShopRetryableError("The shop is still applying an earlier attempt.", code="shop_busy")

        return _item_by_item([key for key, _, _ in chunk], send, "quantities")

    # ------------------------------------------------------------ prices
    def set_prices(self, updates: list[PriceUpdate]) -> list[BatchResult]:
        """`price` per variant, grouped per product, one result per update in their order."""
        groups: dict[str, list[tuple[str, dict]]] = {}
        for update in updates:
            change = {"id": gid("ProductVariant", update.variant_id), "price": _amount(update.price)}
            groups.setdefault(update.product_id, []).append((update.variant_id, change))
        results: dict[str, BatchResult] = {}
        saved: dict[str, dict] = {}
        for product_id, changes in groups.items():
            for start in range(0, len(changes), INPUT_LIMIT):
                chunk = changes[start : start + INPUT_LIMIT]
                results.update(self._update_variants(gid("Product", product_id), chunk, saved=saved))
        nodes = [saved.get(gid("ProductVariant", u.variant_id)) for u in updates]
        return [_compare_at_kept(results[u.variant_id], node) for u, node in zip(updates, nodes, strict=True)]

    def _update_variants(
        self, product: str, changes: list[tuple[str, dict]], *, saved: dict[str, dict] | None = None
    ) -> dict[str, BatchResult]:
        """`saved` collects the variants as Shopify answered them (GID → node)."""

        def send(positions: list[int]) -> list[dict]:
            variables = {"productId": product, "variants": [changes[p][1] for p in positions]}
            payload = self._graphql(VARIANTS_UPDATE, variables, write=True)["productVariantsBulkUpdate"]
            if saved is not None:
                saved.update((node["id"], node) for node in payload.get("productVariants") or [])
            return payload.get("userErrors") or []

        return _item_by_item([key for key, _ in changes], send, "variants")

    # ------------------------------------------------------------ products (Odoo → shop)
    def upsert_products(self, products: list[ProductPayload]) -> list[ProductResult]:
        """One synchronous `productSet` per product: title, status ACTIVE, its options and EVERY variant,
        archived ones included, because productSet deletes the variants its list leaves out. Shopify has
        no per-variant visibility: an archived variant is kept with `inventoryPolicy: DENY` (not sold
        once its stock is 0) and the product comes back with the warning "shopify_variant_not_hidden".
        A product with more than 3 options or 100 variants is not sent ("shopify_variant_limit")."""
        return [self._product_set(product) for product in products]

    def _product_set(self, product: ProductPayload) -> ProductResult:
        options = _options(product)
        if len(options) > MAX_OPTIONS or len(product.variants) > MAX_VARIANTS:
            message = f"Shopify allows {MAX_OPTIONS} options and {MAX_VARIANTS} variants per product."
            return ProductResult(
                product.key, False, product.product_id, error_code="shopify_variant_limit", message=message
            )
        variables: dict = {"input": _product_input(product, options)}
        if product.product_id:
            variables["identifier"] = {"id": gid("Product", product.product_id)}
        try:
            payload = self._graphql(PRODUCT_SET, variables, write=True)["productSet"]
        except ShopAuthError:
            raise
        except ShopError as error:
            return ProductResult(product.key, False, product.product_id, error_code=error.code, message=str(error))
        errors = payload.get("userErrors") or []
        if errors or not payload.get("product"):
            refused = _refused(product.key, errors[0] if errors else {})
            return ProductResult(product.key, False, product.product_id, {}, refused.error_code, refused.message)
        node = payload["product"]
        by_sku = {(v.get("sku") or ""): numeric_id(v["id"]) for v in node["variants"]["nodes"]}
        ids = {v.odoo_id: by_sku[v.sku] for v in product.variants if v.sku in by_sku}
        kept = [v.sku for v in product.variants if not v.active]
        if not kept:
            return ProductResult(product.key, True, numeric_id(node["id"]), ids)
        message = f"Shopify cannot hide one variant: {', '.join(kept)} kept, not sold once out of stock."
        return ProductResult(product.key, True, numeric_id(node["id"]), ids, "", message, "shopify_variant_not_hidden")

    def hide_products(self, product_ids: list[str]) -> list[BatchResult]:
        """`status: DRAFT` (`productUpdate`): off every sales channel, kept in the catalogue."""
        results = []
        for product_id in product_ids:
            product = {"id": gid("Product", product_id), "status": "DRAFT"}
            payload = self._graphql(PRODUCT_HIDE, {"product": product}, write=True)["productUpdate"]
            errors = payload.get("userErrors") or []
            results.append(_refused(product_id, errors[0]) if errors else BatchResult(product_id, True))
        return results

    # ------------------------------------------------------------ webhooks
    def ensure_webhooks(
        self, url: str, secret: str, topics: tuple[str, ...] = (), *, secret_changed: bool = False
    ) -> base.WebhookReport:
        """The app's shop-scoped subscriptions (those of the admin or of an app TOML are not listed) whose
        `uri` is `url`. Shopify has no disabled state: it deletes a subscription whose deliveries keep
        failing, so a missing one is created again. Deliveries are signed with the app's client secret:
        `secret` is not sent."""
        topics = topics or WEBHOOK_TOPICS
        listed = self._graphql(WEBHOOKS_QUERY, {"first": WEBHOOKS_PAGE, "topics": list(topics)})
        found = {node["topic"]: node for node in listed["webhookSubscriptions"]["nodes"] if node.get("uri") == url}
        return base.ensure_each(topics, found, create=lambda topic: self._subscribe(topic, url))

    def _subscribe(self, topic: str, url: str) -> None:
        variables = {"topic": topic, "input": {"uri": url, "format": "JSON"}}
        payload = self._graphql(WEBHOOK_CREATE, variables, write=True)["webhookSubscriptionCreate"]
        errors = payload.get("userErrors") or []
        if errors or not payload.get("webhookSubscription"):  # e.g. an http:// address, a taken one
            message = (errors[0].get("message") if errors else "") or "no subscription returned"
            raise ShopPermanentError(f"Shopify refused the {topic} webhook: {message}", code="shopify_webhook_refused")

    # ------------------------------------------------------------ catalogue
    def iter_variants(self) -> Iterator[ShopVariant]:
        """Every variant of every product (a product without options has one, "Default Title")."""
        after = None
        while True:
            page = self._graphql(VARIANTS_QUERY, {"first": VARIANTS_PAGE, "after": after})["productVariants"]
            for node in page["nodes"]:
                yield _variant(node)
            if not page["pageInfo"]["hasNextPage"]:
                return
            after = page["pageInfo"]["endCursor"]


def _variant(node: dict) -> ShopVariant:
    product = node.get("product") or {}
    title = node.get("title") or ""
    name = (product.get("title") or "") if title in ("", "Default Title") else (node.get("displayName") or title)
    return ShopVariant(
        product_id=numeric_id(product.get("id")),
        variant_id=numeric_id(node["id"]),
        sku=(node.get("sku") or "").strip(),
        barcode=(node.get("barcode") or "").strip(),
        name=name,
        price=Decimal(str(node["price"])) if node.get("price") is not None else None,
    )


def _options(product: ProductPayload) -> dict[str, list[str]]:
    """Option name → its values in order; a simple product has Shopify's single "Title" option."""
    return {"Title": ["Default Title"]} if product.simple else product.option_values()


def _product_input(product: ProductPayload, options: dict[str, list[str]]) -> dict:
    variants = []
    for variant in product.variants:
        chosen = [("Title", "Default Title")] if product.simple else variant.options
        row: dict = {
            "optionValues": [{"optionName": name, "name": value} for name, value in chosen],
            "sku": variant.sku,
            "price": _amount(variant.price),
        }
        if variant.variant_id:
            row["id"] = gid("ProductVariant", variant.variant_id)
        if not variant.active:
            row["inventoryPolicy"] = "DENY"
        variants.append(row)
    return {
        "title": product.name,
        "status": "ACTIVE",
        "productOptions": [{"name": n, "values": [{"name": v} for v in values]} for n, values in options.items()],
        "variants": variants,
    }


def _compare_at_kept(result: BatchResult, node: dict | None) -> BatchResult:
    compare_at = (node or {}).get("compareAtPrice")
    if not result.ok or compare_at is None:
        return result
    shown = "shown as a discount from it" if Decimal(str(compare_at)) > Decimal(str(node["price"])) else "not shown"
    message = f"The shop keeps its compare-at price {compare_at} ({shown})."
    return replace(result, warning="shop_compare_at_kept", message=message)


def _item_by_item(keys: list[str], send: Callable[[list[int]], list[dict]], field: str) -> dict[str, BatchResult]:
    """Run an all-or-nothing mutation over `keys`: `send(positions)` sends those items and returns the
    userErrors, which name a refused item by its index in the `field` list. The refused items get
    their error; the others are sent again without them. An error about no item fails them all."""
    results: dict[str, BatchResult] = {}
    pending = list(range(len(keys)))
    while pending:
        errors = send(pending)
        if not errors:
            results.update((keys[p], BatchResult(keys[p], True)) for p in pending)
            break
        refused: dict[int, dict] = {}
        for error in errors:
            index = _index(error.get("field"), field)
            if index is None or index >= len(pending):
                results.update((keys[p], _refused(keys[p], error)) for p in pending)
                return results
            refused.setdefault(pending[index], error)
        results.update((keys[p], _refused(keys[p], error)) for p, error in refused.items())
        pending = [p for p in pending if p not in refused]
    return results


def _index(path: list | None, field: str) -> int | None:
    """["input", "quantities", "0", "changeFromQuantity"] → 0 (for field "quantities")."""
    path = [str(part) for part in path or []]
    after = path.index(field) + 1 if field in path else len(path)
    return int(path[after]) if after < len(path) and path[after].isdigit() else None


def _refused(key: str, error: dict) -> BatchResult:
    code = error.get("code") or ""
    reason = "shop_stock_changed" if code in STALE_CODES else f"shopify_{code.lower()}" if code else "shopify_refused"
    return BatchResult(key, False, reason, error.get("message") or "")


def _graphql_error(error: dict, code: str) -> ShopError:
    message = error.get("message") or "GraphQL error"
    if code == "ACCESS_DENIED":
        return ShopAuthError(f"The app lacks an access scope: {message}", code="shop_auth")
    if code == "MAX_COST_EXCEEDED":
        return ShopPermanentError(message, code="shop_query_too_costly")
    return ShopPermanentError(message, code=f"shopify_{code.lower()}" if code else "shopify_graphql_error")


# ---------------------------------------------------------------- payload → normalized order


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _amount(value: Decimal) -> str:
    return format(value, "f")


def _money(money_set: dict | None) -> Decimal:
    return Decimal(str(((money_set or {}).get("shopMoney") or {}).get("amount") or "0"))


def _tax(raw: dict) -> Decimal:
    return sum((_money(line.get("priceSet")) for line in raw.get("taxLines") or []), Decimal(0))


def _status(raw: dict) -> str:
    if raw.get("cancelledAt"):
        return base.CANCELLED
    status = FINANCIAL_STATUSES.get(raw.get("displayFinancialStatus") or "", base.ON_HOLD)  # unknown: a person looks
    if status == base.PAID and raw.get("displayFulfillmentStatus") == "FULFILLED":
        return base.COMPLETED
    return status


def _line(raw: dict, taxes_included: bool) -> OrderLine:
    quantity = Decimal(raw["quantity"])
    discount = sum((_money(a["allocatedAmountSet"]) for a in raw.get("discountAllocations") or []), Decimal(0))
    total, tax = _money(raw["originalUnitPriceSet"]) * quantity - discount, _tax(raw)
    return OrderLine(
        product_id=numeric_id((raw.get("product") or {}).get("id")),
        variant_id=numeric_id((raw.get("variant") or {}).get("id")),
        sku=raw.get("sku") or "",
        name=raw.get("name") or "",
        quantity=quantity,
        total=total if taxes_included else total + tax,
        tax=tax,
    )


def to_order(raw: dict) -> ShopOrder:
    """An Admin GraphQL order node as the flows read it (see the module docstring for the rules)."""
    taxes_included = bool(raw.get("taxesIncluded"))
    charges = []
    for shipping in (raw.get("shippingLines") or {}).get("nodes") or []:
        price, tax = _money(shipping.get("discountedPriceSet")), _tax(shipping)
        total = price if taxes_included else price + tax
        charges.append(Charge("shipping", shipping.get("title") or "shipping", total, tax))
    customer = raw.get("customer") or {}
    email = (raw.get("email") or ((customer.get("defaultEmailAddress") or {}).get("emailAddress")) or "").lower()
    attributes = {(a.get("key") or "").strip().lower(): a.get("value") or "" for a in raw.get("customAttributes") or []}
    financial, fulfillment = raw.get("displayFinancialStatus") or "", raw.get("displayFulfillmentStatus") or ""
    return ShopOrder(
        id=raw.get("legacyResourceId") or numeric_id(raw["id"]),
        number=raw.get("name") or "",
        status=_status(raw),
        platform_status="/".join(filter(None, ["CANCELLED" if raw.get("cancelledAt") else "", financial, fulfillment])),
        modified=datetime.fromisoformat(raw["updatedAt"]).astimezone(UTC),
        currency=raw.get("currencyCode") or "",
        total=_money(raw.get("totalPriceSet")),
        customer_id=customer.get("legacyResourceId") or numeric_id(customer.get("id")),
        email=email,
        billing=shopify_address(raw.get("billingAddress"), email),
        shipping=shopify_address(raw["shippingAddress"]) if raw.get("shippingAddress") else None,
        lines=tuple(_line(line, taxes_included) for line in raw["lineItems"]["nodes"]),
        charges=tuple(charges),
        refunded=financial in ("REFUNDED", "PARTIALLY_REFUNDED"),
        tax_id=next((value for key, value in attributes.items() if key in RUT_KEYS and value), ""),
        raw=raw,
    )
