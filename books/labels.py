"""What people read instead of codes: Odoo's states, reason codes, counts, translated.

Codes stay stable in the database and the logs; pages show these labels. A reason code may be
several joined by commas (`odoo_unreachable,retries_exhausted`).
"""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

STATES = {
    "draft": pgettext_lazy("an Odoo invoice", "Draft in Odoo"),
    "posted": pgettext_lazy("an Odoo invoice", "Posted"),
    "cancel": pgettext_lazy("an Odoo invoice", "Cancelled"),
}
PAYMENT_STATES = {
    "not_paid": pgettext_lazy("Odoo payment state", "Not paid"),
    "partial": pgettext_lazy("Odoo payment state", "Partially paid"),
    "in_payment": pgettext_lazy("Odoo payment state", "In payment"),
    "paid": pgettext_lazy("Odoo payment state", "Paid"),
    "reversed": pgettext_lazy("Odoo payment state", "Reversed by a credit note"),
    "invoicing_legacy": pgettext_lazy("Odoo payment state", "Invoicing app legacy"),
}
# l10n_cl_edi (Enterprise): the DTE's status at the SII.
SII_STATUSES = {
    "not_sent": _("Not sent to the SII yet"),
    "ask_for_status": _("Sent, waiting for the SII"),
    "accepted": _("Accepted by the SII"),
    "objected": _("Accepted by the SII with objections"),
    "rejected": _("Rejected by the SII"),
    "cancelled": _("Cancelled at the SII"),
    "manual": _("Sent to the SII by hand"),
}
COUNTS = {
    "created": pgettext_lazy("books count", "created"),
    "adopted": pgettext_lazy("books count", "found in Odoo"),
    "updated": pgettext_lazy("books count", "updated"),
    "recorded": pgettext_lazy("books count", "payments recorded"),
    "unchanged": pgettext_lazy("books count", "unchanged"),
    "waiting": pgettext_lazy("books count", "waiting"),
    "failed": pgettext_lazy("books count", "failed"),
    "attention": pgettext_lazy("books count", "need attention"),
}
ACTIONS = {
    "created": _("created in Odoo"),
    "adopted": _("found in Odoo"),
    "rut": _("found by RUT"),
    "marker": _("found by our reference"),
    "posted": _("posted"),
    "cancelled": _("cancelled in Odoo"),
    "updated": _("updated"),
    "unchanged": _("unchanged"),
    "recorded": _("payment recorded in the portal"),
    "waiting": _("waiting"),
    "failed": _("failed"),
    "attention": _("needs attention"),
    "pdf_stored": _("PDF stored"),
}
KINDS = {
    "partner": _("Customer"),
    "invoice": _("Customer invoice"),
    "void": _("Credit note"),
    "payment": _("Payment"),
    "refund": _("Refund"),
    "document": _("Document"),
    "pdf": "PDF",
}
REASONS = {
    "adopted": _("Odoo already had it (an attempt that timed out): linked, not created again."),
    "invoice_not_in_odoo": _("Its payment request is not in Odoo yet: it goes right after."),
    "invoice_draft_in_odoo": _("The invoice is still a draft in Odoo: a payment is registered once it is posted."),
    "payments_not_in_odoo": _("A payment of the portal is not in Odoo yet: compared once it is."),
    "refund_not_reconciled": _("Registered as money paid back; reconcile it in Odoo if the invoice is owed again."),
    "no_tax_configured": _("No Odoo tax is set for this kind of line in the books' settings."),
    "no_payment_journal": _("No payment journal is set in the books' settings."),
    "odoo_tax_rate": _("The Odoo tax's rate is not the document's."),
    "odoo_tax_unusable": _("The Odoo tax set up is not a sale tax excluded from the price."),
    "odoo_sale_journal": _("The sales journal set up does not exist in Odoo or is not a sales journal."),
    "odoo_currency_inactive": _("The document's currency is not active in Odoo: activate it there."),
    "odoo_company_missing": _("The Odoo company set up does not exist."),
    "odoo_no_chile": _("Odoo has no country Chile."),
    "odoo_no_rut_type": _("Odoo has no RUT identification type (is the Chilean localisation complete?)."),
    "odoo_no_doc_type": _("Odoo has no such SII document type."),
    "odoo_ref_taken": _("An Odoo invoice of another customer already carries this number: nothing was guessed."),
    "duplicate_partner_rut": _("Several Odoo customers have this RUT: nothing was guessed. Merge them in Odoo."),
    "duplicate_partner_marker": _("Several Odoo customers carry this company's reference: nothing was guessed."),
    "odoo_record_deleted": _("Its Odoo record was deleted."),
    "odoo_residual_lower": _("Odoo already shows less owed than this payment: was it registered there by hand?"),
    "odoo_total_differs": _("Odoo's total differs from the portal's (a tax or rounding set up otherwise)."),
    "reversed_in_odoo": _("Reversed in Odoo by a credit note, but not voided in the portal."),
    "odoo_paid_less": _("Odoo shows less paid than the portal's payments registered there (unreconciled?)."),
    "odoo_paid_more": _("Odoo shows more paid than the portal's balance: check both before recording it."),
    "retries_exhausted": _("Tried many times without success."),
    "unexpected_error": _("Unexpected error; the technical team has the details in the logs."),
    "odoo_unreachable": _("Odoo does not answer at this address. Check the URL and that the server is on-line."),
    "odoo_timeout": _("Odoo took too long to answer."),
    "odoo_http": _("Odoo answered with an HTTP error."),
    "odoo_auth": _("Odoo refused the user or the API key."),
    "odoo_database": _("The database does not exist on this Odoo."),
    "odoo_https_required": _("Odoo must be reached over HTTPS."),
    "odoo_rights": _("The user lacks access to some of the models the books need."),
    "odoo_write_ambiguous": _("Odoo did not confirm in time; the next attempt checks whether it was written."),
    "odoo_rejected": _("Odoo refused the change."),
    "odoo_pdf_failed": _("Odoo did not give the PDF (is its PDF engine, wkhtmltopdf, installed?)."),
    "odoo_web_login": _("Odoo refused a web login with this key."),
    "books_settings": _("Some settings do not match what Odoo has."),
}
SETTING_PROBLEMS = {
    "missing": _("does not exist in Odoo"),
    "journal_kind": _("is not a journal of that kind"),
    "tax_kind": _("is not a sale tax at the IVA rate, excluded from the price"),
}
CONNECTION_FAILED = _("The connection failed.")


def reason_text(code: str) -> str:
    """`odoo_unreachable,retries_exhausted` → their labels, an unknown code as it is."""
    return " ".join(str(REASONS.get(part, part)) for part in filter(None, (code or "").split(",")))


def problem_text(code: str) -> str:
    return str(REASONS.get(code, CONNECTION_FAILED))
