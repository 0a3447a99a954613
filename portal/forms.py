"""Forms validate shape; services decide."""

from django import forms
from django.contrib.auth import password_validation
from django.forms.boundfield import BoundField
from django.utils.translation import gettext_lazy as _

from portal.models import ClientCompany, Role, User
from portal.rut import normalize_rut

PASSWORDS_DIFFER = _("The two passwords do not match.")


class PortalBoundField(BoundField):
    """A field with an error is marked `is-invalid` too (Bootstrap shows its message next to it);
    Django already adds aria-invalid and points aria-describedby at `<id>_helptext` and `<id>_error`,
    the ids portal/_field.html gives the help text and the errors."""

    def build_widget_attrs(self, attrs, widget=None):
        attrs = super().build_widget_attrs(attrs, widget)
        if self.errors and not (widget or self.field.widget).is_hidden:
            css = attrs.get("class") or (widget or self.field.widget).attrs.get("class", "")
            attrs["class"] = f"{css} is-invalid".strip()
        return attrs


class BootstrapMixin:
    """Gives every widget Bootstrap's classes, so templates stay plain."""

    bound_field_class: type[forms.BoundField] | None = PortalBoundField

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            checks = (forms.CheckboxInput, forms.CheckboxSelectMultiple)
            css = "form-check-input" if isinstance(widget, checks) else "form-control"
            if isinstance(widget, forms.Select):
                css = "form-select"
            widget.attrs.setdefault("class", css)


class CompanyForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = ClientCompany
        fields = ["legal_name", "rut", "address", "billing_email"]
        help_texts = {"rut": _("With or without dots, e.g. 76.123.456-7.")}

    def clean_rut(self) -> str:
        return normalize_rut(self.cleaned_data["rut"])

    def validate_unique(self) -> None:
        # Uniqueness is the service's to check (it knows about the row lock).
        pass


class InvitationForm(BootstrapMixin, forms.Form):
    email = forms.EmailField(label=_("Email"))
    full_name = forms.CharField(label=_("Full name"), max_length=200, required=False)


class InternalInvitationForm(InvitationForm):
    role = forms.ChoiceField(
        label=_("Role"), choices=[(Role.CONSULTANT, Role.CONSULTANT.label), (Role.STAFF, Role.STAFF.label)]
    )


class RoleForm(BootstrapMixin, forms.Form):
    role = forms.ChoiceField(
        label=_("Role"), choices=[(Role.CONSULTANT, Role.CONSULTANT.label), (Role.STAFF, Role.STAFF.label)]
    )


class AcceptInvitationForm(BootstrapMixin, forms.Form):
    full_name = forms.CharField(label=_("Full name"), max_length=200)
    password1 = forms.CharField(label=_("Password"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    password2 = forms.CharField(
        label=_("Repeat the password"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def __init__(self, *args, email: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self) -> dict:
        cleaned = super().clean()
        p1, p2 = cleaned.get("password1"), cleaned.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", PASSWORDS_DIFFER)
        elif p1:
            probe = User(email=self.email, full_name=cleaned.get("full_name", ""))
            try:
                password_validation.validate_password(p1, probe)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return cleaned
