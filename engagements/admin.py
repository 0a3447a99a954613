"""Read-only admin views for support; changes go through the portal's pages and services."""

from django.contrib import admin

from engagements.models import Engagement, EngagementEvent, FormalRequest, Service, ServiceTerms
from portal.admin import ReadOnlyAdmin


@admin.register(Service)
class ServiceAdmin(ReadOnlyAdmin):
    list_display = ["slug", "name_es", "is_public"]


@admin.register(ServiceTerms)
class ServiceTermsAdmin(ReadOnlyAdmin):
    list_display = ["service", "version", "published_at"]


@admin.register(Engagement)
class EngagementAdmin(ReadOnlyAdmin):
    list_display = ["code", "title", "company", "status", "phase", "consultant", "status_changed_at"]
    list_filter = ["status", "phase"]
    search_fields = ["code", "title", "company__legal_name"]


@admin.register(EngagementEvent)
class EngagementEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "engagement", "kind", "old_status", "new_status", "actor"]
    list_filter = ["kind"]


@admin.register(FormalRequest)
class FormalRequestAdmin(ReadOnlyAdmin):
    list_display = ["engagement", "subject", "kind", "sent_at", "answered_at"]
