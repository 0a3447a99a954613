"""Billing forms: shape only; the services check money rules."""

from decimal import Decimal

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from billing.models import Credit, PaymentMethod, QuoteKind
from billing.services import LineInput
from portal.forms import BootstrapMixin

QUOTE_LINES = 6


class QuoteForm(BootstrapMixin, forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=QuoteKind.choices)
    hours = forms.DecimalField(label=_("Hours (hour bank)"), required=False, max_digits=6, decimal_places=2)
    currency = forms.ChoiceField(label=_("Currency"))
    tax_exempt = forms.BooleanField(label=_("Exempt from IVA"), required=False)
    valid_until = forms.DateField(label=_("Valid until"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["currency"].choices = [(code, code) for code in settings.CURRENCY_DECIMALS]
        for n in range(QUOTE_LINES):
            line = {"number": n + 1}
            self.fields[f"line_{n}_description"] = forms.CharField(
                label=_("Line %(number)s: description") % line, max_length=300, required=n == 0
            )
            self.fields[f"line_{n}_quantity"] = forms.DecimalField(
                label=_("Line %(number)s: quantity") % line, required=n == 0, max_digits=10, decimal_places=2
            )
            self.fields[f"line_{n}_unit_price"] = forms.DecimalField(
                label=_("Line %(number)s: unit price (net)") % line, required=n == 0, max_digits=14, decimal_places=4
            )
            for part in ("description", "quantity", "unit_price"):
                self.fields[f"line_{n}_{part}"].widget.attrs["class"] = "form-control form-control-sm"

    def line_rows(self) -> list[list]:
        return [[self[f"line_{n}_{p}"] for p in ("description", "quantity", "unit_price")] for n in range(QUOTE_LINES)]

    def lines(self) -> list[LineInput]:
        rows = []
        for n in range(QUOTE_LINES):
            description = (self.cleaned_data.get(f"line_{n}_description") or "").strip()
            if description:
                rows.append(
                    LineInput(
                        description,
                        self.cleaned_data.get(f"line_{n}_quantity") or Decimal(0),
                        self.cleaned_data.get(f"line_{n}_unit_price") or Decimal(0),
                    )
                )
        return rows

    def tax_rate(self) -> Decimal:
        return Decimal(0) if self.cleaned_data["tax_exempt"] else Decimal(settings.DEFAULT_TAX_RATE)


class AcceptForm(BootstrapMixin, forms.Form):
    full_name = forms.CharField(label=_("Your full name"), max_length=200)
    accepted_policy = forms.BooleanField(label=_("I have read and accept the commercial policy"))
    shown_sha256 = forms.CharField(widget=forms.HiddenInput, max_length=64)


class DeclineForm(BootstrapMixin, forms.Form):
    reason = forms.CharField(label=_("Why do you decline?"), widget=forms.Textarea(attrs={"rows": 2}))


class PaymentForm(BootstrapMixin, forms.Form):
    paid_on = forms.DateField(label=_("Payment date"), widget=forms.DateInput(attrs={"type": "date"}))
    amount = forms.DecimalField(label=_("Amount"), max_digits=14, decimal_places=4)
    method = forms.ChoiceField(label=_("Method"), choices=[c for c in PaymentMethod.choices if c[0] != "credit"])
    reference = forms.CharField(label=_("Reference"), max_length=100, required=False)
    excess_to_credit = forms.BooleanField(label=_("Record the excess as credit"), required=False)


class CreditConfirmForm(BootstrapMixin, forms.Form):
    amount = forms.DecimalField(label=_("Credit amount"), max_digits=14, decimal_places=4, min_value=0)
    reason = forms.CharField(label=_("Reason for the adjustment"), required=False, max_length=500)


class CreditApplyForm(BootstrapMixin, forms.Form):
    credit = forms.ModelChoiceField(label=_("Credit"), queryset=Credit.objects.none())
    amount = forms.DecimalField(label=_("Amount"), max_digits=14, decimal_places=4)

    def __init__(self, *args, credits=None, **kwargs):
        super().__init__(*args, **kwargs)
        if credits is not None:
            self.fields["credit"].queryset = credits


class RefundForm(BootstrapMixin, forms.Form):
    amount = forms.DecimalField(label=_("Amount to refund"), max_digits=14, decimal_places=4, min_value=0)
