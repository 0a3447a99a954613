"""The consultancy's books in the fake Odoo: account, l10n_latam and l10n_cl as recorded.

`install(FakeOdoo(), l10n_cl=True)` composes this into a fake (tests/fakes/odoo.py calls in
here through its `accounting` slot): the company "Libros del Sur SpA" in CLP, its sales, bank
and cash journals, the 19 % sale tax, the SII document types 33, 34 and 61 and the RUT
identification type, and the models and methods the books use, behaving as the exchanges
recorded from a real Odoo 17 Community with account and l10n_cl (tests/fakes/data/odoo17,
files 28-36, README "Second batch"):

- a partner's RUT is stored without dots and checked (a wrong check digit is a ValidationError);
  the Chilean fields exist only with l10n_cl (elsewhere: "Invalid field", as Odoo answers);
- `account.move` out_invoice / out_refund with lines, taxes (per line, half-up to the currency's
  unit), totals, residual and payment state; the first draft of a sequence already has its
  number (`FAC 000001`), later drafts are `/` until posted; `action_post` answers false, twice is
  a UserError; the partner checks of the Chilean documents fire on post; a posted move cannot be
  deleted;
- `account.move.reversal` (`refund_moves`) and `account.payment.register`
  (`action_create_payments`) answer window actions whose `res_id` is the new record; posting the
  credit note reconciles it (invoice `reversed`, residual 0); Community never says `in_payment`;
- `l10n_cl_dte_status` exists only with `sii=True` (l10n_cl_edi, Enterprise);
- the PDF over HTTP: `/web/session/authenticate` then `/report/pdf/account.report_invoice/<id>`
  (without a web session: 303 to the login page; `wkhtmltopdf=False`: 400 HTML, as file 36), or the
  invoice's portal link (`get_portal_url`, access token) for keys the web login refuses
  (`web_password`: what the web login accepts; None: the RPC password, as in the lab).

write_date is kept with microseconds and read truncated to the second, as Odoo does.
Run on its own (the lab database with the books in it): `python -m tests.fakes.odoo_books --port 8069`.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from stdnum import exceptions as stdnum_errors
from stdnum.cl import rut as stdnum_rut

from tests.fakes.loopback import run_cli
from tests.fakes.odoo import FakeOdoo, FakeOdooServer, OdooError, _envelope

COMPANY, OTHER_COMPANY, CHILE, CLP, USD = 1, 2, 46, 45, 2
JSON = "application/json; charset=utf-8"
HTML = "text/html; charset=utf-8"
LOGIN_PAGE = b"<!DOCTYPE html><html><head><title>Odoo</title></head><body><form>Login</form></body></html>"
NO_WKHTMLTOPDF = (
    b"<!DOCTYPE html><html><head><title>Odoo</title></head><body>"
    b"Unable to find Wkhtmltopdf on this system. The PDF can not be created.</body></html>"
)
MOVE_FIELDS = {
    *("id", "name", "state", "move_type", "partner_id", "journal_id", "company_id", "currency_id", "date"),
    *("invoice_date", "invoice_date_due", "ref", "payment_reference", "invoice_line_ids", "line_ids"),
    *("amount_untaxed", "amount_tax", "amount_total", "amount_residual", "payment_state"),
    *("reversed_entry_id", "reversal_move_id", "write_date", "create_date", "access_token", "display_name"),
}
LATAM_MOVE_FIELDS = {"l10n_latam_document_type_id", "l10n_latam_document_number", "l10n_latam_use_documents"}
CHILE_PARTNER_FIELDS = {
    "l10n_latam_identification_type_id",
    "l10n_cl_sii_taxpayer_type",
    "l10n_cl_activity_description",
}
FIELDS = {
    "account.move.line": {
        *("id", "move_id", "name", "display_type", "quantity", "price_unit", "price_subtotal", "price_total"),
        *("tax_ids", "account_id", "debit", "credit", "product_id"),
    },
    "account.move.reversal": {"id", "move_ids", "reason", "journal_id", "date"},
    "account.payment.register": {
        *("id", "amount", "payment_date", "journal_id", "communication", "currency_id"),
        *("payment_difference", "payment_difference_handling"),
    },
    "account.payment": {
        *("id", "name", "state", "amount", "date", "journal_id", "partner_id", "ref", "payment_type"),
        *("partner_type", "currency_id", "reconciled_invoice_ids", "is_reconciled", "is_matched", "write_date"),
    },
    "account.journal": {"id", "name", "type", "code", "company_id"},
    "account.tax": {
        "id",
        "name",
        "description",
        "amount",
        "amount_type",
        "price_include",
        "type_tax_use",
        "company_id",
    },
    "res.currency": {"id", "name", "symbol", "decimal_places", "rounding", "active"},
    "res.company": {"id", "name", "currency_id", "country_id", "vat"},
    "ir.model.fields": {"id", "model", "name", "ttype"},
    "l10n_latam.document.type": {"id", "code", "name", "internal_type", "doc_code_prefix", "country_id", "active"},
    "l10n_latam.identification.type": {"id", "name", "country_id", "is_vat"},
}
METHODS = {
    ("account.move", "create"),
    ("account.move", "action_post"),
    ("account.move", "button_cancel"),
    ("account.move", "unlink"),
    ("account.move", "get_portal_url"),
    ("account.move.reversal", "create"),
    ("account.move.reversal", "refund_moves"),
    ("account.payment.register", "create"),
    ("account.payment.register", "action_create_payments"),
    ("account.payment", "create"),
    ("account.payment", "action_post"),
}


def _now() -> str:
    """Odoo keeps microseconds (the fake reads write_date back cut to the second, like Odoo)."""
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def pdf_document(text: str) -> bytes:
    """A one-page PDF whose page says `text` (uncompressed, so a test can find the folio in it)."""
    safe = text.encode("latin-1", "replace").replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
    stream = b"BT /F1 16 Tf 72 720 Td (" + safe + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    return out + b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)


def _rounded(value: float | Decimal, decimals: int) -> float:
    return float(Decimal(str(value)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP))


def _commands(value) -> list[int]:
    """The ids of a `[(6, 0, ids)]` many2many value (the only command the books send)."""
    ids: list[int] = []
    for command in value or []:
        if command[0] == 6:
            ids = list(command[2])
    return ids


@dataclass
class Accounting:
    odoo: FakeOdoo
    l10n_cl: bool = True
    sii: bool = False
    wkhtmltopdf: bool = True
    web_password: str | None = None
    # (model, method) -> seconds to sleep after the call was applied: the client times out although
    # Odoo committed (e.g. ("account.payment.register", "action_create_payments")).
    stall_after: dict = field(default_factory=dict)
    sessions: set[str] = field(default_factory=set)
    web_logins: list[bool] = field(default_factory=list)  # each /web/session/authenticate: accepted?
    sequences: dict = field(default_factory=dict)

    # ------------------------------------------------------------ composition hooks (tests/fakes/odoo.py)
    def known(self, model: str) -> set[str]:
        known = set(FIELDS.get(model, set()))
        if model == "account.move":
            known |= MOVE_FIELDS | (LATAM_MOVE_FIELDS if self.l10n_cl else set())
            known |= {"l10n_cl_dte_status"} if self.sii else set()
        if model == "res.partner" and self.l10n_cl:
            known |= CHILE_PARTNER_FIELDS
        if model == "account.journal" and self.l10n_cl:
            known.add("l10n_latam_use_documents")
        if model == "account.move.reversal" and self.l10n_cl:
            known |= {"l10n_latam_document_type_id", "l10n_latam_document_number", "l10n_latam_use_documents"}
        return known

    def serves(self, model: str, name: str) -> bool:
        return (model, name) in METHODS or (self.l10n_cl and (model, name) == ("res.partner", "create"))

    def after_call(self, model: str, name: str) -> None:
        if seconds := self.stall_after.get((model, name)):
            time.sleep(seconds)

    def call(self, model: str, name: str, context: dict, *args, **kwargs) -> Any:
        return getattr(self, f"{model.replace('.', '_')}_{name}")(context, *args, **kwargs)

    @property
    def data(self) -> dict:
        return self.odoo.data

    # ------------------------------------------------------------ helpers
    def _record(self, model: str, record_id: int) -> dict:
        record = self.data[model].get(record_id)
        if record is None:
            raise OdooError(
                "odoo.exceptions.MissingError",
                f"Record does not exist or has been deleted.\n(Record: {model}({record_id},), User: 2)",
            )
        return record

    def _pair(self, model: str, record_id: int) -> list:
        record = self._record(model, record_id)
        return [record_id, record.get("display_name") or record["name"]]

    def _decimals(self, move: dict) -> int:
        return self.data["res.currency"][move["currency_id"][0]]["decimal_places"]

    def _next(self, key: tuple) -> int:
        self.sequences[key] = self.sequences.get(key, 0) + 1
        return self.sequences[key]

    def _sequence_key(self, move: dict) -> tuple:
        document = move.get("l10n_latam_document_type_id")
        if document:
            return (move["journal_id"][0], self.data["l10n_latam.document.type"][document[0]]["doc_code_prefix"])
        prefix = "RINV" if move["move_type"] == "out_refund" else "INV"
        return (move["journal_id"][0], prefix, (move["invoice_date"] or "2026")[:4])

    def _number(self, move: dict) -> None:
        key = self._sequence_key(move)
        number = self._next(key)
        if len(key) == 2:  # a LATAM document: "<prefix> <6 digits>"
            move["name"], move["l10n_latam_document_number"] = f"{key[1]} {number:06d}", f"{number:06d}"
        else:
            move["name"] = f"{key[1]}/{key[2]}/{number:05d}"
        move["display_name"] = f"{move['name']} ({move['ref']})" if move["ref"] else move["name"]

    # ------------------------------------------------------------ partners (l10n_cl)
    @staticmethod
    def _each(values, create) -> int | list[int]:
        """`create` with a dict answers an id; with a list of dicts, the list of ids (Odoo's create)."""
        many = isinstance(values, list)
        ids = [create(dict(vals)) for vals in (values if many else [values])]
        return ids if many else ids[0]

    def res_partner_create(self, context, values):
        return self._each(values, self._partner)

    def _partner(self, vals: dict) -> int:
        """base_vat stores a Chilean RUT without dots and refuses a wrong check digit (file 28)."""
        if vals.get("vat"):
            try:
                compact = stdnum_rut.validate(vals["vat"])
            except stdnum_errors.ValidationError:
                raise OdooError(
                    "odoo.exceptions.ValidationError",
                    f"\nThe RUT number [{vals['vat']}] for partner [{vals.get('name')}] does not seem to be valid. "
                    "\nNote: the expected format is CL76086428-5",
                ) from None
            vals["vat"] = f"{compact[:-1]}-{compact[-1]}"
        if isinstance(vals.get("l10n_latam_identification_type_id"), int):
            vals["l10n_latam_identification_type_id"] = self._pair(
                "l10n_latam.identification.type", vals["l10n_latam_identification_type_id"]
            )
        vals.setdefault("vat", False)
        vals.setdefault("l10n_cl_sii_taxpayer_type", False)
        return self.odoo._create_one("res.partner", vals)

    # ------------------------------------------------------------ invoices and credit notes
    def account_move_create(self, context, values):
        return self._each(values, self._create_move)

    def _create_move(self, vals: dict, *, numbered: bool = True) -> int:
        self.odoo._check_fields("account.move", [k for k in vals if k != "invoice_line_ids"])
        partner = self._record("res.partner", vals.get("partner_id"))
        journal = self._record("account.journal", vals.get("journal_id") or 1)
        company = self.data["res.company"][journal["company_id"][0]]
        currency = vals.get("currency_id") or company["currency_id"][0]
        lines = [line for _cmd, _zero, line in vals.get("invoice_line_ids", [])]
        move_id = self.odoo._new_id("account.move")  # taken even if a check below fails (file 35)
        for line in lines:
            for tax in _commands(line.get("tax_ids")):
                if self._record("account.tax", tax)["company_id"][0] != company["id"]:
                    raise OdooError(
                        "odoo.exceptions.UserError",
                        f"Incompatible companies on records:\n- '/ ({vals.get('ref')}) {line.get('name')}' belongs to "
                        f"company '{company['name']}' and 'Taxes' (tax_ids: '{self.data['account.tax'][tax]['name']} "
                        "(CL)') belongs to another company.",
                    )
        move = {
            "id": move_id,
            "name": "/",
            "state": "draft",
            "move_type": vals.get("move_type", "entry"),
            "partner_id": [partner["id"], partner.get("display_name") or partner["name"]],
            "journal_id": [journal["id"], journal["name"]],
            "company_id": [company["id"], company["name"]],
            "currency_id": self._pair("res.currency", currency),
            "date": vals.get("invoice_date") or _now()[:10],
            "invoice_date": vals.get("invoice_date", False),
            "invoice_date_due": vals.get("invoice_date_due") or vals.get("invoice_date", False),
            "ref": vals.get("ref", False),
            "payment_reference": vals.get("payment_reference", False),
            "invoice_line_ids": [],
            "line_ids": [],
            "payment_state": "not_paid",
            "reversed_entry_id": vals.get("reversed_entry_id", False),
            "reversal_move_id": [],
            "access_token": False,
            "create_date": _now(),
            "write_date": _now(),
        }
        if self.l10n_cl:
            document = vals.get("l10n_latam_document_type_id")
            move["l10n_latam_document_type_id"] = self._document_pair(document) if document else False
            move["l10n_latam_document_number"] = False
            move["l10n_latam_use_documents"] = bool(journal.get("l10n_latam_use_documents"))
        if self.sii:
            move["l10n_cl_dte_status"] = "not_sent"
        move["display_name"] = f"/ ({move['ref']})" if move["ref"] else "/"
        self._lines(move, lines)
        if numbered and self._sequence_key(move) not in self.sequences:
            self._number(move)  # the first draft of its sequence already has its number (file 29)
        self.data["account.move"][move_id] = move
        return move_id

    def _document_pair(self, document_id: int) -> list:
        document = self._record("l10n_latam.document.type", document_id)
        return [document_id, f"({document['code']}) {document['name']}"]

    def _lines(self, move: dict, lines: list[dict]) -> None:
        """Product lines, one tax line, the receivable (payment term) line; per-line tax rounding (file 29)."""
        decimals = self._decimals(move)
        untaxed = tax_total = 0.0
        for line in lines:
            taxes = [self.data["account.tax"][t] for t in _commands(line.get("tax_ids"))]
            gross = float(line.get("quantity", 1)) * float(line.get("price_unit", 0))
            included = sum(t["amount"] for t in taxes if t["price_include"]) / 100
            subtotal = _rounded(gross / (1 + included), decimals)
            tax = sum(_rounded(subtotal * t["amount"] / 100, decimals) for t in taxes)
            untaxed, tax_total = untaxed + subtotal, tax_total + tax
            product = line.get("product_id")
            move["invoice_line_ids"].append(
                self._line(
                    move,
                    name=line.get("name", ""),
                    display_type="product",
                    quantity=float(line.get("quantity", 1)),
                    price_unit=float(line.get("price_unit", 0)),
                    price_subtotal=subtotal,
                    price_total=subtotal + tax,
                    tax_ids=[t["id"] for t in taxes],
                    product_id=self._pair("product.product", product) if product else False,
                    account_id=[131, "310115 Product Sales"],
                    credit=subtotal,
                )
            )
        total = _rounded(untaxed + tax_total, decimals)
        move["line_ids"] = list(move["invoice_line_ids"])
        if tax_total:
            move["line_ids"].append(
                self._line(
                    move, name="19%", display_type="tax", account_id=[97, "210710 VAT Tax Debit"], credit=tax_total
                )
            )
        receivable = {"account_id": [4, "110310 Customers"], "debit": total}
        move["line_ids"].append(
            self._line(move, name=move["payment_reference"] or "", display_type="payment_term", **receivable)
        )
        move.update(amount_untaxed=untaxed, amount_tax=tax_total, amount_total=total, amount_residual=total)

    def _line(self, move: dict, **values) -> int:
        line_id = self.odoo._new_id("account.move.line")
        self.data["account.move.line"][line_id] = {
            "id": line_id,
            "move_id": [move["id"], move["name"]],
            "quantity": 0.0,
            "price_unit": 0.0,
            "price_subtotal": 0.0,
            "price_total": 0.0,
            "tax_ids": [],
            "product_id": False,
            "debit": 0.0,
            "credit": 0.0,
            **values,
        }
        return line_id

    def account_move_action_post(self, context, ids):
        for move_id in [ids] if isinstance(ids, int) else ids:
            move = self._record("account.move", move_id)
            if move["state"] != "draft":
                raise OdooError(
                    "odoo.exceptions.UserError", f"The entry {move['name']} (id {move_id}) must be in draft."
                )
            if not move["invoice_line_ids"]:
                raise OdooError("odoo.exceptions.UserError", "You need to add a line before posting.")
            self._check_chilean_customer(move)
            if move["name"] == "/":
                self._number(move)
            move.update(state="posted", write_date=_now())
            if move["reversed_entry_id"]:
                self._reconcile_reversal(move)
        return False  # Odoo 17's action_post answers false (file 29)

    def _check_chilean_customer(self, move: dict) -> None:
        """l10n_cl's checks of an invoice (33, 34) on post: a foreign customer, a customer with no RUT."""
        document = move.get("l10n_latam_document_type_id")
        if not document or self.data["l10n_latam.document.type"][document[0]]["internal_type"] != "invoice":
            return
        partner = self.data["res.partner"][move["partner_id"][0]]
        country = partner.get("country_id")
        if not country:
            raise OdooError(
                "odoo.exceptions.ValidationError",
                "Document types for foreign customers must be export type (codes 110, 111 or 112) or you should "
                "define the customer as an end consumer and use receipts (codes 39 or 41)",
            )
        if country[0] == CHILE and not (partner.get("vat") and partner.get("l10n_cl_sii_taxpayer_type")):
            raise OdooError(
                "odoo.exceptions.ValidationError",
                "Tax payer type and vat number are mandatory for this type of document. Please set the current "
                "tax payer type of this customer",
            )

    def _reconcile_reversal(self, refund: dict) -> None:
        """Posting a credit note settles it against the invoice it reverses (file 31)."""
        invoice = self.data["account.move"][refund["reversed_entry_id"][0]]
        settled = min(invoice["amount_residual"], refund["amount_total"])
        invoice["amount_residual"] = _rounded(invoice["amount_residual"] - settled, self._decimals(invoice))
        invoice["payment_state"] = "reversed" if invoice["amount_residual"] == 0 else "partial"
        invoice["write_date"] = refund["write_date"] = _now()
        refund.update(amount_residual=0.0, payment_state="paid")

    def account_move_button_cancel(self, context, ids):
        for move_id in ids:
            move = self._record("account.move", move_id)
            if move["state"] != "draft":
                raise OdooError("odoo.exceptions.UserError", "Only draft journal entries can be cancelled.")
            move.update(state="cancel", write_date=_now())
        return None

    def account_move_unlink(self, context, ids):
        for move_id in ids:
            if self._record("account.move", move_id)["state"] == "posted":
                raise OdooError(
                    "odoo.exceptions.UserError",
                    "You can't delete a posted journal item. Don\u2019t play games with your accounting records; "
                    "reset the journal entry to draft before deleting it.",
                )
        for move_id in ids:
            self.data["account.move"].pop(move_id)
        return True

    def account_move_get_portal_url(self, context, ids, suffix=None, report_type=None, download=None, **kwargs):
        """portal.mixin.get_portal_url: the customer portal's link, with an access token made if needed."""
        move = self._record("account.move", ids[0])
        move["access_token"] = move["access_token"] or secrets.token_hex(16)
        url = f"/my/invoices/{move['id']}{suffix or ''}?access_token={move['access_token']}"
        return url + (f"&report_type={report_type}" if report_type else "") + ("&download=true" if download else "")

    # ------------------------------------------------------------ reversal wizard
    def account_move_reversal_create(self, context, values):
        vals = values[0] if isinstance(values, list) else values
        self.odoo._check_fields("account.move.reversal", list(vals))
        moves = [
            self._record("account.move", i) for i in _commands(vals.get("move_ids")) or context.get("active_ids", [])
        ]
        if not moves or any(m["state"] != "posted" for m in moves):
            raise OdooError("odoo.exceptions.UserError", "You can only reverse posted moves.")
        wizard_id = self.odoo._new_id("account.move.reversal")
        journal = vals.get("journal_id") or moves[0]["journal_id"][0]
        wizard = {
            "id": wizard_id,
            "move_ids": [m["id"] for m in moves],
            "reason": vals.get("reason", False),
            "journal_id": self._pair("account.journal", journal),
            "date": vals.get("date") or _now()[:10],
        }
        if self.l10n_cl:
            document = vals.get("l10n_latam_document_type_id")
            wizard["l10n_latam_document_type_id"] = self._document_pair(document) if document else False
            wizard["l10n_latam_use_documents"] = bool(
                self.data["account.journal"][journal].get("l10n_latam_use_documents")
            )
            wizard["l10n_latam_document_number"] = False
        self.data["account.move.reversal"][wizard_id] = wizard
        return [wizard_id] if isinstance(values, list) else wizard_id

    def account_move_reversal_refund_moves(self, context, ids):
        wizard = self._record("account.move.reversal", ids[0])
        refunds = [self._refund(self.data["account.move"][m], wizard) for m in wizard["move_ids"]]
        return {
            "name": "Reverse Moves",
            "type": "ir.actions.act_window",
            "res_model": "account.move",
            "view_mode": "form",
            "res_id": refunds[0],
            "context": {"default_move_type": "out_refund"},
        }

    def _refund(self, move: dict, wizard: dict) -> int:
        lines = [self.data["account.move.line"][i] for i in move["invoice_line_ids"]]
        values = {
            "move_type": "out_refund",
            "partner_id": move["partner_id"][0],
            "journal_id": wizard["journal_id"][0],
            "currency_id": move["currency_id"][0],
            "invoice_date": wizard["date"],
            "invoice_date_due": wizard["date"],
            "ref": f"Reversal of: {move['name']}, {wizard['reason']}",
            "reversed_entry_id": [move["id"], move["display_name"]],
            "invoice_line_ids": [
                (
                    0,
                    0,
                    {
                        "name": line["name"],
                        "quantity": line["quantity"],
                        "price_unit": line["price_unit"],
                        "tax_ids": [(6, 0, line["tax_ids"])],
                    },
                )
                for line in lines
            ],
        }
        if wizard.get("l10n_latam_document_type_id"):
            values["l10n_latam_document_type_id"] = wizard["l10n_latam_document_type_id"][0]
        refund_id = self._create_move(values, numbered=False)  # a reversal's draft is "/" (file 31)
        move["reversal_move_id"] = [*move["reversal_move_id"], refund_id]  # its one2many, draft or not
        return refund_id

    # ------------------------------------------------------------ payments
    def account_payment_register_create(self, context, values):
        if context.get("active_model") != "account.move" or not context.get("active_ids"):
            raise OdooError(
                "odoo.exceptions.UserError",
                "The register payment wizard should only be called on account.move or account.move.line records.",
            )
        vals = values[0] if isinstance(values, list) else values
        self.odoo._check_fields("account.payment.register", list(vals))
        moves = [self._record("account.move", i) for i in context["active_ids"]]
        if any(m["state"] != "posted" for m in moves):
            raise OdooError("odoo.exceptions.UserError", "You can only register payment for posted journal entries.")
        residual = sum(m["amount_residual"] for m in moves)
        if not residual:
            raise OdooError(
                "odoo.exceptions.UserError",
                "You can't register a payment because there is nothing left to pay on the selected journal items.",
            )
        wizard_id = self.odoo._new_id("account.payment.register")
        amount = vals.get("amount", residual)
        self.data["account.payment.register"][wizard_id] = {
            "id": wizard_id,
            "amount": amount,
            "payment_date": vals.get("payment_date") or _now()[:10],
            "journal_id": self._pair("account.journal", vals.get("journal_id") or 6),
            "communication": vals.get("communication") or moves[0]["name"],
            "currency_id": moves[0]["currency_id"],
            "payment_difference": residual - amount,
            "payment_difference_handling": "open",
            "move_ids": [m["id"] for m in moves],
        }
        return [wizard_id] if isinstance(values, list) else wizard_id

    def account_payment_register_action_create_payments(self, context, ids):
        wizard = self._record("account.payment.register", ids[0])
        move = self.data["account.move"][wizard["move_ids"][0]]
        payment_id = self._payment(
            payment_type="inbound",
            partner=move["partner_id"],
            amount=wizard["amount"],
            date=wizard["payment_date"],
            journal=wizard["journal_id"],
            ref=wizard["communication"],
            currency=move["currency_id"],
        )
        payment = self.data["account.payment"][payment_id]
        self._post_payment(payment)
        settled = min(move["amount_residual"], wizard["amount"])
        move["amount_residual"] = _rounded(move["amount_residual"] - settled, self._decimals(move))
        move["payment_state"] = "paid" if move["amount_residual"] == 0 else "partial"  # Community: no in_payment
        move["write_date"] = _now()
        payment.update(reconciled_invoice_ids=[move["id"]], is_reconciled=True)
        return {
            "name": "Payments",
            "type": "ir.actions.act_window",
            "res_model": "account.payment",
            "context": {"create": False},
            "view_mode": "form",
            "res_id": payment_id,
        }

    def account_payment_create(self, context, values):
        vals = values[0] if isinstance(values, list) else values
        self.odoo._check_fields("account.payment", list(vals))
        company_currency = self.data["res.company"][COMPANY]["currency_id"][0]
        payment_id = self._payment(
            payment_type=vals.get("payment_type", "inbound"),
            partner=self._pair("res.partner", vals["partner_id"]),
            amount=vals.get("amount", 0.0),
            date=vals.get("date") or _now()[:10],
            journal=self._pair("account.journal", vals.get("journal_id") or 6),
            ref=vals.get("ref", False),
            currency=self._pair("res.currency", vals.get("currency_id") or company_currency),
        )
        return [payment_id] if isinstance(values, list) else payment_id

    def _payment(self, *, payment_type, partner, amount, date, journal, ref, currency) -> int:
        payment_id = self.odoo._new_id("account.payment")
        self.data["account.payment"][payment_id] = {
            "id": payment_id,
            "name": "/",
            "state": "draft",
            "payment_type": payment_type,
            "partner_type": "customer",
            "partner_id": partner,
            "amount": float(amount),
            "date": date,
            "journal_id": journal,
            "ref": ref,
            "currency_id": currency,
            "reconciled_invoice_ids": [],
            "is_reconciled": False,
            "is_matched": False,
            "write_date": _now(),
        }
        return payment_id

    def account_payment_action_post(self, context, ids):
        for payment_id in ids:
            self._post_payment(self._record("account.payment", payment_id))
        return True

    def _post_payment(self, payment: dict) -> None:
        journal = self.data["account.journal"][payment["journal_id"][0]]
        year = payment["date"][:4]
        number = self._next(("P", journal["id"], year))
        payment.update(name=f"P{journal['code']}/{year}/{number:05d}", state="posted", write_date=_now())

    # ------------------------------------------------------------ HTTP: the web session, the PDF
    def http(self, method: str, path: str, headers, body: bytes) -> tuple | None:
        """(status, body, content type, headers) for the web routes the books use; None for the rest."""
        route = urlsplit(path)
        if method == "POST" and route.path == "/web/session/authenticate":
            return self._authenticate(json.loads(body or b"{}"))
        if method != "GET":
            return None
        if route.path.startswith("/report/pdf/"):
            return self._report(route.path, headers)
        if route.path.startswith("/my/invoices/"):
            return self._portal_pdf(route.path, parse_qs(route.query))
        if route.path in ("/web/login", "/my"):
            return 200, LOGIN_PAGE, HTML, {}
        return None

    def _authenticate(self, request: dict) -> tuple:
        params = request.get("params", {})
        accepted = self.web_password if self.web_password is not None else self.odoo.password
        ok = (params.get("db"), params.get("login"), params.get("password")) == (
            self.odoo.database,
            self.odoo.login_name,
            accepted,
        )
        self.web_logins.append(ok)
        if not ok:
            answer = _envelope(request.get("id"), error=OdooError("odoo.exceptions.AccessDenied", "Access Denied"))
            return 200, json.dumps(answer).encode(), JSON, {}
        session = secrets.token_hex(20)
        self.sessions.add(session)
        info = {
            "uid": 2,
            "is_system": True,
            "is_admin": True,
            "db": self.odoo.database,
            "name": "Administrator",
            "username": self.odoo.login_name,
            "partner_id": 3,
            "user_context": {"lang": "en_US", "tz": False, "uid": 2},
            "server_version": self.odoo.version_info["server_version"],
        }
        cookie = {"Set-Cookie": f"session_id={session}; Max-Age=604800; HttpOnly; Path=/"}
        return 200, json.dumps(_envelope(request.get("id"), info)).encode(), JSON, cookie

    def _report(self, path: str, headers) -> tuple:
        cookies = dict(part.strip().split("=", 1) for part in (headers.get("Cookie") or "").split(";") if "=" in part)
        if cookies.get("session_id") not in self.sessions:
            return 303, b"", HTML, {"Location": f"/web/login?redirect={quote(path + '?', safe='')}"}
        if not self.wkhtmltopdf:
            return 400, NO_WKHTMLTOPDF, "text/html;charset=utf-8", {}
        return self._pdf(int(path.rsplit("/", 1)[1]))

    def _portal_pdf(self, path: str, query: dict) -> tuple:
        move = self.data["account.move"].get(int(path.rstrip("/").rsplit("/", 1)[1]))
        if move is None or not move["access_token"] or query.get("access_token", [""])[0] != move["access_token"]:
            return 303, b"", HTML, {"Location": "/my"}
        return self._pdf(move["id"])

    def _pdf(self, move_id: int) -> tuple:
        move = self.data["account.move"].get(move_id)
        if move is None:
            return 404, LOGIN_PAGE, HTML, {}
        text = f"{move['name']} {move['partner_id'][1]} {move['amount_total']} {move['currency_id'][1]}"
        return 200, pdf_document(text), "application/pdf", {"Set-Cookie": "frontend_lang=en_US; Path=/"}


# ---------------------------------------------------------------- the books' database


def _ir_fields(accounting: Accounting) -> dict[int, dict]:
    present = [("account.move", "name", "char"), ("res.partner", "vat", "char")]
    if accounting.l10n_cl:
        present += [("account.move", name, "many2one") for name in sorted(LATAM_MOVE_FIELDS)]
        present += [("res.partner", name, "char") for name in sorted(CHILE_PARTNER_FIELDS)]
    if accounting.sii:
        present.append(("account.move", "l10n_cl_dte_status", "selection"))
    return {i: {"id": i, "model": m, "name": n, "ttype": t} for i, (m, n, t) in enumerate(present, start=9000)}


def _seed(accounting: Accounting) -> None:
    data, cl = accounting.data, [CHILE, "Chile"]
    data["res.country"][CHILE]["currency_id"] = [CLP, "CLP"]
    data["res.company"] = {
        COMPANY: {
            "id": COMPANY,
            "name": "Libros del Sur SpA",
            "currency_id": [CLP, "CLP"],
            "country_id": cl,
            "vat": "76086428-5",
        },
        OTHER_COMPANY: {
            "id": OTHER_COMPANY,
            "name": "Otra Empresa Ltda",
            "currency_id": [CLP, "CLP"],
            "country_id": cl,
            "vat": False,
        },
    }
    currencies = data.setdefault("res.currency", {})
    currencies.setdefault(
        USD, {"id": USD, "name": "USD", "symbol": "$", "decimal_places": 2, "rounding": 0.01, "active": True}
    )
    currencies.setdefault(CLP, {"id": CLP, "name": "CLP", "symbol": "$", "decimal_places": 0, "rounding": 1.0})
    currencies[CLP]["active"] = True  # the company's currency is always active
    company = [COMPANY, "Libros del Sur SpA"]
    data["account.tax"][1] = {
        "id": 1,
        "name": "19%",
        "description": "VAT 19% Sale",
        "amount": 19.0,
        "amount_type": "percent",
        "price_include": False,
        "type_tax_use": "sale",
        "company_id": company,
    }
    data["account.tax"][27] = {
        "id": 27,
        "name": "IVA 19% Otra",
        "description": False,
        "amount": 19.0,
        "amount_type": "percent",
        "price_include": False,
        "type_tax_use": "sale",
        "company_id": [OTHER_COMPANY, "Otra Empresa Ltda"],
    }
    data["account.journal"] = {
        1: {"id": 1, "name": "Customer Invoices", "type": "sale", "code": "INV", "company_id": company},
        6: {"id": 6, "name": "Bank", "type": "bank", "code": "BNK1", "company_id": company},
        7: {"id": 7, "name": "Cash", "type": "cash", "code": "CSH1", "company_id": company},
    }
    if accounting.l10n_cl:
        data["account.journal"][1]["l10n_latam_use_documents"] = True
        data["l10n_latam.document.type"] = {
            i: {
                "id": i,
                "code": code,
                "name": name,
                "internal_type": kind,
                "doc_code_prefix": prefix,
                "country_id": cl,
                "active": True,
            }
            for i, code, name, kind, prefix in [
                (1, "33", "Electronic Invoice", "invoice", "FAC"),
                (2, "34", "Unaffected or Exempt Electronic Invoice", "invoice", "FNA"),
                (3, "61", "Electronic Credit Note", "credit_note", "N/C"),
            ]
        }
        data["l10n_latam.identification.type"] = {4: {"id": 4, "name": "RUT", "country_id": cl, "is_vat": True}}
    for pid, name in [
        (30, "Integración Odoo Tienda Online (hito)"),
        (31, "Adicional de alcance"),
        (32, "Bolsa de horas"),
    ]:
        data["product.product"][pid] = {
            "id": pid,
            "default_code": f"SRV-{pid}",
            "barcode": False,
            "name": name,
            "lst_price": 0.0,
            "product_tmpl_id": [pid, name],
            "active": True,
            "type": "service",
            "detailed_type": "service",
            "taxes_id": [1],
            "write_date": "2026-12-07 19:50:20",
            "display_name": f"[SRV-{pid}] {name}",
            "product_template_attribute_value_ids": [],
        }
    for model in (
        "account.move",
        "account.move.line",
        "account.move.reversal",
        "account.payment.register",
        "account.payment",
    ):
        data.setdefault(model, {})
    data["ir.model.fields"] = _ir_fields(accounting)


def install(odoo: FakeOdoo, **knobs) -> Accounting:
    """Give `odoo` the consultancy's books (account + l10n_cl unless `l10n_cl=False`)."""
    accounting = Accounting(odoo, **knobs)
    odoo.accounting = accounting
    _seed(accounting)
    return accounting


if __name__ == "__main__":
    run_cli(
        lambda port: FakeOdooServer(install(FakeOdoo()).odoo, port=port),
        8069,
        "A fake Odoo 17 with the consultancy's books (account, l10n_cl).",
        "Fake Odoo 17 with the books on {url} (db lab, admin/admin). Ctrl-C stops it.",
    )
