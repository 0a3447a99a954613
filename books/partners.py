"""Each client company is one res.partner in the consultancy's Odoo, never two.

Found by RUT first (`vat`, the undotted form Odoo stores), then by our marker (`ref`), and only
then created, with the RUT and the marker in the same create: a create that timed out but
committed is found by its RUT on the next attempt. The link's row is locked meanwhile, so two
pushes for one company cannot both create it. A stored link is checked before use (the partner
may have been merged or deleted in Odoo, or the database changed).
"""

from __future__ import annotations

from django.db import transaction

from books import rules
from books.context import Pass
from books.models import BooksPartner
from books.runs import NeedsAttention, Report
from portal.models import ClientCompany

PARTNER = "res.partner"
TAXPAYER_FIRST_CATEGORY = "1"  # IVA afecto 1ª categoría: what a company buying a service is


def ensure_partner(ctx: Pass, company: ClientCompany, report: Report) -> int:
    vat, marker = rules.odoo_vat(company.rut), rules.partner_marker(company.public_id.hex)
    with transaction.atomic():
        link, _ = BooksPartner.objects.select_for_update().get_or_create(company=company)
        if link.odoo_id and _still_ours(ctx, link.odoo_id, vat, marker):
            return link.odoo_id
        odoo_id, how = _match(ctx, vat, marker)
        if odoo_id is None:
            odoo_id, how = ctx.gateway.create(PARTNER, [_values(ctx, company, vat, marker)])[0], "created"
        link.odoo_id, link.matched_by = odoo_id, how
        link.save(update_fields=["odoo_id", "matched_by", "updated_at"])
    outcome = "created" if how == "created" else "adopted"
    report.add(outcome, kind="partner", action=how, odoo_id=odoo_id, message=company.legal_name)
    return odoo_id


def _still_ours(ctx: Pass, odoo_id: int, vat: str, marker: str) -> bool:
    rows = ctx.gateway.read(PARTNER, [odoo_id], ["vat", "ref"])
    return bool(rows) and (rows[0]["vat"] == vat or rows[0]["ref"] == marker)


def _match(ctx: Pass, vat: str, marker: str) -> tuple[int | None, str]:
    for field, value, how in (("vat", vat, "rut"), ("ref", marker, "marker")):
        rows = ctx.gateway.search_read(PARTNER, [[field, "=", value], ["parent_id", "=", False]], ["id"])
        if len(rows) > 1:
            raise NeedsAttention(f"duplicate_partner_{how}", ", ".join(str(row["id"]) for row in rows))
        if rows:
            return rows[0]["id"], how
    return None, ""


def _values(ctx: Pass, company: ClientCompany, vat: str, marker: str) -> dict:
    values = {
        "name": company.legal_name,
        "is_company": True,
        "vat": vat,
        "ref": marker,
        "email": company.billing_email,
        "street": company.address,
        "country_id": ctx.chile,
    }
    if ctx.caps.chile:  # only where l10n_cl is installed: elsewhere these fields do not exist
        values["l10n_latam_identification_type_id"] = ctx.rut_type
        values["l10n_cl_sii_taxpayer_type"] = TAXPAYER_FIRST_CATEGORY
    return values
