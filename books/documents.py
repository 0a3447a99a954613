"""Payment requests become customer invoices in the consultancy's Odoo; voids become credit notes.

Exactly once: our document number is the invoice's `ref` (and `payment_reference`), looked up
before any create, so a create that timed out but committed is adopted on the next attempt. A
void reverses the invoice with Odoo's own wizard; the invoice's `reversal_move_id` is the marker
(a reversal that timed out is found there). `action_post` answers false: the state is read back.

What Odoo says (folio, state, payment state, SII status where it exists) is mirrored on the
document's BooksDocument, and the legal PDF is fetched by the worker and stored, so the portal
serves it without waiting on Odoo (the 10-second rule) and while Odoo is down.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from django.core.files.base import ContentFile
from django.utils import timezone

from billing.models import Invoice, QuoteKind
from billing.money import quantize
from billing.services import decimals_of
from books import partners, rules
from books.context import MOVE, Pass
from books.models import BooksConnection, BooksDocument, BooksPush
from books.odoo import GatewayError, PermanentError
from books.runs import NeedsAttention, PushWaits, Report

logger = logging.getLogger(__name__)
REPORT = "account.report_invoice"  # Odoo's invoice PDF ("Invoices without Payment")
BASE_FIELDS = ["name", "state", "move_type", "partner_id", "journal_id", "ref", "write_date"]
MONEY_FIELDS = ["amount_total", "amount_residual", "payment_state", "reversal_move_id"]


def move_fields(ctx: Pass) -> list[str]:
    fields = BASE_FIELDS + MONEY_FIELDS
    if ctx.caps.documents:
        fields += ["l10n_latam_document_number", "l10n_latam_document_type_id"]
    if ctx.caps.sii_status:
        fields.append("l10n_cl_dte_status")
    return fields


def read_move(ctx: Pass, odoo_id: int) -> dict:
    rows = ctx.gateway.read(MOVE, [odoo_id], move_fields(ctx))
    if not rows:
        raise NeedsAttention("odoo_record_deleted", str(odoo_id))
    return rows[0]


# ---------------------------------------------------------------- invoices


def push_invoice(ctx: Pass, push: BooksPush, report: Report) -> int:
    invoice = push.invoice
    doc, _ = BooksDocument.objects.get_or_create(invoice=invoice)
    if doc.odoo_id is None:
        partner_id = partners.ensure_partner(ctx, invoice.company, report)
        odoo_id = _find_invoice(ctx, invoice, partner_id, push, report) or _create_invoice(
            ctx, invoice, partner_id, push, report
        )
        doc.odoo_id = odoo_id
        doc.save(update_fields=["odoo_id"])
    row = _post_if_configured(ctx, doc, push, report)
    mirror(ctx, doc, row)
    _compare_total(doc, row)
    fetch_pdf(ctx, doc, report)
    return doc.odoo_id


def _find_invoice(ctx: Pass, invoice: Invoice, partner_id: int, push: BooksPush, report: Report) -> int | None:
    domain = [["move_type", "=", "out_invoice"], ["ref", "=", invoice.display_number]]
    rows = ctx.gateway.search_read(MOVE, domain, ["partner_id", "state"])
    if not rows:
        return None
    if len(rows) > 1 or rows[0]["partner_id"][0] != partner_id:
        raise NeedsAttention("odoo_ref_taken", ", ".join(str(row["id"]) for row in rows))
    report.add("adopted", kind="invoice", push=push, odoo_id=rows[0]["id"], reason="adopted")
    return rows[0]["id"]


def _create_invoice(ctx: Pass, invoice: Invoice, partner_id: int, push: BooksPush, report: Report) -> int:
    journal = ctx.journal(ctx.connection.sale_journal_id)
    values = {
        "move_type": "out_invoice",
        "partner_id": partner_id,
        "journal_id": journal["id"],
        "invoice_date": invoice.issue_date.isoformat(),
        "invoice_date_due": invoice.due_date.isoformat(),
        "ref": invoice.display_number,
        "payment_reference": invoice.display_number,
        "invoice_line_ids": _lines(ctx, invoice),
    }
    if currency := ctx.currency_id(invoice.currency):
        values["currency_id"] = currency
    if ctx.uses_documents(journal["id"]):
        values["l10n_latam_document_type_id"] = ctx.document_type(rules.document_code(invoice.tax_rate))
    odoo_id = ctx.gateway.create(MOVE, [values])[0]
    report.add("created", kind="invoice", push=push, odoo_id=odoo_id)
    return odoo_id


def _lines(ctx: Pass, invoice: Invoice) -> list:
    """Our lines as they are (net unit price, quantity), with the product and tax configured for
    the document's line type; an exempt document (tax rate 0) carries no tax."""
    kind = invoice.milestone.quote.kind if invoice.milestone_id else QuoteKind.SERVICE
    product, tax = ctx.connection.product_and_tax(kind)
    taxed = bool(invoice.tax_rate)
    if taxed and not tax:
        raise NeedsAttention("no_tax_configured", kind)
    if taxed:
        ctx.check_tax(tax, invoice.tax_rate)
    lines = []
    for line in invoice.lines.all():
        values = {
            "name": line.description,
            "quantity": float(line.quantity),
            "price_unit": float(line.unit_price),
            "tax_ids": [(6, 0, [tax] if taxed else [])],
        }
        if product:
            values["product_id"] = product
        lines.append((0, 0, values))
    return lines


def _post_if_configured(ctx: Pass, doc: BooksDocument, push: BooksPush, report: Report) -> dict:
    row = read_move(ctx, doc.odoo_id)
    if ctx.connection.post_invoices and row["state"] == "draft":
        ctx.gateway.call(MOVE, "action_post", [doc.odoo_id])  # answers false: read the state back
        row = read_move(ctx, doc.odoo_id)
        report.add("updated", kind=push.kind, action="posted", push=push, odoo_id=doc.odoo_id, message=row["name"])
    return row


def _compare_total(doc: BooksDocument, row: dict) -> None:
    """Odoo computes its own tax: a different total (a rounding, a tax set up otherwise) is shown to staff."""
    invoice = doc.invoice
    odoo_total = quantize(Decimal(str(row["amount_total"])), decimals_of(invoice.currency))
    if odoo_total != invoice.total:
        _flag(doc, "odoo_total_differs", f"{odoo_total} ≠ {invoice.total} {invoice.currency}")


# ---------------------------------------------------------------- voids


def push_void(ctx: Pass, push: BooksPush, report: Report) -> int | None:
    """The credit note `push.invoice` voids its payment request: in Odoo a reversal (a 61 with the
    LATAM documents) of the posted invoice, or the draft invoice cancelled (nothing legal exists)."""
    note = push.invoice
    source = BooksDocument.objects.filter(invoice_id=note.credit_note_for_id, odoo_id__isnull=False).first()
    if source is None:
        raise PushWaits("invoice_not_in_odoo")
    doc, _ = BooksDocument.objects.get_or_create(invoice=note)
    if doc.odoo_id is None:
        row = read_move(ctx, source.odoo_id)
        if row["state"] != "posted":
            return _cancel_draft(ctx, source, doc, row, push, report)
        if row["reversal_move_id"]:  # reversed already (a reversal that timed out but was made)
            doc.odoo_id = row["reversal_move_id"][0]
            report.add("adopted", kind="void", push=push, odoo_id=doc.odoo_id, reason="adopted")
        else:
            doc.odoo_id = _reverse(ctx, note, row, push, report)
        doc.save(update_fields=["odoo_id"])
    mirror(ctx, doc, _post_if_configured(ctx, doc, push, report))
    mirror(ctx, source, read_move(ctx, source.odoo_id))
    fetch_pdf(ctx, doc, report)
    return doc.odoo_id


def _reverse(ctx: Pass, note: Invoice, row: dict, push: BooksPush, report: Report) -> int:
    context = {"active_model": MOVE, "active_ids": [row["id"]]}
    reason = note.lines.first()
    values = {
        "move_ids": [(6, 0, [row["id"]])],
        "reason": f"{note.display_number}: {reason.description if reason else ''}"[:200],
        "journal_id": row["journal_id"][0],
        "date": note.issue_date.isoformat(),
    }
    if ctx.uses_documents(row["journal_id"][0]):
        values["l10n_latam_document_type_id"] = ctx.document_type(rules.CREDIT_NOTE_CODE)
    wizard = ctx.gateway.create("account.move.reversal", [values], context=context)
    action = ctx.gateway.call("account.move.reversal", "refund_moves", wizard, context=context)
    refund_id = action["res_id"]  # a window action on the new credit note, not an id
    report.add("created", kind="void", push=push, odoo_id=refund_id)
    return refund_id


def _cancel_draft(
    ctx: Pass, source: BooksDocument, doc: BooksDocument, row: dict, push: BooksPush, report: Report
) -> int:
    if row["state"] == "draft":
        ctx.gateway.call(MOVE, "button_cancel", [source.odoo_id])
        report.add("updated", kind="void", action="cancelled", push=push, odoo_id=source.odoo_id)
    mirror(ctx, source, read_move(ctx, source.odoo_id))
    BooksDocument.objects.filter(pk=doc.pk).update(state="cancel", refreshed_at=timezone.now())
    return source.odoo_id


# ---------------------------------------------------------------- what Odoo says


def mirror(ctx: Pass, doc: BooksDocument, row: dict) -> bool:
    """Copy what Odoo says about the move onto the document; True when something changed."""
    document_type = row.get("l10n_latam_document_type_id") or None
    values = {
        "name": row["name"] or "",
        "state": row["state"],
        "payment_state": row.get("payment_state") or "",
        "document_number": row.get("l10n_latam_document_number") or "",
        "document_code": _code(document_type[1]) if document_type else "",
        "sii_status": row.get("l10n_cl_dte_status") or "",
        "amount_total": Decimal(str(row["amount_total"])),
        "amount_residual": Decimal(str(row["amount_residual"])),
        "write_date": row["write_date"] or "",
    }
    changed = any(getattr(doc, name) != value for name, value in values.items())
    for name, value in values.items():
        setattr(doc, name, value)
    doc.refreshed_at = timezone.now()
    doc.save(update_fields=[*values, "refreshed_at"])
    return changed


def _code(display: str) -> str:
    """ "(33) Electronic Invoice" -> "33"."""
    return display[1:].split(")", 1)[0] if display.startswith("(") else ""


def _flag(doc: BooksDocument, code: str, message: str) -> None:
    BooksDocument.objects.filter(pk=doc.pk).update(attention=code, attention_message=message[:300])
    doc.attention, doc.attention_message = code, message[:300]


def fetch_pdf(ctx: Pass, doc: BooksDocument, report: Report) -> None:
    """Odoo's PDF of a posted document, stored with it. A refusal is noted on the document and the
    read-back tries again; it never fails the push (the invoice is in Odoo either way)."""
    if doc.state != "posted" or doc.pdf:
        return
    try:
        data = _download(ctx, doc)
    except GatewayError as error:
        BooksDocument.objects.filter(pk=doc.pk).update(pdf_problem=f"{error.code}: {error}"[:200])
        report.add(
            "failed", kind="pdf", invoice=doc.invoice, odoo_id=doc.odoo_id, reason=error.code, message=str(error)
        )
        return
    doc.pdf.save(f"{doc.folio or doc.odoo_id}-{doc.invoice.public_id.hex[:8]}.pdf".replace("/", "-"), ContentFile(data))
    BooksDocument.objects.filter(pk=doc.pk).update(pdf=doc.pdf.name, pdf_fetched_at=timezone.now(), pdf_problem="")
    report.add("updated", kind="pdf", action="pdf_stored", invoice=doc.invoice, odoo_id=doc.odoo_id)


def _download(ctx: Pass, doc: BooksDocument) -> bytes:
    """A web session as recorded; when Odoo refuses the key for a web login (API keys are for RPC
    only), the invoice's portal link, remembered for the next ones."""
    connection = ctx.connection
    try:
        return ctx.gateway.report_pdf(MOVE, doc.odoo_id, REPORT, via_portal=connection.pdf_via_portal)
    except PermanentError as error:
        if error.code != "odoo_web_login" or connection.pdf_via_portal:
            raise
    connection.pdf_via_portal = True
    BooksConnection.objects.filter(pk=connection.pk).update(pdf_via_portal=True)
    return ctx.gateway.report_pdf(MOVE, doc.odoo_id, REPORT, via_portal=True)
