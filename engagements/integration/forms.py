"""Connection forms: secrets are write-only (never rendered back into the page)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from engagements.integration import destinations
from engagements.integration.schedules import EVERY_MINUTES
from engagements.integration.shops import base as shop_base
from engagements.models import ShopPlatform
from portal.forms import BootstrapMixin

KEEP_HELP = _("Leave empty to keep the stored one, unless the address changes. It is never shown again.")
ADDRESS_ERRORS = {
    destinations.HTTPS_REQUIRED: _("Use the https:// address: the keys must not travel in clear."),
    destinations.LOCAL_ADDRESS: _(
        "This address is this server or a private network: use the public https:// address of the server."
    ),
}


def _address(url: str) -> str:
    """A URL keys may be sent to (destinations.address_problem), or a translated error on its field."""
    problem = destinations.address_problem(url)
    if problem:
        raise forms.ValidationError(ADDRESS_ERRORS[problem], code=problem)
    return url


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

    def clean_url(self) -> str:
        return _address(self.cleaned_data["url"])


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

    def clean_base_url(self) -> str:
        return _address(self.cleaned_data["base_url"])


class FlowSettingsForm(BootstrapMixin, forms.Form):
    """What every flow has: on or off, and how often it runs by itself. The rest are its options."""

    enabled = forms.BooleanField(label=_("Enabled"), required=False)
    every_minutes = forms.TypedChoiceField(
        label=_("Run by itself"),
        choices=[("", _("Never (only with “Run now”)"))]
        + [(m, _("every %(n)s minutes") % {"n": m}) for m in EVERY_MINUTES if m < 60]
        + [(m, _("every %(n)s hours") % {"n": m // 60}) for m in EVERY_MINUTES if m >= 60],
        coerce=int,
        empty_value=None,
        required=False,
        help_text=_("Paused by itself while a connection test fails."),
    )

    def options(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("enabled")
        data.pop("every_minutes")
        return data


class OrderSettingsForm(FlowSettingsForm):
    """Options of the order import (FlowSettings.options for "orders")."""

    statuses = forms.MultipleChoiceField(
        label=_("Import the orders that are"),
        choices=[
            (shop_base.PAID, _("paid")),
            (shop_base.COMPLETED, _("completed (shipped or delivered)")),
            (shop_base.ON_HOLD, _("on hold (e.g. a bank transfer to confirm)")),
        ],
        initial=[shop_base.PAID, shop_base.COMPLETED],
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Unpaid orders wait; cancelled, refunded or failed ones are never created in Odoo."),
    )
    confirm = forms.BooleanField(label=_("Confirm the sale order in Odoo"), required=False)
    marker_prefix = forms.CharField(
        label=_("Order reference prefix in Odoo"),
        required=False,
        max_length=10,
        help_text=_("Empty: WOO-, SHOPIFY- or JS- after the platform."),
    )
    tax_included_id = forms.IntegerField(
        label=_("Odoo tax for prices with IVA included (id)"), min_value=1, required=False
    )
    shipping_product_id = forms.IntegerField(label=_("Odoo product for shipping (id)"), min_value=1, required=False)
    fee_product_id = forms.IntegerField(
        label=_("Odoo product for fees and discounts (id)"), min_value=1, required=False
    )
    placeholder_product_id = forms.IntegerField(
        label=_("Odoo product for lines to review (id)"), min_value=1, required=False
    )
    pricelists = forms.CharField(
        label=_("Odoo pricelists by currency"),
        required=False,
        help_text=_(
            "e.g. CLP=7, USD=3. An order is created in its own currency only: one not in the Odoo company's "
            "currency needs a pricelist in that currency here, or it waits for review."
        ),
    )
    company_id = forms.IntegerField(
        label=_("Odoo company of the orders (id)"),
        min_value=1,
        required=False,
        help_text=_("Only needed when Odoo's companies have different currencies."),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        mapped = self.initial.get("pricelists")
        if isinstance(mapped, dict):  # stored as {"CLP": 7}: shown as "CLP=7"
            self.initial["pricelists"] = ", ".join(f"{code}={pricelist}" for code, pricelist in mapped.items())

    def clean_pricelists(self) -> dict[str, int]:
        mapped = {}
        for part in filter(None, (p.strip() for p in self.cleaned_data["pricelists"].split(","))):
            code, _sep, pricelist = part.partition("=")
            code = code.strip().upper()
            if len(code) != 3 or not code.isalpha() or not pricelist.strip().isdigit():
                raise forms.ValidationError(
                    _("Write each currency and pricelist as CLP=7, separated by commas."), code="invalid"
                )
            mapped[code] = int(pricelist)
        return mapped


class StockSettingsForm(FlowSettingsForm):
    """Options of the stock export (FlowSettings.options for "stock")."""

    location_id = forms.IntegerField(label=_("Odoo stock location (id)"), min_value=1, initial=8)
    stock_field = forms.ChoiceField(
        label=_("Quantity to publish"),
        choices=[
            ("free_qty", _("Free to use (on hand minus reserved)")),
            ("qty_available", _("On hand")),
            ("virtual_available", _("Forecast")),
        ],
    )
    buffer = forms.IntegerField(label=_("Safety buffer (units)"), min_value=0, initial=0)
    correct_drift = forms.BooleanField(
        label=_("Each night, put back quantities changed by hand in the shop"),
        required=False,
        initial=True,
        help_text=_("Off: the nightly check only reports them."),
    )
    shop_location_id = forms.RegexField(
        label=_("Shop location (Shopify)"),
        regex=r"^\d{1,20}$",
        required=False,
        help_text=_("The number of the Shopify location to publish to. Empty: the shop's primary location."),
        error_messages={"invalid": _("Enter the location's number, e.g. 70000000001.")},
    )


class ProductSettingsForm(FlowSettingsForm):
    """Options of the product export (FlowSettings.options for "products")."""

    company_id = forms.IntegerField(
        label=_("Odoo company (id)"),
        min_value=1,
        required=False,
        help_text=_("Only that company's products and the shared ones are published. Empty: every product."),
    )


class PriceSettingsForm(FlowSettingsForm):
    """Options of the price export (FlowSettings.options for "prices")."""

    pricelist_id = forms.IntegerField(
        label=_("Odoo pricelist (id)"),
        min_value=1,
        required=False,
        help_text=_("Empty: the product's sales price in Odoo. With a pricelist, Odoo's price for one unit."),
    )
    tax_included = forms.BooleanField(
        label=_("The shop shows prices with tax included"),
        required=False,
        initial=True,
        help_text=_("The tax is added to Odoo's price, unless the product's tax in Odoo is already included."),
    )
    tax_rate = forms.DecimalField(
        label=_("Tax rate (%)"), min_value=0, max_value=100, max_digits=5, decimal_places=2, initial=19
    )
    currency = forms.ChoiceField(
        label=_("Shop currency"),
        choices=[("CLP", _("Chilean peso (no decimals)")), ("USD", _("US dollar (2 decimals)"))],
        initial="CLP",
    )

    def options(self) -> dict:
        data = super().options()
        data["tax_rate"] = str(data["tax_rate"])  # JSON has no Decimal
        return data
