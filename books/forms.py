"""The books' forms: the connection (its API key write-only, never rendered back) and the settings."""

from django import forms
from django.utils.translation import gettext_lazy as _

from portal.forms import BootstrapMixin


class ConnectionForm(BootstrapMixin, forms.Form):
    url = forms.URLField(label=_("Odoo URL"), assume_scheme="https", help_text=_("e.g. https://consultora.odoo.com"))
    database = forms.CharField(label=_("Database"), max_length=100)
    login = forms.CharField(label=_("User (login)"), max_length=200)
    company_id = forms.IntegerField(
        label=_("Odoo company (id)"), min_value=1, initial=1, help_text=_("The company that issues the invoices.")
    )

    def __init__(self, *args, has_key: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["api_key"] = forms.CharField(
            label=_("API key"),
            required=not has_key,
            widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off", "class": "form-control"}),
            help_text=_(
                "Leave empty to keep the stored one; it is never shown again. Changing the URL or the "
                "database clears it."
            )
            if has_key
            else _("Stored encrypted; it is never shown again."),
        )


def _odoo_id(label) -> forms.IntegerField:
    return forms.IntegerField(label=label, min_value=1, required=False)


class SettingsForm(BootstrapMixin, forms.Form):
    active = forms.BooleanField(
        label=_("Keep the books in this Odoo"),
        required=False,
        help_text=_("On: every payment request issued, void and payment goes to Odoo. Off: nothing new is sent."),
    )
    post_invoices = forms.BooleanField(
        label=_("Post the invoices"), required=False, help_text=_("Off: they are left in draft for the accountant.")
    )
    sale_journal_id = _odoo_id(_("Sales journal (id)"))
    payment_journal_id = _odoo_id(_("Payment journal (id)"))
    service_product_id = _odoo_id(_("Product for service milestones (id)"))
    service_tax_id = _odoo_id(_("Tax for service milestones (id)"))
    add_on_product_id = _odoo_id(_("Product for add-ons (id)"))
    add_on_tax_id = _odoo_id(_("Tax for add-ons (id)"))
    hour_bank_product_id = _odoo_id(_("Product for hour banks (id)"))
    hour_bank_tax_id = _odoo_id(_("Tax for hour banks (id)"))
