"""The books against a real Odoo 16-18 test database with `account` (and `l10n_cl` where installed).

Opt-in: set BOOKS_ODOO_URL, BOOKS_ODOO_DB, BOOKS_ODOO_LOGIN and BOOKS_ODOO_PASSWORD (a password or
an API key) for a THROWAWAY database; BOOKS_ODOO_COMPANY (default 1) is the company that issues.
Without them the module is skipped and says which are missing. Each run makes a client company
with a fresh valid RUT, so it never matches an earlier run's partner. Posted invoices, credit notes
and payments cannot be deleted in Odoo: they stay in that database (that is why it must be a
throwaway one). The journals and the 19 % sale tax are looked up in the company's chart.
"""

from __future__ import annotations

import os
import random
from decimal import Decimal

import pytest
from stdnum.cl import rut as stdnum_rut

from billing import services as billing
from books import services
from books.models import BooksPush, PushState
from engagements.integration.gateway.odoo import OdoorpcGateway
from portal.models import ClientCompany
from tests.books.conftest import committed, document, issue, pay, push_of

REQUIRED = ("BOOKS_ODOO_URL", "BOOKS_ODOO_DB", "BOOKS_ODOO_LOGIN", "BOOKS_ODOO_PASSWORD")
MISSING = [name for name in REQUIRED if not os.environ.get(name)]
pytestmark = [
    pytest.mark.skipif(
        bool(MISSING),
        reason=f"live books check: {', '.join(MISSING)} not set; set BOOKS_ODOO_URL, BOOKS_ODOO_DB, "
        "BOOKS_ODOO_LOGIN and BOOKS_ODOO_PASSWORD to run against a throwaway Odoo database with account",
    ),
    pytest.mark.django_db,
]
COMPANY = int(os.environ.get("BOOKS_ODOO_COMPANY", "1"))


def _gateway() -> OdoorpcGateway:
    return OdoorpcGateway(
        url=os.environ["BOOKS_ODOO_URL"],
        database=os.environ["BOOKS_ODOO_DB"],
        login=os.environ["BOOKS_ODOO_LOGIN"],
        api_key=os.environ["BOOKS_ODOO_PASSWORD"],
        timeout=30,
    )


def _first(gateway, model: str, domain: list) -> int:
    rows = gateway.search_read(model, domain, ["id"], limit=1)
    assert rows, f"the test database has no {model} matching {domain}"
    return rows[0]["id"]


@pytest.fixture
def live(settings, sam):
    settings.BOOKS_ODOO_TIMEOUT = 30
    gateway = _gateway()
    company = [["company_id", "=", COMPANY]]
    ids = {
        "sale_journal_id": _first(gateway, "account.journal", [["type", "=", "sale"], *company]),
        "payment_journal_id": _first(gateway, "account.journal", [["type", "=", "bank"], *company]),
        "tax": _first(
            gateway,
            "account.tax",
            [["type_tax_use", "=", "sale"], ["amount", "=", 19.0], ["price_include", "=", False], *company],
        ),
    }
    services.connection_save(
        actor=sam,
        url=os.environ["BOOKS_ODOO_URL"],
        database=os.environ["BOOKS_ODOO_DB"],
        login=os.environ["BOOKS_ODOO_LOGIN"],
        company_id=COMPANY,
        api_key=os.environ["BOOKS_ODOO_PASSWORD"],
    )
    tax = ids.pop("tax")
    services.settings_save(
        actor=sam,
        active=True,
        post_invoices=True,
        service_product_id=None,
        add_on_product_id=None,
        hour_bank_product_id=None,
        service_tax_id=tax,
        add_on_tax_id=tax,
        hour_bank_tax_id=tax,
        **ids,
    )
    return gateway


@pytest.fixture
def client_company(db) -> ClientCompany:
    digits = str(random.randint(50_000_000, 99_999_999))
    rut = digits + stdnum_rut.calc_check_digit(digits)
    return ClientCompany.objects.create(
        legal_name=f"Cliente de prueba {digits} SpA", rut=rut, address="Av. Apoquindo 4500", billing_email="p@ex.cl"
    )


def test_live_an_invoice_its_payments_both_ways_and_a_void(live, client_company, sam):
    invoice = issue(client_company)
    push = push_of(invoice)
    assert push.state == PushState.DONE, (push.reason_code, push.message)
    doc = document(invoice)
    assert doc.state == "posted" and doc.folio, doc.name
    [move] = live.read("account.move", [doc.odoo_id], ["ref", "amount_total", "partner_id"])
    assert move["ref"] == invoice.display_number and Decimal(str(move["amount_total"])) == invoice.total
    assert doc.pdf or doc.pdf_problem  # a server without wkhtmltopdf says so (README: what the books need)

    # Portal -> Odoo, once.
    payment = pay(invoice, 300000, actor=sam)
    assert BooksPush.objects.get(payment=payment).state == PushState.DONE
    assert document(invoice).payment_state == "partial"
    # Odoo -> portal, once: the accountant registers the rest there.
    context = {"active_model": "account.move", "active_ids": [doc.odoo_id]}
    values = {"amount": float(invoice.total - 300000), "journal_id": services.connection().payment_journal_id}
    wizard = live.create("account.payment.register", [values], context=context)
    live.call("account.payment.register", "action_create_payments", wizard, context=context)
    with committed():
        services.pull_run()
        services.pull_run()
    invoice.refresh_from_db()
    assert invoice.payments.count() == 2 and invoice.balance == 0 and invoice.status == "paid"

    # A void of another payment request: a credit note reversing it.
    second = issue(client_company, net="10000")
    with committed():
        note = billing.invoice_void(actor=sam, invoice=second, reason="Prueba en vivo")
    assert push_of(note, "void").state == PushState.DONE, push_of(note, "void").message
    assert document(note).state == "posted" and document(second).payment_state == "reversed"
