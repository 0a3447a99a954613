"""The Shopify adapter: its transport over shops/http.py (cost-based throttling, tokens that expire)
and its API calls. What it assumes of Shopify is in the package docstring."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from engagements.integration.calls import Deadline
from engagements.integration.shops import base
from engagements.integration.shops.customers import shopify_customer
from engagements.integration.shops.http import Again, ShopHttp, call_timeout, json_body, require_https, retry_after
from engagements.integration.shops.shopify.mapping import (
    amount,
    catalogue_item,
    compare_at_kept,
    gid,
    graphql_error,
    item_by_item,
    numeric_id,
    options_of,
    product_input,
    refused,
    stamp,
    to_order,
)
from engagements.integration.shops.shopify.queries import (
    API_VERSION,
    CUSTOMER_QUERY,
    CUSTOMERS_PAGE,
    CUSTOMERS_QUERY,
    INPUT_LIMIT,
    INVENTORY_ITEMS_QUERY,
    LEVELS_QUERY,
    LINES_QUERY,
    LOCATION_QUERY,
    MAX_OPTIONS,
    MAX_VARIANTS,
    ORDER_QUERY,
    ORDERS_PAGE,
    ORDERS_QUERY,
    PRODUCT_HIDE,
    PRODUCT_SET,
    RECENT_DAYS,
    SCOPES_QUERY,
    SET_QUANTITIES,
    STATUS_QUERY,
    VARIANTS_PAGE,
    VARIANTS_QUERY,
    VARIANTS_UPDATE,
    WARNING_60_DAYS,
    WEBHOOK_CREATE,
    WEBHOOK_TOPICS,
    WEBHOOKS_PAGE,
    WEBHOOKS_QUERY,
)

logger = logging.getLogger(__name__)
RETRY_STATUSES = {429, 500, 502, 503, 504}
MAYBE_APPLIED_STATUSES = {500, 504}  # a mutation without an idempotency key may have run


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
        require_https(shop_url)
        self.url = shop_url.rstrip("/") + "/admin/oauth/access_token"
        self._form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret}
        self._timeout, self._deadline = timeout, deadline

    def __call__(self) -> str:
        try:
            timeout = call_timeout(self._deadline, self._timeout)
            response = httpx.post(self.url, data=self._form, timeout=timeout)
        except httpx.TransportError as error:
            raise base.ShopRetryableError("The shop did not answer the token request.", code="shop_busy") from error
        if response.status_code in (400, 401, 403):
            raise base.ShopAuthError("The shop refused the app's client credentials.", code="shop_auth")
        if response.status_code >= 300:
            raise base.ShopRetryableError(f"Token request: HTTP {response.status_code}.", code="shop_busy")
        return response.json()["access_token"]


class ShopifyClient(ShopHttp):
    platform = "shopify"

    def __init__(
        self,
        shop_url: str,
        token: str = "",
        *,
        token_provider: Callable[[], str] | None = None,
        location_id: str | None = None,
        read_all_orders: bool | None = None,
        **transport: Any,
    ):
        super().__init__(shop_url, **transport)
        if not token and token_provider is None:
            raise base.ShopAuthError("No access token for the shop.", code="shop_auth")
        self.endpoint = f"{shop_url.rstrip('/')}/admin/api/{API_VERSION}/graphql.json"
        self._token, self._token_provider = token, token_provider
        self._location = gid("Location", location_id) if location_id else ""
        self._read_all_orders = read_all_orders  # None: ask the shop when it matters
        self.throttle_wait = 0.0
        self._bucket: _Bucket | None = None
        self._costs: dict[str, float] = {}  # last requested cost per operation
        self._items: dict[str, _Item] = {}  # variant id → its inventory item

    # ------------------------------------------------------------ transport (shops/http.py)
    def send(self, method: str, url: str, **request: Any) -> httpx.Response:
        if not self._token and self._token_provider is not None:
            self._token = self._token_provider()
        return super().send(method, url, headers={"X-Shopify-Access-Token": self._token}, **request)

    def probe(self) -> None:
        """Without the token: does this address answer as Shopify's Admin API? It refuses an anonymous
        query with 401 and its `errors`. Only then is a token (or the app's secret) sent."""
        looks_right = lambda body: isinstance(body, dict) and "errors" in body  # noqa: E731
        self.probe_anonymously("POST", self.endpoint, looks_right, json={"query": STATUS_QUERY})

    def _await_budget(self, operation: str) -> None:
        """Sleep until the bucket holds what this operation asked for last time."""
        cost, bucket = self._costs.get(operation, 0.0), self._bucket
        if bucket is None or not bucket.rate or cost <= (level := bucket.level()):
            return
        delay = min(self._max_wait, (cost - level) / bucket.rate)
        self.throttle_wait += delay
        self._sleep(delay)
        bucket.available, bucket.at = level + delay * bucket.rate, time.monotonic()

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
        data: dict = {}
        refreshed: list[bool] = []

        def classify(response: httpx.Response) -> Again | None:
            if response.status_code == 401 and self._token_provider is not None and not refreshed:
                refreshed.append(True)  # an expired client-credentials token: ask for a new one, once
                self._token = self._token_provider()
                return Again(wait=0)
            if response.status_code in RETRY_STATUSES:
                return Again(wait=retry_after(response), applied=response.status_code in MAYBE_APPLIED_STATUSES)
            answer = _checked(response)
            cost = self._remember_cost(operation, answer)
            errors = answer.get("errors") or []
            code = ((errors[0].get("extensions") or {}).get("code", "")) if errors else ""
            if code == "THROTTLED":  # with the bucket's state, the next try waits for it (_await_budget)
                return Again(wait=0 if cost.get("throttleStatus") else None)
            if code == "INTERNAL_SERVER_ERROR":
                return Again(applied=True)
            if errors:
                raise graphql_error(errors[0], code)
            data.update(answer.get("data") or {})
            return None

        self.exchange(
            "POST",
            self.endpoint,
            repeatable=not write or key,
            classify=classify,
            before=lambda: self._await_budget(operation),
            json={"query": query, "variables": variables or {}},
        )
        return data

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

    def iter_orders(self, *, modified_after: datetime, modified_before: datetime) -> Iterator[base.ShopOrder]:
        self._check_window(modified_after)
        for node in self._updated_between(ORDERS_QUERY, "orders", ORDERS_PAGE, modified_after, modified_before):
            yield to_order(self._all_lines(node))

    def _updated_between(self, query: str, root: str, first: int, after_: datetime, before: datetime) -> Iterator[dict]:
        """Cursor paging of a connection sorted by UPDATED_AT in a window; each node once (a record
        changed while we page may come again)."""
        search = f"updated_at:>='{stamp(after_)}' updated_at:<'{stamp(before)}'"
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
    def iter_customers(self, *, modified_after: datetime, modified_before: datetime) -> Iterator[base.ShopCustomer]:
        window = (modified_after, modified_before)
        for node in self._updated_between(CUSTOMERS_QUERY, "customers", CUSTOMERS_PAGE, *window):
            yield shopify_customer(node)

    def get_customer(self, customer_id: str) -> base.ShopCustomer:
        node = self._graphql(CUSTOMER_QUERY, {"id": gid("Customer", customer_id)})["customer"]
        if node is None:
            raise base.ShopPermanentError(f"The shop has no customer {customer_id}.", code="shop_customer_not_found")
        return shopify_customer(node)

    def get_order(self, order_id: str) -> base.ShopOrder:
        node = self._graphql(ORDER_QUERY, {"id": gid("Order", order_id)})["order"]
        if node is None:
            raise base.ShopPermanentError(f"The shop has no order {order_id}.", code="shop_order_not_found")
        return to_order(self._all_lines(node))

    def _all_lines(self, node: dict) -> dict:
        lines = node["lineItems"]
        while lines["pageInfo"]["hasNextPage"]:
            variables = {"id": node["id"], "after": lines["pageInfo"]["endCursor"]}
            order = self._graphql(LINES_QUERY, variables)["order"]
            if order is None:
                raise base.ShopPermanentError(f"The order {node['id']} disappeared.", code="shop_order_not_found")
            more = order["lineItems"]
            lines = {"pageInfo": more["pageInfo"], "nodes": lines["nodes"] + more["nodes"]}
        return {**node, "lineItems": lines}

    # ------------------------------------------------------------ stock
    def set_stock(
        self,
        updates: list[base.StockUpdate],
        *,
        manage_stock: bool = False,
        change_from: Mapping[str, int] | None = None,
    ) -> list[base.BatchResult]:
        """Absolute available quantities at the location. `change_from` maps a variant id to the quantity
        we believe the shop has (compare-and-set); `manage_stock` switches tracking on where it is off."""
        results: dict[str, base.BatchResult] = {}
        items = self._inventory_items([u.variant_id for u in updates if u.variant_id])
        wanted: dict[str, tuple[_Item, int]] = {}
        for update in updates:
            key = update.variant_id or update.product_id
            item = items.get(update.variant_id)
            if item is None:
                results[key] = base.BatchResult(key, False, "shop_variant_not_found", "No such variant in the shop.")
            elif not item.tracked and not manage_stock:
                results[key] = base.BatchResult(
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

    def get_stock(self, items: list[base.StockUpdate]) -> dict[str, int | None]:
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
                raise base.ShopPermanentError("The shop has no active location.", code="shop_no_location")
            self._location = location["id"]
        return self._location

    def _track(self, items: dict[str, _Item]) -> dict[str, base.BatchResult]:
        """Switch inventory tracking on, per product (variant id → item); returns the failures."""
        by_product: dict[str, list[tuple[str, dict]]] = {}
        for key, item in items.items():
            by_product.setdefault(item.product, []).append(
                (key, {"id": item.variant, "inventoryItem": {"tracked": True}})
            )
        failed: dict[str, base.BatchResult] = {}
        for product, changes in by_product.items():
            for key, result in self._update_variants(product, changes).items():
                if result.ok:
                    self._items[key] = replace(self._items[key], tracked=True)
                else:
                    failed[key] = result
        return failed

    def _set_quantities(
        self, chunk: list[tuple[str, _Item, int]], location: str, change_from: Mapping[str, int]
    ) -> dict[str, base.BatchResult]:
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
                if attempt + 1 < self._max_attempts:  # our own earlier attempt is still running: wait for it
                    self.back_off(attempt, None)
            raise base.ShopRetryableError("The shop is still applying an earlier attempt.", code="shop_busy")

        return item_by_item([key for key, _, _ in chunk], send, "quantities")

    # ------------------------------------------------------------ prices
    def set_prices(self, updates: list[base.PriceUpdate]) -> list[base.BatchResult]:
        """`price` per variant, grouped per product, one result per update in their order."""
        groups: dict[str, list[tuple[str, dict]]] = {}
        for update in updates:
            change = {"id": gid("ProductVariant", update.variant_id), "price": amount(update.price)}
            groups.setdefault(update.product_id, []).append((update.variant_id, change))
        results: dict[str, base.BatchResult] = {}
        saved: dict[str, dict] = {}
        for product_id, changes in groups.items():
            for start in range(0, len(changes), INPUT_LIMIT):
                chunk = changes[start : start + INPUT_LIMIT]
                results.update(self._update_variants(gid("Product", product_id), chunk, saved=saved))
        nodes = [saved.get(gid("ProductVariant", u.variant_id)) for u in updates]
        return [compare_at_kept(results[u.variant_id], node) for u, node in zip(updates, nodes, strict=True)]

    def _update_variants(
        self, product: str, changes: list[tuple[str, dict]], *, saved: dict[str, dict] | None = None
    ) -> dict[str, base.BatchResult]:
        """`saved` collects the variants as Shopify answered them (GID → node)."""

        def send(positions: list[int]) -> list[dict]:
            variables = {"productId": product, "variants": [changes[p][1] for p in positions]}
            payload = self._graphql(VARIANTS_UPDATE, variables, write=True)["productVariantsBulkUpdate"]
            if saved is not None:
                saved.update((node["id"], node) for node in payload.get("productVariants") or [])
            return payload.get("userErrors") or []

        return item_by_item([key for key, _ in changes], send, "variants")

    # ------------------------------------------------------------ products (Odoo → shop)
    def upsert_products(self, products: list[base.ProductPayload]) -> list[base.ProductResult]:
        """One synchronous `productSet` per product: title, status ACTIVE, its options and EVERY variant,
        archived ones included, because productSet deletes the variants its list leaves out. Shopify has
        no per-variant visibility: an archived variant is kept with `inventoryPolicy: DENY` (not sold
        once its stock is 0) and the product comes back with the warning "shopify_variant_not_hidden".
        A product with more than 3 options or 100 variants is not sent ("shopify_variant_limit")."""
        return [self._product_set(product) for product in products]

    def _product_set(self, product: base.ProductPayload) -> base.ProductResult:
        options = options_of(product)
        if len(options) > MAX_OPTIONS or len(product.variants) > MAX_VARIANTS:
            message = f"Shopify allows {MAX_OPTIONS} options and {MAX_VARIANTS} variants per product."
            return base.ProductResult(
                product.key, False, product.product_id, error_code="shopify_variant_limit", message=message
            )
        variables: dict = {"input": product_input(product, options)}
        if product.product_id:
            variables["identifier"] = {"id": gid("Product", product.product_id)}
        try:
            payload = self._graphql(PRODUCT_SET, variables, write=True)["productSet"]
        except base.ShopAuthError:
            raise
        except base.ShopError as error:
            return base.ProductResult(product.key, False, product.product_id, error_code=error.code, message=str(error))
        errors = payload.get("userErrors") or []
        if errors or not payload.get("product"):
            refusal = refused(product.key, errors[0] if errors else {})
            return base.ProductResult(product.key, False, product.product_id, {}, refusal.error_code, refusal.message)
        node = payload["product"]
        by_sku = {(v.get("sku") or ""): numeric_id(v["id"]) for v in node["variants"]["nodes"]}
        ids = {v.odoo_id: by_sku[v.sku] for v in product.variants if v.sku in by_sku}
        kept = [v.sku for v in product.variants if not v.active]
        if not kept:
            return base.ProductResult(product.key, True, numeric_id(node["id"]), ids)
        message = f"Shopify cannot hide one variant: {', '.join(kept)} kept, not sold once out of stock."
        return base.ProductResult(
            product.key, True, numeric_id(node["id"]), ids, "", message, "shopify_variant_not_hidden"
        )

    def hide_products(self, product_ids: list[str]) -> list[base.BatchResult]:
        """`status: DRAFT` (`productUpdate`): off every sales channel, kept in the catalogue."""
        results = []
        for product_id in product_ids:
            product = {"id": gid("Product", product_id), "status": "DRAFT"}
            payload = self._graphql(PRODUCT_HIDE, {"product": product}, write=True)["productUpdate"]
            errors = payload.get("userErrors") or []
            results.append(refused(product_id, errors[0]) if errors else base.BatchResult(product_id, True))
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
            raise base.ShopPermanentError(
                f"Shopify refused the {topic} webhook: {message}", code="shopify_webhook_refused"
            )

    # ------------------------------------------------------------ catalogue
    def iter_variants(self) -> Iterator[base.ShopVariant]:
        """Every variant of every product (a product without options has one, "Default Title")."""
        after = None
        while True:
            page = self._graphql(VARIANTS_QUERY, {"first": VARIANTS_PAGE, "after": after})["productVariants"]
            for node in page["nodes"]:
                yield catalogue_item(node)
            if not page["pageInfo"]["hasNextPage"]:
                return
            after = page["pageInfo"]["endCursor"]


def _checked(response: httpx.Response) -> dict:
    if response.status_code in (401, 403):
        raise base.ShopAuthError(f"The shop refused the access token (HTTP {response.status_code}).", code="shop_auth")
    if response.status_code >= 400:
        raise base.ShopPermanentError(f"HTTP {response.status_code}", code=f"http_{response.status_code}")
    body = json_body(response)
    if not isinstance(body, dict):
        raise base.ShopRetryableError("The shop answered something that is not JSON.", code="shop_busy")
    return body
