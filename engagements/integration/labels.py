"""What people read instead of codes: run counts, item actions and reason codes, translated.

Codes stay stable in the database and the logs (they are what support greps
for); pages show these labels. A reason code may carry a detail after a colon
(`unknown_sku:POL-XL`) and several codes may be joined by commas.
"""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

COUNTS = {
    "listed": pgettext_lazy("run count", "listed"),
    "created": pgettext_lazy("run count", "created"),
    "updated": pgettext_lazy("run count", "updated"),
    "unchanged": pgettext_lazy("run count", "unchanged"),
    "skipped": pgettext_lazy("run count", "skipped"),
    "postponed": pgettext_lazy("run count", "postponed"),
    "failed": pgettext_lazy("run count", "failed"),
    "ambiguous": pgettext_lazy("run count", "uncertain"),
    "review": pgettext_lazy("run count", "to review"),
}
CALLS = {"odoo_calls": _("calls to Odoo"), "shop_calls": _("calls to the shop")}
ACTIONS = {
    "created": _("created"),
    "create": _("created, kept in draft"),
    "adopt": _("found in Odoo, kept in draft"),
    "would_create": _("would create"),
    "updated": _("updated"),
    "would_update": _("would update"),
    "cancel": _("cancelled in Odoo"),
    "would_cancel": _("would cancel in Odoo"),
    "unchanged": _("unchanged"),
    "skipped": _("skipped"),
    "postponed": _("postponed"),
    "failed": _("failed"),
    "ambiguous": _("uncertain"),
    "review": _("to review"),
    "would_bind": _("would link"),
    "hide": _("hidden in the shop"),
    "would_hide": _("would hide in the shop"),
    "bound": _("linked"),
}
REASONS = {
    # orders
    "locked": _("Another worker was handling it; it is taken up again in the next run."),
    "adopted": _("Odoo already had it (an interrupted run): linked, not created again."),
    "changed_in_shop": _("Changed in the shop after import; nothing to do in Odoo."),
    "edited_in_shop_after_import": _("Edited in the shop after import: its total no longer matches Odoo's."),
    "refunded_in_shop": _("Refunded in the shop after import."),
    "total_mismatch": _("Odoo's total differs from the shop's: kept in draft."),
    "unknown_sku": _("No Odoo product with this SKU: the placeholder product was used."),
    "no_product": _("A line with no product in the shop (custom item, tip, gift card): the placeholder was used."),
    "duplicate_sku": _("Several Odoo products share this SKU: the placeholder product was used."),
    "no_shipping_product": _("No shipping product configured: the placeholder product was used."),
    "no_fee_product": _("No fee product configured: the placeholder product was used."),
    "currency_not_mapped": _(
        "The order is not in the Odoo company's currency and no Odoo pricelist in its currency is mapped."
    ),
    "pricelist_currency_mismatch": _("The Odoo pricelist mapped for the order's currency is in another currency."),
    "currency_mismatch": _("Odoo booked the order in another currency than the shop's: kept in draft."),
    "odoo_company_currency_unknown": _(
        "Odoo's companies have different currencies: choose the company in the order settings."
    ),
    "marker_prefix_shared": _(
        "Another engagement feeds this Odoo from another shop with the same reference prefix: "
        "give this connection its own prefix in the order settings."
    ),
    "odoo_record_deleted": _("Its Odoo record was deleted: the link is set aside."),
    "cancelled_after_import": _("Cancelled in the shop after import."),
    "cancelled_after_delivery": _("Cancelled in the shop after it was shipped: check it in Odoo."),
    "cancelled_after_invoice": _("Cancelled in the shop after it was invoiced: check it in Odoo."),
    "refunded_after_import": _("Refunded in the shop after import: check it in Odoo."),
    "refunded_after_delivery": _("Refunded in the shop after it was shipped: check it in Odoo."),
    "refunded_after_invoice": _("Refunded in the shop after it was invoiced: check it in Odoo."),
    "failed_after_import": _("Payment failed in the shop after import: check it in Odoo."),
    "status_pending": _("Waiting for payment: imported once paid."),
    "status_on_hold": _("On hold in the shop: imported once it moves on."),
    "status_paid": _("Paid, but paid orders are not imported with these settings."),
    "status_completed": _("Completed, but completed orders are not imported with these settings."),
    "status_cancelled": _("Cancelled before import: not brought into Odoo."),
    "status_failed": _("Payment failed: not brought into Odoo."),
    "status_refunded": _("Refunded before import: not brought into Odoo."),
    "unexpected_error": _("Unexpected error; the technical team has the details in the logs."),
    # stock
    "shop_stock_not_managed": _("The shop does not manage stock for this item: enable it there or in the settings."),
    "shop_stock_changed": _("The shop's stock changed while we sent ours: sent again on the next run."),
    "shop_variant_not_found": _("The shop no longer has this product or variant: check the product matching."),
    "shop_no_location": _("The shop has no stock location to write to."),
    # product matching
    "unmatched_odoo": _("No shop item with this SKU or barcode."),
    "unmatched_shop": _("No Odoo product with this SKU or barcode."),
    "missing_sku_odoo": _("The Odoo product has no SKU (internal reference) nor barcode."),
    "missing_sku_shop": _("The shop item has no SKU nor barcode."),
    "duplicate_sku_odoo": _("Several Odoo products share this SKU: none is linked until it is unique."),
    "duplicate_sku_shop": _("Several shop items share this SKU: none is linked until it is unique."),
    "duplicate_barcode_odoo": _("Several Odoo products share this barcode: none is linked by it."),
    "duplicate_barcode_shop": _("Several shop items share this barcode: none is linked by it."),
    "barcode_conflict": _("Same SKU but different barcodes: check which is right before linking."),
    "sku_conflict": _("Same barcode but different SKUs: check which is right before linking."),
    "binding_conflict": _("One of the two is already linked to another item."),
    "matched_by_barcode": _("Found by barcode."),
    "already_bound": _("Already linked."),
    "proposal_changed": _("Changed since the proposal: not linked; make a new proposal."),
    "not_in_proposal": _("New since the proposal: it waits for the next one."),
    # prices
    "price_not_positive": _("Odoo's price is zero or negative: not sent to the shop."),
    "shop_sale_price_kept": _("The shop has a sale price: customers pay it while it is lower."),
    "shop_compare_at_kept": _("The shop keeps its compare-at price, shown as a discount when it is higher."),
    "shop_no_answer": _("The shop did not say whether it took this change: sent again on the next run."),
    "price_currency_mismatch": _("The pricelist's currency is not the shop's: no price was sent."),
    "price_pricelist_missing": _("The pricelist does not exist in Odoo."),
    "price_currency_unknown": _("This shop currency is not supported for prices yet (CLP and USD are)."),
    # stock and products
    "not_storable": _("A service or a combo in Odoo: its stock is not published."),
    "stock_drift": _("The shop's quantity had been changed there; Odoo's was put back."),
    "shop_stock_moved": _("The shop's stock moved while we sent ours (a sale there): read again and set."),
    "stock_drift_kept": _("The shop's quantity differs from Odoo's; left as is (correcting is off)."),
    "product_hidden": _("Archived in Odoo: hidden in the shop, not deleted."),
    "product_archived_unpublished": _("Archived in Odoo before it was ever published: left out."),
    "product_sku_missing": _("The Odoo variant has no SKU (internal reference): it cannot be published safely."),
    "product_sku_duplicated": _("Several Odoo variants share this SKU: none is published until it is unique."),
    "product_sku_duplicated_in_shop": _("Several shop items have this SKU: nothing was guessed."),
    "product_sku_conflict": _("The shop item with this SKU is linked to another Odoo product."),
    "product_kind_changed": _("Simple in one place and with variants in the other: a consultant must rebuild it."),
    "product_invalid_sku": _("The shop refused the SKU (it may already be used there)."),
    "shopify_variant_limit": _("More than 3 options or 100 variants: Shopify does not accept this product."),
    "shopify_variant_not_hidden": _("Shopify cannot hide one variant: it was set to stop selling when out of stock."),
    "jumpseller_variant_not_hidden": _("Jumpseller cannot hide one variant: hide it by hand in the shop if needed."),
    # customers
    "duplicate_email": _("This e-mail belongs to partners of different companies in Odoo: nothing was guessed."),
    "duplicate_rut": _("Several Odoo partners have this RUT: nothing was guessed."),
    "duplicate_marker": _("Several Odoo partners carry this customer's reference: nothing was guessed."),
    "invalid_rut": _("The RUT's check digit is wrong: it was not used to find the partner."),
    "odoo_values_kept": _("Odoo has other values, edited there: they were kept."),
    "state_unknown": _("Region not found in Odoo: left empty."),
    "country_unknown": _("Country not found in Odoo: left empty."),
    "matched_by_email": _("Found in Odoo by e-mail."),
    "matched_by_rut": _("Found in Odoo by RUT."),
    "shop_customer_not_found": _("The shop no longer has this customer."),
    "flow_unsupported": _("This flow is not available yet."),
    # connections and whole runs
    "odoo_unreachable": _("Odoo does not answer at this address. Check the URL and that the server is on-line."),
    "odoo_timeout": _("Odoo took too long to answer."),
    "odoo_auth": _("Odoo refused the user or the API key."),
    "odoo_database": _("The database does not exist on this Odoo."),
    "odoo_rights": _("The user lacks access to some of the models the integration needs."),
    "odoo_version_unsupported": _("This Odoo version is not supported (16 to 19 are)."),
    "odoo_write_ambiguous": _("Odoo did not confirm in time; the next run checks whether it was written."),
    "odoo_rejected": _("Odoo refused the change."),
    "odoo_https_required": _("Odoo must be reached over HTTPS."),
    "odoo_local_address": _("Odoo's address is this server or a private network: no key is sent there."),
    "keys_missing": _("No key is stored for this address: enter it and save."),
    "shop_auth": _("The shop refused the API keys: check them, or create new ones with read/write rights."),
    "shop_https_required": _("The shop must be reached over HTTPS."),
    "shop_local_address": _("The shop's address is this server or a private network: no key is sent there."),
    "shop_not_recognised": _(
        "This address does not answer as the platform's API, so no key was sent: check the URL and the platform."
    ),
    "shop_unreachable": _("The shop does not answer at this address. Check the URL and that the shop is on-line."),
    "shop_write_ambiguous": _("The shop did not confirm the change: it is looked up before anything is sent again."),
    "shop_busy": _("The shop did not answer (busy or down). Try again in a few minutes."),
    "shop_timeout": _("The shop did not answer in time."),
    "shop_rejected": _("The shop refused the request."),
    "shop_error": _("The shop answered with an error."),
    "shop_banned": _("The shop blocked us for sending too many requests; we wait until it lets us in again."),
    "shop_query_too_costly": _("The shop found the request too large; the technical team must split it."),
    "shop_order_not_found": _("The shop no longer has this order."),
    "jumpseller_not_found": _("Jumpseller no longer has this record."),
    "shopify_graphql_error": _("Shopify refused the request."),
    "shopify_refused": _("Shopify refused the change."),
    "shopify_60_day_window": _(
        "Shopify only shows orders of the last 60 days to this app: ask for the read_all_orders permission "
        "to import older ones."
    ),
    "shop_webhooks_forbidden": _("The shop refused to register our webhooks: the key needs read and write rights."),
    "shopify_webhook_refused": _("Shopify refused the webhook (the portal's address must be https and unique)."),
    "shop_unsupported": _(
        "There is no adapter for this platform: the integration works with WooCommerce, Shopify and Jumpseller."
    ),
}
CONNECTION_FAILED = _("The connection failed.")
OTHER_PROBLEM = _("Another problem; your consultant has the details.")


def reason_text(code: str) -> str:
    """`unknown_sku:POL-XL,total_mismatch` → the labels, each with its detail."""
    texts = []
    for part in filter(None, (code or "").split(",")):
        key, _sep, detail = part.partition(":")
        # Shopify's own error codes come through as shopify_<code>: its refusal, with the code as detail.
        label = str(REASONS.get(key) or (REASONS["shopify_refused"] if key.startswith("shopify_") else key))
        texts.append(f"{label} ({detail})" if detail else label)
    return " ".join(texts)


def problem_text(code: str) -> str:
    """A connection or run failure: its label, or a plain "the connection failed"."""
    return str(REASONS.get(code, CONNECTION_FAILED))


def summary_text(summary: str) -> str:
    """A failed run's summary is `code: technical message`; people get the label of the code."""
    return problem_text(summary.split(":", 1)[0].strip()) if summary else ""
