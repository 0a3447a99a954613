"""The connection check of the consultancy's Odoo, with a verdict staff can act on.

It runs in the worker (several calls, each with a short timeout) and stores its verdict on the
connection: reachable, version, login, the company and its currency, what the localisation
installed, the rights the books need, and whether each configured id (journals, products,
taxes) is what it should be. The verdict holds codes, never a secret; pages translate them.
"""

from __future__ import annotations

from dataclasses import asdict
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from books import services
from books.models import BooksConnection, Health
from books.odoo import GatewayError, OdooGateway, PermanentError, capabilities, open_gateway, probe_major

CHECK_TIMEOUT = 10.0
RIGHTS = ("res.partner", "account.move", "account.payment", "account.journal", "account.tax")
PRODUCTS = ("service_product_id", "add_on_product_id", "hour_bank_product_id")
TAXES = ("service_tax_id", "add_on_tax_id", "hour_bank_tax_id")


def connection_check() -> dict:
    current = BooksConnection.objects.filter(pk=1).first()
    if current is None:
        return {}
    verdict = _verdict(current)
    problem = verdict.get("problem")
    BooksConnection.objects.filter(pk=1).update(
        health=_health(problem),
        last_check_at=timezone.now(),
        last_check=verdict,
        odoo_major=current.odoo_major,
    )
    if not problem:
        services.resume_paused()
    return verdict


def _health(problem: str | None) -> str:
    """Refused credentials pause the pushes; other problems (Odoo down, a setting) do not."""
    if problem in ("odoo_auth", "odoo_database"):
        return Health.FAILING
    return Health.UNKNOWN if problem else Health.OK


def _verdict(current: BooksConnection) -> dict:
    verdict: dict = {"reachable": False, "version": "", "login": False, "rights": {}, "settings": {}}
    try:
        current.odoo_major = probe_major(current, timeout=CHECK_TIMEOUT) or None
        with open_gateway(current, timeout=CHECK_TIMEOUT) as gateway:
            verdict.update(reachable=True, version=str(gateway.version))
            verdict["localisation"] = asdict(capabilities(gateway))
            verdict["login"] = True
            company = gateway.read("res.company", [current.company_id], ["name", "currency_id"])
            if not company:
                return {**verdict, "problem": "odoo_company_missing"}
            verdict["company"] = company[0]["name"]
            verdict["currency"] = company[0]["currency_id"][1] if company[0]["currency_id"] else ""
            verdict["rights"] = {model: _can_read(gateway, model) for model in RIGHTS}
            verdict["settings"] = _settings_problems(gateway, current)
    except PermanentError as error:
        return {**verdict, "reachable": True, "problem": error.code}
    except GatewayError as error:
        return {**verdict, "problem": error.code}
    if not all(verdict["rights"].values()):
        verdict["problem"] = "odoo_rights"
    elif verdict["settings"]:
        verdict["problem"] = "books_settings"
    return verdict


def _can_read(gateway: OdooGateway, model: str) -> bool:
    try:
        gateway.search_count(model, [["id", "=", 0]])
    except GatewayError:
        return False
    return True


def _settings_problems(gateway: OdooGateway, current: BooksConnection) -> dict[str, str]:
    """Each configured id that Odoo does not have, or that is not of the right kind: {setting: code}."""
    problems: dict[str, str] = {}
    for name, kinds in (("sale_journal_id", ("sale",)), ("payment_journal_id", ("bank", "cash"))):
        if journal_id := getattr(current, name):
            rows = gateway.read("account.journal", [journal_id], ["type"])
            if not rows or rows[0]["type"] not in kinds:
                problems[name] = "journal_kind" if rows else "missing"
    for name in PRODUCTS:
        if (product := getattr(current, name)) and not gateway.read("product.product", [product], ["id"]):
            problems[name] = "missing"
    rate = Decimal(settings.DEFAULT_TAX_RATE) * 100
    for name in TAXES:
        if tax := getattr(current, name):
            rows = gateway.read("account.tax", [tax], ["amount", "type_tax_use", "price_include"])
            if not rows:
                problems[name] = "missing"
            elif (
                rows[0]["type_tax_use"] != "sale" or rows[0]["price_include"] or Decimal(str(rows[0]["amount"])) != rate
            ):
                problems[name] = "tax_kind"
    return problems
