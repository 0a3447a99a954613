"""Billing's hook points that other apps subscribe to.

`billing` never imports the apps that react to its documents and payments (the
consultancy's books in Odoo, `books`). Where a payment request's life must
cause an effect elsewhere, billing calls `run(...)` here and the subscriber,
registered from its AppConfig.ready(), does the rest. Hooks run inside the
transaction of the billing write, so a subscriber that only records work and
enqueues it with `transaction.on_commit` is rolled back with the write.

To find every subscriber, search for the hook's name (e.g. PAYMENT_RECORDED).
"""

from portal.hooks import HookRegistry

INVOICE_ISSUED = "invoice_issued"  # kwargs: invoice (a payment request or a credit note, just numbered)
INVOICE_VOIDED = "invoice_voided"  # kwargs: invoice (now void), credit_note (issued for it)
PAYMENT_RECORDED = "payment_recorded"  # kwargs: payment (positive: by hand, Webpay, a credit, Odoo)
PAYMENT_REFUNDED = "payment_refunded"  # kwargs: refund (a negative payment; refund.refund_of is the one paid)
HOOKS = (INVOICE_ISSUED, INVOICE_VOIDED, PAYMENT_RECORDED, PAYMENT_REFUNDED)

_hooks = HookRegistry(*HOOKS)
register, unregister, run = _hooks.register, _hooks.unregister, _hooks.run
