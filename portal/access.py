"""Scoped access: fetch an object for the acting user, or 404.

"Not yours" and "does not exist" are the same 404 so ids cannot be probed.
Role gates for whole views are decorators; a logged-in person with the wrong
role gets 403, an anonymous one the login page.
"""

from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest

from portal.models import ClientCompany, Role, User

M = TypeVar("M", bound=Model)


def get_scoped_or_404(queryset: QuerySet[M], **lookup) -> M:
    """`queryset` must already be scoped to the user (a selector's result)."""
    try:
        return queryset.get(**lookup)
    except (queryset.model.DoesNotExist, ValidationError, ValueError, TypeError) as exc:
        raise Http404 from exc


def companies_for_user(user: User) -> QuerySet[ClientCompany]:
    """Companies the user may see: staff all, a client their own.

    Consultants reach companies through the engagements assigned to them
    (engagements.selectors), not through this list.
    """
    if not user.is_authenticated or not user.is_active:
        return ClientCompany.objects.none()
    if user.role == Role.STAFF:
        return ClientCompany.objects.all()
    if user.role == Role.CLIENT:
        return ClientCompany.objects.filter(memberships__user=user)
    return ClientCompany.objects.none()


def get_company_for_user(user: User, public_id) -> ClientCompany:
    return get_scoped_or_404(companies_for_user(user), public_id=public_id)


def _role_required(allowed: frozenset[str]) -> Callable:
    def decorator(view: Callable) -> Callable:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs):
            if request.user.role not in allowed:
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


# Staff may do everything a consultant may.
consultant_required = _role_required(frozenset({Role.CONSULTANT, Role.STAFF}))
staff_required = _role_required(frozenset({Role.STAFF}))
client_required = _role_required(frozenset({Role.CLIENT}))
