"""A fake Odoo 17 server speaking JSON-RPC as odoorpc 0.10.1 expects.

Behaviour follows the recorded exchanges in tests/fakes/data/odoo17 (see its
README): the JSON-RPC envelope, `common.login`, `object.execute[_kw]`, HTTP
200 for every answer with errors in `error.data`, `create` with a dict or a
list (one transaction: one refused record rolls the list back, its ids used
up), domains, `read` of missing ids giving `[]`, `action_confirm` twice
being a UserError, `write_date` kept with microseconds and read to the
second, an order's currency from its pricelist or the company. The seed data
is the lab database of the recordings (the company is in CLP here).

Knobs for tests: `latency` (seconds per call), `fail_next` (a list of error
names to answer with, one per call), `fail_on` (the same for one model and
method), `version_info` (what the server says it is), `commit_then_stall` (seconds to sleep
after a write was applied: the client times out although the server
committed), and `calls` (every (service, model, method) received).

JSON-2 (Odoo 19+): with `version_info` saying 19, `POST /json/2/<model>/<method>` is served
from the same data and methods (bearer API key = `password`, `X-Odoo-Database`, errors as
HTTP 4xx/5xx with Odoo's JSON error body); `GET /web/version` answers on 17+. Its calls are
recorded as ("json2", model, method).

Run on its own: `python -m tests.fakes.odoo --port 8069` (database `lab`,
user `admin`, password or API key `admin`).
"""

from __future__ import annotations

import copy
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.fakes.loopback import LoopbackServer, reply, run_cli

VERSION_INFO = {
    "server_version": "17.0",
    "server_version_info": [17, 0, 0, "final", 0, ""],
    "server_serie": "17.0",
    "protocol_version": 1,
}
CONTEXT = {"lang": "en_US", "tz": False, "uid": 2}
WH_STOCK, WH_RETURNS, WAREHOUSE = 8, 17, 1


class OdooError(Exception):
    def __init__(self, name: str, message: str):
        super().__init__(message)
        self.name, self.message = name, message


def _templates(products: list[dict]) -> dict[int, dict]:
    """Each product's template, as Odoo keeps them (one per `product_tmpl_id`, its variants listed)."""
    templates: dict[int, dict] = {}
    for product in products:
        product.setdefault("product_template_attribute_value_ids", [])
        tid, name = product["product_tmpl_id"]
        template = templates.setdefault(
            tid,
            {
                "id": tid,
                "name": name,
                "active": True,
                "type": product["type"],
                "detailed_type": product["detailed_type"],
                "company_id": False,
                "product_variant_ids": [],
                "write_date": product["write_date"],
            },
        )
        template["product_variant_ids"].append(product["id"])
    return templates


def _product(pid, sku, barcode, name, price, tmpl, tax, write_date):
    return {
        "id": pid,
        "default_code": sku,
        "barcode": barcode,
        "name": name,
        "lst_price": price,
        "product_tmpl_id": tmpl,
        "active": True,
        "type": "product",
        "detailed_type": "product",
        "write_date": write_date,
        "taxes_id": [tax],
        "display_name": f"[{sku}] {name}",
    }


# Odoo 17 base data (res.country.state.csv): Chile's regions are numbered, not ISO-coded ("13", not "RM").
# Chile is 46 in the lab database; the other ids are made up (not in the lab recording).
CL_STATES = [
    ("01", "Tarapacá"),
    ("02", "Antofagasta"),
    ("03", "Atacama"),
    ("04", "Coquimbo"),
    ("05", "Valparaíso"),
    ("06", "del Libertador Gral. Bernardo O'Higgins"),
    ("07", "del Maule"),
    ("08", "del BíoBio"),
    ("09", "de la Araucania"),
    ("10", "de los Lagos"),
    ("11", "Aysén del Gral. Carlos Ibáñez del Campo"),
    ("12", "Magallanes"),
    ("13", "Metropolitana"),
    ("14", "Los Ríos"),
    ("15", "Arica y Parinacota"),
    ("16", "del Ñuble"),
]


def _geo() -> dict[str, dict[int, dict]]:
    countries = {46: ("CL", "Chile"), 233: ("US", "United States"), 10: ("AR", "Argentina")}
    states = {1100 + n: (46, code, name) for n, (code, name) in enumerate(CL_STATES, start=1)}
    states[1201] = (233, "CA", "California")
    return {
        "res.country": {cid: {"id": cid, "code": code, "name": name} for cid, (code, name) in countries.items()},
        "res.country.state": {
            sid: {"id": sid, "country_id": [cid, countries[cid][1]], "code": code, "name": name}
            for sid, (cid, code, name) in states.items()
        },
    }


def seed() -> dict[str, dict[int, dict]]:
    """The lab database of the recordings (ids are the real ones)."""
    polera = [8, "Polera logo"]
    products = [
        _product(
            4,
            "CAF-1KG",
            "7801000000013",
            "Café en grano 1 kg",
            18.5,
            [4, "[CAF-1KG] Café en grano 1 kg"],
            4,
            "2026-11-23 08:49:01",
        ),
        _product(
            5,
            "TAZ-350",
            "7801000000020",
            "Taza cerámica 350 ml",
            7.9,
            [5, "[TAZ-350] Taza cerámica 350 ml"],
            3,
            "2026-11-23 08:49:02",
        ),
        _product(
            6,
            "FIL-100",
            "7801000000037",
            "Filtros de papel x100",
            3.2,
            [6, "[FIL-100] Filtros de papel x100"],
            3,
            "2026-11-23 08:49:02",
        ),
        _product(
            7,
            "PRE-1L",
            "7801000000044",
            "Prensa francesa 1 L",
            29.900000000000002,
            [7, "[PRE-1L] Prensa francesa 1 L"],
            3,
            "2026-11-23 08:49:03",
        ),
    ]
    for pid, sku, barcode, size, color in [
        (8, "POL-S-NEG", "7801000000105", "S", "Negro"),
        (9, "POL-S-BLA", "7801000000112", "S", "Blanco"),
        (10, "POL-M-NEG", "7801000000129", "M", "Negro"),
        (11, "POL-M-BLA", "7801000000136", "M", "Blanco"),
    ]:
        record = _product(pid, sku, barcode, "Polera logo", 15.0, polera, 3, "2026-11-23 08:49:05")
        record["display_name"] = f"[{sku}] Polera logo ({size}, {color})"
        products.append(record)
    # Not in the lab recording: the shop fixtures' Polera algodón variants and the
    # service products a consultant configures for shipping, fees and lines to review.
    for pid, sku, size in [(15, "POL-M-AZUL", "M"), (16, "POL-L-AZUL", "L")]:
        record = _product(
            pid, sku, f"78010000002{pid}", "Polera algodón", 11691.0, [15, "Polera algodón"], 4, "2026-11-23 08:49:06"
        )
        record["display_name"] = f"[{sku}] Polera algodón ({size}, Azul)"
        products.append(record)
    for pid, sku, name in [
        (12, "ENVIO", "Despacho"),
        (13, "RECARGO", "Recargos y descuentos"),
        (14, "REVISAR", "Producto por revisar"),
    ]:
        record = _product(pid, sku, False, name, 0.0, [pid, name], 4, "2026-11-23 08:49:06")
        record.update(type="service", detailed_type="service")
        products.append(record)
    partners = [
        {
            "id": 2512,
            "name": "Comercial Andes SpA",
            "email": "compras@andes.example",
            "is_company": True,
            "parent_id": False,
            "type": "contact",
            "vat": False,
            "country_id": [46, "Chile"],
            "display_name": "Comercial Andes SpA",
        },
        {
            "id": 2513,
            "name": "María González",
            "email": "maria.gonzalez@andes.example",
            "is_company": False,
            "parent_id": [2512, "Comercial Andes SpA"],
            "type": "contact",
            "vat": False,
            "country_id": [46, "Chile"],
            "display_name": "Comercial Andes SpA, María González",
        },
        {
            "id": 2514,
            "name": "Bodega Quilicura",
            "email": False,
            "is_company": False,
            "parent_id": [2512, "Comercial Andes SpA"],
            "type": "delivery",
            "vat": False,
            "country_id": [46, "Chile"],
            "display_name": "Comercial Andes SpA, Bodega Quilicura",
        },
    ]
    return {
        "product.product": {p["id"]: p for p in products},
        "product.template": _templates(products),
        "product.template.attribute.value": {},
        "res.partner": {p["id"]: p for p in partners},
        "account.tax": {
            3: {"id": 3, "name": "IVA 19%", "amount": 19.0, "price_include": False, "type_tax_use": "sale"},
            4: {"id": 4, "name": "IVA 19% (incl.)", "amount": 19.0, "price_include": True, "type_tax_use": "sale"},
        },
        "stock.location": {
            WH_STOCK: {
                "id": WH_STOCK,
                "name": "Stock",
                "complete_name": "WH/Stock",
                "usage": "internal",
                "warehouse_id": [1, "WH"],
            },
            WH_RETURNS: {
                "id": WH_RETURNS,
                "name": "Devoluciones",
                "complete_name": "WH/Devoluciones",
                "usage": "internal",
                "warehouse_id": [1, "WH"],
            },
        },
        "stock.warehouse": {
            WAREHOUSE: {"id": WAREHOUSE, "name": "WH", "code": "WH", "lot_stock_id": [WH_STOCK, "WH/Stock"]}
        },
        "stock.quant": {},  # inventory counts (the quantities themselves are in FakeOdoo.quants)
        "sale.order": {},
        "sale.order.line": {},
        "stock.move": {},
        "res.users": {2: {"id": 2, "name": "Administrator"}},
        **_geo(),
        "ir.model": {},
        # The lab's company was in USD (recording 27); this one is Chilean, like the shop fixtures' CLP
        # orders. A test of another company currency writes it here. Currency ids as in the lab: USD 2
        # (as pricelist 3 reads it), CLP 45 (recording 27: 0 decimals, rounding 1).
        "res.company": {1: {"id": 1, "name": "My Company", "currency_id": [45, "CLP"], "country_id": [46, "Chile"]}},
        "res.currency": {
            2: {"id": 2, "name": "USD", "active": True, "decimal_places": 2, "rounding": 0.01},
            45: {"id": 45, "name": "CLP", "active": True, "decimal_places": 0, "rounding": 1.0},
        },
        # Pricelist 3 of the lab database: CAF-1KG at a fixed 16.90, the Polera logo template at -10 %.
        "product.pricelist": {
            3: {"id": 3, "name": "Tienda Online", "display_name": "Tienda Online (USD)", "currency_id": [2, "USD"]}
        },
        "product.pricelist.item": {
            1: _rule(1, "0_product_variant", "fixed", product_id=[4, "[CAF-1KG] Café en grano 1 kg"], fixed_price=16.9),
            2: _rule(2, "1_product", "percentage", product_tmpl_id=[8, "Polera logo"], percent_price=10.0),
        },
    }


def _rule(rid: int, applied_on: str, compute_price: str, **values) -> dict:
    """A product.pricelist.item of pricelist 3 (min_quantity 0, no dates)."""
    return {
        "id": rid,
        "pricelist_id": [3, "Tienda Online (USD)"],
        "applied_on": applied_on,
        "product_id": False,
        "product_tmpl_id": False,
        "compute_price": compute_price,
        "fixed_price": 0.0,
        "percent_price": 0.0,
        **values,
    }


# Odoo keeps these with microseconds, compares domains at that precision, and reads them to the second.
STAMPS = ("write_date", "create_date")
# Fields each model accepts in domains and `fields` (beyond what records carry).
EXTRA_FIELDS = {
    "product.product": {
        "qty_available",
        "free_qty",
        "virtual_available",
        "is_storable",
        "list_price",
        "write_date",
        "create_date",
    },
    "res.partner": {
        *("child_ids", "street", "street2", "city", "phone", "mobile", "zip", "comment", "ref", "write_date"),
        *("state_id", "company_name"),
    },
    "sale.order": {
        "id",
        "name",
        "state",
        "partner_id",
        "partner_invoice_id",
        "partner_shipping_id",
        "client_order_ref",
        "origin",
        "pricelist_id",
        "order_line",
        "amount_untaxed",
        "amount_tax",
        "amount_total",
        "note",
        "commitment_date",
        "picking_ids",
        "delivery_count",
        "invoice_status",
        "invoice_ids",
        "effective_date",
        "date_order",
        "currency_id",
        "team_id",
        "write_date",
    },
    "sale.order.line": {
        "id",
        "order_id",
        "sequence",
        "product_id",
        "name",
        "product_uom_qty",
        "product_uom",
        "price_unit",
        "discount",
        "tax_id",
        "price_subtotal",
        "price_tax",
        "price_total",
    },
    "stock.move": {
        "id",
        "product_id",
        "location_id",
        "location_dest_id",
        "state",
        "quantity",
        "write_date",
        "product_uom_qty",
        "reference",
    },
    "ir.model": {"model", "name"},
    "stock.quant": {"product_id", "location_id", "inventory_quantity", "quantity"},
}
PUBLIC_METHODS = {
    "search_read",
    "read",
    "search",
    "search_count",
    "create",
    "write",
    "unlink",
    "fields_get",
    "action_confirm",
    "action_cancel",
    "name_search",
    "context_get",
    "get_contextual_price",
    "action_apply_inventory",
}


@dataclass
class FakeOdoo:
    database: str = "lab"
    login_name: str = "admin"
    password: str = "admin"
    latency: float = 0.0
    commit_then_stall: float = 0.0
    version_info: dict = field(default_factory=lambda: dict(VERSION_INFO))  # another major: "18.0", [18, ...]
    stall_models: set[str] | None = None  # only stall writes on these models (default: all)
    fail_next: list[str] = field(default_factory=list)
    # Constraints a test installs, as Odoo's @api.constrains answer: (model, values) → a ValidationError
    # message or None. Checked on create and write before anything is stored (one call, one transaction).
    constraints: list = field(default_factory=list)
    # (model, method) -> error names, one per such call (None: that call is answered as usual)
    fail_on: dict = field(default_factory=dict)
    made: list | None = None  # (model, id) taken by the create going on: rolled back if it fails
    calls: list[tuple[str, str, str]] = field(default_factory=list)
    data: dict = field(default_factory=seed)
    quants: dict = field(
        default_factory=lambda: {
            (4, WH_STOCK): 40.0,
            (4, WH_RETURNS): 3.0,
            (5, WH_STOCK): 23.0,
            (5, WH_RETURNS): 2.0,
            (7, WH_STOCK): 5.0,
            (8, WH_STOCK): 12.0,
            (10, WH_STOCK): 8.0,
        }
    )
    reserved: dict = field(default_factory=lambda: {(4, WH_STOCK): 3.0})
    accounting: Any = None  # the consultancy's books (tests/fakes/odoo_books.py install()), when composed in
    lock: threading.Lock = field(default_factory=threading.Lock)
    next_ids: dict = field(
        default_factory=lambda: {
            "sale.order": 8,
            "sale.order.line": 9,
            "res.partner": 2515,
            "stock.move": 20,
            "product.product": 17,
        }
    )

    def move(
        self, product_id: int, quantity: float, *, location: int = WH_STOCK, when: str = "2026-11-23 09:00:00"
    ) -> int:
        """A done stock move (a receipt if positive, a delivery if negative) that changes on-hand stock.
        `when` may carry microseconds ("2026-11-23 09:00:00.250000"), as Odoo stores them."""
        with self.lock:
            return self._move(product_id, quantity, location, when)

    def _move(self, product_id: int, quantity: float, location: int, when: str) -> int:
        self.quants[(product_id, location)] = self.quants.get((product_id, location), 0.0) + quantity
        mid = self._new_id("stock.move")
        product = self.data["product.product"][product_id]
        self.data["stock.move"][mid] = {
            "id": mid,
            "reference": "Fake move",
            "product_id": [product_id, product.get("display_name") or product.get("name")],
            "product_uom_qty": abs(quantity),
            "quantity": abs(quantity),
            "state": "done",
            "write_date": when,
            "location_id": [14, "Virtual Locations/Inventory adjustment"] if quantity > 0 else [location, "WH/Stock"],
            "location_dest_id": [location, "WH/Stock"] if quantity > 0 else [5, "Partners/Customers"],
        }
        return mid

    # ------------------------------------------------------------ dispatch
    def handle(self, path: str, params: dict) -> Any:
        if self.latency:
            time.sleep(self.latency)
        if path == "/web/webclient/version_info":
            return self.version_info
        if path != "/jsonrpc":
            raise OdooError("odoo.http.SessionExpiredException", "Session expired")
        service, method, args = params.get("service"), params.get("method"), params.get("args", [])
        if self.fail_next:
            raise OdooError(self.fail_next.pop(0), "injected failure")
        if service == "common" and method == "login":
            return self._login(*args)
        if service == "common" and method == "version":
            return self.version_info
        if service == "db" and method == "list":
            return [self.database]
        if service == "object" and method in ("execute", "execute_kw"):
            db, uid, password, model, name, *rest = args
            self._check_db(db)
            if uid != 2 or password != self.password:
                raise OdooError("odoo.exceptions.AccessDenied", "Access Denied")
            call_args = rest[0] if method == "execute_kw" and rest else rest
            kwargs = rest[1] if method == "execute_kw" and len(rest) > 1 else {}
            return self._execute("object", model, name, list(call_args), dict(kwargs))
        raise OdooError("builtins.KeyError", f"unknown service {service}")

    def _execute(self, service: str, model: str, name: str, args: list, kwargs: dict) -> Any:
        self.calls.append((service, model, name))
        if self.fail_on.get((model, name)) and (failure := self.fail_on[(model, name)].pop(0)):
            raise OdooError(failure, "injected failure")
        with self.lock:
            result = self._call(model, name, args, kwargs)
        if name in ("create", "write") and self.commit_then_stall and model in (self.stall_models or {model}):
            time.sleep(self.commit_then_stall)  # committed; the client may give up meanwhile
        if self.accounting is not None:
            self.accounting.after_call(model, name)  # the same, after an accounting action (a wizard's)
        return result

    # ------------------------------------------------------------ JSON-2 (Odoo 19+)
    def web_version(self) -> tuple[int, Any]:
        """GET /web/version: Odoo 17+ (16 answers 404)."""
        info = self.version_info
        if info["server_version_info"][0] < 17:
            return 404, None
        return 200, {"version_info": info["server_version_info"], "version": info["server_version"]}

    def json2(self, path: str, authorization: str, database: str | None, body: dict) -> tuple[int, Any]:
        """`POST /json/2/<model>/<method>` as Odoo 19 answers it: (HTTP status, JSON body). None as the
        body: an HTML page (no JSON-2 route: before 19, or an unknown database)."""
        if self.latency:
            time.sleep(self.latency)
        if self.version_info["server_version_info"][0] < 19 or database not in (None, self.database):
            return 404, None
        scheme, _, key = authorization.partition(" ")
        if scheme.lower() != "bearer" or key != self.password:
            return 401, _json2_error(OdooError("werkzeug.exceptions.Unauthorized", "Invalid apikey"), 401)
        model, _, name = path.removeprefix("/json/2/").partition("/")
        params = dict(body)
        args = [params.pop("ids")] if "ids" in params else []
        kwargs = {JSON2_NAMES.get(k, k): v for k, v in params.items()}  # create(vals_list), write(vals)
        try:
            if model not in self.data:
                raise OdooError("werkzeug.exceptions.NotFound", f"the model {model!r} does not exist")
            if self.fail_next:
                raise OdooError(self.fail_next.pop(0), "injected failure")
            return 200, self._execute("json2", model, name, args, kwargs)
        except OdooError as error:
            status = JSON2_STATUS.get(error.name.rsplit(".", 1)[-1], 500)
            return status, _json2_error(error, status)

    def _check_db(self, db: str) -> None:
        if db != self.database:
            raise OdooError(
                "psycopg2.OperationalError",
                f'connection to server at "127.0.0.1", port 5433 failed: FATAL:  database "{db}" does not exist\n',
            )

    def _login(self, db: str, login: str, password: str):
        self._check_db(db)
        self.calls.append(("common", "", "login"))
        return 2 if (login, password) == (self.login_name, self.password) else False

    def _call(self, model: str, name: str, args: list, kwargs: dict) -> Any:
        if model not in self.data:
            raise OdooError("odoo.exceptions.UserError", f"Object {model} doesn't exist")
        if name.startswith("_"):
            raise OdooError(
                "odoo.exceptions.AccessError", f"Private methods (such as {name}) cannot be called remotely."
            )
        if self.accounting is not None and self.accounting.serves(model, name):
            return self.accounting.call(model, name, kwargs.pop("context", {}) or {}, *args, **kwargs)
        if name not in PUBLIC_METHODS:
            raise OdooError("builtins.AttributeError", f"The method '{name}' does not exist on the model '{model}'")
        context = kwargs.pop("context", {}) or {}
        return getattr(self, f"m_{name}")(model, context, *args, **kwargs)

    # ------------------------------------------------------------ fields and domains
    def _known(self, model: str) -> set[str]:
        keys = set().union(*(r.keys() for r in self.data[model].values())) if self.data[model] else set()
        known = keys | EXTRA_FIELDS.get(model, set()) | {"id"}
        if self.accounting is not None:
            known |= self.accounting.known(model)
        if model in ("product.product", "product.template"):  # Odoo 18: detailed_type became is_storable
            known -= {"is_storable"} if self.version_info["server_version_info"][0] < 18 else {"detailed_type"}
        return known

    def _value(self, model: str, record: dict, name: str, context: dict):
        if name in STAMPS and record.get(name):  # stored with microseconds, read to the second (recording 08)
            return record[name][:19]
        if model == "product.product" and name in ("qty_available", "free_qty", "virtual_available"):
            return self._quantity(record["id"], name, context)
        if name == "is_storable":  # Odoo 18: a goods product ("consu") with its stock tracked
            return record.get("detailed_type") == "product"
        if name == "type" and record.get("type") == "product" and self.version_info["server_version_info"][0] >= 18:
            return "consu"  # Odoo 18 has no "product" type: storable goods are "consu" + is_storable
        if name == "write_date" and isinstance(record.get(name), str):
            return record[name][:19]  # Odoo stores microseconds and reads the second (README, notable facts)
        return record.get(name, False)

    def _quantity(self, pid: int, name: str, context: dict) -> float:
        locations = [context["location"]] if context.get("location") else [WH_STOCK, WH_RETURNS]
        on_hand = sum(self.quants.get((pid, loc), 0.0) for loc in locations)
        reserved = sum(self.reserved.get((pid, loc), 0.0) for loc in locations)
        return float(on_hand if name == "qty_available" else on_hand - reserved)

    def _matches(self, model: str, record: dict, domain: list, context: dict) -> bool:
        """Odoo's prefix notation: '|', '&', '!' apply to the terms that follow; the rest are ANDed."""
        if isinstance(domain, dict):
            raise OdooError(
                "builtins.AssertionError",
                "Domains to normalize must have a 'domain' form: a list or tuple of domain components",
            )
        stack: list[bool] = []
        for token in reversed(domain):
            if token in ("|", "&"):
                first, second = stack.pop(), stack.pop()
                stack.append(first or second if token == "|" else first and second)
            elif token == "!":
                stack.append(not stack.pop())
            else:
                stack.append(self._leaf(model, record, token, context))
        return all(stack)

    def _leaf(self, model: str, record: dict, leaf: list, context: dict) -> bool:
        name, op, value = leaf
        if name.split(".")[0] not in self._known(model):
            raise OdooError(
                "builtins.ValueError", f"Invalid field {model}.{name} in leaf {tuple(leaf)!r}".replace('"', "'")
            )
        actual = record.get(name, False) if name in STAMPS else self._value(model, record, name, context)
        if isinstance(actual, list) and len(actual) == 2 and isinstance(actual[0], int):
            actual = actual[0]  # many2one compares by id
        if op == "=":
            return actual == value or (value is False and actual in (False, None))
        if op == "!=":
            return actual != value
        if op == "in":
            return actual in value
        if op == "not in":
            return actual not in value
        if op in ("=ilike", "ilike"):
            text = str(actual or "").lower()
            return text == str(value).lower() if op == "=ilike" else str(value).lower() in text
        if op in (">", ">=", "<", "<="):
            if actual in (False, None):
                return False
            return {">": actual > value, ">=": actual >= value, "<": actual < value, "<=": actual <= value}[op]
        raise OdooError("builtins.ValueError", f"Invalid leaf {leaf}")

    def _check_fields(self, model: str, fields: list[str] | None) -> None:
        for name in fields or []:
            if name not in self._known(model):
                raise OdooError("builtins.ValueError", f"Invalid field '{name}' on model '{model}'")

    def _project(self, model: str, record: dict, fields: list[str] | None, context: dict) -> dict:
        names = fields or [k for k in record if k != "display_name"]
        out = {"id": record["id"]}
        for name in names:
            if name != "id":
                out[name] = copy.deepcopy(self._value(model, record, name, context))
        return out

    def _search(self, model: str, domain: list, context: dict, offset=0, limit=None, order=None) -> list[dict]:
        found = [r for r in self.data[model].values() if self._matches(model, r, domain, context)]
        if order:
            for part in reversed(order.split(",")):
                key, *direction = part.strip().split()
                found.sort(key=lambda r, k=key: (r.get(k) is False, r.get(k) or ""), reverse=direction == ["desc"])
        elif model == "product.product":
            found.sort(key=lambda r: (r.get("default_code") or "", r["name"], r["id"]))
        else:
            found.sort(key=lambda r: r["id"])
        return found[offset : offset + limit if limit else None]

    # ------------------------------------------------------------ methods
    def m_context_get(self, model, context):
        return dict(CONTEXT)

    def m_search_read(self, model, context, domain=(), fields=None, offset=0, limit=None, order=None):
        if not isinstance(limit, int | type(None)):
            raise OdooError(
                "psycopg2.errors.InvalidTextRepresentation", f'invalid input syntax for type integer: "{limit}"'
            )
        self._check_fields(model, fields)
        return [
            self._project(model, r, fields, context)
            for r in self._search(model, list(domain), context, offset, limit, order)
        ]

    def m_search(self, model, context, domain=(), offset=0, limit=None, order=None):
        return [r["id"] for r in self._search(model, list(domain), context, offset, limit, order)]

    def m_search_count(self, model, context, domain=()):
        return len(self._search(model, list(domain), context))

    def m_read(self, model, context, ids, fields=None, **kwargs):
        ids = [ids] if isinstance(ids, int) else ids
        self._check_fields(model, fields)
        return [self._project(model, self.data[model][i], fields, context) for i in ids if i in self.data[model]]

    def m_fields_get(self, model, context, *args, **kwargs):
        return {name: {"string": name, "type": "char"} for name in sorted(self._known(model))}

    def m_name_search(self, model, context, name="", args=None, operator="ilike", limit=100):
        hits = [
            r
            for r in self._search(model, list(args or []), context)
            if name.lower() in str(r.get("display_name") or r.get("name")).lower()
        ]
        return [[r["id"], r.get("display_name") or r["name"]] for r in hits[:limit]]

    def m_get_contextual_price(self, model, context, ids):
        """Odoo 17 `product.product.get_contextual_price`: public, one product (`ensure_one`), priced
        by the pricelist in `context["pricelist"]` (first applicable rule: variant, then template,
        then global), or at `lst_price` without one. Only fixed and percentage rules are modelled."""
        ids = [ids] if isinstance(ids, int) else ids
        if model != "product.product":
            raise OdooError("builtins.AttributeError", f"The method 'get_contextual_price' does not exist on '{model}'")
        if len(ids) != 1:
            raise OdooError("builtins.ValueError", f"Expected singleton: {model}({', '.join(map(str, ids))},)")
        product = self.data[model].get(ids[0])
        if product is None:
            raise OdooError("odoo.exceptions.MissingError", "Record does not exist or has been deleted.")
        pricelist = context.get("pricelist")
        if not pricelist:
            return product["lst_price"]
        if pricelist not in self.data["product.pricelist"]:
            raise OdooError(
                "odoo.exceptions.MissingError",
                f"Record does not exist or has been deleted.\n(Record: product.pricelist({pricelist},), User: 2)",
            )
        rules = sorted(
            (r for r in self.data["product.pricelist.item"].values() if r["pricelist_id"][0] == pricelist),
            key=lambda r: (r["applied_on"], r["id"]),
        )
        for rule in rules:
            if rule["applied_on"] == "0_product_variant" and (rule["product_id"] or [None])[0] != product["id"]:
                continue
            template = (rule["product_tmpl_id"] or [None])[0]
            if rule["applied_on"] == "1_product" and template != product["product_tmpl_id"][0]:
                continue
            if rule["compute_price"] == "fixed":
                return rule["fixed_price"]
            return product["lst_price"] * (1 - rule["percent_price"] / 100)
        return product["lst_price"]

    def m_action_apply_inventory(self, model, context, ids):
        """stock.quant: each count becomes the on-hand quantity, through a done move (an inventory
        adjustment), dated now with microseconds as Odoo stores them."""
        now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        for quant in [self.data[model][i] for i in ([ids] if isinstance(ids, int) else ids)]:
            product_id, location = quant["product_id"], quant["location_id"]
            counted = float(quant.get("inventory_quantity") or 0.0)
            difference = counted - self.quants.get((product_id, location), 0.0)
            if difference:
                self._move(product_id, difference, location, now)
        return True

    def _constrain(self, model: str, values: list[dict]) -> None:
        for vals in values:
            for check in self.constraints:
                if message := check(model, vals):
                    raise OdooError("odoo.exceptions.ValidationError", message)

    def _many2one(self, model: str, vals: dict) -> dict:
        """res.partner many2one values given as ids read back as [id, display name], as Odoo's do."""
        relations = {"parent_id": "res.partner", "country_id": "res.country", "state_id": "res.country.state"}
        if model != "res.partner":
            return vals
        out = dict(vals)
        for name, relation in relations.items():
            if isinstance(out.get(name), int) and out[name] in self.data[relation]:
                target = self.data[relation][out[name]]
                out[name] = [target["id"], target.get("display_name") or target["name"]]
        return out

    def m_create(self, model, context, values):
        """One call, one transaction (recording 26): a record refused rolls the whole list back, but the
        ids (and the sale orders' names) it took are used up, as PostgreSQL sequences are."""
        many = isinstance(values, list)
        self._constrain(model, values if many else [values])
        self.made = []
        try:
            ids = [self._create_one(model, vals) for vals in (values if many else [values])]
        except OdooError:
            for made_model, made_id in self.made:
                self.data[made_model].pop(made_id, None)
            raise
        finally:
            self.made = None
        return ids if many else ids[0]

    def m_write(self, model, context, ids, values):
        for i in [ids] if isinstance(ids, int) else ids:
            if i not in self.data[model]:
                raise OdooError(
                    "odoo.exceptions.MissingError",
                    f"Record does not exist or has been deleted.\n(Record: {model}({i},), User: 2)",
                )
        self._constrain(model, [values])
        for i in [ids] if isinstance(ids, int) else ids:
            self.data[model][i].update(self._many2one(model, values))
        return True

    def m_unlink(self, model, context, ids):
        for i in [ids] if isinstance(ids, int) else ids:
            if self.data[model].pop(i, None) is None:
                raise OdooError(
                    "odoo.exceptions.MissingError",
                    f"Record does not exist or has been deleted.\n(Record: {model}({i},), User: 2)",
                )
        return True

    def m_action_confirm(self, model, context, ids):
        orders = [self.data[model][i] for i in ids]
        pending = [o for o in orders if o["state"] != "draft"]
        if pending:
            names = ", ".join(o["name"] for o in pending)
            raise OdooError(
                "odoo.exceptions.UserError", f"The following orders are not in a state requiring confirmation: {names}"
            )
        for order in orders:
            order.update(state="sale", picking_ids=[order["id"] - 3], delivery_count=1, invoice_status="to invoice")
        return True

    def m_action_cancel(self, model, context, ids):
        """Odoo 16-18: a confirmed order asks through a wizard unless `disable_cancel_warning` is set."""
        orders = [self.data[model][i] for i in ids]
        if any(o["state"] == "sale" for o in orders) and not context.get("disable_cancel_warning"):
            return {"type": "ir.actions.act_window", "res_model": "sale.order.cancel", "target": "new"}
        for order in orders:
            order["state"] = "cancel"
        return True

    def _address_get(self, partner_id: int, kind: str) -> int:
        """res.partner.address_get: the first child contact of that type, else the partner itself."""
        children = [p for p in self.data["res.partner"].values() if (p.get("parent_id") or [None])[0] == partner_id]
        return next((p["id"] for p in sorted(children, key=lambda p: p["id"]) if p.get("type") == kind), partner_id)

    def _new_id(self, model: str) -> int:
        self.next_ids[model] = self.next_ids.get(model, 1) + 1
        if self.made is not None:
            self.made.append((model, self.next_ids[model] - 1))
        return self.next_ids[model] - 1

    def _create_one(self, model: str, vals: dict) -> int:
        self._check_fields(model, [k for k in vals if k not in ("child_ids", "order_line")])
        if model == "sale.order":
            return self._create_order(vals)
        if (
            model == "product.product"
            and vals.get("barcode")
            and any(p.get("barcode") == vals["barcode"] for p in self.data[model].values())
        ):
            raise OdooError(
                "odoo.exceptions.ValidationError", f'Barcode(s) already assigned:\n\n- Barcode "{vals["barcode"]}"'
            )
        record = {"id": self._new_id(model), **{k: v for k, v in vals.items() if k != "child_ids"}}
        if model == "product.product":  # Odoo's defaults for what a create leaves out
            defaults = {"lst_price": vals.get("list_price", 1.0), "taxes_id": [], "active": True, "barcode": False}
            record = {"default_code": False, "type": "consu", "detailed_type": "consu", **defaults, **record}
            record.setdefault("display_name", record.get("name"))
        if model == "res.partner":
            record.setdefault("display_name", record.get("name"))
            record = self._many2one(model, record)  # many2one values read back as [id, name]
            for command in vals.get("child_ids", []):
                self._create_one(model, {**command[2], "parent_id": [record["id"], record.get("name")]})
        self.data[model][record["id"]] = record
        return record["id"]

    def _create_order(self, vals: dict) -> int:
        if not vals.get("partner_id"):
            raise OdooError(
                "odoo.exceptions.ValidationError",
                "The operation cannot be completed:\n- Create/update: a mandatory field is not set.\n- Delete: another "
                "model requires the record being deleted. If possible, archive it instead.\n\nModel: Sales Order "
                "(sale.order)\nField: Customer (partner_id)\n",
            )
        oid = self._new_id("sale.order")
        partner = self.data["res.partner"].get(vals["partner_id"], {})
        order = {
            "id": oid,
            "name": f"S{oid:05d}",
            "state": "draft",
            "order_line": [],
            "partner_id": [vals["partner_id"], partner.get("display_name", "")],
            "client_order_ref": vals.get("client_order_ref", False),
            "origin": vals.get("origin", False),
            "note": vals.get("note", False),
            "picking_ids": [],
            "delivery_count": 0,
            "invoice_status": "no",
            "invoice_ids": [],
            "effective_date": False,
            **self._pricing(vals.get("pricelist_id")),
        }
        for key, kind in (("partner_invoice_id", "invoice"), ("partner_shipping_id", "delivery")):
            pid = vals.get(key) or self._address_get(vals["partner_id"], kind)
            order[key] = [pid, self.data["res.partner"].get(pid, {}).get("display_name", "")]
        for sequence, (_cmd, _zero, line) in enumerate(vals.get("order_line", []), start=1):
            order["order_line"].append(self._create_line(oid, line, sequence * 10))
        untaxed = sum(self.data["sale.order.line"][i]["price_subtotal"] for i in order["order_line"])
        tax = sum(self.data["sale.order.line"][i]["price_tax"] for i in order["order_line"])
        order.update(amount_untaxed=round(untaxed, 2), amount_tax=round(tax, 2), amount_total=round(untaxed + tax, 2))
        self.data["sale.order"][oid] = order
        return oid

    def _pricing(self, pricelist_id: int | None) -> dict:
        """An order's pricelist and currency: the pricelist's, else the company's (recording 27).
        Prices are taken as given: like Odoo without a rate, nothing is converted."""
        pricelist = self.data["product.pricelist"].get(pricelist_id) if pricelist_id else None
        if pricelist_id and pricelist is None:
            raise OdooError(
                "odoo.exceptions.MissingError",
                f"Record does not exist or has been deleted.\n(Record: product.pricelist({pricelist_id},), User: 2)",
            )
        if pricelist is None:
            return {"pricelist_id": False, "currency_id": list(self.data["res.company"][1]["currency_id"])}
        name = pricelist.get("display_name") or pricelist["name"]
        return {"pricelist_id": [pricelist["id"], name], "currency_id": list(pricelist["currency_id"])}

    def _create_line(self, order_id: int, line: dict, sequence: int) -> int:
        product = self.data["product.product"].get(line.get("product_id"))
        if product is None:
            raise OdooError("odoo.exceptions.MissingError", "Record does not exist or has been deleted.")
        qty = float(line.get("product_uom_qty", 1))
        price = float(line.get("price_unit", product["lst_price"]))
        field, gone = (
            ("tax_ids", "tax_id") if self.version_info["server_version_info"][0] >= 19 else ("tax_id", "tax_ids")
        )
        if gone in line:  # Odoo 19 renamed the line's taxes field
            raise OdooError("builtins.ValueError", f"Invalid field '{gone}' on model 'sale.order.line'")
        taxes = [c[2] for c in line.get(field, []) if c[0] == 6]
        tax_ids = taxes[0] if taxes else product["taxes_id"]
        gross = qty * price * (1 - float(line.get("discount", 0)) / 100)
        included = any(self.data["account.tax"][t]["price_include"] for t in tax_ids)
        subtotal = gross / 1.19 if included else gross
        tax = gross - subtotal if included else gross * 0.19 * bool(tax_ids)
        lid = self._new_id("sale.order.line")
        self.data["sale.order.line"][lid] = {
            "id": lid,
            "order_id": [order_id, f"S{order_id:05d}"],
            "sequence": sequence,
            "product_id": [product["id"], product["display_name"]],
            "name": line.get("name", product["display_name"]),
            "product_uom_qty": qty,
            "product_uom": [1, "Units"],
            "price_unit": price,
            "discount": float(line.get("discount", 0)),
            field: tax_ids,
            "price_subtotal": round(subtotal, 2),
            "price_tax": round(tax, 2),
            "price_total": round(subtotal + tax, 2),
        }
        return lid


# JSON-2 answers errors with an HTTP status (by exception class) and `name`, `message`, `arguments`, …
JSON2_STATUS = {
    "Unauthorized": 401,
    "AccessDenied": 401,
    "AccessError": 403,
    "NotFound": 404,
    "MissingError": 404,
    "AttributeError": 404,  # an unknown method
    "UserError": 422,
    "ValidationError": 422,
    "ValueError": 422,
    "TypeError": 422,
    "AssertionError": 422,
    "InvalidTextRepresentation": 422,
}
JSON2_NAMES = {"vals_list": "values", "vals": "values"}  # Odoo's parameter names → the fake's


def _json2_error(error: OdooError, status: int) -> dict:
    return {
        "name": error.name,
        "message": error.message,
        "arguments": [error.message, status],
        "context": {},
        "debug": "Traceback (most recent call last):\n  (fake)\n",
    }


def _envelope(request_id, result=None, error: OdooError | None = None) -> dict:
    if error is None:
        return {"jsonrpc": "2.0", "id": request_id, "result": result}
    code, message = (100, "Odoo Session Expired") if "SessionExpired" in error.name else (200, "Odoo Server Error")
    return {
        "jsonrpc": "2.0",
        "id": None if code == 100 else request_id,
        "error": {
            "code": code,
            "message": message,
            "data": {
                "name": error.name,
                "debug": "Traceback (most recent call last):\n  (fake)\n",
                "message": error.message,
                "arguments": [error.message],
                "context": {},
            },
        },
    }


class FakeOdooServer(LoopbackServer):
    """The fake on a real loopback HTTP server, in a background thread."""

    def __init__(self, odoo: FakeOdoo | None = None, port: int = 0):
        self.odoo = odoo or FakeOdoo()
        fake = self.odoo

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, status: int, payload: Any) -> None:
                if payload is None:
                    reply(self, status, b"<html><body>Not Found</body></html>", "text/html; charset=utf-8", {})
                else:
                    reply(self, status, json.dumps(payload).encode(), "application/json; charset=utf-8", {})

            def _accounting(self, raw: bytes) -> bool:
                """The books' web routes (session login, PDFs) when the accounting is composed in."""
                answer = fake.accounting.http(self.command, self.path, self.headers, raw) if fake.accounting else None
                if answer is not None:
                    reply(self, *answer)
                return answer is not None

            def do_GET(self):
                if not self._accounting(b""):
                    self._answer(*(fake.web_version() if self.path == "/web/version" else (404, None)))

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self._accounting(raw):
                    return
                body = json.loads(raw or b"{}")
                if self.path.startswith("/json/2/"):
                    auth, database = self.headers.get("Authorization", ""), self.headers.get("X-Odoo-Database")
                    return self._answer(*fake.json2(self.path, auth, database, body))
                try:
                    answer = _envelope(body.get("id"), fake.handle(self.path, body.get("params", {})))
                except OdooError as error:
                    answer = _envelope(body.get("id"), error=error)
                cookie = {"Set-Cookie": "session_id=fake; Max-Age=604800; HttpOnly; Path=/"}
                headers = cookie if self.path == "/web/webclient/version_info" else {}
                reply(self, 200, json.dumps(answer).encode(), "application/json; charset=utf-8", headers)

            def log_message(self, *args):
                pass

        super().__init__(Handler, port)


if __name__ == "__main__":
    run_cli(
        lambda port: FakeOdooServer(port=port),
        8069,
        __doc__.splitlines()[0],
        "Fake Odoo 17 on {url} (db lab, admin/admin). Ctrl-C stops it.",
    )
