from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationConfig(AppConfig):
    name = "engagements.integration"
    label = "integration"
    verbose_name = _("Odoo ↔ shop integration")

    def ready(self) -> None:
        from engagements import panels
        from engagements.integration.panels import integration_panel, page_annotations
        from engagements.integration.selectors import worklist_flags

        panels.register(integration_panel)
        panels.register_flags(worklist_flags)
        panels.register_annotations(page_annotations)
