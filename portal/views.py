"""Portal pages: staff people management, invitation acceptance.

Views are thin: scoped lookup, form validation, one service, redirect.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portal import selectors, services
from portal.access import get_scoped_or_404, staff_required
from portal.errors import DomainError
from portal.forms import AcceptInvitationForm, CompanyForm, InternalInvitationForm, InvitationForm, RoleForm
from portal.models import Role


def _form_error(form, error: DomainError) -> None:
    form.add_error(error.field if error.field in form.fields else None, str(error.message))


def home(request: HttpRequest) -> HttpResponse:
    """Visitors see the public service page; signed-in people their portal home."""
    if request.user.is_authenticated:
        return redirect("engagements:home")
    return redirect("engagements:service_default")


# ---------------------------------------------------------------- companies (staff)


@staff_required
def company_list(request: HttpRequest) -> HttpResponse:
    companies = selectors.company_list_for_user(request.user)
    return render(request, "portal/company_list.html", {"companies": companies})


@staff_required
def company_create(request: HttpRequest) -> HttpResponse:
    form = CompanyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            company = services.company_create(actor=request.user, request=request, **form.cleaned_data)
        except DomainError as error:
            _form_error(form, error)
        else:
            messages.success(request, _("Company created."))
            return redirect("portal:company_detail", public_id=company.public_id)
    return render(request, "portal/company_form.html", {"form": form})


@staff_required
def company_edit(request: HttpRequest, public_id) -> HttpResponse:
    company = get_scoped_or_404(selectors.company_list_for_user(request.user), public_id=public_id)
    form = CompanyForm(request.POST or None, instance=company)
    if request.method == "POST" and form.is_valid():
        try:
            services.company_update(actor=request.user, request=request, company=company, **form.cleaned_data)
        except DomainError as error:
            _form_error(form, error)
        else:
            messages.success(request, _("Company updated."))
            return redirect("portal:company_detail", public_id=company.public_id)
    return render(request, "portal/company_form.html", {"form": form, "company": company})


@login_required
def company_detail(request: HttpRequest, public_id) -> HttpResponse:
    """Staff manage the company here; its own client users see it read-only."""
    company = get_scoped_or_404(selectors.company_detail_for_user(request.user), public_id=public_id)
    is_staff = request.user.role == Role.STAFF
    if request.method == "POST" and not is_staff:
        raise PermissionDenied
    form = InvitationForm(request.POST or None) if is_staff else None
    if form is not None and request.method == "POST" and form.is_valid():
        try:
            invitation, _token = services.invitation_create(
                actor=request.user, request=request, company=company, **form.cleaned_data
            )
        except DomainError as error:
            _form_error(form, error)
        else:
            _say_invitation_sent(request, invitation)
            return redirect("portal:company_detail", public_id=company.public_id)
    return render(request, "portal/company_detail.html", {"company": company, "form": form, "can_manage": is_staff})


def _say_invitation_sent(request: HttpRequest, invitation) -> None:
    """The invitation is saved either way; when its e-mail could not be sent, say so (and how
    to send it again) instead of claiming it went out."""
    if invitation.email_failed:
        messages.warning(
            request,
            _(
                "The invitation for %(email)s was saved, but the e-mail could not be sent: the mail server "
                'did not answer. Send it again with the "Re-send" button of the pending invitation in a few minutes.'
            )
            % {"email": invitation.email},
        )
    else:
        messages.success(request, _("Invitation sent to %(email)s.") % {"email": invitation.email})


def _to_invitations(invitation) -> HttpResponse:
    if invitation.company_id:
        return redirect("portal:company_detail", public_id=invitation.company.public_id)
    return redirect("portal:team")


@staff_required
@require_POST
def invitation_revoke(request: HttpRequest, public_id) -> HttpResponse:
    invitation = get_scoped_or_404(selectors.invitation_list_for_user(request.user), public_id=public_id)
    services.invitation_revoke(actor=request.user, request=request, invitation=invitation)
    messages.success(request, _("Invitation withdrawn."))
    return _to_invitations(invitation)


@staff_required
@require_POST
def invitation_resend(request: HttpRequest, public_id) -> HttpResponse:
    invitation = get_scoped_or_404(selectors.invitation_list_for_user(request.user), public_id=public_id)
    try:
        invitation, _token = services.invitation_resend(actor=request.user, request=request, invitation=invitation)
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        _say_invitation_sent(request, invitation)
    return _to_invitations(invitation)


@staff_required
@require_POST
def membership_remove(request: HttpRequest, public_id) -> HttpResponse:
    membership = get_scoped_or_404(selectors.membership_list_for_user(request.user), user__public_id=public_id)
    services.membership_remove(actor=request.user, request=request, membership=membership)
    messages.success(request, _("%(email)s was removed from the company.") % {"email": membership.user.email})
    return redirect("portal:company_detail", public_id=membership.company.public_id)


# ---------------------------------------------------------------- consultancy team (staff)


@staff_required
def team(request: HttpRequest) -> HttpResponse:
    form = InternalInvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation, _token = services.invitation_create(actor=request.user, request=request, **form.cleaned_data)
        except DomainError as error:
            _form_error(form, error)
        else:
            _say_invitation_sent(request, invitation)
            return redirect("portal:team")
    context = {
        "members": selectors.internal_user_list_for_user(request.user),
        "pending": selectors.invitation_list_for_user(request.user).filter(
            company__isnull=True, accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
        ),
        "form": form,
        "role_form": RoleForm(),
    }
    return render(request, "portal/team.html", context)


@staff_required
@require_POST
def user_role(request: HttpRequest, public_id) -> HttpResponse:
    member = get_scoped_or_404(selectors.internal_user_list_for_user(request.user), public_id=public_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a valid role."))
        return redirect("portal:team")
    try:
        services.user_set_role(actor=request.user, request=request, user=member, role=form.cleaned_data["role"])
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("Role updated."))
    return redirect("portal:team")


# ---------------------------------------------------------------- invitation acceptance (public)


def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation = services.invitation_for_token(token)
    except DomainError as error:
        return render(request, "portal/invitation_invalid.html", {"message": error.message}, status=410)
    if request.user.is_authenticated:
        messages.info(request, _("You are already signed in. Sign out to accept an invitation for another account."))
        return redirect("engagements:home")
    form = AcceptInvitationForm(
        request.POST or None, email=invitation.email, initial={"full_name": invitation.full_name}
    )
    if request.method == "POST" and form.is_valid():
        try:
            user = services.invitation_accept(
                token=token,
                full_name=form.cleaned_data["full_name"],
                password=form.cleaned_data["password1"],
                request=request,
            )
        except DomainError as error:
            return render(request, "portal/invitation_invalid.html", {"message": error.message}, status=410)
        login(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
        messages.success(request, _("Welcome! Your account is ready."))
        return redirect("engagements:home")
    return render(request, "portal/invitation_accept.html", {"form": form, "invitation": invitation})
