"""Admin: read-only views for support. Changes to people go through the portal's own pages so
they are validated and audited.

The admin must not be a way to run code or to take over an account, even for a superuser:
django-q2's schedules and tasks (a schedule's `func` is any importable callable, `os.system`
included, and "resubmit" re-runs a task) and allauth's e-mail addresses and authenticators are
read-only here, with their bulk actions removed. The one change left, ending someone's session,
is audited like every admin change (`AuditedAdmin`).
"""

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession
from django.contrib import admin
from django.contrib.auth.models import Group
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django_q.models import Failure, OrmQ, Schedule, Success

from portal.audit import Code, audit_record
from portal.models import AuditEvent, ClientCompany, Invitation, Membership, OutgoingMail, User


def _audit_admin(request: HttpRequest, code: str, obj: Model, message: object = "") -> None:
    audit_record(
        code=code,
        request=request,
        target=f"{obj._meta.label}:{obj.pk}",
        data={"model": obj._meta.label, "object": str(obj)[:200], "change": str(message)[:1000]},
    )


class AuditedAdmin(admin.ModelAdmin):
    """Every addition, change and deletion made through the admin is an audit event, besides
    Django's own admin log (which is not part of the security trail)."""

    def log_addition(self, request, obj, message):
        _audit_admin(request, Code.ADMIN_ADDED, obj, message)
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        _audit_admin(request, Code.ADMIN_CHANGED, obj, message)
        return super().log_change(request, obj, message)

    def log_deletions(self, request, queryset):
        for obj in queryset:
            _audit_admin(request, Code.ADMIN_DELETED, obj)
        return super().log_deletions(request, queryset)


class ReadOnlyAdmin(AuditedAdmin):
    actions = None  # not even "delete selected"

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(User)
class UserAdmin(ReadOnlyAdmin):
    list_display = ["email", "full_name", "role", "is_active", "date_joined", "last_login"]
    list_filter = ["role", "is_active"]
    search_fields = ["email", "full_name"]
    exclude = ["password"]


@admin.register(ClientCompany)
class ClientCompanyAdmin(ReadOnlyAdmin):
    list_display = ["legal_name", "rut_display", "billing_email", "created_at"]
    search_fields = ["legal_name", "rut"]


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdmin):
    list_display = ["user", "company", "created_at"]


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdmin):
    list_display = ["email", "role", "company", "created_at", "expires_at", "accepted_at", "revoked_at"]
    exclude = ["token_hash"]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "code", "actor", "target", "ip_address"]
    list_filter = ["code"]
    search_fields = ["target", "actor__email"]


@admin.register(OutgoingMail)
class OutgoingMailAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "recipient", "subject", "status", "attempts", "next_attempt_at", "last_error"]
    list_filter = ["status"]


# ---------------------------------------------------------------- other apps' models


def _read_only(model: type[Model], **attrs) -> None:
    """Register `model` again with its app's admin made read-only and audited (if its app
    registered it: django-q2 shows its queue only with the ORM broker)."""
    if admin.site.is_registered(model):
        base = type(admin.site.get_model_admin(model))
        admin.site.unregister(model)
        admin.site.register(model, type(f"ReadOnly{base.__name__}", (ReadOnlyAdmin, base), attrs))


# Roles decide what people may do; Django's groups and permissions are not used.
admin.site.unregister(Group)
for _model in (Schedule, Success, Failure, OrmQ, EmailAddress):
    _read_only(_model)
# The encrypted TOTP seed and recovery codes stay out of the page.
_read_only(Authenticator, exclude=["data"])


class UserSessionAdmin(ReadOnlyAdmin):
    """Staff may end a person's session (a stolen laptop): deleting the row ends the session
    itself, not only allauth's record of it. The session key and data are never shown."""

    list_display = ["user", "created_at", "last_seen_at", "ip", "user_agent"]
    exclude = ["session_key", "data"]
    actions = ()  # the site's "delete selected", which ends each session through delete_queryset

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_active and request.user.is_staff

    def delete_model(self, request: HttpRequest, obj: UserSession) -> None:
        obj.end()

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[UserSession]) -> None:
        for session in queryset:
            session.end()


admin.site.unregister(UserSession)
admin.site.register(UserSession, UserSessionAdmin)
