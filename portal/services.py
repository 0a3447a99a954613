"""Every write about people: companies, invitations, memberships, roles.

Services are keyword-only, atomic, audited, and raise DomainError with a
translated message when they refuse. Views call exactly one of them.
"""

import hashlib
import secrets
from datetime import timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.audit import Code, audit_record
from portal.errors import DomainError
from portal.models import INTERNAL_ROLES, ClientCompany, Invitation, Membership, Role, User
from portal.notifications import email_enqueue
from portal.rut import INVALID_RUT, normalize_rut

RUT_TAKEN = _("A client company with this RUT already exists.")
EMAIL_IS_MEMBER = _("This person is already a member of this company.")
EMAIL_OTHER_COMPANY = _("This email already belongs to a user of another company.")
EMAIL_INTERNAL = _("This email belongs to a consultancy user; it cannot join a client company.")
EMAIL_TAKEN = _("A user with this email already exists.")
INVITATION_PENDING_ELSEWHERE = _("This email has a pending invitation to another company. Revoke it first.")
INVITATION_INVALID = _("This invitation link is not valid. Ask the consultancy for a new one.")
INVITATION_EXPIRED = _("This invitation has expired. Ask the consultancy for a new one.")
INVITATION_USED = _("This invitation has already been used. Sign in with your email and password.")
INVITATION_REVOKED = _("This invitation was withdrawn. Ask the consultancy for a new one.")
ROLE_CLIENT_CHANGE = _("Client users keep the client role; invite consultancy staff separately.")
ROLE_SELF_CHANGE = _("You cannot change your own role.")
INVITATION_NOT_PENDING = _("This invitation was already accepted or withdrawn.")


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# ---------------------------------------------------------------- companies


def _checked_rut(rut: str) -> str:
    try:
        return normalize_rut(rut)
    except ValidationError as exc:
        raise DomainError(INVALID_RUT, field="rut") from exc


@transaction.atomic
def company_create(
    *, actor: User, request: HttpRequest | None, legal_name: str, rut: str, address: str, billing_email: str
) -> ClientCompany:
    compact = _checked_rut(rut)
    if ClientCompany.objects.filter(rut=compact).exists():
        raise DomainError(RUT_TAKEN, field="rut")
    company = ClientCompany.objects.create(
        legal_name=legal_name.strip(), rut=compact, address=address.strip(), billing_email=billing_email.lower()
    )
    audit_record(code=Code.COMPANY_CREATED, request=request, actor=actor, target=company, data={"rut": compact})
    return company


@transaction.atomic
def company_update(
    *,
    actor: User,
    request: HttpRequest | None,
    company: ClientCompany,
    legal_name: str,
    rut: str,
    address: str,
    billing_email: str,
) -> ClientCompany:
    company = ClientCompany.objects.select_for_update().get(pk=company.pk)
    compact = _checked_rut(rut)
    if ClientCompany.objects.filter(rut=compact).exclude(pk=company.pk).exists():
        raise DomainError(RUT_TAKEN, field="rut")
    company.legal_name, company.rut = legal_name.strip(), compact
    company.address, company.billing_email = address.strip(), billing_email.lower()
    company.save(update_fields=["legal_name", "rut", "address", "billing_email"])
    audit_record(code=Code.COMPANY_UPDATED, request=request, actor=actor, target=company)
    return company


# ---------------------------------------------------------------- invitations


def _returning_client(user: User | None, role: str) -> bool:
    """A client removed from their company (deactivated, no membership) may be invited again."""
    return (
        user is not None
        and role == Role.CLIENT
        and user.role == Role.CLIENT
        and not user.is_active
        and not Membership.objects.filter(user=user).exists()
    )


def _check_invitable(email: str, role: str, company: ClientCompany | None) -> None:
    existing = User.objects.filter(email__iexact=email).select_related("membership").first()
    if existing is not None:
        membership = getattr(existing, "membership", None)
        if membership is not None and company is not None and membership.company_id == company.pk:
            raise DomainError(EMAIL_IS_MEMBER, field="email")
        if membership is not None:
            raise DomainError(EMAIL_OTHER_COMPANY, field="email")
        if existing.is_internal and role == Role.CLIENT:
            raise DomainError(EMAIL_INTERNAL, field="email")
        if not _returning_client(existing, role):
            raise DomainError(EMAIL_TAKEN, field="email")
    pending_elsewhere = Invitation.objects.filter(
        email__iexact=email, accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
    ).exclude(company=company)
    if pending_elsewhere.exists():
        raise DomainError(INVITATION_PENDING_ELSEWHERE, field="email")


@transaction.atomic
def invitation_create(
    *,
    actor: User,
    request: HttpRequest | None,
    email: str,
    full_name: str = "",
    role: str = Role.CLIENT,
    company: ClientCompany | None = None,
) -> tuple[Invitation, str]:
    """Create and email an invitation; returns it with the plain token (shown nowhere else).

    Inviting the same email to the same company again replaces the pending
    invitation, so only the newest link works.
    """
    email = email.strip().lower()
    if role == Role.CLIENT and company is None:
        raise ValueError("client invitations need a company")
    if role in INTERNAL_ROLES:
        company = None
    _check_invitable(email, role, company)
    now = timezone.now()
    Invitation.objects.filter(
        email__iexact=email, company=company, accepted_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=now)
    invitation = Invitation(email=email, full_name=full_name.strip(), role=role, company=company, invited_by=actor)
    token = _invitation_send(invitation, actor=actor, now=now)
    audit_record(
        code=Code.INVITATION_SENT,
        request=request,
        actor=actor,
        target=email,
        data={"role": role, "company": str(company.public_id) if company else None},
    )
    return invitation, token


def _invitation_send(invitation: Invitation, *, actor: User, now) -> str:
    """Give the invitation a new link valid from `now`, save it, and e-mail the link after commit.

    The mail is sent from the request (it carries the link); when the mail server fails, the
    invitation stays and is flagged `email_failed`, so staff can re-send it."""
    token = secrets.token_urlsafe(32)
    invitation.token_hash = _hash_token(token)
    invitation.expires_at = now + timedelta(days=settings.INVITATION_VALID_DAYS)
    invitation.email_failed = False
    invitation.save()

    def mail_failed() -> None:
        invitation.email_failed = True
        Invitation.objects.filter(pk=invitation.pk).update(email_failed=True)

    email_enqueue(
        to=[invitation.email],
        template="invitation",
        context={"invitation": invitation, "company": invitation.company, "token": token, "inviter": actor},
        contains_secret=True,
        on_failure=mail_failed,
    )
    return token


@transaction.atomic
def invitation_resend(*, actor: User, request: HttpRequest | None, invitation: Invitation) -> tuple[Invitation, str]:
    """E-mail a pending invitation again, with a new link (the old one stops working: only its
    hash is stored, so the old link cannot be sent again) valid from now."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if not invitation.is_pending:
        raise DomainError(INVITATION_NOT_PENDING)
    token = _invitation_send(invitation, actor=actor, now=timezone.now())
    audit_record(code=Code.INVITATION_RESENT, request=request, actor=actor, target=invitation.email)
    return invitation, token


def invitation_for_token(token: str) -> Invitation:
    """The pending invitation behind a link, or DomainError saying why not."""
    invitation = Invitation.objects.select_related("company").filter(token_hash=_hash_token(token or "")).first()
    _check_usable(invitation)
    return invitation


def _check_usable(invitation: Invitation | None) -> None:
    if invitation is None:
        raise DomainError(INVITATION_INVALID)
    if invitation.accepted_at is not None:
        raise DomainError(INVITATION_USED)
    if invitation.revoked_at is not None:
        raise DomainError(INVITATION_REVOKED)
    if invitation.expires_at <= timezone.now():
        raise DomainError(INVITATION_EXPIRED)


def _create_invited(invitation: Invitation, full_name: str, password: str) -> User:
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                email=invitation.email, password=password, full_name=full_name.strip(), role=invitation.role
            )
    except IntegrityError as exc:  # a concurrent acceptance of another invitation for the same email
        raise DomainError(EMAIL_TAKEN) from exc
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


def _reactivate(user: User, full_name: str, password: str) -> User:
    user.is_active, user.full_name = True, full_name.strip()
    user.set_password(password)
    user.save(update_fields=["is_active", "full_name", "password"])
    EmailAddress.objects.update_or_create(user=user, email=user.email, defaults={"verified": True, "primary": True})
    return user


@transaction.atomic
def invitation_accept(*, token: str, full_name: str, password: str, request: HttpRequest | None) -> User:
    """Create the invited person's account and place them in their company.

    The invitation row is locked so a double submit or a second tab cannot
    create two accounts; the email is verified by the act of clicking the link.
    """
    invitation = Invitation.objects.select_for_update().filter(token_hash=_hash_token(token or "")).first()
    _check_usable(invitation)
    existing = User.objects.select_for_update().filter(email__iexact=invitation.email).first()
    if existing is not None and not _returning_client(existing, invitation.role):
        raise DomainError(EMAIL_TAKEN)
    user = _reactivate(existing, full_name, password) if existing else _create_invited(invitation, full_name, password)
    invitation.accepted_at, invitation.accepted_user = timezone.now(), user
    invitation.save(update_fields=["accepted_at", "accepted_user"])
    audit_record(code=Code.INVITATION_ACCEPTED, request=request, actor=user, target=user.email)
    if invitation.company is not None:
        Membership.objects.create(user=user, company=invitation.company)
        audit_record(
            code=Code.MEMBERSHIP_ADDED,
            request=request,
            actor=user,
            target=user.email,
            data={"company": str(invitation.company.public_id)},
        )
    return user


@transaction.atomic
def invitation_revoke(*, actor: User, request: HttpRequest | None, invitation: Invitation) -> Invitation:
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if not invitation.is_pending:
        return invitation
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    audit_record(code=Code.INVITATION_REVOKED, request=request, actor=actor, target=invitation.email)
    return invitation


# ---------------------------------------------------------------- memberships and roles


@transaction.atomic
def membership_remove(*, actor: User, request: HttpRequest | None, membership: Membership) -> None:
    """Take a client user out of their company. Without a company a client
    user has nothing to see, so the account is deactivated too."""
    membership = Membership.objects.select_for_update().select_related("user", "company").get(pk=membership.pk)
    user, company = membership.user, membership.company
    membership.delete()
    audit_record(
        code=Code.MEMBERSHIP_REMOVED,
        request=request,
        actor=actor,
        target=user.email,
        data={"company": str(company.public_id)},
    )
    user.is_active = False
    user.save(update_fields=["is_active"])
    audit_record(code=Code.USER_DEACTIVATED, request=request, actor=actor, target=user.email)


@transaction.atomic
def user_set_role(*, actor: User, request: HttpRequest | None, user: User, role: str) -> User:
    """Move a consultancy user between consultant and staff."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.pk == actor.pk:
        raise DomainError(ROLE_SELF_CHANGE)
    if user.role not in INTERNAL_ROLES or role not in INTERNAL_ROLES:
        raise DomainError(ROLE_CLIENT_CHANGE)
    if user.role == role:
        return user
    old = user.role
    user.role = role
    user.save(update_fields=["role"])
    audit_record(
        code=Code.ROLE_CHANGED, request=request, actor=actor, target=user.email, data={"from": old, "to": role}
    )
    return user
