"""The service, its versioned terms, and an engagement from inquiry to close.

Models are declarative: fields, choices, constraints and properties that read
only the row itself. Every write lives in engagements.services.
"""

import secrets
import uuid
from datetime import date

from django.conf import settings
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from engagements import rules
from portal.models import ClientCompany


def new_code() -> str:
    """Short unguessable public code, e.g. "E-7K3Q9XJ2" (not sequential)."""
    alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
    return "E-" + "".join(secrets.choice(alphabet) for _ in range(8))


class Status(models.TextChoices):
    LEAD = rules.LEAD, _("Lead")
    DIAGNOSIS = rules.DIAGNOSIS, _("Diagnosis")
    QUOTED = rules.QUOTED, _("Quoted")
    ACTIVE = rules.ACTIVE, _("Active")
    WAITING = rules.WAITING, _("Waiting on client")
    CLOSED = rules.CLOSED, _("Closed")
    ADMIN_CLOSED = rules.ADMIN_CLOSED, _("Administratively closed")
    CANCELLED = rules.CANCELLED, _("Cancelled")


class Phase(models.TextChoices):
    PLANNING = rules.PLANNING, _("Planning")
    CONFIGURATION = rules.CONFIGURATION, _("Configuration and base implementation")
    TESTING = rules.TESTING, _("Testing and validation")
    CLOSING = rules.CLOSING, _("Closing")


class Bilingual(models.Model):
    """Content written by the consultancy in Spanish and English."""

    class Meta:
        abstract = True

    @staticmethod
    def pick(es: str, en: str) -> str:
        return en if (get_language() or "es").startswith("en") and en else es


# ---------------------------------------------------------------- service and terms


class Service(models.Model):
    slug = models.SlugField(unique=True)
    name_es = models.CharField(max_length=200)
    name_en = models.CharField(max_length=200)
    summary_es = models.TextField(blank=True)
    summary_en = models.TextField(blank=True)
    # The public page's sections (what it solves, for whom, included...), as
    # {"es": {...}, "en": {...}} of lists of strings, from the service sheet.
    sheet = models.JSONField(default=dict)
    is_public = models.BooleanField(default=True)

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return Bilingual.pick(self.name_es, self.name_en)

    @property
    def summary(self) -> str:
        return Bilingual.pick(self.summary_es, self.summary_en)


def default_phase_weights() -> dict[str, int]:
    return dict(rules.DEFAULT_PHASE_WEIGHTS)


class ServiceTerms(Bilingual):
    """One immutable version of what the service promises.

    An engagement points at the version it was sold under; changing the
    service publishes a new version and never touches running engagements.
    """

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="terms")
    version = models.PositiveIntegerField()
    published_at = models.DateTimeField(auto_now_add=True)
    # [{"kind": "kickoff", "title_es": ..., "title_en": ..., "minutes": 60}, ...]
    sessions = models.JSONField()
    # [{"code": "scope_confirmed", "percent": 40, "event": "scope_confirmed"}, ...]
    milestone_plan = models.JSONField()
    estimate_min_weeks = models.PositiveSmallIntegerField(default=4)
    estimate_max_weeks = models.PositiveSmallIntegerField(default=6)
    wait_after_days = models.PositiveSmallIntegerField(default=60)
    close_after_days = models.PositiveSmallIntegerField(default=90)
    credit_validity_months = models.PositiveSmallIntegerField(default=6)
    warn_before_wait_days = models.PositiveSmallIntegerField(default=15)
    warn_before_close_days = models.PositiveSmallIntegerField(default=10)
    policy_es = models.TextField()
    policy_en = models.TextField()
    # Cumulative percent of the work executed once each phase is complete
    # (rules.executed_share): the client's progress and the credit of an
    # administrative close (R3) both read it.
    phase_weights = models.JSONField(default=default_phase_weights)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["service", "version"], name="terms_version_unique")]
        ordering = ["service", "-version"]

    def __str__(self) -> str:
        return f"{self.service.slug} v{self.version}"

    @property
    def policy(self) -> str:
        return self.pick(self.policy_es, self.policy_en)

    @property
    def included_minutes(self) -> int:
        return sum(int(s["minutes"]) for s in self.sessions)

    @property
    def wait_rules(self) -> rules.WaitRules:
        return rules.WaitRules(
            self.wait_after_days, self.close_after_days, self.warn_before_wait_days, self.warn_before_close_days
        )


# ---------------------------------------------------------------- inquiry and engagement


class ShopPlatform(models.TextChoices):
    WOOCOMMERCE = "woocommerce", "WooCommerce"
    SHOPIFY = "shopify", "Shopify"
    JUMPSELLER = "jumpseller", "Jumpseller"
    OTHER = "other", _("Other")


class OdooHosting(models.TextChoices):
    ON_PREMISE = "on_premise", _("On-premise server")
    IAAS = "iaas", _("Cloud server (IaaS)")
    ODOO_SH = "odoo_sh", "Odoo.sh"
    ODOO_ONLINE = "odoo_online", _("Odoo Online (SaaS)")
    UNKNOWN = "unknown", _("I don't know")


class Inquiry(models.Model):
    """What a prospect sent from the public service page."""

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="inquiries")
    name = models.CharField(_("name"), max_length=200)
    company_name = models.CharField(_("company"), max_length=200)
    email = models.EmailField(_("email"))
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    shop_platform = models.CharField(_("shop platform"), max_length=20, choices=ShopPlatform.choices)
    odoo_version = models.CharField(_("Odoo version"), max_length=20)
    odoo_hosting = models.CharField(_("Odoo hosting"), max_length=20, choices=OdooHosting.choices)
    message = models.TextField(_("message"))
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.company_name} ({self.email})"


class Engagement(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    code = models.CharField(max_length=12, unique=True, default=new_code, editable=False)
    terms = models.ForeignKey(ServiceTerms, on_delete=models.PROTECT, related_name="engagements")
    inquiry = models.OneToOneField(Inquiry, null=True, blank=True, on_delete=models.SET_NULL, related_name="engagement")
    company = models.ForeignKey(
        ClientCompany, null=True, blank=True, on_delete=models.PROTECT, related_name="engagements"
    )
    consultant = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="engagements"
    )
    title = models.CharField(_("title"), max_length=200)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.LEAD)
    phase = models.CharField(_("phase"), max_length=20, choices=Phase.choices, blank=True)
    status_changed_at = models.DateTimeField()
    scope_confirmed_at = models.DateTimeField(null=True, blank=True)
    # Set when the engagement enters waiting_on_client; `held_manually` marks a
    # hold staff put by hand, which the sweep never lifts or escalates.
    waiting_since = models.DateTimeField(null=True, blank=True)
    held_manually = models.BooleanField(default=False)
    # The formal request R1 fired on: answering it reactivates the engagement.
    waiting_for = models.ForeignKey("FormalRequest", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The last reactivation: R1's clock restarts from it for requests still open.
    reactivated_at = models.DateTimeField(null=True, blank=True)
    # Earlier holds as [first day, day it ended] in the business time zone
    # (ISO dates); the days after the estimate's start push it, once each.
    wait_periods = models.JSONField(default=list, blank=True)
    progress_percent = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["status"]), models.Index(fields=["consultant", "status"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status=rules.LEAD)
                | models.Q(status=rules.CANCELLED)
                | models.Q(company__isnull=False),
                name="engagement_company_after_lead",
            ),
            models.CheckConstraint(condition=models.Q(progress_percent__lte=100), name="engagement_progress_max"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    @property
    def is_terminal(self) -> bool:
        return self.status in rules.TERMINAL

    @property
    def past_waits(self) -> list[tuple[date, date]]:
        return [(date.fromisoformat(begin), date.fromisoformat(end)) for begin, end in self.wait_periods]


class EngagementEvent(models.Model):
    """The timeline: every transition and notable action, with who and why."""

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=64)  # dotted code: engagement.status_changed, session.log_published...
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    old_status = models.CharField(max_length=20, blank=True)
    new_status = models.CharField(max_length=20, blank=True)
    reason = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    client_visible = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["engagement", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.engagement_id} {self.kind}"


# ---------------------------------------------------------------- diagnosis


class ExternalApi(models.TextChoices):
    YES = "yes", _("Yes")
    NO = "no", _("No")
    UNKNOWN = "unknown", _("Unknown")


class OdooEdition(models.TextChoices):
    COMMUNITY = "community", "Community"
    ENTERPRISE = "enterprise", "Enterprise"


class FlowDirection(models.TextChoices):
    NONE = "none", _("Not in scope")
    ODOO_TO_SHOP = "odoo_to_shop", _("Odoo → shop")
    SHOP_TO_ODOO = "shop_to_odoo", _("Shop → Odoo")
    BOTH = "both", _("Both ways")


FLOWS = ("products", "prices", "stock", "orders", "customers")
ODOO_APPS = ("inventory", "sales", "crm", "point_of_sale", "purchase", "invoicing", "website", "accounting")


class Diagnosis(models.Model):
    """What the consultant learned before the quote, starting with the as-is flow."""

    engagement = models.OneToOneField(Engagement, on_delete=models.CASCADE, related_name="diagnosis")
    as_is_order_flow = models.TextField(_("current order flow"), blank=True)
    as_is_product_flow = models.TextField(_("current product flow"), blank=True)
    shop_platform = models.CharField(_("shop platform"), max_length=20, choices=ShopPlatform.choices, blank=True)
    shop_url = models.URLField(_("shop URL"), blank=True)
    monthly_orders = models.PositiveIntegerField(_("orders per month"), null=True, blank=True)
    catalogue_size = models.PositiveIntegerField(_("products in the catalogue"), null=True, blank=True)
    odoo_version = models.CharField(_("Odoo version"), max_length=4, blank=True)
    odoo_edition = models.CharField(_("Odoo edition"), max_length=20, choices=OdooEdition.choices, blank=True)
    odoo_hosting = models.CharField(_("Odoo hosting"), max_length=20, choices=OdooHosting.choices, blank=True)
    external_api = models.CharField(
        _("external API access"), max_length=10, choices=ExternalApi.choices, default=ExternalApi.UNKNOWN
    )
    installed_apps = models.JSONField(default=list, blank=True)
    flows = models.JSONField(default=dict, blank=True)  # {"orders": "shop_to_odoo", ...}
    risks = models.TextField(_("risks"), blank=True)
    validation_owner_name = models.CharField(_("validation owner"), max_length=200, blank=True)
    validation_owner_email = models.EmailField(_("validation owner email"), blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"diagnosis {self.engagement_id}"

    @property
    def is_complete(self) -> bool:
        return self.completed_at is not None

    @property
    def flows_in_scope(self) -> dict[str, str]:
        return {flow: d for flow, d in self.flows.items() if d and d != FlowDirection.NONE}

    # ---------------------------------------------------------------- plan, checklist


class PhasePlan(models.Model):
    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="phases")
    phase = models.CharField(max_length=20, choices=Phase.choices)
    order = models.PositiveSmallIntegerField()
    planned_start = models.DateField(null=True, blank=True)
    planned_end = models.DateField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["order"]
        constraints = [models.UniqueConstraint(fields=["engagement", "phase"], name="phase_once")]

    def __str__(self) -> str:
        return f"{self.engagement_id} {self.phase}"


class ChecklistKind(models.TextChoices):
    SHOP_ACCESS = "shop_access", _("Shop access and credentials")
    CHANNEL = "channel", _("Description of the online channel and how it runs today")
    CURRENT_FLOW = "current_flow", _("Current order and product management flow")
    VALIDATION_OWNER = "validation_owner", _("Technical and operational validation owner")
    VALIDATIONS = "validations", _("Timely validations during the process")


class ChecklistStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DELIVERED = "delivered", _("Delivered, to verify")
    VERIFIED = "verified", _("Verified")
    RETURNED = "returned", _("Sent back")


def upload_path(instance, filename: str) -> str:
    # A random folder: stored names are not guessable from the engagement.
    return f"engagements/{uuid.uuid4().hex}/{filename}"


class ChecklistItem(models.Model):
    """Something the client must deliver (the service's checklist)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="checklist")
    kind = models.CharField(max_length=30, choices=ChecklistKind.choices)
    order = models.PositiveSmallIntegerField()
    # The last item is delivered during the work, not before it: it does not
    # hold back "access complete".
    required_for_access = models.BooleanField(default=True)
    status = models.CharField(max_length=20, choices=ChecklistStatus.choices, default=ChecklistStatus.PENDING)
    client_note = models.TextField(blank=True)
    file = models.FileField(upload_to=upload_path, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    delivered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    consultant_note = models.TextField(blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["order"]
        constraints = [models.UniqueConstraint(fields=["engagement", "kind"], name="checklist_kind_once")]

    # ---------------------------------------------------------------- sessions

    def __str__(self) -> str:
        return f"{self.engagement_id} {self.kind}"


class SessionStatus(models.TextChoices):
    PLANNED = "planned", _("To schedule")
    SCHEDULED = "scheduled", _("Scheduled")
    HELD = "held", _("Held")


class ProgressStatus(models.TextChoices):
    ON_TRACK = "on_track", _("On track")
    AT_RISK = "at_risk", _("At risk")
    BLOCKED = "blocked", _("Blocked")
    DONE = "done", _("Done")


class Session(Bilingual):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="sessions")
    number = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=30)
    title_es = models.CharField(max_length=200)
    title_en = models.CharField(max_length=200)
    planned_minutes = models.PositiveSmallIntegerField(default=60)
    included = models.BooleanField(default=True)
    status = models.CharField(max_length=20, choices=SessionStatus.choices, default=SessionStatus.PLANNED)
    scheduled_at = models.DateTimeField(null=True, blank=True)
    video_link = models.URLField(blank=True)
    # The log, written after the session; visible to the client once published.
    objective = models.TextField(blank=True)
    activity = models.TextField(blank=True)
    minutes_used = models.PositiveSmallIntegerField(null=True, blank=True)
    progress_status = models.CharField(max_length=20, choices=ProgressStatus.choices, blank=True)
    log_published_at = models.DateTimeField(null=True, blank=True)
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["number"]
        constraints = [models.UniqueConstraint(fields=["engagement", "number"], name="session_number_once")]

    def __str__(self) -> str:
        return f"{self.engagement_id} #{self.number}"

    @property
    def title(self) -> str:
        return self.pick(self.title_es, self.title_en)


class StepOwner(models.TextChoices):
    CLIENT = "client", _("Client")
    CONSULTANT = "consultant", _("Consultancy")


class NextStep(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="next_steps")
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="next_steps")
    description = models.CharField(max_length=300)
    owner = models.CharField(max_length=20, choices=StepOwner.choices)
    due_date = models.DateField()
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["done_at", "due_date", "id"]

    # ---------------------------------------------------------------- formal requests

    def __str__(self) -> str:
        return self.description


class RequestKind(models.TextChoices):
    INFORMATION = "information", _("Information")
    ACCESS = "access", _("Access")
    VALIDATION = "validation", _("Validation")


class FormalRequest(models.Model):
    """A formal request to the client; its dates drive rules R1 and R2."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="requests")
    kind = models.CharField(_("kind"), max_length=20, choices=RequestKind.choices)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("what is asked"))
    due_date = models.DateField(_("due date"), null=True, blank=True)
    sent_at = models.DateTimeField()
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    answer = models.TextField(blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # True when the consultant recorded an answer received by other means.
    answered_elsewhere = models.BooleanField(default=False)

    class Meta:
        ordering = ["-sent_at", "-id"]
        indexes = [models.Index(fields=["engagement", "-sent_at"])]

    def __str__(self) -> str:
        return self.subject

    @property
    def is_open(self) -> bool:
        return self.answered_at is None


class Attachment(models.Model):
    """A file the client sent with an answer."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    request = models.ForeignKey(FormalRequest, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=upload_path)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    # ---------------------------------------------------------------- change requests and notes

    def __str__(self) -> str:
        return self.original_name


class ChangeClassification(models.TextChoices):
    ADD_ON = "add_on", _("Add-on")
    HOUR_BANK = "hour_bank", _("Hour bank")
    NEW_SERVICE = "new_service", _("New service")
    IN_SCOPE = "in_scope", _("Within the agreed scope")


class ChangeRequest(models.Model):
    """New or out-of-scope needs: never silently absorbed."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="change_requests")
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"))
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    raised_at = models.DateTimeField(auto_now_add=True)
    classification = models.CharField(max_length=20, choices=ChangeClassification.choices, blank=True)
    classification_note = models.TextField(blank=True)
    classified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    classified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-raised_at"]

    def __str__(self) -> str:
        return self.title


class InternalNote(models.Model):
    """Consultancy-only notes. Never selected for a client page."""

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="internal_notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    body = models.TextField(_("note"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"note {self.pk}"


class WaitNotice(models.Model):
    """A warning already sent before a threshold, so the sweep sends it once."""

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="wait_notices")
    rule = models.CharField(max_length=20)  # "r1", "r2" or "r2_eligible"
    # The clock the warning belongs to (the request's sent_at, or waiting_since):
    # a new request or a new hold starts a new clock and warrants a new warning.
    clock_started_at = models.DateTimeField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["engagement", "rule", "clock_started_at"], name="wait_notice_once")
        ]

    def __str__(self) -> str:
        return f"{self.engagement_id} {self.rule}"
