"""The one upsert of shop buyers into Odoo's res.partner, for the order import and the customer import.

Matching, in this order, never guessing:
1. the binding (kind "partner": "customer:<shop id>" or "guest:<e-mail>");
2. our own marker in `ref` (set on what we create: a create that timed out is adopted, not repeated);
3. the e-mail, case-insensitive. Several Odoo partners of different companies with it: not guessed
   (`duplicate_email`); several of one company: its first person;
4. the RUT, when its check digit is valid (an invalid one is reported, `invalid_rut`, and not used).
   Odoo may keep it as "76.123.456-7", "76123456-7", "761234567" or "CL761234567", so all are searched.
   Several companies or people with it: not guessed (`duplicate_rut`);
5. else created. Never by phone or by name: a phone-only customer is matched by binding or created.

Company or individual (Odoo's own model): a company RUT (50.000.000 and above: the SII gives natural
persons lower numbers) makes an `is_company` partner with the RUT, the billing address and the
delivery addresses, and the buyer as its contact (type "contact", with the e-mail and phone): the
invoice goes to the company, whose name and RUT the SII document needs. A company name without a
company RUT is what Odoo's own shop checkout does with it: `company_name` on the individual (free text
such as "Particular" would otherwise become companies); the `company_names` option creates companies.

Delivery addresses are children of the commercial partner (type "delivery"), deduplicated by street,
street2, city and zip. Countries and states (when `geo` is on) are looked up by code, then by name:
an unknown one is left empty and reported (`country_unknown`, `state_unknown`).

Updates (the customer import only; orders never change partners): a three-way merge per field
between what the shop wants, what Odoo has, and what we last wrote (`Binding.last_pushed_value`).
An empty Odoo field is filled; a field Odoo still has as we wrote it follows the shop; a field edited
in Odoo, or never written by us (a partner matched by e-mail or RUT), is kept and reported
(`odoo_values_kept`, with a diff). `last_pushed_hash` recognises our own values coming back (an
echo, or a shop record touched without a change): nothing is read back or written.

Odoo calls: two searches per batch of buyers (partners by binding, marker, e-mail and RUT; then their
companies and delivery addresses), with `geo` one for the countries per run and one for the states of
new countries; creates in one call per batch (companies first, their contacts in a second call); one
write per partner whose values changed (Odoo has no multi-value write over RPC but `load`, which
rolls back the whole batch on one bad row).
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from engagements.integration.errors import IntegrationError, PermanentError, RetryableError
from engagements.integration.gateway.base import OdooGateway
from engagements.integration.models import Binding
from engagements.integration.shops.base import Address
from engagements.models import Engagement
from portal.rut import normalize_rut

T = TypeVar("T")
COMPANY_RUT_FROM = 50_000_000
PARTNER_FIELDS = [
    "name",
    "email",
    "phone",
    "vat",
    "ref",
    "parent_id",
    "is_company",
    "type",
    "company_name",
    "street",
    "street2",
    "city",
    "zip",
    "country_id",
    "state_id",
]
ADDRESS_FIELDS = ["parent_id", "street", "street2", "city", "zip"]
ADDRESS_KEYS = ("street", "street2", "city", "zip")
# ISO 3166-2 subdivisions whose Odoo code differs (Odoo's base data numbers the Chilean regions).
ISO_STATE_CODES = {
    "CL": {
        "TA": "01",
        "AN": "02",
        "AT": "03",
        "CO": "04",
        "VS": "05",
        "LI": "06",
        "ML": "07",
        "BI": "08",
        "AR": "09",
        "LL": "10",
        "AI": "11",
        "MA": "12",
        "RM": "13",
        "LR": "14",
        "AP": "15",
        "NB": "16",
    }
}
NAME_NOISE = {"region", "de", "del", "la", "las", "los", "el", "y", "gral", "general", "provincia", "state"}


BLOCKED_MESSAGES = {  # why nothing was written for a buyer (the run report's message)
    "duplicate_email": "Odoo partners of different companies share this e-mail: it is not guessed. "
    "Merge them in Odoo (or correct the e-mails), then run again.",
    "duplicate_rut": "Several Odoo partners have this RUT: it is not guessed. Merge them in Odoo, then run again.",
    "duplicate_marker": "Several Odoo partners carry this customer's reference (ref): merge them in Odoo.",
    "odoo_record_deleted": "Its Odoo partner was deleted or archived; restore it, or delete the binding to "
    "let the next run match or create it again.",
}


class PartnerBusy(RetryableError):
    """Another worker is writing this buyer's partner: try again later."""

    code = "locked"


# ---------------------------------------------------------------- pure helpers


@dataclass(frozen=True)
class Buyer:
    """A shop buyer as the upsert reads it: a registered customer, or the buyer of an order."""

    key: str  # the binding's external id
    name: str  # the person
    email: str
    phone: str
    company: str
    tax_id: str
    billing: Address
    delivery: Address | None = None
    marker: str = ""  # `ref` of what we create; "" for guests (found again by e-mail)
    modified: datetime | None = None


@dataclass(frozen=True)
class Rut:
    compact: str = ""  # "761234567", or "" when there is none or it is invalid
    invalid: str = ""  # what the shop sent, when its check digit fails

    @property
    def company(self) -> bool:
        return bool(self.compact) and int(self.compact[:-1]) >= COMPANY_RUT_FROM

    @property
    def vat(self) -> str:
        return f"{self.compact[:-1]}-{self.compact[-1]}" if self.compact else ""


def parse_rut(value: str) -> Rut:
    if not (value or "").strip():
        return Rut()
    try:
        return Rut(compact=normalize_rut(value).upper())
    except ValidationError:
        return Rut(invalid=value.strip())


def rut_variants(compact: str) -> list[str]:
    """The ways Odoo may hold one RUT (l10n_cl stores "76123456-7"; typed by hand, anything)."""
    body, digit = compact[:-1], compact[-1]
    dotted = f"{int(body):,}".replace(",", ".")
    forms = {f"{body}-{digit}", f"{dotted}-{digit}", compact, f"CL{compact}"}
    return sorted(forms | {form.replace("K", "k") for form in forms})


def plain(text: str) -> str:
    """A name for comparing: no accents, no case, no punctuation, no "Región de"."""
    folded = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode().casefold()
    words = "".join(c if c.isalnum() else " " for c in folded).split()
    return " ".join(w for w in words if w not in NAME_NOISE)


def resolve_country(value: str, countries: list[dict]) -> int | None:
    if not value:
        return None
    by_code = [c["id"] for c in countries if (c.get("code") or "").upper() == value.strip().upper()]
    by_name = [c["id"] for c in countries if plain(c.get("name") or "") == plain(value)]
    found = by_code or by_name
    return found[0] if len(found) == 1 else None


def resolve_state(value: str, country_code: str, states: list[dict]) -> int | None:
    """By code ("CL-RM", "RM", Odoo's "13"), then by name, then by a name inside the other; else None."""
    if not value:
        return None
    country_code = (country_code or "").upper()
    prefix, dash, rest = value.strip().partition("-")
    local = rest if dash and prefix.upper() == country_code else value.strip()
    codes = {value.strip().upper(), local.upper()}
    codes |= {alias for code in codes if (alias := ISO_STATE_CODES.get(country_code, {}).get(code))}
    by_code = [s for s in states if {(s.get("code") or "").upper(), f"{country_code}-{s.get('code')}".upper()} & codes]
    if len(by_code) == 1:
        return by_code[0]["id"]
    wanted = plain(local)
    exact = [s for s in states if plain(s.get("name") or "") == wanted]
    if len(exact) == 1 or not wanted:
        return exact[0]["id"] if len(exact) == 1 else None
    inside = [s for s in states if _overlaps(plain(s.get("name") or ""), wanted)]
    return inside[0]["id"] if len(inside) == 1 else None


def _overlaps(first: str, second: str) -> bool:
    a, b = set(first.split()), set(second.split())
    return bool(a and b) and (a <= b or b <= a)


def address_key(values: dict) -> tuple:
    return tuple(" ".join(str(values.get(name) or "").lower().split()) for name in ADDRESS_KEYS)


def address_values(address: Address) -> dict:
    values = {"street": address.street, "street2": address.street2, "city": address.city, "zip": address.zip}
    values["phone"] = address.phone
    return {name: value or False for name, value in values.items()}


def _m2o(value):
    return value[0] if isinstance(value, list | tuple) and value and isinstance(value[0], int) else value


def _norm(name: str, value) -> object:
    value = _m2o(value)
    if value in (None, False, ""):
        return ""
    if name == "vat":
        try:
            return normalize_rut(str(value)).upper()
        except ValidationError:
            return str(value).upper()
    return " ".join(value.split()).casefold() if isinstance(value, str) else value


def merge(desired: dict, current: dict, base: dict | None) -> tuple[dict, dict]:
    """(values to write, {field: {"odoo", "shop"}} kept as Odoo has them). See the module docstring."""
    write, kept = {}, {}
    for name, want in desired.items():
        have = current.get(name)
        if _norm(name, want) in ("", _norm(name, have)):
            continue  # equal, or nothing to say: an empty shop field never blanks Odoo's
        if _norm(name, have) == "" or (
            base is not None and name in base and _norm(name, base[name]) == _norm(name, have)
        ):
            write[name] = want
        else:
            kept[name] = {"odoo": have[1] if isinstance(have, list) else have, "shop": want}
    return write, kept


def digest(values: dict) -> str:
    return hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()


def rounds(items: list[T], buyer_of: Callable[[T], Buyer]) -> list[list[T]]:
    """`items` whose buyers share an e-mail or a RUT go in successive rounds, so the second finds the
    partner the first created instead of creating another (one round when nobody shares: the usual
    case). Items of one buyer (`key`) stay in one round: they share one plan."""
    found: list[tuple[list[T], set]] = []
    for item in items:
        buyer = buyer_of(item)
        identities = {("email", buyer.email)} if buyer.email else set()
        if rut := parse_rut(buyer.tax_id).compact:
            identities.add(("rut", rut))
        for members, seen in found:
            if ("key", buyer.key) in seen or not identities & seen:
                members.append(item)
                seen |= identities | {("key", buyer.key)}
                break
        else:
            found.append(([item], identities | {("key", buyer.key)}))
    return [members for members, _ in found]


def lock(engagement: Engagement, key: str) -> bool:
    """A transaction-scoped advisory lock per buyer (PostgreSQL): the order and customer imports never
    create one partner twice at the same moment. SQLite runs one writer anyway."""
    if connection.vendor != "postgresql":
        return True
    token = int.from_bytes(hashlib.sha256(f"{engagement.pk}:partner:{key}".encode()).digest()[:8], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [token])
        return cursor.fetchone()[0]


# ---------------------------------------------------------------- plans


@dataclass
class Plan:
    """What the upsert will do (or would do, in a dry run) for one buyer."""

    buyer: Buyer
    partner_id: int | None = None  # the person (or individual) to bind and to put on orders
    root_id: int | None = None  # the commercial partner (the company, or the individual itself)
    matched_by: str = ""  # binding, marker, email, rut; "" for a new partner
    new_root: dict | None = None  # values of a partner to create (with its delivery child)
    new_person: dict | None = None  # a contact to create under the (new or found) company
    new_delivery: dict | None = None  # a delivery address to create under the root
    delivery_id: int | None = None  # a matching delivery address Odoo already has
    writes: list[tuple[int, dict]] = field(default_factory=list)
    kept: dict = field(default_factory=dict)  # fields Odoo keeps: {field: {"odoo", "shop"}}
    warnings: list[str] = field(default_factory=list)
    blocked: str = ""  # a reason no write happens (ambiguous match, deleted partner)
    desired: dict = field(default_factory=dict)  # what we want in Odoo: the next merge's base
    unchanged: bool = False  # our own last values: nothing to do
    error: IntegrationError | None = None

    @property
    def creates(self) -> bool:
        return bool(self.new_root or self.new_person or self.new_delivery)

    @property
    def changes(self) -> bool:
        return self.creates or bool(self.writes)


class Partners:
    """Look-ups for a batch of buyers, then plans, then their writes (batched) and bindings."""

    def __init__(self, *, engagement: Engagement, odoo: OdooGateway, dry_run: bool, geo: bool = False, **options):
        self.engagement, self.odoo, self.dry_run, self.geo = engagement, odoo, dry_run, geo
        self.company_names = bool(options.get("company_names"))
        self.bindings: dict[str, Binding] = {}
        self.rows: dict[int, dict] = {}
        self.by_email: dict[str, set[int]] = {}
        self.by_rut: dict[str, set[int]] = {}
        self.by_ref: dict[str, set[int]] = {}
        self.deliveries: dict[int, dict[tuple, int]] = {}
        self.countries: list[dict] | None = None
        self.states: dict[int, list[dict]] = {}

    # ------------------------------------------------------------ look-ups
    def prefetch(self, buyers: list[Buyer]) -> None:
        keys = [b.key for b in buyers]
        self.bindings.update(
            (b.external_id, b)
            for b in Binding.objects.filter(engagement=self.engagement, kind="partner", external_id__in=keys)
        )
        leaves: list[list[Any]] = [["email", "=ilike", email] for email in sorted({b.email for b in buyers if b.email})]
        ruts = sorted({parse_rut(b.tax_id).compact for b in buyers} - {""})
        if ruts:
            leaves.append(["vat", "in", [form for rut in ruts for form in rut_variants(rut)]])
        markers = sorted({b.marker for b in buyers if b.marker})
        if markers:
            leaves.append(["ref", "in", markers])
        bound = sorted({self.bindings[k].odoo_id for k in keys if k in self.bindings})
        if bound:
            leaves.append(["id", "in", bound])
        found = (
            self.odoo.search_read("res.partner", ["|"] * (len(leaves) - 1) + leaves, PARTNER_FIELDS) if leaves else []
        )
        self._index(found)
        roots = sorted({self._root(row["id"]) for row in found})
        if roots:
            domain = ["|", ["id", "in", roots], "&", ["parent_id", "in", roots], ["type", "=", "delivery"]]
            self._index(self.odoo.search_read("res.partner", domain, PARTNER_FIELDS))
        if self.geo:
            self._prefetch_geo([a for b in buyers for a in (b.billing, b.delivery) if a is not None])

    def _index(self, rows: list[dict]) -> None:
        for row in rows:
            self.rows[row["id"]] = row
            if row.get("type") == "delivery" and row.get("parent_id"):
                self.deliveries.setdefault(_m2o(row["parent_id"]), {})[address_key(row)] = row["id"]
                continue
            if row.get("email"):
                self.by_email.setdefault(row["email"].strip().lower(), set()).add(row["id"])
            if row.get("vat") and (rut := parse_rut(row["vat"].removeprefix("CL").removeprefix("cl")).compact):
                self.by_rut.setdefault(rut, set()).add(row["id"])
            if row.get("ref"):
                self.by_ref.setdefault(row["ref"], set()).add(row["id"])

    def _root(self, partner_id: int) -> int:
        parent = (self.rows.get(partner_id) or {}).get("parent_id")
        return _m2o(parent) if parent else partner_id

    def _prefetch_geo(self, addresses: list[Address]) -> None:
        if self.countries is None and any(a.country for a in addresses):
            self.countries = self.odoo.search_read("res.country", [], ["code", "name"])
        wanted = {resolve_country(a.country, self.countries or []) for a in addresses if a.state}
        missing = sorted({country for country in wanted if country is not None} - self.states.keys())
        if missing:
            rows = self.odoo.search_read(
                "res.country.state", [["country_id", "in", missing]], ["code", "name", "country_id"]
            )
            for country_id in missing:
                self.states[country_id] = [r for r in rows if _m2o(r["country_id"]) == country_id]

    def _place(self, address: Address, warnings: list[str]) -> dict:
        """country_id and state_id of an address; an unknown one stays empty and is reported."""
        if not self.geo or not address.country:
            return {}
        country_id = resolve_country(address.country, self.countries or [])
        if country_id is None:
            warnings.append(f"country_unknown:{address.country}")
            return {}
        values = {"country_id": country_id}
        if address.state:
            code = next((c["code"] for c in self.countries or [] if c["id"] == country_id), address.country)
            state_id = resolve_state(address.state, code, self.states.get(country_id, []))
            if state_id is None:
                warnings.append(f"state_unknown:{address.state}")
            else:
                values["state_id"] = state_id
        return values

    # ------------------------------------------------------------ matching
    def _unique(self, ids: set[int], *, people: bool) -> tuple[int | None, bool]:
        """(the partner to use, ambiguous?). Rows of one company share it (`people`: the first of its
        persons that carry the e-mail); rows of several companies or people are never guessed."""
        roots = {self._root(pid) for pid in ids}
        if len(roots) != 1:
            return None, len(roots) > 1
        root = roots.pop()
        persons = [pid for pid in ids if not self.rows[pid].get("is_company")] if people else []
        persons.sort(key=lambda pid: (self.rows[pid].get("type") not in ("contact", False, None), pid))
        return (persons[0] if persons else root), False

    def _match(self, buyer: Buyer, rut: Rut, plan: Plan) -> None:
        binding = self.bindings.get(buyer.key)
        if binding is not None:
            if binding.odoo_id in self.rows:
                plan.partner_id, plan.matched_by = binding.odoo_id, "binding"
            else:
                plan.blocked = "odoo_record_deleted"  # deleted or archived in Odoo: a person decides
            return
        steps = [
            ("marker", self.by_ref.get(buyer.marker, set()) if buyer.marker else set()),
            ("email", self.by_email.get(buyer.email, set()) if buyer.email else set()),
            ("rut", self.by_rut.get(rut.compact, set()) if rut.compact else set()),
        ]
        for how, ids in steps:
            partner_id, ambiguous = self._unique(ids, people=how != "rut")
            if ambiguous:
                plan.blocked = f"duplicate_{how}"
                return
            if partner_id is None:
                continue
            plan.matched_by = how
            if how == "rut" and self.rows[partner_id].get("is_company"):
                plan.root_id = partner_id  # the company is known; its contact, this buyer, is new
            else:
                plan.partner_id = partner_id
            return

    # ------------------------------------------------------------ plans
    def plan(self, buyer: Buyer, *, update: bool) -> Plan:
        """Match and decide. `update` merges shop values into a matched partner (customer import)."""
        plan, rut = Plan(buyer), parse_rut(buyer.tax_id)
        if rut.invalid:
            plan.warnings.append("invalid_rut")
        self._match(buyer, rut, plan)
        if plan.blocked:
            return plan
        address = {k: v for k, v in address_values(buyer.billing).items() if k != "phone"}
        address.update(self._place(buyer.billing, plan.warnings))
        person = {"name": buyer.name or False, "email": buyer.email or False}
        person["phone"] = buyer.phone or buyer.billing.phone or False
        company = {"name": buyer.company or False, "vat": rut.vat or False, **address}
        individual = {**person, "vat": rut.vat or False, "company_name": buyer.company or False, **address}
        named = {**person, "name": buyer.name or buyer.email or buyer.phone or buyer.key}  # Odoo needs a name
        if plan.partner_id is not None:
            plan.root_id = self._root(plan.partner_id)
            self._plan_existing(plan, person, company if rut.company else None, individual, update)
        elif plan.root_id is not None:
            plan.new_person = {"type": "contact", "parent_id": plan.root_id, **named, **self._ref(buyer)}
            plan.desired = {"person": person}
        elif rut.company or (buyer.company and self.company_names):
            plan.new_root = {"is_company": True, **company, "name": buyer.company or named["name"]}
            plan.new_person = {"type": "contact", **named, **self._ref(buyer)}
            plan.desired = {"person": person, "company": company}
        else:
            plan.new_root = {**individual, "name": named["name"], **self._ref(buyer)}
            plan.desired = {"person": individual}
        self._plan_delivery(plan)
        return plan

    @staticmethod
    def _ref(buyer: Buyer) -> dict:
        return {"ref": buyer.marker} if buyer.marker else {}

    def _plan_existing(self, plan: Plan, person: dict, company: dict | None, individual: dict, update: bool) -> None:
        """Desired values by part ("person" on the partner, "company" on its company), then the merge.
        A contact speaks for its company (name, RUT, address) only when it brings a company RUT."""
        company_part = {"company": company} if company else {}
        if plan.root_id != plan.partner_id:  # a contact of a company
            plan.desired = {"person": person, **company_part}
        elif self.rows.get(plan.root_id or 0, {}).get("is_company"):  # the buyer's e-mail is the company's own
            plan.desired = {"company": {**(company or {}), "email": person["email"], "phone": person["phone"]}}
        else:
            plan.desired = {"person": individual}
        if not update:
            return
        binding = self.bindings.get(plan.buyer.key)
        if binding is not None and binding.last_pushed_hash == digest(plan.desired):
            plan.unchanged = True  # our own values again (an echo, or a touch without a change)
            return
        base = (binding.last_pushed_value or None) if binding is not None else None
        for part, target in (("person", plan.partner_id), ("company", plan.root_id)):
            if part not in plan.desired or target not in self.rows:
                continue
            write, kept = merge(plan.desired[part], self.rows[target], None if base is None else base.get(part) or {})
            if write:
                plan.writes.append((target, write))
            plan.kept.update({(f"company.{k}" if part == "company" else k): v for k, v in kept.items()})

    def _plan_delivery(self, plan: Plan) -> None:
        """The shipping address, when it is not the billing one: an existing child, or a new one."""
        delivery = plan.buyer.delivery
        if delivery is None or not delivery.street:
            return
        values = {"type": "delivery", "name": delivery.name or "Envío", **address_values(delivery)}
        values.update(self._place(delivery, plan.warnings))
        if address_key(values) == address_key(address_values(plan.buyer.billing)):
            return
        plan.desired["delivery"] = list(address_key(values))
        if plan.new_root is None:  # under a partner Odoo has: reuse the same address, or add it
            known = self.deliveries.get(plan.root_id or 0, {})
            if address_key(values) in known:
                plan.delivery_id = known[address_key(values)] or None  # 0: created in this run inside its partner
            else:
                plan.new_delivery = {**values, "parent_id": plan.root_id}
        elif plan.new_person is None:
            plan.new_root["child_ids"] = [[0, 0, values]]  # in the same create; Odoo proposes it on orders
        else:
            plan.new_delivery = values  # under the new company, created with its contact

    # ------------------------------------------------------------ writes
    def apply(self, plans: list[Plan]) -> None:
        """Creates in (at most) two batched calls, then the writes; a failure is kept on its plan."""
        live = [p for p in plans if not p.blocked and not p.unchanged and p.error is None]
        if self.dry_run or not live:
            return
        first = [(p, "root", p.new_root) for p in live if p.new_root]
        first += [(p, "person", p.new_person) for p in live if p.new_person and not p.new_root]
        first += [(p, "delivery", p.new_delivery) for p in live if p.new_delivery and not p.new_root]
        self._create(first)
        second = []
        for p in live:
            if p.new_root and p.new_person and p.error is None and p.root_id:
                second.append((p, "person", {**p.new_person, "parent_id": p.root_id}))
                if p.new_delivery:
                    second.append((p, "delivery", {**p.new_delivery, "parent_id": p.root_id}))
        self._create(second)
        for p in live:
            for target, values in p.writes if p.error is None else []:
                try:
                    self.odoo.write("res.partner", [target], values)
                except IntegrationError as error:
                    p.error = error
                    break

    def _create(self, batch: list[tuple[Plan, str, dict]]) -> None:
        if not batch:
            return
        try:
            ids = self.odoo.create("res.partner", [values for _, _, values in batch])
        except PermanentError as error:
            if len(batch) == 1:
                batch[0][0].error = batch[0][0].error or error
            else:  # one refused record refuses the whole call: create them one by one to find it
                for item in batch:
                    self._create([item])
            return
        except IntegrationError as error:  # timed out (maybe created) or unreachable: the next run looks again
            for plan, _, _ in batch:
                plan.error = plan.error or error
            return
        for (plan, role, values), new_id in zip(batch, ids, strict=True):
            self._created(plan, role, values, new_id)

    def _created(self, plan: Plan, role: str, values: dict, new_id: int) -> None:
        """Keep the new record in the look-ups: a later buyer of the batch (another order of the same
        new customer) finds it by binding, e-mail or RUT instead of creating it again."""
        self._index([{**{k: v for k, v in values.items() if k != "child_ids"}, "id": new_id}])
        for _, _, child in values.get("child_ids", []):
            self.deliveries.setdefault(new_id, {})[address_key(child)] = 0  # created, id unknown
        if role == "root":
            plan.root_id = new_id
            if plan.new_person is None:
                plan.partner_id = new_id
        elif role == "person":
            plan.partner_id = new_id
        else:
            plan.delivery_id = new_id

    def bind(self, plan: Plan, *, remember: bool) -> None:
        """The binding of a buyer to its partner (`remember`: what we wrote, for the next merge)."""
        if self.dry_run or plan.partner_id is None or plan.error is not None:
            return
        extra: dict[str, Any] = {}
        if remember:
            extra = {"last_pushed_value": plan.desired, "last_pushed_hash": digest(plan.desired)}
        if remember and plan.buyer.modified:
            extra["external_updated_at"] = plan.buyer.modified
        engagement, key = self.engagement, plan.buyer.key
        if (
            Binding.objects.filter(engagement=engagement, kind="partner", odoo_id=plan.partner_id)
            .exclude(external_id=key)
            .exists()
        ):
            return  # one binding per Odoo record: a second shop identity finds it by e-mail again
        with transaction.atomic():
            binding, _ = Binding.objects.update_or_create(
                engagement=engagement,
                kind="partner",
                external_id=key,
                defaults={
                    "odoo_model": "res.partner",
                    "odoo_id": plan.partner_id,
                    "last_synced_at": timezone.now(),
                    **extra,
                },
            )
        self.bindings[key] = binding
