"""Admin: read-mostly views for support. Changes to people go through the
portal's own pages so they are validated and audited."""

from django.contrib import admin

from portal.models import AuditEvent, ClientCompany, Invitation, Membership, User


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
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
