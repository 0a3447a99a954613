from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationConfig(AppConfig):
    name = "engagements.integration"
    label = "integration"
    verbose_name = _("Odoo ↔ shop integration")

    def ready(self) -> None:
        from engagements import panels
        from engagements.integration.panels import integration_panel

        panels.register(integration_panel)
