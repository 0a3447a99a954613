"""People: users, client companies, memberships, invitations, audit trail."""

import uuid

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from portal.rut import format_rut, validate_rut_field


class Role(models.TextChoices):
    CLIENT = "client", _("Client")
    CONSULTANT = "consultant", _("Consultant")
    STAFF = "staff", _("Staff")


INTERNAL_ROLES = frozenset({Role.CONSULTANT, Role.STAFF})


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **fields):
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **fields):
        fields.setdefault("role", Role.CLIENT)
        return self._create(email, password, **fields)

    def create_superuser(self, email: str, password: str | None = None, **fields):
        """The first staff account (`createsuperuser`): its address counts as verified, since the
        operator typed it on the server; otherwise its first sign-in would wait for an e-mail."""
        from allauth.account.models import EmailAddress

        fields.update(role=Role.STAFF, is_superuser=True)
        user = self._create(email, password, **fields)
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
        return user


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in with their email address.

    The role decides what the person may do; Django's `is_staff` (admin
    access) is derived from it so there is one source of truth.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    email = models.EmailField(_("email"), unique=True)
    full_name = models.CharField(_("full name"), max_length=200, blank=True)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.CLIENT)
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), auto_now_add=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_ci_unique")]

    def __str__(self) -> str:
        return self.full_name or self.email

    @property
    def is_staff(self) -> bool:  # Django admin gate
        return self.role == Role.STAFF and self.is_active

    @property
    def is_internal(self) -> bool:
        return self.role in INTERNAL_ROLES

    @property
    def is_client(self) -> bool:
        return self.role == Role.CLIENT

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return (self.full_name or self.email).split(" ")[0]


class ClientCompany(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    legal_name = models.CharField(_("legal name"), max_length=200)
    # Stored compact (digits + check digit, no dots or dash), shown formatted.
    rut = models.CharField(_("RUT"), max_length=12, unique=True, validators=[validate_rut_field])
    address = models.CharField(_("address"), max_length=300)
    billing_email = models.EmailField(_("billing email"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("client company")
        verbose_name_plural = _("client companies")
        ordering = ["legal_name"]

    def __str__(self) -> str:
        return self.legal_name

    @property
    def rut_display(self) -> str:
        return format_rut(self.rut)


class Membership(models.Model):
    """A client user's place in their company. A client belongs to one company."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership")
    company = models.ForeignKey(ClientCompany, on_delete=models.CASCADE, related_name="memberships")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")

    def __str__(self) -> str:
        return f"{self.user} @ {self.company}"


class Invitation(models.Model):
    """An emailed link that lets a person set a password and join.

    Only the SHA-256 of the token is stored: a database leak does not leak
    usable links.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    token_hash = models.CharField(max_length=64, unique=True)
    email = models.EmailField(_("email"))
    full_name = models.CharField(_("full name"), max_length=200, blank=True)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.CLIENT)
    company = models.ForeignKey(
        ClientCompany, null=True, blank=True, on_delete=models.CASCADE, related_name="invitations"
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="invitations_sent"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    accepted_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The last e-mail with the link could not be sent (the mail server refused or was down):
    # staff see it on the pending invitation and re-send it.
    email_failed = models.BooleanField(_("e-mail not sent"), default=False)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role="client", company__isnull=False) | ~models.Q(role="client"),
                name="invitation_client_has_company",
            )
        ]

    def __str__(self) -> str:
        return self.email

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None


class AuditEvent(models.Model):
    """Security audit trail: who did what, when, from where.

    Codes are dotted `app.entity.event` strings (see portal.audit.Code).
    """

    code = models.CharField(max_length=64, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The person or thing acted on, kept as text so it survives deletions.
    target = models.CharField(max_length=300, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.code} {self.target}"


class RunStatus(models.TextChoices):
    """How a background pass ended: the integration's sync runs and the books' passes alike."""

    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    PARTIAL = "partial", _("Finished with problems")
    FAILED = "failed", _("Failed")


class MailStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class OutgoingMail(models.Model):
    """A notification e-mail to one recipient, written in the transaction that caused it.

    The worker sends it after commit and, when the mail server fails, again later with a
    growing delay (portal.mail); after the last attempt it stays "failed" and /healthz counts
    it. Mail carrying a secret (an invitation link) never comes here: see
    portal.notifications.email_enqueue.
    """

    recipient = models.EmailField()
    subject = models.CharField(max_length=300)
    body = models.TextField()
    attachments = models.JSONField(default=list, blank=True)  # [[filename, text content, mimetype], ...]
    status = models.CharField(max_length=10, choices=MailStatus.choices, default=MailStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Pending: not before this moment (a retry's back-off, or the lease of the worker sending it).
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=200, blank=True)  # the exception's class and short text
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("outgoing e-mail")
        verbose_name_plural = _("outgoing e-mails")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="outgoingmail_due")]

    def __str__(self) -> str:
        return f"{self.recipient}: {self.subject}"
