"""Forms of the engagement pages: they check shape; services decide."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from engagements.models import (
    FLOWS,
    ODOO_APPS,
    ChangeClassification,
    Diagnosis,
    FlowDirection,
    Inquiry,
    ProgressStatus,
    RequestKind,
    StepOwner,
)
from engagements.uploads import validate_upload, validate_uploads
from portal.forms import BootstrapMixin
from portal.models import ClientCompany, Role, User

APP_LABELS = {
    "inventory": _("Inventory"),
    "sales": _("Sales"),
    "crm": _("CRM"),
    "point_of_sale": _("Point of Sale"),
    "purchase": _("Purchase"),
    "invoicing": _("Invoicing"),
    "website": _("Website"),
    "accounting": _("Accounting"),
}
FLOW_LABELS = {
    "products": _("Products"),
    "prices": _("Prices"),
    "stock": _("Stock"),
    "orders": _("Orders"),
    "customers": _("Customers"),
}
MAX_NEXT_STEPS = 5


class InquiryForm(BootstrapMixin, forms.ModelForm):
    # Honeypot: hidden from people by CSS, filled by naive bots.
    website = forms.CharField(required=False, label=_("Leave this field empty"))

    class Meta:
        model = Inquiry
        fields = ["name", "company_name", "email", "phone", "shop_platform", "odoo_version", "odoo_hosting", "message"]
        widgets = {"message": forms.Textarea(attrs={"rows": 4})}
        help_texts = {"odoo_version": _("For example 17, or “I don't know”.")}

    def is_spam(self) -> bool:
        return bool(self.data.get("website"))


class DiagnosisForm(BootstrapMixin, forms.ModelForm):
    shop_url = forms.URLField(label=_("shop URL"), required=False, assume_scheme="https")
    installed_apps = forms.MultipleChoiceField(
        label=_("Installed Odoo apps"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[(app, APP_LABELS[app]) for app in ODOO_APPS],
    )

    class Meta:
        model = Diagnosis
        fields = [
            "as_is_order_flow",
            "as_is_product_flow",
            "shop_platform",
            "shop_url",
            "monthly_orders",
            "catalogue_size",
            "odoo_version",
            "odoo_edition",
            "odoo_hosting",
            "external_api",
            "installed_apps",
            "risks",
            "validation_owner_name",
            "validation_owner_email",
        ]
        widgets = {
            "as_is_order_flow": forms.Textarea(attrs={"rows": 4}),
            "as_is_product_flow": forms.Textarea(attrs={"rows": 4}),
            "risks": forms.Textarea(attrs={"rows": 3}),
            "odoo_version": forms.Select(choices=[("", "—"), ("16", "16"), ("17", "17"), ("18", "18")]),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for flow in FLOWS:
            self.fields[f"flow_{flow}"] = forms.ChoiceField(
                label=FLOW_LABELS[flow],
                choices=FlowDirection.choices,
                initial=FlowDirection.NONE,
                widget=forms.Select(attrs={"class": "form-select"}),
            )
            if self.instance and self.instance.pk:
                self.initial[f"flow_{flow}"] = self.instance.flows.get(flow, FlowDirection.NONE)
        for name in ("installed_apps",):
            self.fields[name].widget.attrs.pop("class", None)

    def service_values(self) -> dict:
        values = {name: self.cleaned_data[name] for name in self.Meta.fields}
        values["flows"] = {flow: self.cleaned_data[f"flow_{flow}"] for flow in FLOWS}
        return values


class ConvertLeadForm(BootstrapMixin, forms.Form):
    company = forms.ModelChoiceField(
        label=_("Existing client company"),
        queryset=ClientCompany.objects.all(),
        required=False,
        help_text=_("Or leave empty and fill in the new company below."),
    )
    legal_name = forms.CharField(label=_("Legal name"), max_length=200, required=False)
    rut = forms.CharField(label=_("RUT"), max_length=20, required=False)
    address = forms.CharField(label=_("Address"), max_length=300, required=False)
    billing_email = forms.EmailField(label=_("Billing email"), required=False)
    consultant = forms.ModelChoiceField(label=_("Consultant"), queryset=User.objects.none())
    invite_contact = forms.BooleanField(label=_("Invite the contact to the portal"), required=False, initial=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["consultant"].queryset = consultant_choices()

    def new_company(self) -> dict | None:
        data = {k: self.cleaned_data[k] for k in ("legal_name", "rut", "address", "billing_email")}
        return data if any(data.values()) else None


def consultant_choices():
    return User.objects.filter(role__in=[Role.CONSULTANT, Role.STAFF], is_active=True).order_by("full_name")


class AssignForm(BootstrapMixin, forms.Form):
    consultant = forms.ModelChoiceField(label=_("Consultant"), queryset=User.objects.none())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["consultant"].queryset = consultant_choices()


class ReasonForm(BootstrapMixin, forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}), required=False)


class PhaseCompleteForm(BootstrapMixin, forms.Form):
    """The phase is named in the form: a second submit cannot complete the next one by accident."""

    phase = forms.CharField(widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("Reason to complete the phase with these items open"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=1000,
    )


class ScheduleForm(BootstrapMixin, forms.Form):
    scheduled_at = forms.DateTimeField(
        label=_("Date and time"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    )
    video_link = forms.URLField(label=_("Video call link"), assume_scheme="https")

    def clean_scheduled_at(self):
        value = self.cleaned_data["scheduled_at"]
        if value <= timezone.now():
            raise ValidationError(_("Choose a date and time in the future."))
        return value


class SessionLogForm(BootstrapMixin, forms.Form):
    objective = forms.CharField(label=_("Objective of the session"), widget=forms.Textarea(attrs={"rows": 2}))
    activity = forms.CharField(label=_("Activity done"), widget=forms.Textarea(attrs={"rows": 4}))
    minutes_used = forms.IntegerField(label=_("Time used (minutes)"), min_value=1, max_value=600)
    progress_status = forms.ChoiceField(label=_("Progress status"), choices=ProgressStatus.choices)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for n in range(MAX_NEXT_STEPS):
            required = n == 0
            self.fields[f"step_{n}_description"] = forms.CharField(
                label=_("Next step %(number)s") % {"number": n + 1}, max_length=300, required=required
            )
            self.fields[f"step_{n}_owner"] = forms.ChoiceField(
                label=_("Owner"), choices=StepOwner.choices, required=required
            )
            self.fields[f"step_{n}_due_date"] = forms.DateField(
                label=_("Due date"), required=required, widget=forms.DateInput(attrs={"type": "date"})
            )
        for name, field in self.fields.items():
            if name.startswith("step_"):
                css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
                field.widget.attrs.setdefault("class", css)

    def clean(self):
        cleaned = super().clean()
        for n in range(1, MAX_NEXT_STEPS):
            parts = [cleaned.get(f"step_{n}_{k}") for k in ("description", "owner", "due_date")]
            if any(parts[::2]) and not all(parts):
                self.add_error(f"step_{n}_description", _("A next step needs its owner and due date."))
        return cleaned

    def step_rows(self) -> list[list]:
        return [[self[f"step_{n}_{k}"] for k in ("description", "owner", "due_date")] for n in range(MAX_NEXT_STEPS)]

    def values(self) -> dict:
        return {k: self.cleaned_data[k] for k in ("objective", "activity", "minutes_used", "progress_status")}

    def next_steps(self) -> list[dict]:
        steps = []
        for n in range(MAX_NEXT_STEPS):
            description = (self.cleaned_data.get(f"step_{n}_description") or "").strip()
            if description:
                steps.append(
                    {
                        "description": description,
                        "owner": self.cleaned_data[f"step_{n}_owner"],
                        "due_date": self.cleaned_data[f"step_{n}_due_date"],
                    }
                )
        return steps


class FormalRequestForm(BootstrapMixin, forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=RequestKind.choices)
    subject = forms.CharField(label=_("Subject"), max_length=200)
    body = forms.CharField(label=_("What is asked"), widget=forms.Textarea(attrs={"rows": 4}))
    due_date = forms.DateField(label=_("Due date"), required=False, widget=forms.DateInput(attrs={"type": "date"}))


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        files = [super(MultipleFileField, self).clean(f, initial) for f in files]
        validate_uploads(files)
        return files


class AnswerForm(BootstrapMixin, forms.Form):
    answer = forms.CharField(label=_("Your answer"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    files = MultipleFileField(
        label=_("Files"),
        required=False,
        help_text=_("Up to 5 files of 10 MB: PDF, PNG, JPG, XLSX, DOCX, ZIP, CSV or TXT."),
    )


class RecordAnswerForm(BootstrapMixin, forms.Form):
    answer = forms.CharField(label=_("Answer received"), widget=forms.Textarea(attrs={"rows": 2}))


class DeliverForm(BootstrapMixin, forms.Form):
    note = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}), required=False)
    file = forms.FileField(label=_("File"), required=False)

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if upload:
            validate_upload(upload)
        return upload

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("note", "").strip() and not cleaned.get("file") and not self.errors:
            raise ValidationError(_("Write a note or attach a file."))
        return cleaned


class ReviewForm(BootstrapMixin, forms.Form):
    accept = forms.TypedChoiceField(
        label=_("Decision"),
        coerce=lambda v: v == "1",
        choices=[("1", _("Verified")), ("0", _("Send back"))],
    )
    note = forms.CharField(label=_("Note for the client"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ChangeRequestForm(BootstrapMixin, forms.Form):
    title = forms.CharField(label=_("What do you need?"), max_length=200)
    description = forms.CharField(label=_("Details"), widget=forms.Textarea(attrs={"rows": 3}))


class ClassifyForm(BootstrapMixin, forms.Form):
    classification = forms.ChoiceField(label=_("Classification"), choices=ChangeClassification.choices)
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class NoteForm(BootstrapMixin, forms.Form):
    body = forms.CharField(label=_("Internal note"), widget=forms.Textarea(attrs={"rows": 2}))
