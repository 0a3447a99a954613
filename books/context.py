"""One pass's view of the consultancy's Odoo: the gateway, what is installed, and the lookups a
pass makes once (country, RUT type, document types, journals, taxes, currencies, the company).

Configured ids (journals, taxes) are checked against Odoo before they are used: a tax whose rate
is not the document's, or a journal of another kind, stops the push with a reason staff can act
on instead of an invoice with the wrong amounts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property

from books.models import BooksConnection
from books.odoo import Capabilities, OdooGateway
from books.runs import NeedsAttention

MOVE = "account.move"


@dataclass
class Pass:
    gateway: OdooGateway
    caps: Capabilities
    connection: BooksConnection
    _cache: dict = field(default_factory=dict)

    def _once(self, key, lookup):
        if key not in self._cache:
            self._cache[key] = lookup()
        return self._cache[key]

    def _first_id(self, model: str, domain: list, missing: str) -> int:
        rows = self.gateway.search_read(model, domain, ["id"], limit=1)
        if not rows:
            raise NeedsAttention(missing)
        return rows[0]["id"]

    # ---------------------------------------------------------------- Chile
    @cached_property
    def chile(self) -> int:
        return self._first_id("res.country", [["code", "=", "CL"]], "odoo_no_chile")

    @cached_property
    def rut_type(self) -> int:
        domain = [["name", "=", "RUT"], ["country_id", "=", self.chile]]
        return self._first_id("l10n_latam.identification.type", domain, "odoo_no_rut_type")

    def document_type(self, code: str) -> int:
        domain = [["code", "=", code], ["country_id", "=", self.chile]]
        return self._once(("doc", code), lambda: self._first_id("l10n_latam.document.type", domain, "odoo_no_doc_type"))

    # ---------------------------------------------------------------- company, journals, money
    @cached_property
    def company_currency(self) -> str:
        rows = self.gateway.read("res.company", [self.connection.company_id], ["name", "currency_id"])
        if not rows:
            raise NeedsAttention("odoo_company_missing")
        return rows[0]["currency_id"][1] if rows[0]["currency_id"] else ""

    def currency_id(self, code: str) -> int | None:
        """The currency to set on a document: none for the company's own (Odoo's default)."""
        if code == self.company_currency:
            return None

        def lookup() -> int:
            domain = [["name", "=", code], ["active", "in", [True, False]]]
            rows = self.gateway.search_read("res.currency", domain, ["id", "active"], limit=1)
            if not rows or not rows[0]["active"]:
                raise NeedsAttention("odoo_currency_inactive", code)
            return rows[0]["id"]

        return self._once(("currency", code), lookup)

    def journal(self, journal_id: int | None = None) -> dict:
        """The sales journal (configured, else the company's first), with whether it uses LATAM documents."""
        fields = ["id", "name", "type"] + (["l10n_latam_use_documents"] if self.caps.documents else [])

        def lookup() -> dict:
            if journal_id:
                rows = self.gateway.read("account.journal", [journal_id], fields)
            else:
                domain = [["type", "=", "sale"], ["company_id", "=", self.connection.company_id]]
                rows = self.gateway.search_read("account.journal", domain, fields, limit=1)
            if not rows or rows[0]["type"] != "sale":
                raise NeedsAttention("odoo_sale_journal")
            return rows[0]

        return self._once(("journal", journal_id), lookup)

    def uses_documents(self, journal_id: int | None = None) -> bool:
        return self.caps.documents and bool(self.journal(journal_id).get("l10n_latam_use_documents"))

    def check_tax(self, tax_id: int, rate: Decimal) -> None:
        """The configured tax must be a sale tax, not included in the price, at the document's rate."""

        def lookup() -> dict:
            rows = self.gateway.read("account.tax", [tax_id], ["amount", "type_tax_use", "price_include"])
            return rows[0] if rows else {}

        tax = self._once(("tax", tax_id), lookup)
        if not tax or tax["type_tax_use"] != "sale" or tax["price_include"]:
            raise NeedsAttention("odoo_tax_unusable", str(tax_id))
        if Decimal(str(tax["amount"])) != rate * 100:
            raise NeedsAttention("odoo_tax_rate", f"{tax['amount']} % ≠ {(rate * 100).normalize()} %")
