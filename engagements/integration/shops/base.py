"""What every shop adapter speaks: its errors (the shared taxonomy of integration/errors.py), and
the normalized records the flows read, so a flow never sees one platform's payload.

An adapter maps its platform's order into a `ShopOrder`: statuses into the
normalized set below, times into aware UTC datetimes, amounts into Decimals
(line totals tax-included, after discounts, as the customer paid them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from types import TracebackType
from typing import Protocol, Self

from engagements.integration.errors import AmbiguousWriteError, IntegrationError, PermanentError, RetryableError


class ShopError(IntegrationError):
    code = "shop_error"


class ShopRetryableError(ShopError, RetryableError):
    """The shop was busy, rate-limited or unreachable: try again later."""

    code = "shop_busy"


class ShopPermanentError(ShopError, PermanentError):
    """The shop refused the request itself: retrying changes nothing."""

    code = "shop_rejected"


class ShopAuthError(ShopPermanentError):
    """The keys were revoked or are wrong: pause the flow, mark the connection unhealthy."""

    code = "shop_auth"


class ShopAmbiguousError(ShopError, AmbiguousWriteError):
    """A write the shop did not confirm (timed out, cut, or a 5xx after it arrived): it may have been
    made. It is never sent again blindly: the record is looked up first."""

    code = "shop_write_ambiguous"

    def __init__(self, message: str = "") -> None:
        super().__init__(
            message or "The shop did not confirm the change; it may have been made. It is looked up before any new try."
        )


PLATFORM_LABELS = {"woocommerce": "WooCommerce", "shopify": "Shopify", "jumpseller": "Jumpseller"}

# Normalized order statuses (each adapter maps its own onto these).
PENDING = "pending"  # created, not paid yet
ON_HOLD = "on_hold"  # awaiting a manual step (bank transfer to confirm...)
PAID = "paid"  # paid, to fulfil
COMPLETED = "completed"  # fulfilled
CANCELLED = "cancelled"
REFUNDED = "refunded"  # fully refunded
FAILED = "failed"  # payment failed or abandoned
STATUSES = (PENDING, ON_HOLD, PAID, COMPLETED, CANCELLED, REFUNDED, FAILED)
STOCK_TAKEN = (ON_HOLD, PAID, COMPLETED)  # the shop has taken these units off its stock


@dataclass(frozen=True)
class Address:
    name: str = ""
    company: str = ""
    street: str = ""
    street2: str = ""
    city: str = ""
    zip: str = ""
    state: str = ""  # ISO 3166-2 code when the shop gives one ("CL-RM")
    country: str = ""  # ISO 3166-1 alpha-2 ("CL")
    phone: str = ""
    email: str = ""


@dataclass(frozen=True)
class OrderLine:
    product_id: str  # the shop's product
    variant_id: str  # the shop's variant/variation ("" for a simple product)
    sku: str
    name: str
    quantity: Decimal
    total: Decimal  # tax included, after line discounts
    tax: Decimal

    @property
    def external_id(self) -> str:
        """The id a product binding is keyed on: the variant if there is one."""
        return self.variant_id or self.product_id


@dataclass(frozen=True)
class Charge:
    kind: str  # "shipping" or "fee" (negative fees are order-level discounts)
    name: str
    total: Decimal  # tax included
    tax: Decimal


@dataclass(frozen=True)
class ShopOrder:
    id: str
    number: str  # what the shop shows people ("#1001", "2001")
    status: str  # one of STATUSES
    platform_status: str  # the shop's own word, for reports
    modified: datetime  # aware, UTC
    currency: str
    total: Decimal
    customer_id: str  # "" for a guest checkout
    email: str
    billing: Address
    shipping: Address | None
    lines: tuple[OrderLine, ...]
    charges: tuple[Charge, ...] = ()
    refunded: bool = False  # some amount was refunded (partially or fully)
    tax_id: str = ""  # the buyer's RUT when the shop collects it
    raw: dict = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class ShopCustomer:
    """A registered shop customer (guests exist only inside orders). Mapped by shops/customers.py."""

    id: str
    email: str  # lower-case; "" for a customer known by phone only
    first_name: str
    last_name: str
    company: str
    phone: str
    modified: datetime  # aware, UTC
    billing: Address
    shipping: Address | None = None
    tax_id: str = ""  # the RUT as the shop has it (not validated here)
    raw: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or self.billing.name


@dataclass(frozen=True)
class StockUpdate:
    product_id: str
    variant_id: str  # "" for a simple product
    quantity: int


@dataclass(frozen=True)
class PriceUpdate:
    """The regular price of one shop item (WooCommerce `regular_price`, Shopify and Jumpseller `price`),
    in the shop currency, already rounded and tax-converted as the shop shows it. A sale price
    (WooCommerce `sale_price`) or a compare-at price (Shopify, Jumpseller) is never sent: the shop keeps it."""

    product_id: str
    variant_id: str  # "" for a simple product
    price: Decimal


@dataclass(frozen=True)
class ShopVariant:
    """One sellable item of the shop's catalogue, as product matching reads it."""

    product_id: str
    variant_id: str  # "" for a simple product (WooCommerce simple, Jumpseller without variants)
    sku: str
    barcode: str
    name: str
    price: Decimal | None
    quantity: int | None = None  # the shop's stock; None when it does not track it (or did not say)

    @property
    def external_id(self) -> str:
        """The id a product binding is keyed on: the variant if there is one."""
        return self.variant_id or self.product_id


def stock_in(variants: Iterable[ShopVariant], external_ids: set[str]) -> dict[str, int | None]:
    """The shop's quantities of some items, read off its catalogue listing."""
    return {v.external_id: v.quantity for v in variants if v.external_id in external_ids}


@dataclass(frozen=True)
class BatchResult:
    external_id: str
    ok: bool
    error_code: str = ""
    message: str = ""
    # On success, a reason code the run should still report (e.g. "shop_sale_price_kept"), with `message`.
    warning: str = ""


@dataclass(frozen=True)
class VariantPayload:
    """One Odoo variant as the shop should sell it (products flow)."""

    odoo_id: int
    sku: str
    price: Decimal  # as the shop shows it (see flows/prices.shop_price)
    options: tuple[tuple[str, str], ...] = ()  # (attribute, value): (("Talla", "M"), ("Color", "Azul"))
    active: bool = True  # False: archived in Odoo; kept in the shop but not sold, never deleted
    barcode: str = ""
    variant_id: str = ""  # the shop's id when bound ("" to create)


@dataclass(frozen=True)
class ProductPayload:
    """One Odoo template: a simple product (one variant without options) or a variable one."""

    key: str  # the Odoo template id, naming the result
    name: str
    variants: tuple[VariantPayload, ...]
    product_id: str = ""  # the shop's id when bound ("" to create)

    @property
    def simple(self) -> bool:
        return len(self.variants) == 1 and not self.variants[0].options

    def option_values(self) -> dict[str, list[str]]:
        """Each option (attribute) with its values, in the order the variants give them."""
        names: dict[str, list[str]] = {}
        for variant in self.variants:
            for name, value in variant.options:
                if value not in names.setdefault(name, []):
                    names[name].append(value)
        return names


@dataclass(frozen=True)
class ProductResult:
    """What the shop did with one ProductPayload. `variant_ids` maps each Odoo variant sent to the shop's
    id for it (the product id itself for a WooCommerce or Jumpseller simple product). On failure the ids
    of whatever was created before the failure are still given, so the flow can bind them."""

    key: str
    ok: bool
    product_id: str = ""
    variant_ids: dict[int, str] = field(default_factory=dict, hash=False)
    error_code: str = ""
    message: str = ""
    warning: str = ""  # on success, a reason code the run should still report, with `message`


@dataclass
class WebhookReport:
    """What `ensure_webhooks` found and did, each entry one of the platform's topic names."""

    created: list[str] = field(default_factory=list)
    reactivated: list[str] = field(default_factory=list)  # was paused or disabled (WooCommerce)
    updated: list[str] = field(default_factory=list)  # active, given the new secret (WooCommerce)
    ok: list[str] = field(default_factory=list)  # there and active: nothing sent


def ensure_each(
    topics: Sequence[str],
    found: Mapping[str, dict],
    *,
    create: Callable[[str], object],
    reactivate: Callable[[dict], object] | None = None,
    active: Callable[[dict], bool] = lambda hook: True,
    stale: bool = False,
) -> WebhookReport:
    """The shared walk of `ensure_webhooks`: `found` maps a topic to our hook for it (same URL); a
    missing one is created, an inactive one reactivated, an active one left alone (no write) unless
    `stale` (its secret changed): then it is written again like a reactivated one."""
    report = WebhookReport()
    for topic in topics:
        hook = found.get(topic)
        if hook is None:
            create(topic)
            report.created.append(topic)
        elif reactivate is not None and not active(hook):
            reactivate(hook)
            report.reactivated.append(topic)
        elif reactivate is not None and stale:
            reactivate(hook)
            report.updated.append(topic)
        else:
            report.ok.append(topic)
    return report


class ShopClient(Protocol):
    """An adapter (shops/woocommerce.py, shopify/, jumpseller.py), used as a context manager."""

    platform: str
    calls: int
    warnings: list[str]

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None: ...

    def probe(self) -> None:
        """Without the keys: does the address answer as this platform's API? (shops/http.py)"""
        ...

    def status(self) -> dict:
        """Reach the shop with the stored keys: {"version": ..., "name": ...}; raises ShopAuthError."""
        ...

    def iter_orders(self, *, modified_after: datetime, modified_before: datetime) -> Iterator[ShopOrder]:
        """Orders changed in the window, oldest change first, each once."""
        ...

    def get_order(self, order_id: str) -> ShopOrder: ...

    def iter_customers(self, *, modified_after: datetime, modified_before: datetime) -> Iterator[ShopCustomer]:
        """Registered customers changed in the window, each once (a shop without an update time
        filter lists them all and filters, or versions them itself, as Jumpseller orders)."""
        ...

    def get_customer(self, customer_id: str) -> ShopCustomer: ...

    def set_stock(
        self, updates: list[StockUpdate], *, manage_stock: bool = False, change_from: Mapping[str, int] | None = None
    ) -> list[BatchResult]:
        """Absolute quantities, in the platform's batch size, one result per update. `change_from`
        (external id → the quantity we believe the shop has) makes it compare-and-set where the
        platform can (Shopify: a stale one is refused as "shop_stock_changed"); others ignore it."""
        ...

    def set_prices(self, updates: list[PriceUpdate]) -> list[BatchResult]:
        """Regular prices only (no stock field is sent), in the platform's batch size, one result per update."""
        ...

    def iter_variants(self) -> Iterator[ShopVariant]:
        """Every sellable item of the catalogue (simple products and variants), each once."""
        ...

    def get_stock(self, items: list[StockUpdate]) -> dict[str, int | None]:
        """The shop's available quantity of each item (where the stock flow writes it), by external id;
        None for an item whose stock the shop does not track. The updates' quantities are ignored."""
        ...

    def upsert_products(self, products: list[ProductPayload]) -> list[ProductResult]:
        """Create or update products and their variants (name, SKU, regular price, visibility of each
        variant), in the platform's batch size, one result per payload. Nothing is ever deleted."""
        ...

    def hide_products(self, product_ids: list[str]) -> list[BatchResult]:
        """Take whole products off the shop front (draft / disabled), never deleting them."""
        ...

    def ensure_webhooks(
        self, url: str, secret: str, topics: tuple[str, ...] = (), *, secret_changed: bool = False
    ) -> WebhookReport:
        """Make sure the shop sends `topics` (the adapter's order topics when empty) to `url`: missing
        hooks are created, paused or disabled ones reactivated, the others left untouched, unless
        `secret_changed`: a hook keeps the secret it was given, so each is then sent the new one.
        `secret` is what WooCommerce signs with; Shopify signs with the app secret and Jumpseller
        with the store's hooks token, which cannot be set, so they ignore both."""
        ...
