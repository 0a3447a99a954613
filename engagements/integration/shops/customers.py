"""Shop customer payloads → `ShopCustomer`, and each platform's address mapping (orders use it too):
pure functions, one per platform.

Kept apart from the adapters so the flow and its tests depend on the mapping
only; each adapter's `iter_customers`/`get_customer` fetch and call these.

- WooCommerce REST v3 `/customers` (docs_customer_25.json, built_customer.json):
  names and e-mail at the top, `billing`/`shipping` blocks, times in
  `date_modified_gmt`. Core has no RUT field: plugins keep it in `meta_data`
  (RUT_META_KEYS).
- Shopify Admin GraphQL `Customer`: `defaultEmailAddress`/`defaultPhoneNumber`
  (from 2025-04; `email`/`phone` are deprecated), `defaultAddress` as the
  billing address, `updatedAt`. A RUT, if the shop keeps one, is a metafield
  whose key is in RUT_KEYS. Shopify has no billing/shipping split on a customer,
  so `shipping` stays None (other saved addresses are not read).
- Jumpseller API v1 `/customers.json` (OpenAPI `CustomerFields`): `fullname`,
  `email`, `phone`, `billing_address` (with `taxid`) and `shipping_address`,
  `customer_additional_fields`. Regions are FIPS codes; only "12" (RM) is
  verified. There is no update time at all: the adapter versions customers
  itself (`jumpseller_customer_signature`) and passes `modified`.

States end up as ISO 3166-2 style codes ("CL-RM", "US-CA") when the shop gives
a code; the flow resolves them against Odoo by code, then by name.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from engagements.integration.shops.base import Address, ShopCustomer

WOO_TIME = "%Y-%m-%dT%H:%M:%S"
RUT_META_KEYS = {"billing_rut", "_billing_rut", "rut", "_rut", "billing_run", "_billing_run", "run"}
RUT_KEYS = {"rut", "run", "tax_id", "taxid"}
COMPANY_LABELS = {"empresa", "company", "razon social", "razón social"}
JUMPSELLER_REGIONS = {("CL", "12"): "CL-RM"}  # FIPS region codes; only "12" (RM) is verified


def _text(value: object) -> str:
    return str(value).strip() if value not in (None, False) else ""


def _iso_state(country: str, state: str) -> str:
    """'RM' in 'CL' → 'CL-RM'; an already prefixed code or an empty one stays as it is."""
    if not state or not country or state.upper().startswith(f"{country.upper()}-"):
        return state
    return f"{country.upper()}-{state}"


# ---------------------------------------------------------------- WooCommerce


def woocommerce_address(raw: dict[str, Any], email: str = "") -> Address:
    country = _text(raw.get("country")).upper()
    return Address(
        name=f"{_text(raw.get('first_name'))} {_text(raw.get('last_name'))}".strip(),
        company=_text(raw.get("company")),
        street=_text(raw.get("address_1")),
        street2=_text(raw.get("address_2")),
        city=_text(raw.get("city")),
        zip=_text(raw.get("postcode")),
        state=_iso_state(country, _text(raw.get("state"))),
        country=country,
        phone=_text(raw.get("phone")),
        email=email,
    )


def _woo_time(raw: dict[str, Any]) -> datetime:
    stamp = raw.get("date_modified_gmt") or raw.get("date_created_gmt") or ""  # never modified: created
    return datetime.strptime(stamp, WOO_TIME).replace(tzinfo=UTC)


def woocommerce_customer(raw: dict[str, Any]) -> ShopCustomer:
    billing, shipping = raw.get("billing") or {}, raw.get("shipping") or {}
    email = _text(raw.get("email") or billing.get("email")).lower()
    meta = {_text(m.get("key")).lower(): _text(m.get("value")) for m in raw.get("meta_data") or []}
    return ShopCustomer(
        id=str(raw["id"]),
        email=email,
        first_name=_text(raw.get("first_name") or billing.get("first_name")),
        last_name=_text(raw.get("last_name") or billing.get("last_name")),
        company=_text(billing.get("company")),
        phone=_text(billing.get("phone") or shipping.get("phone")),
        modified=_woo_time(raw),
        billing=woocommerce_address(billing, email),
        shipping=woocommerce_address(shipping) if shipping.get("address_1") else None,
        tax_id=next((value for key, value in meta.items() if key in RUT_META_KEYS and value), ""),
        raw=raw,
    )


# ---------------------------------------------------------------- Shopify


def _numeric_id(gid: str | None) -> str:
    return (gid or "").rsplit("/", 1)[-1]


def shopify_address(raw: dict[str, Any] | None, email: str = "") -> Address:
    raw = raw or {}
    country = _text(raw.get("countryCodeV2")).upper()
    return Address(
        name=f"{_text(raw.get('firstName'))} {_text(raw.get('lastName'))}".strip(),
        company=_text(raw.get("company")),
        street=_text(raw.get("address1")),
        street2=_text(raw.get("address2")),
        city=_text(raw.get("city")),
        zip=_text(raw.get("zip")),
        state=_iso_state(country, _text(raw.get("provinceCode"))),
        country=country,
        phone=_text(raw.get("phone")),
        email=email,
    )


def shopify_customer(node: dict[str, Any]) -> ShopCustomer:
    email = _text((node.get("defaultEmailAddress") or {}).get("emailAddress") or node.get("email")).lower()
    address = node.get("defaultAddress") or {}
    phone = (node.get("defaultPhoneNumber") or {}).get("phoneNumber") or node.get("phone") or address.get("phone")
    metafields = (node.get("metafields") or {}).get("nodes") or []
    return ShopCustomer(
        id=_text(node.get("legacyResourceId")) or _numeric_id(node.get("id")),
        email=email,
        first_name=_text(node.get("firstName") or address.get("firstName")),
        last_name=_text(node.get("lastName") or address.get("lastName")),
        company=_text(address.get("company")),
        phone=_text(phone),
        modified=datetime.fromisoformat(node["updatedAt"]).astimezone(UTC),
        billing=shopify_address(address, email),
        shipping=None,
        tax_id=next((_text(m.get("value")) for m in metafields if _text(m.get("key")).lower() in RUT_KEYS), ""),
        raw=node,
    )


# ---------------------------------------------------------------- Jumpseller


def _unwrap(raw: dict[str, Any]) -> dict[str, Any]:
    return raw.get("customer", raw) if isinstance(raw.get("customer"), dict) else raw


def jumpseller_address(raw: dict[str, Any] | None, *, phone: str = "", email: str = "") -> Address:
    """The customer schema has `country` as a code and `region` as a FIPS code; the order
    schema has names there and the codes in `country_code`/`region_code`: both are read."""
    raw = raw or {}
    country = _text(raw.get("country_code") or (raw.get("country") if len(_text(raw.get("country"))) == 2 else ""))
    country = country.upper()
    region = _text(raw.get("region_code") or raw.get("region"))
    number = raw.get("street_number")
    if isinstance(number, float) and number.is_integer():
        number = int(number)
    return Address(
        name=" ".join(filter(None, (_text(raw.get("name")), _text(raw.get("surname"))))),
        street=" ".join(_text(part) for part in (raw.get("address"), number) if _text(part)),
        street2=_text(raw.get("complement")),
        city=_text(raw.get("municipality") or raw.get("city")),  # the comuna in Chile
        zip=_text(raw.get("postal")),
        state=JUMPSELLER_REGIONS.get((country, region), ""),  # an unverified FIPS code is not guessed
        country=country,
        phone=phone,
        email=email,
    )


def _additional(raw: dict[str, Any]) -> dict[str, str]:
    fields = raw.get("customer_additional_fields") or raw.get("additional_fields") or []
    return {_text(f.get("label")).lower(): _text(f.get("value")) for f in fields if isinstance(f, dict)}


def jumpseller_customer(raw: dict[str, Any], *, modified: datetime) -> ShopCustomer:
    """`modified` comes from the adapter (Jumpseller customers carry no update time)."""
    raw = _unwrap(raw)
    email = _text(raw.get("email")).lower()
    phone = " ".join(filter(None, (_text(raw.get("phone_prefix")), _text(raw.get("phone")))))
    billing = raw.get("billing_address") or {}
    shipping = raw.get("shipping_address") or {}
    extra = _additional(raw)
    first, last = _text(billing.get("name")), _text(billing.get("surname"))
    if not (first or last):
        first = _text(raw.get("fullname")) if _text(raw.get("fullname")).lower() != email else ""
    return ShopCustomer(
        id=str(raw["id"]),
        email=email,
        first_name=first,
        last_name=last,
        company=next((value for label, value in extra.items() if label in COMPANY_LABELS and value), ""),
        phone=phone,
        modified=modified,
        billing=jumpseller_address(billing, phone=phone, email=email),
        shipping=jumpseller_address(shipping) if shipping.get("address") else None,
        tax_id=_text(billing.get("taxid")) or next((v for k, v in extra.items() if k in RUT_KEYS and v), ""),
        raw=raw,
    )


def jumpseller_customer_signature(raw: dict[str, Any]) -> str:
    """What the flow reads of a Jumpseller customer: a change in it is a new version."""
    raw = _unwrap(raw)
    keys = ("email", "phone", "phone_prefix", "fullname", "billing_address", "shipping_address")
    essentials = [raw.get(key) for key in keys] + [sorted(_additional(raw).items())]
    return hashlib.sha256(json.dumps(essentials, sort_keys=True, default=str).encode()).hexdigest()[:16]
