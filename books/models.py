"""The consultancy's books in its own Odoo: the connection, what was pushed there, what came back.

- `BooksConnection`: the one Odoo that keeps the books (a single row), its secret and settings.
- `BooksPartner`: a client company ⇄ its res.partner there.
- `BooksDocument`: a payment request or a credit note ⇄ its account.move there, with what Odoo
  says about it (folio, state, payment state, SII status, the legal PDF).
- `BooksPush`: one write to make in Odoo, exactly once, with its attempts (an outbox row).
- `BooksRun` / `BooksRunItem`: what each worker pass did, item by item (staff read them).

The portal stays the lifecycle's engine; Odoo keeps the books. Pushes are keyed by markers Odoo
stores (our document number in `ref`, the company's RUT in `vat`, a payment's marker in its
memo) and looked up before any create.
"""

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from billing.models import Invoice, Payment
from portal.fields import EncryptedTextField
from portal.models import ClientCompany, RunStatus


class Health(models.TextChoices):
    UNKNOWN = "unknown", _("Not checked yet")
    OK = "ok", _("Working")
    FAILING = "failing", _("Failing")


class BooksConnection(models.Model):
    """The consultancy's own Odoo. One row (pk 1); the API key is write-only and bound to the
    address and database it was saved for."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    url = models.URLField(_("Odoo URL"))
    database = models.CharField(_("database"), max_length=100)
    login = models.CharField(_("user"), max_length=200)
    api_key = EncryptedTextField(_("API key"), blank=True)
    company_id = models.PositiveIntegerField(_("Odoo company (id)"), default=1)
    # What the push does (set by staff on the books page).
    active = models.BooleanField(_("Keep the books in this Odoo"), default=False)
    post_invoices = models.BooleanField(_("Post the invoices (otherwise leave them in draft)"), default=True)
    sale_journal_id = models.PositiveIntegerField(_("Sales journal (id)"), null=True, blank=True)
    payment_journal_id = models.PositiveIntegerField(_("Payment journal (id)"), null=True, blank=True)
    # Odoo product and tax per line type (quote kind): service milestone, add-on, hour bank.
    service_product_id = models.PositiveIntegerField(null=True, blank=True)
    service_tax_id = models.PositiveIntegerField(null=True, blank=True)
    add_on_product_id = models.PositiveIntegerField(null=True, blank=True)
    add_on_tax_id = models.PositiveIntegerField(null=True, blank=True)
    hour_bank_product_id = models.PositiveIntegerField(null=True, blank=True)
    hour_bank_tax_id = models.PositiveIntegerField(null=True, blank=True)
    # Learnt: the connection check's verdict (never a secret), and how the PDF is fetched.
    odoo_major = models.PositiveSmallIntegerField(null=True, blank=True)
    health = models.CharField(max_length=10, choices=Health.choices, default=Health.UNKNOWN)
    last_check_at = models.DateTimeField(null=True, blank=True)
    last_check = models.JSONField(default=dict, blank=True)
    check_requested_at = models.DateTimeField(null=True, blank=True)
    pdf_via_portal = models.BooleanField(default=False)  # the web login refused the key: use portal links
    # The read-back's cursor: Odoo's write_date of the last invoice it saw (UTC, Odoo's format).
    pull_cursor = models.CharField(max_length=32, blank=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="books_connection_single_row")]

    def __str__(self) -> str:
        return f"{self.url} ({self.database})"

    def product_and_tax(self, kind: str) -> tuple[int | None, int | None]:
        return getattr(self, f"{kind}_product_id", None), getattr(self, f"{kind}_tax_id", None)

    @property
    def is_checking(self) -> bool:
        return bool(
            self.check_requested_at and (not self.last_check_at or self.check_requested_at > self.last_check_at)
        )


class BooksPartner(models.Model):
    company = models.OneToOneField(ClientCompany, on_delete=models.CASCADE, related_name="books_partner")
    odoo_id = models.PositiveIntegerField(null=True, blank=True)
    matched_by = models.CharField(max_length=10, blank=True)  # rut, marker, created
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.company_id}⇄{self.odoo_id}"


class BooksDocument(models.Model):
    """What Odoo says about one of our documents. `odoo_id` is set once the move exists there."""

    invoice = models.OneToOneField(Invoice, on_delete=models.CASCADE, related_name="books_document")
    odoo_id = models.PositiveIntegerField(null=True, blank=True, db_index=True)
    name = models.CharField(max_length=64, blank=True)  # "FAC 000001", "N/C 000001", "INV/2026/00001"
    document_number = models.CharField(max_length=32, blank=True)  # l10n_latam_document_number ("000001")
    document_code = models.CharField(max_length=8, blank=True)  # SII document type: 33, 34, 61
    state = models.CharField(max_length=16, blank=True)  # draft, posted, cancel
    payment_state = models.CharField(max_length=24, blank=True)  # not_paid, partial, paid, reversed...
    sii_status = models.CharField(max_length=24, blank=True)  # l10n_cl_dte_status, where it exists
    amount_total = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    amount_residual = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    write_date = models.CharField(max_length=32, blank=True)  # Odoo's, as it reads it
    refreshed_at = models.DateTimeField(null=True, blank=True)
    pdf = models.FileField(upload_to="books/", blank=True)
    pdf_fetched_at = models.DateTimeField(null=True, blank=True)
    pdf_problem = models.CharField(max_length=200, blank=True)
    # What the read-back found that a person must look at (a total that differs, a payment Odoo
    # shows less of than the portal...); cleared when it no longer holds.
    attention = models.CharField(max_length=64, blank=True)
    attention_message = models.CharField(max_length=300, blank=True)

    def __str__(self) -> str:
        return self.name or f"{self.invoice_id} (not in Odoo yet)"

    @property
    def folio(self) -> str:
        return self.name if self.name and self.name != "/" else ""


class PushKind(models.TextChoices):
    INVOICE = "invoice", _("Customer invoice")
    VOID = "void", _("Credit note")
    PAYMENT = "payment", _("Payment")
    REFUND = "refund", _("Refund")


class PushState(models.TextChoices):
    PENDING = "pending", _("Waiting")
    DONE = "done", _("Done")
    ATTENTION = "attention", _("Needs attention")


# The order a pass takes them in: a payment needs its invoice in Odoo first.
PUSH_ORDER = [PushKind.INVOICE, PushKind.VOID, PushKind.PAYMENT, PushKind.REFUND]


class BooksPush(models.Model):
    """One thing to write in the consultancy's Odoo. Taken by one worker at a time (`lease_until`);
    retried with back-off while Odoo is down; "needs attention" when a person must decide."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=10, choices=PushKind.choices)
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="books_pushes")
    payment = models.OneToOneField(Payment, null=True, blank=True, on_delete=models.CASCADE, related_name="books_push")
    state = models.CharField(max_length=10, choices=PushState.choices, default=PushState.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    reason_code = models.CharField(max_length=64, blank=True)
    message = models.TextField(blank=True)
    odoo_id = models.PositiveIntegerField(null=True, blank=True)  # the move or payment made there
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            # A payment request is pushed once and voided once; a payment (or refund) once.
            models.UniqueConstraint(
                fields=["kind", "invoice"],
                condition=models.Q(kind__in=["invoice", "void"]),
                name="books_push_document_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.invoice_id} {self.state}"


class BooksRun(models.Model):
    class Kind(models.TextChoices):
        PUSH = "push", _("Push to Odoo")
        PULL = "pull", _("Read back from Odoo")

    class Trigger(models.TextChoices):
        EVENT = "event", _("Document or payment")
        RETRY = "retry", _("Retry")
        SCHEDULE = "schedule", _("Scheduled")
        MANUAL = "manual", _("Manual")

    Status = RunStatus

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    trigger = models.CharField(max_length=10, choices=Trigger.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict)
    odoo_calls = models.PositiveIntegerField(default=0)
    summary = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            # One read-back at a time: the database refuses a second "running" one.
            models.UniqueConstraint(
                fields=["kind"], condition=models.Q(kind="pull", status="running"), name="books_one_running_pull"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.started_at:%Y-%m-%d %H:%M}"


class BooksRunItem(models.Model):
    run = models.ForeignKey(BooksRun, on_delete=models.CASCADE, related_name="items")
    push = models.ForeignKey(BooksPush, null=True, blank=True, on_delete=models.SET_NULL, related_name="items")
    invoice = models.ForeignKey(Invoice, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=12)  # partner, invoice, void, payment, refund, document, pdf
    outcome = models.CharField(max_length=12)  # the count it adds to
    action = models.CharField(max_length=20)  # created, adopted, posted, updated, recorded, waiting...
    odoo_id = models.PositiveIntegerField(null=True, blank=True)
    reason_code = models.CharField(max_length=64, blank=True)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.action}"
