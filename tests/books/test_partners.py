"""Each client company is one res.partner in the consultancy's Odoo: found by RUT (stored undotted
there), then by our marker, created once, never twice across retries."""

import pytest

from books import services
from books.models import BooksPartner, PushState
from tests.books.conftest import issue, push_of

pytestmark = pytest.mark.django_db
ANDES_VAT = "76543210-3"  # andes' RUT 765432103, as Odoo stores it


def _partners(books, vat=ANDES_VAT) -> list[dict]:
    return books.records("res.partner", vat=vat)


def test_a_company_is_pushed_once_across_retries(connected, andes, in_a_while):
    """The partner is created, then the invoice's create fails (a serialization failure, retryable):
    the retry finds the partner and creates only the invoice; a second document reuses it."""
    connected.odoo.fail_on[("account.move", "create")] = ["psycopg2.errors.SerializationFailure"]
    invoice = issue(andes)
    assert push_of(invoice).state == PushState.PENDING and push_of(invoice).reason_code == "odoo_unavailable"
    assert len(_partners(connected)) == 1
    services.retry_due(now=in_a_while)
    assert push_of(invoice).state == PushState.DONE
    second = issue(andes)
    assert push_of(second).state == PushState.DONE
    [partner] = _partners(connected)
    assert {m["partner_id"][0] for m in connected.records("account.move")} == {partner["id"]}
    assert BooksPartner.objects.get(company=andes).odoo_id == partner["id"]


def test_a_partner_create_that_committed_but_timed_out_is_found_by_its_rut(connected, andes, settings, in_a_while):
    settings.BOOKS_ODOO_TIMEOUT = 1
    connected.odoo.commit_then_stall, connected.odoo.stall_models = 1.5, {"res.partner"}
    invoice = issue(andes)
    assert push_of(invoice).reason_code == "odoo_write_ambiguous"
    connected.odoo.commit_then_stall = 0
    services.retry_due(now=in_a_while)
    assert push_of(invoice).state == PushState.DONE
    assert len(_partners(connected)) == 1
    assert BooksPartner.objects.get(company=andes).matched_by == "rut"


def test_the_partner_is_created_with_the_companys_data(connected, andes):
    issue(andes)
    [partner] = _partners(connected)
    assert partner["name"] == "Andes SpA" and partner["is_company"] is True
    assert (partner["email"], partner["street"], partner["country_id"]) == (
        "pagos@andes.test",
        "Av. Apoquindo 1",
        [46, "Chile"],
    )
    assert partner["ref"] == f"PORTAL-C-{andes.public_id.hex[:12].upper()}"


def test_a_customer_already_in_odoo_is_matched_by_its_undotted_rut(connected, andes):
    existing = connected.accounting.res_partner_create({}, {"name": "Andes (typed in Odoo)", "vat": "76.543.210-3"})
    issue(andes)
    assert [p["id"] for p in _partners(connected)] == [existing]
    assert BooksPartner.objects.get(company=andes).matched_by == "rut"


def test_a_customer_whose_rut_was_changed_in_odoo_is_found_by_our_marker(connected, andes):
    issue(andes)
    [partner] = _partners(connected)
    partner["vat"] = "11111111-1"  # someone corrected it there
    BooksPartner.objects.filter(company=andes).update(odoo_id=None)
    issue(andes)
    assert BooksPartner.objects.get(company=andes).matched_by == "marker"
    assert len(connected.records("res.partner", ref=partner["ref"])) == 1


def test_two_customers_with_the_rut_need_attention(connected, andes):
    for name in ("Andes A", "Andes B"):
        connected.accounting.res_partner_create({}, {"name": name, "vat": "76543210-3"})
    invoice = issue(andes)
    push = push_of(invoice)
    assert (push.state, push.reason_code) == (PushState.ATTENTION, "duplicate_partner_rut")
    assert connected.invoices(invoice.display_number) == []


def test_a_partner_deleted_in_odoo_is_matched_again(connected, andes):
    issue(andes)
    [partner] = _partners(connected)
    connected.odoo.data["res.partner"].pop(partner["id"])
    invoice = issue(andes)
    assert push_of(invoice).state == PushState.DONE
    [again] = _partners(connected)
    assert again["id"] != partner["id"] and BooksPartner.objects.get(company=andes).odoo_id == again["id"]
