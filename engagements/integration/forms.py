"""Connection forms: secrets are write-only (never rendered back into the page)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from engagements.models import ShopPlatform
from portal.forms import BootstrapMixin

KEEP_HELP = _("Leave empty to keep the stored one. It is never shown again.")


def _secret(label, required: bool) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=KEEP_HELP if not required else _("Stored encrypted; it is never shown again."),
    )


class OdooConnectionForm(BootstrapMixin, forms.Form):
    url = forms.URLField(label=_("Odoo URL"), assume_scheme="https", help_text=_("e.g. https://mycompany.odoo.com"))
    database = forms.CharField(label=_("Database"), max_length=100)
    login = forms.CharField(label=_("User (login)"), max_length=200)

    def __init__(self, *args, has_key: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["api_key"] = _secret(_("API key"), required=not has_key)
        self.fields["api_key"].widget.attrs["class"] = "form-control"


class ShopConnectionForm(BootstrapMixin, forms.Form):
    platform = forms.ChoiceField(label=_("Platform"), choices=ShopPlatform.choices)
    base_url = forms.URLField(label=_("Shop URL"), assume_scheme="https")

    def __init__(self, *args, has_key: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["api_key"] = _secret(_("API key / consumer key"), required=not has_key)
        self.fields["api_secret"] = _secret(_("API secret / consumer secret"), required=False)
        self.fields["webhook_secret"] = _secret(_("Webhook secret"), required=False)
        for name in ("api_key", "api_secret", "webhook_secret"):
            self.fields[name].widget.attrs["class"] = "form-control"
