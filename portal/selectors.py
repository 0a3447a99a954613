"""Reads for pages, always scoped to the acting user."""

from django.db.models import Count, Prefetch, QuerySet
from django.utils import timezone

from portal.access import companies_for_user
from portal.models import INTERNAL_ROLES, ClientCompany, Invitation, Membership, User


def company_list_for_user(user: User) -> QuerySet[ClientCompany]:
    return companies_for_user(user).annotate(member_count=Count("memberships"))


def company_detail_for_user(user: User) -> QuerySet[ClientCompany]:
    """Companies with their members and pending invitations prefetched."""
    return companies_for_user(user).prefetch_related(
        Prefetch("memberships", queryset=Membership.objects.select_related("user").order_by("user__email")),
        Prefetch(
            "invitations",
            queryset=Invitation.objects.filter(
                accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
            ).order_by("email"),
            to_attr="pending_invitations",
        ),
    )


def membership_list_for_user(user: User) -> QuerySet[Membership]:
    return Membership.objects.filter(company__in=companies_for_user(user)).select_related("user", "company")


def invitation_list_for_user(user: User) -> QuerySet[Invitation]:
    if user.role != "staff":
        return Invitation.objects.none()
    return Invitation.objects.select_related("company")


def internal_user_list_for_user(user: User) -> QuerySet[User]:
    if user.role != "staff":
        return User.objects.none()
    return User.objects.filter(role__in=INTERNAL_ROLES).order_by("role", "email")
