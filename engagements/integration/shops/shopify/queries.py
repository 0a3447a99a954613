"""Shopify Admin GraphQL: the pinned API version, the operations this adapter sends, and their page sizes.

A page size keeps a query under Shopify's 1000-point ceiling for one query (see each comment).
"""

API_VERSION = "2026-04"
ORDERS_PAGE = 10  # ≈ 67 points an order (fixture: 136 for 2): 10 a page stays under the 1000-point ceiling
LINES_PAGE = 50
INPUT_LIMIT = 250  # items per input array and ids per `nodes` query
VARIANTS_PAGE = 250  # requested cost ≈ 2 + 2 per variant (the node and its product): ≈ 502 points a page
RECENT_DAYS = 60
WARNING_60_DAYS = "shopify_60_day_window"
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
