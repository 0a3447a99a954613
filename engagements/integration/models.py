"""Per-engagement integration state: connections, flows, bindings, cursors, inbox, runs.

Design: the bindings of Odoo's connector framework (OCA), kept outside Odoo.
Secrets use EncryptedTextField (never shown back).
"""

import secrets
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from engagements.models import Engagement, ShopPlatform
from portal.fields import EncryptedTextField
from portal.models import RunStatus


def webhook_token() -> str:
    return secrets.token_urlsafe(24)


class Health(models.TextChoices):
    UNKNOWN = "unknown", _("Not checked yet")
    OK = "ok", _("Working")
    FAILING = "failing", _("Failing")
    PAUSED = "paused", _("Paused")


class CheckState(models.TextChoices):
    """Where a connection check stands; the page polls it. Empty: none going on."""

    IDLE = "", _("No check going on")
    QUEUED = "queued", _("Waiting for the worker")
    PROBE = "probe", _("Reaching the address, without the keys")
    AUTH = "auth", _("Signing in with the keys")
    RIGHTS = "rights", _("Checking the rights")


class Connection(models.Model):
    """What both connections share: their health, the last check's verdict, and the check going on."""

    health = models.CharField(max_length=10, choices=Health.choices, default=Health.UNKNOWN)
    last_check_at = models.DateTimeField(null=True, blank=True)
    last_check = models.JSONField(default=dict, blank=True)  # the verdict, no secret in it
    check_state = models.CharField(max_length=10, choices=CheckState.choices, default="", blank=True)
    check_requested_at = models.DateTimeField(null=True, blank=True)
    # Counts the saves: a check's verdict is kept only if no save came in while it ran.
    revision = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True

    def check_going_on(self) -> bool:
        """A check is queued or running, and not abandoned: a worker killed mid-check leaves its state
        behind, taken as over once a task could no longer be running (INTEGRATION_RUN_STALE_SECONDS)."""
        if not self.check_state or self.check_requested_at is None:
            return False
        stale = timezone.now() - timedelta(seconds=settings.INTEGRATION_RUN_STALE_SECONDS)
        return self.check_requested_at > stale


class OdooConnection(Connection):
    engagement = models.OneToOneField(Engagement, on_delete=models.CASCADE, related_name="odoo_connection")
    url = models.URLField(_("Odoo URL"))
    database = models.CharField(_("database"), max_length=100)
    login = models.CharField(_("user"), max_length=200)
    api_key = EncryptedTextField(_("API key"))
    odoo_major = models.PositiveSmallIntegerField(null=True, blank=True)  # learnt by the connection test

    def __str__(self) -> str:
        return f"{self.url} ({self.database})"


class ShopConnection(Connection):
    engagement = models.OneToOneField(Engagement, on_delete=models.CASCADE, related_name="shop_connection")
    platform = models.CharField(_("platform"), max_length=20, choices=ShopPlatform.choices)
    base_url = models.URLField(_("shop URL"))
    api_key = EncryptedTextField(_("API key / consumer key"))
    api_secret = EncryptedTextField(_("API secret / consumer secret"), blank=True)
    webhook_secret = EncryptedTextField(_("webhook secret"), blank=True)
    webhook_token = models.CharField(max_length=64, unique=True, default=webhook_token, editable=False)
    # What an adapter keeps between runs (Jumpseller: the order versions it has seen). No secret in it.
    adapter_state = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"{self.platform} {self.base_url}"


class Flow(models.TextChoices):
    ORDERS = "orders", _("Orders")
    STOCK = "stock", _("Stock")
    PRICES = "prices", _("Prices")
    PRODUCTS = "products", _("Products")
    CUSTOMERS = "customers", _("Customers")
    BINDINGS = "bindings", _("Links to Odoo records")
    MATCHING = "matching", _("Product matching")


class FlowSettings(models.Model):
    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="flow_settings")
    flow = models.CharField(max_length=20, choices=Flow.choices)
    enabled = models.BooleanField(default=False)
    every_minutes = models.PositiveIntegerField(null=True, blank=True)  # schedule; empty = manual only
    # warehouse/location ids, stock field, buffer, order statuses, confirm, tax map, shipping product...
    options = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["engagement", "flow"], name="flow_settings_once")]

    def __str__(self) -> str:
        return f"{self.engagement_id} {self.flow}"


class Binding(models.Model):
    """One Odoo record ⇄ one shop record, per engagement and kind; unique both ways."""

    class State(models.TextChoices):
        ACTIVE = "active", _("Active")
        ORPHANED = "orphaned", _("Odoo record deleted")
        REVIEW = "review", _("Needs review")

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="bindings")
    kind = models.CharField(max_length=30)  # product_variant, partner, sale_order, location...
    odoo_model = models.CharField(max_length=64)
    odoo_id = models.PositiveIntegerField()
    external_id = models.CharField(max_length=100)
    external_parent_id = models.CharField(max_length=100, blank=True)
    sku = models.CharField(max_length=100, blank=True, db_index=True)
    external_updated_at = models.DateTimeField(null=True, blank=True)
    last_pushed_value = models.JSONField(null=True, blank=True)
    last_pushed_hash = models.CharField(max_length=64, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.ACTIVE)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["engagement", "kind", "external_id"], name="binding_external_once"),
            models.UniqueConstraint(fields=["engagement", "kind", "odoo_id"], name="binding_odoo_once"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.odoo_id}⇄{self.external_id}"


class SyncCursor(models.Model):
    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="cursors")
    flow = models.CharField(max_length=20, choices=Flow.choices)
    source = models.CharField(max_length=10)  # "shop" or "odoo"
    value = models.CharField(max_length=64)  # an ISO datetime or an id, as the source pages
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["engagement", "flow", "source"], name="cursor_once")]

    def __str__(self) -> str:
        return f"{self.flow}/{self.source}={self.value}"


class InboxEvent(models.Model):
    """A webhook (a hint, never the truth): deduplicated by its delivery key."""

    class Status(models.TextChoices):
        NEW = "new", _("New")
        PROCESSED = "processed", _("Processed")
        IGNORED = "ignored", _("Ignored")
        FAILED = "failed", _("Failed")

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="inbox_events")
    source = models.CharField(max_length=20)
    topic = models.CharField(max_length=64)
    delivery_key = models.CharField(max_length=200)
    resource_kind = models.CharField(max_length=30)
    external_id = models.CharField(max_length=100)
    external_updated_at = models.DateTimeField(null=True, blank=True)
    payload = models.JSONField(default=dict)
    received_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["engagement", "source", "delivery_key"], name="inbox_delivery_once")
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.topic} {self.external_id}"


class SyncRun(models.Model):
    class Trigger(models.TextChoices):
        MANUAL = "manual", _("Manual")
        SCHEDULE = "schedule", _("Scheduled")
        WEBHOOK = "webhook", _("Webhook")
        RECONCILE = "reconcile", _("Reconciliation")
        RETRY = "retry", _("Retry")

    Status = RunStatus

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="sync_runs")
    flow = models.CharField(max_length=20, choices=Flow.choices)
    trigger = models.CharField(max_length=20, choices=Trigger.choices, default=Trigger.MANUAL)
    dry_run = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    window_start = models.CharField(max_length=64, blank=True)
    window_end = models.CharField(max_length=64, blank=True)
    cursor_before = models.CharField(max_length=64, blank=True)
    cursor_after = models.CharField(max_length=64, blank=True)
    # listed, created, updated, unchanged, skipped, postponed, failed, ambiguous, review
    counts = models.JSONField(default=dict)
    api_usage = models.JSONField(default=dict)  # calls per system
    summary = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            # One run per engagement and flow at a time, enforced by the database.
            models.UniqueConstraint(
                fields=["engagement", "flow"], condition=models.Q(status="running"), name="one_running_run_per_flow"
            )
        ]

    def __str__(self) -> str:
        return f"{self.engagement_id} {self.flow} {self.started_at:%Y-%m-%d %H:%M}"


class SyncItem(models.Model):
    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(max_length=30)
    external_id = models.CharField(max_length=100, blank=True)
    odoo_id = models.PositiveIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=12, default="")  # the count it adds to: created, failed, review...
    action = models.CharField(max_length=20)  # created, create (kept in draft), would_create, cancel, ...
    reason_code = models.CharField(max_length=200, blank=True)  # codes, comma-separated when several
    message = models.TextField(blank=True)
    diff = models.JSONField(default=dict, blank=True)
    attempts = models.PositiveSmallIntegerField(default=1)
    next_retry_at = models.DateTimeField(null=True, blank=True)
    ambiguous = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.external_id} {self.action}"
