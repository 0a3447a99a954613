from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = _("Billing")

    def ready(self) -> None:
        from billing import ledger, selectors, services
        from engagements import hooks, panels, reasons

        # The lifecycle events that issue milestone invoices (see engagements.hooks).
        hooks.register(hooks.SCOPE_CONFIRMED, services.on_scope_confirmed)
        hooks.register(hooks.PHASE_COMPLETED, services.on_phase_completed)
        hooks.register(hooks.CLOSED, services.on_closed)
        hooks.register(hooks.ADMIN_CLOSED, ledger.on_admin_closed)
        panels.register(selectors.engagement_money_panel)
        panels.register_home(selectors.client_home_part)
        panels.register_flags(selectors.worklist_flags)
        panels.register_annotations(selectors.page_annotations)
        reasons.register(services.QUOTE_SENT, services.QUOTE_ACCEPTED, ledger.OVERPAYMENT)
