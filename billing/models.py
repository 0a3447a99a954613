"""Quotes, acceptance, payment milestones, payment requests with gapless numbers, payments.

`Invoice` is the model of the portal's payment requests ("solicitudes de
pago") and of their voids ("anulaciones", `credit_note_for`): documents that
ask for or cancel a payment, not Chilean tax documents. The legal invoice is
issued in the consultancy's Odoo. The model keeps its name: it is internal,
and renaming it would rename tables, foreign keys and task arguments in use.

Issued quotes and payment requests are immutable: corrections are new
versions or voids. Amounts are Decimal with the currency's minor unit; totals
are sums of stored, rounded lines.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from engagements.models import ChangeRequest, Engagement
from portal.models import ClientCompany

AMOUNT = {"max_digits": 14, "decimal_places": 2}


class ImmutableError(Exception):
    """An issued document was asked to change or disappear."""


class Currency(models.TextChoices):
    CLP = "CLP", "CLP"
    USD = "USD", "USD"


# ---------------------------------------------------------------- quotes


class QuoteStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SENT = "sent", _("Sent")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    EXPIRED = "expired", _("Expired")
    SUPERSEDED = "superseded", _("Superseded")


class QuoteKind(models.TextChoices):
    SERVICE = "service", _("Service")
    ADD_ON = "add_on", _("Add-on")
    HOUR_BANK = "hour_bank", _("Hour bank")


class Quote(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    engagement = models.ForeignKey(Engagement, on_delete=models.PROTECT, related_name="quotes")
    kind = models.CharField(max_length=20, choices=QuoteKind.choices, default=QuoteKind.SERVICE)
    change_request = models.ForeignKey(ChangeRequest, null=True, blank=True, on_delete=models.SET_NULL)
    # Versions of one quote share a `family` id; the newest sent one is the live one.
    family = models.UUIDField(default=uuid.uuid4, db_index=True)
    version = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=20, choices=QuoteStatus.choices, default=QuoteStatus.DRAFT)
    currency = models.CharField(max_length=3, choices=Currency.choices, default=Currency.CLP)
    tax_rate = models.DecimalField(max_digits=5, decimal_places=4, default="0.1900")  # 0 = exempt
    valid_until = models.DateField(_("valid until"))
    milestone_plan = models.JSONField(default=list)  # snapshot from the engagement's terms
    policy_text = models.TextField(blank=True)  # snapshot of the terms' policy (Spanish)
    hours = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)  # hour banks
    subtotal = models.DecimalField(**AMOUNT, default=0)
    tax = models.DecimalField(**AMOUNT, default=0)
    total = models.DecimalField(**AMOUNT, default=0)
    pdf = models.FileField(upload_to="quotes/", blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    declined_reason = models.TextField(blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)  # accepted/declined/expired/superseded

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["family", "version"], name="quote_version_unique")]

    def __str__(self) -> str:
        return f"{self.engagement.code} Q{self.version}"

    @property
    def is_issued(self) -> bool:
        return self.status != QuoteStatus.DRAFT

    def delete(self, *args, **kwargs):
        if self.is_issued:
            raise ImmutableError("issued quotes are kept; revise to make a new version")
        return super().delete(*args, **kwargs)


class DocumentLine(models.Model):
    """A priced line of a quote or an invoice; `amount` is stored rounded."""

    order = models.PositiveSmallIntegerField()
    description = models.CharField(max_length=300)
    quantity = models.DecimalField(max_digits=10, decimal_places=2)
    unit_price = models.DecimalField(**AMOUNT)
    amount = models.DecimalField(**AMOUNT)

    class Meta:
        abstract = True
        ordering = ["order"]

    def __str__(self) -> str:
        return self.description


class QuoteLine(DocumentLine):
    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="lines")


class QuoteAcceptance(models.Model):
    """Who accepted, when, from where, and the hash of the exact PDF shown."""

    quote = models.OneToOneField(Quote, on_delete=models.PROTECT, related_name="acceptance")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    full_name = models.CharField(max_length=200)
    accepted_policy = models.BooleanField()
    accepted_at = models.DateTimeField(auto_now_add=True)
    ip_address = models.GenericIPAddressField(null=True)
    user_agent = models.CharField(max_length=300)
    pdf_sha256 = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"{self.quote} accepted by {self.full_name}"


# ---------------------------------------------------------------- milestones and invoices


class PaymentMilestone(models.Model):
    engagement = models.ForeignKey(Engagement, on_delete=models.PROTECT, related_name="milestones")
    quote = models.ForeignKey(Quote, on_delete=models.PROTECT, related_name="milestones")
    order = models.PositiveSmallIntegerField()
    code = models.CharField(max_length=40)
    event = models.CharField(max_length=40)  # scope_confirmed, phase_completed:configuration, closed
    percent = models.DecimalField(max_digits=5, decimal_places=2)
    label_es = models.CharField(max_length=200)
    label_en = models.CharField(max_length=200)
    amount = models.DecimalField(**AMOUNT)  # with tax
    currency = models.CharField(max_length=3, choices=Currency.choices)
    reached_at = models.DateTimeField(null=True, blank=True)
    # Nothing left to collect: its payment request was paid, or it was reached
    # with an amount of 0 and needed no document.
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["order"]
        constraints = [models.UniqueConstraint(fields=["quote", "code"], name="milestone_once_per_quote")]

    def __str__(self) -> str:
        return f"{self.engagement.code} {self.percent}%"


class InvoiceCounter(models.Model):
    """One row per series, locked in the same transaction as the invoice it numbers."""

    series = models.CharField(max_length=10, unique=True)
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.series}:{self.last_number}"


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ISSUED = "issued", _("Issued")
    PARTIALLY_PAID = "partially_paid", _("Partially paid")
    PAID = "paid", _("Paid")
    VOID = "void", _("Void")


class Invoice(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    series = models.CharField(max_length=10)
    number = models.PositiveIntegerField(null=True, blank=True)  # given at issue, never at draft
    company = models.ForeignKey(ClientCompany, on_delete=models.PROTECT, related_name="invoices")
    engagement = models.ForeignKey(Engagement, null=True, blank=True, on_delete=models.PROTECT, related_name="invoices")
    milestone = models.OneToOneField(
        PaymentMilestone, null=True, blank=True, on_delete=models.PROTECT, related_name="invoice"
    )
    credit_note_for = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="credit_notes"
    )
    status = models.CharField(max_length=20, choices=InvoiceStatus.choices, default=InvoiceStatus.DRAFT)
    currency = models.CharField(max_length=3, choices=Currency.choices)
    # Snapshot of the client at issue: later edits of the company do not change it.
    client_name = models.CharField(max_length=200)
    client_rut = models.CharField(max_length=12)
    client_address = models.CharField(max_length=300)
    client_email = models.EmailField()
    tax_rate = models.DecimalField(max_digits=5, decimal_places=4)
    subtotal = models.DecimalField(**AMOUNT)
    tax = models.DecimalField(**AMOUNT)
    total = models.DecimalField(**AMOUNT)
    issue_date = models.DateField(null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)
    issued_at = models.DateTimeField(null=True, blank=True)
    pdf = models.FileField(upload_to="invoices/", blank=True)
    pdf_rendered_at = models.DateTimeField(null=True, blank=True)
    paid_amount = models.DecimalField(**AMOUNT, default=0)  # sum of its payments, kept with them
    reminders_sent = models.PositiveSmallIntegerField(default=0)
    last_reminder_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-issue_date", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["series", "number"], name="invoice_number_unique"),
            models.CheckConstraint(
                condition=models.Q(status="draft") | models.Q(number__isnull=False), name="issued_invoice_numbered"
            ),
        ]

    def __str__(self) -> str:
        return self.display_number or f"draft {self.pk}"

    @staticmethod
    def client_snapshot(company) -> dict:
        """The client as it stands when the document is made (an issued invoice never changes)."""
        return {
            "client_name": company.legal_name,
            "client_rut": company.rut,
            "client_address": company.address,
            "client_email": company.billing_email,
        }

    @property
    def display_number(self) -> str:
        return f"{self.series}-{self.number:06d}" if self.number else ""

    @property
    def balance(self):
        return self.total - self.paid_amount

    def delete(self, *args, **kwargs):
        if self.status != InvoiceStatus.DRAFT:
            raise ImmutableError("issued invoices are never deleted; issue a credit note")
        return super().delete(*args, **kwargs)


class InvoiceLine(DocumentLine):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")


# ---------------------------------------------------------------- payments and credits


class PaymentMethod(models.TextChoices):
    TRANSFER = "transfer", _("Bank transfer")
    CARD = "card", _("Card")
    CASH = "cash", _("Cash")
    CREDIT = "credit", _("Client credit")
    WEBPAY = "webpay", "Webpay"
    OTHER = "other", _("Other")


class Payment(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments")
    paid_on = models.DateField(_("payment date"))
    amount = models.DecimalField(_("amount"), **AMOUNT)
    method = models.CharField(_("method"), max_length=20, choices=PaymentMethod.choices)
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    recorded_at = models.DateTimeField(auto_now_add=True)
    # A payment through a gateway names its transaction here; unique, so the same transaction is
    # recorded once whatever path (return, reload, sweep, second worker) gets to it.
    gateway_ref = models.CharField(max_length=64, null=True, blank=True, unique=True)
    # A refund is a negative payment pointing at the payment it gives money back for.
    refund_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="refunds")

    class Meta:
        ordering = ["-paid_on", "-id"]

    def __str__(self) -> str:
        return f"{self.invoice} {self.amount}"


class CreditStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    ACTIVE = "active", _("Active")
    USED = "used", _("Used")
    EXPIRED = "expired", _("Expired")
    DISMISSED = "dismissed", _("Dismissed")


class Credit(models.Model):
    """A balance in the client's favour: the unexecuted balance at an
    administrative close (R3) or an overpayment. Its movements are the ledger."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    company = models.ForeignKey(ClientCompany, on_delete=models.PROTECT, related_name="credits")
    engagement = models.ForeignKey(Engagement, null=True, blank=True, on_delete=models.PROTECT, related_name="credits")
    status = models.CharField(max_length=20, choices=CreditStatus.choices, default=CreditStatus.PROPOSED)
    currency = models.CharField(max_length=3, choices=Currency.choices)
    proposed_amount = models.DecimalField(**AMOUNT)  # what the portal computed
    amount = models.DecimalField(**AMOUNT, default=0)  # what staff confirmed
    balance = models.DecimalField(**AMOUNT, default=0)
    reason = models.TextField(blank=True)  # why staff adjusted the proposal, or the origin
    # R3's arithmetic at the administrative close (billing.money.CreditProposal.as_basis):
    # staff decide on it and the client reads the same explanation.
    basis = models.JSONField(default=dict, blank=True)
    starts_on = models.DateField(null=True, blank=True)
    valid_until = models.DateField(null=True, blank=True)  # last day it can be used
    expiry_warned_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "valid_until"])]

    def __str__(self) -> str:
        return f"{self.company} {self.balance} {self.currency}"


class LedgerKind(models.TextChoices):
    CREATED = "created", _("Created")
    APPLIED = "applied", _("Applied")
    EXPIRED = "expired", _("Expired")


class CreditEntry(models.Model):
    credit = models.ForeignKey(Credit, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=20, choices=LedgerKind.choices)
    amount = models.DecimalField(**AMOUNT)  # + created, - applied or expired
    invoice = models.ForeignKey(Invoice, null=True, blank=True, on_delete=models.PROTECT)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount}"


# ---------------------------------------------------------------- Webpay Plus


class WebpayStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for Webpay")
    PAID = "paid", pgettext_lazy("a Webpay payment", "Paid")
    REJECTED = "rejected", _("Rejected")
    ABORTED = "aborted", _("Cancelled by the client")
    TIMED_OUT = "timed_out", _("Timed out on the payment form")
    FORM_ERROR = "form_error", _("Error on the payment form")
    CLOSED = "closed", _("Closed without payment")
    BALANCE_CHANGED = "balance_changed", _("Not charged: the balance changed")
    REVIEW = "review", _("To be reviewed by staff")


class WebpayAttempt(models.Model):
    """One Webpay Plus transaction for (the balance of) one payment request.

    The token is Transbank's handle for the transaction; the browser only ever hands it back.
    An attempt ends in exactly one final status; `payment` is set only for PAID.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="webpay_attempts")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    buy_order = models.CharField(max_length=26, unique=True)
    session_id = models.CharField(max_length=61)
    token = models.CharField(max_length=64, unique=True)
    redirect_url = models.CharField(max_length=255)
    amount = models.DecimalField(**AMOUNT)
    status = models.CharField(max_length=20, choices=WebpayStatus.choices, default=WebpayStatus.PENDING)
    response_code = models.IntegerField(null=True, blank=True)
    authorization_code = models.CharField(max_length=6, blank=True)
    card_last4 = models.CharField(max_length=4, blank=True)
    payment_type = models.CharField(max_length=2, blank=True)
    installments = models.PositiveSmallIntegerField(default=0)
    detail = models.CharField(max_length=300, blank=True)  # why it ended so (for staff)
    payment = models.OneToOneField(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="webpay_attempt"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    checked_at = models.DateTimeField(null=True, blank=True)  # last commit or status call
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return self.buy_order

    @property
    def is_final(self) -> bool:
        return self.status != WebpayStatus.PENDING
