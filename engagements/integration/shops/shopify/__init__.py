"""Shopify Admin GraphQL adapter on httpx, pinned to API_VERSION (the version of the recorded payloads in
tests/fakes/data/shopify). `client.py`: the transport and the calls; `mapping.py`: payloads ⇄ records
(pure); `queries.py`: the operations.

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

from engagements.integration.shops.shopify.client import ClientCredentials, ShopifyClient
from engagements.integration.shops.shopify.mapping import gid, numeric_id, to_order
from engagements.integration.shops.shopify.queries import API_VERSION, ORDERS_QUERY, WARNING_60_DAYS

__all__ = [
    "API_VERSION",
    "ORDERS_QUERY",
    "WARNING_60_DAYS",
    "ClientCredentials",
    "ShopifyClient",
    "gid",
    "numeric_id",
    "to_order",
]
