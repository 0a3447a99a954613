"""WooCommerce REST API v3 adapter on httpx.

Basic auth over HTTPS with the query-string fallback for hosts that strip the
Authorization header; page-number pagination read from X-WP-TotalPages with
an upper bound pinned by the caller and results deduplicated by id;
`modified_after` windows; batch writes of at most 100 items whose per-item
errors are returned, not raised (stock and regular prices, never both in one
item, so a price change cannot touch stock); the catalogue listed as simple
products and variations for product matching; 429/502/503/504 and network errors retried
with back-off (Retry-After honoured) and a cap; revoked keys reported as an
auth error so the flow pauses instead of retrying.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
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
    ShopVariant,
    StockUpdate,
)
from engagements.integration.shops.customers import woocommerce_address, woocommerce_customer
from engagements.integration.shops.http import Again, ShopHttp, json_body, retry_after

BATCH_LIMIT = 100
PER_PAGE = 100
RETRY_STATUSES = {429, 502, 503, 504}
MAYBE_APPLIED_STATUSES = {502, 504}  # the request reached something that may have passed it on
MARKER_KEY = "odoo_template_id"  # product meta data: finds a product whose create was not confirmed
WEBHOOK_TOPICS = ("order.created", "order.updated")  # the order topics webhooks.acted_on takes
WOO_TIME = "%Y-%m-%dT%H:%M:%S"  # the API's date format (GMT with dates_are_gmt)
STATUSES = {
    "pending": base.PENDING,
    "checkout-draft": base.PENDING,
    "on-hold": base.ON_HOLD,
    "processing": base.PAID,
    "completed": base.COMPLETED,
    "cancelled": base.CANCELLED,
    "trash": base.CANCELLED,
    "refunded": base.REFUNDED,
    "failed": base.FAILED,
}


def _shift(moment: str, *, seconds: int) -> str:
    return (datetime.strptime(moment, WOO_TIME) + timedelta(seconds=seconds)).strftime(WOO_TIME)


class WooCommerceClient(ShopHttp):
    platform = "woocommerce"

    def __init__(self, base_url: str, key: str, secret: str, *, query_auth: bool = False, **transport: Any):
        # Over plain HTTP WooCommerce only accepts OAuth 1.0a; keys must not travel in clear anyway.
        super().__init__(base_url, **transport)
        self.base = base_url.rstrip("/") + "/wp-json/wc/v3"
        self._key, self._secret = key, secret
        self.query_auth = query_auth

    # ------------------------------------------------------------ transport (shops/http.py)
    def _auth(self, request: dict[str, Any]) -> dict[str, Any]:
        if self.query_auth:
            keys = {"consumer_key": self._key, "consumer_secret": self._secret}
            return {**request, "params": {**(request.get("params") or {}), **keys}}
        return {**request, "auth": (self._key, self._secret)}

    def send(self, method: str, url: str, **request: Any) -> httpx.Response:
        """Basic auth; some hosts strip the Authorization header, so a 401 is tried once more with the
        keys in the query string (kept for the next calls when it passes)."""
        response = super().send(method, url, **self._auth(request))
        if response.status_code == 401 and not self.query_auth:
            self.query_auth = True
            retry = super().send(method, url, **self._auth(request))
            if retry.status_code != 401:
                return retry
            self.query_auth = False
        return response

    def classify(self, response: httpx.Response) -> Again | None:
        """429 and 502-504 are worth another try (502 and 504 after the request may have passed);
        4xx and 500 are the shop's refusal, 401 and 403 of the keys."""
        if response.status_code in RETRY_STATUSES:
            return Again(wait=retry_after(response), applied=response.status_code in MAYBE_APPLIED_STATUSES)
        if response.status_code < 400:
            return None
        error = json_body(response)
        code, message = (error.get("code", ""), error.get("message", "")) if isinstance(error, dict) else ("", "")
        message = message or response.text[:200]
        if response.status_code in (401, 403):
            raise ShopAuthError(f"The shop refused the API keys ({code or response.status_code}).", code="shop_auth")
        raise ShopPermanentError(message or f"HTTP {response.status_code}", code=code or f"http_{response.status_code}")

    def request(
        self, method: str, path: str, *, params: dict | None = None, body: Any = None, repeatable: bool | None = None
    ) -> httpx.Response:
        """One call. `repeatable`: sending it twice gives the same result (GET, PUT and batch updates of
        absolute values do, the default for GET and PUT); a create is not: once it may have reached the
        shop it is never sent again here but raised as "shop_write_ambiguous"."""
        repeatable = method in ("GET", "PUT") if repeatable is None else repeatable
        return self.exchange(method, self.base + path, repeatable=repeatable, params=params or {}, json=body)

    def probe(self) -> None:
        """Without the keys: does this address answer as WooCommerce's REST API? It refuses an
        anonymous caller with its own error (`woocommerce_rest_cannot_view`). Only then are keys sent."""
        self.probe_anonymously(
            "GET",
            self.base + "/system_status",
            lambda body: isinstance(body, dict) and str(body.get("code", "")).startswith("woocommerce_rest_"),
        )

    # ------------------------------------------------------------ API
    def status(self) -> dict:
        environment = self.request("GET", "/system_status").json().get("environment", {})
        return {"version": str(environment.get("version", "")), "name": environment.get("site_url", "")}

    def get_order(self, order_id: str) -> ShopOrder:
        return to_order(self.request("GET", f"/orders/{order_id}").json())

    def iter_orders(self, *, modified_after: datetime, modified_before: datetime) -> Iterator[ShopOrder]:
        for raw in self.iter_raw_orders(modified_after=_woo(modified_after), modified_before=_woo(modified_before)):
            yield to_order(raw)

    def iter_raw_orders(self, *, modified_after: str, modified_before: str) -> Iterator[dict]:
        """Orders modified in the window, oldest change first, each id once.

        Keyset pagination: each next page starts one second before the last
        change seen, so an order modified while we page (it leaves the window,
        shifting page numbers) cannot make us skip another. Page numbers are
        used only while a whole page shares one second (many orders with the
        same timestamp); ids already seen are dropped.
        """
        params = {
            "modified_before": modified_before,
            "dates_are_gmt": "true",
            "orderby": "modified",
            "order": "asc",
            "per_page": PER_PAGE,
            "status": "any",
        }
        seen: set[int] = set()
        lower, page = modified_after, 1
        while True:
            rows = self.request("GET", "/orders", params={**params, "modified_after": lower, "page": page}).json()
            for order in rows:
                if order["id"] not in seen:
                    seen.add(order["id"])
                    yield order
            if len(rows) < PER_PAGE:
                return
            step_back = _shift(rows[-1]["date_modified_gmt"], seconds=-1)
            lower, page = (step_back, 1) if step_back > lower else (lower, page + 1)

    def set_stock(
        self, updates: list[StockUpdate], *, manage_stock: bool = False, change_from: Mapping[str, int] | None = None
    ) -> list[BatchResult]:
        """Simple products through /products/batch, variations through their parent's batch, ≤100 per call.
        WooCommerce has no compare-and-set: `change_from` is ignored (the write is absolute).

        WooCommerce answers 200 and drops the quantity of an item whose stock is
        not managed: that item comes back as an error, unless `manage_stock`
        asks us to switch stock management on."""
        groups: dict[str, list[dict]] = {}
        for update in updates:
            change = {"id": int(update.variant_id or update.product_id), "stock_quantity": update.quantity}
            if manage_stock:
                change["manage_stock"] = True
            groups.setdefault(_batch_path(update.product_id, update.variant_id), []).append(change)
        return self._batches(groups, _stock_result)

    def set_prices(self, updates: list[PriceUpdate]) -> list[BatchResult]:
        """`regular_price` only, in the same batches as stock, one result per update in their order.

        The sale price is not sent: WooCommerce keeps it, and while it is set and lower customers
        pay it instead of the regular price. An item that has one is reported with the warning
        "shop_sale_price_kept" so the consultant sees why the shop may show another price."""
        groups: dict[str, list[dict]] = {}
        for update in updates:
            change = {"id": int(update.variant_id or update.product_id), "regular_price": format(update.price, "f")}
            groups.setdefault(_batch_path(update.product_id, update.variant_id), []).append(change)
        results = {result.external_id: result for result in self._batches(groups, _price_result)}
        keys = [u.variant_id or u.product_id for u in updates]
        silent = "The shop's batch answer had no entry for this item."
        return [results.get(key) or BatchResult(key, False, "shop_no_answer", silent) for key in keys]

    def _batches(self, groups: dict[str, list[dict]], parse: Callable[[dict], BatchResult]) -> list[BatchResult]:
        results: list[BatchResult] = []
        for path, changes in groups.items():
            for start in range(0, len(changes), BATCH_LIMIT):
                chunk = changes[start : start + BATCH_LIMIT]
                answer = self.request("POST", path, body={"update": chunk}, repeatable=True).json()
                results += [parse(item) for item in answer.get("update", [])]
        return results

    # ------------------------------------------------------------ products (Odoo → shop)
    def upsert_products(self, products: list[ProductPayload]) -> list[ProductResult]:
        """Parents through /products/batch (create, or update of the bound ones; ≤100 a call), then each
        variable product's variations through its /variations/batch. Products are `publish`ed; an archived
        variant gets `status: private` (kept, not sold). A create is never sent twice: when the shop does
        not confirm one (a time-out, 502, 504), what it may have made is looked up, by SKU (simple products
        and variations) or by the template id in its meta data (variable parents, which have no SKU), and
        taken as created; what is not found fails with "shop_write_ambiguous" and is looked up again,
        by the products flow, before the next run sends it."""
        results: dict[str, ProductResult] = {}
        for operation in ("create", "update"):
            todo = [p for p in products if bool(p.product_id) == (operation == "update")]
            for product, item in self._batch_items("/products/batch", operation, todo, _woo_product):
                if _unconfirmed(item, operation):
                    item = self._created_product(product) or item
                failed = item if isinstance(item, BatchResult) else _error_result(item)
                if failed:
                    results[product.key] = ProductResult(product.key, False, "", {}, failed.error_code, failed.message)
                    continue
                product_id = str(item["id"])
                ids = {product.variants[0].odoo_id: product_id} if product.simple else {}
                results[product.key] = ProductResult(product.key, True, product_id, ids)
        for product in products:
            done = results.get(product.key)
            if done and done.ok and not product.simple:
                results[product.key] = self._variations(product, done.product_id)
        silent = "The shop's batch answer had no entry for this item."
        missing = {p.key: ProductResult(p.key, False, error_code="shop_no_answer", message=silent) for p in products}
        return [results.get(p.key) or missing[p.key] for p in products]

    def _variations(self, product: ProductPayload, product_id: str) -> ProductResult:
        path = f"/products/{product_id}/variations/batch"
        ids: dict[int, str] = {}
        problem: BatchResult | None = None
        for operation in ("create", "update"):
            todo = [v for v in product.variants if bool(v.variant_id) == (operation == "update")]
            for variant, item in self._batch_items(path, operation, todo, _woo_variation):
                if _unconfirmed(item, operation):
                    item = self._created_variation(product_id, variant.sku) or item
                failed = item if isinstance(item, BatchResult) else _error_result(item)
                problem = problem or failed
                if not failed:
                    ids[variant.odoo_id] = str(item["id"])
        if problem:
            return ProductResult(product.key, False, product_id, ids, problem.error_code, problem.message)
        return ProductResult(product.key, True, product_id, ids)

    def _created_product(self, product: ProductPayload) -> dict | None:
        """The product an unconfirmed create made, if the shop has it now (exactly one)."""
        try:
            if product.simple:
                found = self.request("GET", "/products", params={"sku": product.variants[0].sku}).json()
                return found[0] if len(found) == 1 else None
            newest_first = self._pages("/products", {"type": "variable", "orderby": "id", "order": "desc"})
            return next((row for row in newest_first if _marker(row) == product.key), None)
        except ShopError:
            return None  # not known: reported as not confirmed, looked up again next time

    def _created_variation(self, product_id: str, sku: str) -> dict | None:
        try:
            found = [v for v in self._pages(f"/products/{product_id}/variations", {}) if v.get("sku") == sku]
        except ShopError:
            return None
        return found[0] if len(found) == 1 else None

    def _batch_items(self, path: str, operation: str, records: list, build: Callable) -> Iterator[tuple]:
        """(record, the shop's answer for it, or a failed BatchResult when the whole call failed)."""
        for start in range(0, len(records), BATCH_LIMIT):
            chunk = records[start : start + BATCH_LIMIT]
            body = {operation: [build(r) for r in chunk]}
            try:
                answer = self.request("POST", path, body=body, repeatable=operation == "update").json()
            except ShopAuthError:
                raise
            except ShopError as error:
                yield from ((r, BatchResult("", False, error.code, str(error))) for r in chunk)
                continue
            yield from zip(chunk, answer.get(operation, []), strict=False)

    def hide_products(self, product_ids: list[str]) -> list[BatchResult]:
        """`status: draft`: the product leaves the shop front and its URL, and stays in the catalogue."""
        changes = [{"id": int(product_id), "status": "draft"} for product_id in product_ids]
        return self._batches({"/products/batch": changes}, lambda item: _error_result(item) or _ok(item))

    # ------------------------------------------------------------ catalogue
    def iter_variants(self) -> Iterator[ShopVariant]:
        """Simple products, and the variations of variable products (grouped and external products are
        not sold from the shop's stock: left out). Each page 100, ordered by id, deduplicated."""
        by_id = {"orderby": "id", "order": "asc"}
        for product in self._pages("/products", by_id):
            if product.get("type") == "simple":
                yield _variant(product)
            elif product.get("type") == "variable":
                for variation in self._pages(f"/products/{product['id']}/variations", by_id):
                    yield _variant(variation, parent=product)

    def get_stock(self, items: list[StockUpdate]) -> dict[str, int | None]:
        return base.stock_in(self.iter_variants(), {i.variant_id or i.product_id for i in items})

    def _pages(self, path: str, params: dict) -> Iterator[dict]:
        """Page-number paging up to the page count of the first answer (pinned), ids seen once."""
        seen: set[int] = set()
        page, last = 1, None
        while True:
            response = self.request("GET", path, params={**params, "per_page": PER_PAGE, "page": page})
            rows = response.json()
            for row in rows:
                if row["id"] not in seen:
                    seen.add(row["id"])
                    yield row
            if last is None:
                total = response.headers.get("X-WP-TotalPages", "")
                last = int(total) if total.isdigit() else None
            if len(rows) < PER_PAGE or (last is not None and page >= last):
                return
            page += 1

    # ------------------------------------------------------------ webhooks
    def ensure_webhooks(
        self, url: str, secret: str, topics: tuple[str, ...] = (), *, secret_changed: bool = False
    ) -> base.WebhookReport:
        """Ours are the hooks whose `delivery_url` is `url`, among all of them (every status, paged).
        WooCommerce sets a hook `disabled` after more than 5 failed deliveries in a row, and a person
        may set it `paused`: either is put back to `active`, with the secret. A missing one is created
        active (WooCommerce then pings it, see webhooks.py). WooCommerce never shows a hook's secret:
        when the caller knows it changed (`secret_changed`), every active hook is sent the new one."""
        found: dict[str, dict] = {}
        for hook in self._pages("/webhooks", {"status": "all", "orderby": "id", "order": "asc"}):
            topic = str(hook.get("topic") or "")
            if hook.get("delivery_url") == url and (topic not in found or _active(hook)):
                found[topic] = hook
        active = {"status": "active", "secret": secret}
        return base.ensure_each(
            topics or WEBHOOK_TOPICS,
            found,
            create=lambda topic: self.request(
                "POST", "/webhooks", body={"name": f"Odoo sync: {topic}", "topic": topic, "delivery_url": url, **active}
            ),
            reactivate=lambda hook: self.request("PUT", f"/webhooks/{hook['id']}", body=active),
            active=_active,
            stale=secret_changed,
        )

    # ------------------------------------------------------------ customers
    def get_customer(self, customer_id: str) -> ShopCustomer:
        return woocommerce_customer(self.request("GET", f"/customers/{customer_id}").json())

    def iter_customers(self, *, modified_after: datetime, modified_before: datetime) -> Iterator[ShopCustomer]:
        """/customers has no modified_after filter (orders, products and coupons have one): every
        customer is listed, 100 a page by id, and the window is applied here."""
        after, before = _woo(modified_after), _woo(modified_before)
        for raw in self._pages("/customers", {"orderby": "id", "order": "asc"}):
            if after < (raw.get("date_modified_gmt") or raw.get("date_created_gmt") or "") <= before:
                yield woocommerce_customer(raw)


def _unconfirmed(item: dict | BatchResult, operation: str) -> bool:
    return operation == "create" and isinstance(item, BatchResult) and item.error_code == "shop_write_ambiguous"


def _marker(product: dict) -> str:
    return next((str(m.get("value")) for m in product.get("meta_data") or [] if m.get("key") == MARKER_KEY), "")


def _active(hook: dict) -> bool:
    return hook.get("status") == "active"


def _batch_path(product_id: str, variant_id: str) -> str:
    return f"/products/{product_id}/variations/batch" if variant_id else "/products/batch"


def _error_result(item: dict) -> BatchResult | None:
    error = item.get("error")
    if error:
        return BatchResult(str(item.get("id")), False, error.get("code", ""), error.get("message", ""))
    return None


def _ok(item: dict) -> BatchResult:
    return BatchResult(str(item.get("id")), True)


def _woo_product(product: ProductPayload) -> dict:
    """A parent: simple with its SKU and regular price, or variable with the attributes its variations use."""
    body: dict = {"name": product.name, "status": "publish"}
    if product.product_id:
        body["id"] = int(product.product_id)
    else:
        body["type"] = "simple" if product.simple else "variable"
        body["meta_data"] = [{"key": MARKER_KEY, "value": product.key}]
    if product.simple:
        variant = product.variants[0]
        body.update(sku=variant.sku, regular_price=format(variant.price, "f"))
    else:
        body["attributes"] = [
            {"name": name, "options": values, "variation": True, "visible": True}
            for name, values in product.option_values().items()
        ]
    return body


def _woo_variation(variant) -> dict:
    body = {
        "sku": variant.sku,
        "regular_price": format(variant.price, "f"),
        "status": "publish" if variant.active else "private",
        "attributes": [{"name": name, "option": value} for name, value in variant.options],
    }
    return {"id": int(variant.variant_id), **body} if variant.variant_id else body


def _stock_result(item: dict) -> BatchResult:
    failed = _error_result(item)
    if failed:
        return failed
    if item.get("manage_stock") is not True:
        return BatchResult(
            str(item.get("id")),
            False,
            "shop_stock_not_managed",
            "The shop does not manage stock for this item, so it ignored the quantity.",
        )
    return BatchResult(str(item.get("id")), True)


def _price_result(item: dict) -> BatchResult:
    failed = _error_result(item)
    if failed:
        return failed
    sale = item.get("sale_price") or ""
    if sale:
        active = "customers pay it while the sale lasts" if item.get("on_sale") else "inactive while not below it"
        message = f"The shop keeps its sale price {sale} ({active})."
        return BatchResult(str(item.get("id")), True, warning="shop_sale_price_kept", message=message)
    return BatchResult(str(item.get("id")), True)


def _variant(raw: dict, parent: dict | None = None) -> ShopVariant:
    """A simple product, or a variation of `parent`. The barcode is `global_unique_id` (GTIN, UPC,
    EAN or ISBN; WooCommerce 9.2+), empty before that."""
    name = raw.get("name") or ""
    if parent is not None:
        options = ", ".join(str(a.get("option")) for a in raw.get("attributes") or [] if a.get("option"))
        name = f"{parent.get('name') or ''} ({options})" if options else parent.get("name") or ""
    price = raw.get("regular_price") or ""
    return ShopVariant(
        product_id=str(parent["id"] if parent is not None else raw["id"]),
        variant_id=str(raw["id"]) if parent is not None else "",
        sku=(raw.get("sku") or "").strip(),
        barcode=(raw.get("global_unique_id") or "").strip(),
        name=name,
        price=Decimal(price) if price else None,
        quantity=raw.get("stock_quantity") if raw.get("manage_stock") is True else None,
    )


# ---------------------------------------------------------------- payload → normalized order


def _woo(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(WOO_TIME)


def _money(value) -> Decimal:
    return Decimal(str(value or "0"))


def to_order(raw: dict) -> ShopOrder:
    """A REST v3 order as the flows read it. Line totals are after coupons; tax is added back
    because the shop charged prices with IVA included."""
    lines = tuple(
        OrderLine(
            product_id=str(item["product_id"]),
            variant_id=str(item.get("variation_id") or ""),
            sku=item.get("sku") or "",
            name=item.get("name") or "",
            quantity=_money(item["quantity"]),
            total=_money(item["total"]) + _money(item["total_tax"]),
            tax=_money(item["total_tax"]),
        )
        for item in raw.get("line_items", [])
    )
    charges = tuple(
        Charge(
            kind,
            row.get("method_title") or row.get("name") or kind,
            _money(row["total"]) + _money(row["total_tax"]),
            _money(row["total_tax"]),
        )
        for kind, rows in (("shipping", raw.get("shipping_lines", [])), ("fee", raw.get("fee_lines", [])))
        for row in rows
    )
    billing = raw.get("billing") or {}
    shipping = raw.get("shipping") or {}
    rut = next((m["value"] for m in raw.get("meta_data", []) if m.get("key") == "_billing_rut"), "")
    return ShopOrder(
        id=str(raw["id"]),
        number=str(raw.get("number") or raw["id"]),
        status=STATUSES.get(raw["status"], base.ON_HOLD),  # a custom status waits for a person
        platform_status=raw["status"],
        modified=datetime.strptime(raw["date_modified_gmt"], WOO_TIME).replace(tzinfo=UTC),
        currency=raw.get("currency") or "",
        total=_money(raw.get("total")),
        customer_id=str(raw.get("customer_id") or ""),
        email=(billing.get("email") or "").lower(),
        billing=woocommerce_address(billing, billing.get("email") or ""),
        shipping=woocommerce_address(shipping) if shipping.get("address_1") else None,
        lines=lines,
        charges=charges,
        refunded=bool(raw.get("refunds")),
        tax_id=rut,
        raw=raw,
    )
