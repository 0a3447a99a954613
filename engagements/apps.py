from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EngagementsConfig(AppConfig):
    name = "engagements"
    verbose_name = _("Engagements")

    def ready(self) -> None:
        from engagements.selectors.worklist import action_count
        from portal.context_processors import register_count

        # The number next to "My work" / "Pipeline": engagements with something flagged.
        register_count("engagements:home", action_count)
