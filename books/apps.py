from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BooksConfig(AppConfig):
    name = "books"
    verbose_name = _("Books in Odoo")

    def ready(self) -> None:
        from billing import hooks, panels
        from books import selectors, services

        # A payment request's life reaches the consultancy's Odoo (see billing.hooks).
        hooks.register(hooks.INVOICE_ISSUED, services.on_invoice_issued)
        hooks.register(hooks.INVOICE_VOIDED, services.on_invoice_voided)
        hooks.register(hooks.PAYMENT_RECORDED, services.on_payment_recorded)
        hooks.register(hooks.PAYMENT_REFUNDED, services.on_payment_refunded)
        panels.register(panels.INVOICE, selectors.invoice_panel)
        panels.register(panels.FINANCE, selectors.finance_panel)
