"""Engagement pages. Thin: scoped lookup, form, one service, redirect."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from engagements import charts, panels, rules, selectors, services
from engagements.forms import (
    AnswerForm,
    AssignForm,
    ChangeRequestForm,
    ClassifyForm,
    ConvertLeadForm,
    DeliverForm,
    DiagnosisForm,
    FormalRequestForm,
    InquiryForm,
    NoteForm,
    PhaseCompleteForm,
    ReasonForm,
    RecordAnswerForm,
    ReviewForm,
    ScheduleForm,
    SessionLogForm,
)
from engagements.models import ChecklistKind, Diagnosis, Service
from portal import clock
from portal.access import (
    client_required,
    consultant_required,
    get_scoped_or_404,
    staff_required,
)
from portal.audit import client_ip
from portal.errors import DomainError
from portal.models import Role

INQUIRY_LIMIT, INQUIRY_WINDOW = 5, 3600  # per IP and hour
HISTORY_PAGE, LOGS_PAGE, WORKLIST_PAGE = 25, 10, 25  # rows per page of the long lists


def _engagement(request: HttpRequest, code: str):
    return get_scoped_or_404(selectors.engagement_list_for_user(request.user), code=code)


def _back(engagement, anchor: str = "") -> HttpResponse:
    return redirect(reverse("engagements:detail", args=[engagement.code]) + (f"#{anchor}" if anchor else ""))


def _run(request: HttpRequest, action: Callable[[], object], success: str) -> bool:
    """Call one service; show its refusal as a message. True on success."""
    try:
        action()
    except DomainError as error:
        messages.error(request, str(error.message))
        return False
    messages.success(request, success)
    return True


def _form_errors(request: HttpRequest, form) -> None:
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)


KEPT = gettext_lazy("Not saved yet: see the message next to the field. What you wrote is kept.")
NOT_SENT = gettext_lazy("Not sent yet: see the message next to the form below. What you wrote is kept.")


def _submit(
    request: HttpRequest,
    form,
    call: Callable[[dict], object],
    success,
    refused: Callable | None = None,
    kept=KEPT,
) -> HttpResponse | None:
    """The body of every small POST view: validate, call one service, say how it went. None on
    success (the caller redirects). With `refused`, a form that is not valid, or that the service
    refuses because of one of its fields, is shown again on its page via `refused(form)`, with the
    errors next to the fields and what was typed; without it the errors become messages."""
    if form.is_valid():
        try:
            call(form.cleaned_data)
        except DomainError as error:
            if refused is None or error.field not in form.fields:
                messages.error(request, str(error.message))
                return None
            form.add_error(error.field, str(error.message))
        else:
            messages.success(request, success)
            return None
    if refused is None:
        _form_errors(request, form)
        return None
    messages.error(request, kept)
    return refused(form)


# ---------------------------------------------------------------- public service page


def service_page(request: HttpRequest, slug: str = "integracion-odoo-tienda-online") -> HttpResponse:
    service = get_object_or_404(Service, slug=slug, is_public=True)
    terms = services.service_current_terms(service)
    form = InquiryForm(request.POST or None)
    if request.method == "POST":
        key = f"inquiry-rate:{client_ip(request)}"
        if form.is_valid() and form.is_spam():
            # Pretend success so bots learn nothing; store nothing.
            return redirect("engagements:inquiry_thanks")
        if cache.get(key, 0) >= INQUIRY_LIMIT:
            form.add_error(None, _("Too many inquiries from your connection. Try again in an hour or write to us."))
        elif form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if k != "website"}
            services.inquiry_submit(service=service, data=data, request=request)
            cache.add(key, 0, INQUIRY_WINDOW)
            cache.incr(key)
            return redirect("engagements:inquiry_thanks")
    sheet = service.sheet.get("en" if request.LANGUAGE_CODE == "en" else "es", {})
    context = {"service": service, "terms": terms, "sheet": sheet, "form": form, "plan": charts.payment_plan(terms)}
    return render(request, "engagements/service_page.html", context)


def inquiry_thanks(request: HttpRequest) -> HttpResponse:
    return render(request, "engagements/inquiry_thanks.html")


# ---------------------------------------------------------------- home pages per role


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Client: the four answers (what I owe, what you need, when it is done, what is next), even with
    one engagement; consultant: the worklist; staff: the pipeline."""
    user = request.user
    if user.role == Role.CLIENT:
        return render(request, "engagements/client_home.html", {"home": selectors.client_home(user)})
    if user.role == Role.CONSULTANT:
        rows = selectors.consultant_worklist(user)
        context = {
            "page": Paginator(rows, WORKLIST_PAGE).get_page(request.GET.get("page")),
            "flagged": sum(1 for row in rows if row.flags),
            "logs_overdue": selectors.sessions_log_overdue(user),
        }
        return render(request, "engagements/workspace.html", context)
    pipeline = selectors.staff_pipeline(user, status=request.GET.get("status", ""))
    context = {
        "pipeline": pipeline,
        "page": Paginator(pipeline.rows, WORKLIST_PAGE).get_page(request.GET.get("page")),
        "status": request.GET.get("status", ""),
    }
    return render(request, "engagements/pipeline.html", context)


@login_required
def detail(request: HttpRequest, code: str) -> HttpResponse:
    return _detail_page(request, code)


def _detail_page(request: HttpRequest, code: str, **refused) -> HttpResponse:
    """The engagement page; `refused` puts back a client form that was refused (answer_form and
    answer_for, or deliver_form and deliver_for: the form, bound, and the public id it was for)
    so that its errors show next to its fields and nothing typed is lost."""
    engagement = get_scoped_or_404(selectors.engagement_page_queryset(request.user), code=code)
    view = selectors.engagement_view(engagement, request.user)
    internal = request.user.role != Role.CLIENT
    tz = services.business_tz()
    context = {
        "view": view,
        "chart": charts.engagement_timeline(view, view.phases, clock.today(), tz),
        "e": engagement,
        "internal": internal,
        "rules": rules,
        "panels": panels.panels_for(engagement, request.user),
    }
    if internal:
        context.update(
            request_form=FormalRequestForm(auto_id="request_%s"),
            note_form=NoteForm(auto_id="note_%s"),
            reason_form=ReasonForm(),
            record_form=RecordAnswerForm(),
            review_form=ReviewForm(),
            schedule_form=ScheduleForm(),
            classify_form=ClassifyForm(),
            assign_form=AssignForm(initial={"consultant": engagement.consultant_id}),
        )
    context.update(
        answer_form=AnswerForm(), deliver_form=DeliverForm(), change_form=ChangeRequestForm(auto_id="change_%s")
    )
    context.update(refused)
    return render(request, "engagements/detail.html", context)


@login_required
def history(request: HttpRequest, code: str) -> HttpResponse:
    """The whole timeline, newest first, a page at a time."""
    engagement = _engagement(request, code)
    events = selectors.event_list_for_user(request.user).filter(engagement=engagement).order_by("-created_at", "-id")
    page = Paginator(events, HISTORY_PAGE).get_page(request.GET.get("page"))
    context = {"e": engagement, "page": page, "internal": request.user.role != Role.CLIENT}
    return render(request, "engagements/history.html", context)


@login_required
def sessions(request: HttpRequest, code: str) -> HttpResponse:
    """Every published session log, newest first, a page at a time."""
    engagement = _engagement(request, code)
    logs = selectors.session_list_for_user(request.user).filter(engagement=engagement, log_published_at__isnull=False)
    page = Paginator(logs.order_by("-number"), LOGS_PAGE).get_page(request.GET.get("page"))
    return render(request, "engagements/sessions.html", {"e": engagement, "page": page})


# ---------------------------------------------------------------- staff: leads, assignment, status actions


@staff_required
def lead_convert(request: HttpRequest, code: str) -> HttpResponse:
    engagement = _engagement(request, code)
    if engagement.status != rules.LEAD:
        return _back(engagement)
    form = ConvertLeadForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.lead_convert(
                actor=request.user,
                request=request,
                engagement=engagement,
                consultant=form.cleaned_data["consultant"],
                company=form.cleaned_data["company"],
                new_company=form.new_company(),
                invite_contact=form.cleaned_data["invite_contact"],
            )
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, str(error.message))
        else:
            messages.success(request, _("Lead converted: the engagement is in diagnosis."))
            return _back(engagement)
    return render(request, "engagements/lead_convert.html", {"e": engagement, "form": form})


@staff_required
@require_POST
def assign(request: HttpRequest, code: str) -> HttpResponse:
    engagement = _engagement(request, code)
    _submit(
        request,
        AssignForm(request.POST),
        lambda data: services.engagement_assign_consultant(
            actor=request.user, engagement=engagement, consultant=data["consultant"]
        ),
        _("Consultant assigned."),
    )
    return _back(engagement)


# name -> (roles allowed, service call, success message)
ACTIONS: dict[str, tuple[frozenset[str], Callable, object]] = {
    "mark_quoted": (
        frozenset({Role.STAFF}),
        lambda e, u, r: services.engagement_mark_quoted(actor=u, engagement=e, reason=r),
        gettext_lazy("Marked as quoted."),
    ),
    "confirm_scope": (
        frozenset({Role.STAFF}),
        lambda e, u, r: services.engagement_confirm_scope(actor=u, engagement=e, reason=r),
        gettext_lazy("Scope confirmed: the engagement is active."),
    ),
    "hold": (
        frozenset({Role.STAFF}),
        lambda e, u, r: services.engagement_hold(actor=u, engagement=e, reason=r),
        gettext_lazy("The engagement is on hold, waiting on the client."),
    ),
    "reactivate": (
        frozenset({Role.STAFF, Role.CONSULTANT}),
        lambda e, u, r: services.engagement_reactivate(actor=u, engagement=e, reason=r),
        gettext_lazy("The engagement is active again."),
    ),
    "admin_close": (
        frozenset({Role.STAFF}),
        lambda e, u, r: services.engagement_admin_close(actor=u, engagement=e, reason=r),
        gettext_lazy("The engagement was closed administratively."),
    ),
    "close": (
        frozenset({Role.STAFF, Role.CONSULTANT}),
        lambda e, u, r: services.engagement_close(actor=u, engagement=e, reason=r),
        gettext_lazy("The engagement is closed. Congratulations!"),
    ),
    "cancel": (
        frozenset({Role.STAFF}),
        lambda e, u, r: services.engagement_cancel(actor=u, engagement=e, reason=r),
        gettext_lazy("The engagement was cancelled."),
    ),
}


@consultant_required
@require_POST
def action(request: HttpRequest, code: str, name: str) -> HttpResponse:
    engagement = _engagement(request, code)
    if name not in ACTIONS:
        raise PermissionDenied
    roles, call, success = ACTIONS[name]
    if request.user.role not in roles:
        raise PermissionDenied
    form = ReasonForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    _run(request, lambda: call(engagement, request.user, reason), str(success))
    return _back(engagement)


@consultant_required
def phase_complete(request: HttpRequest, code: str) -> HttpResponse:
    """Confirm the completion of the current phase, seeing first what is not done for it."""
    engagement = _engagement(request, code)
    if engagement.status != rules.ACTIVE or engagement.phase == rules.CLOSING:
        messages.error(request, str(services.PHASE_NOT_CURRENT))
        return _back(engagement)
    form = PhaseCompleteForm(request.POST or None, initial={"phase": engagement.phase})
    if request.method == "POST" and form.is_valid():
        try:
            services.phase_complete(actor=request.user, engagement=engagement, **form.cleaned_data)
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, str(error.message))
        else:
            messages.success(request, _("Phase completed."))
            return _back(engagement)
    gaps = services.phase_gaps_of(engagement, engagement.phase)
    labels = dict(ChecklistKind.choices)
    context = {
        "e": engagement,
        "form": form,
        "gaps": gaps,
        "deliverables": [labels[k] for k in gaps.deliverables_pending],
    }
    return render(request, "engagements/phase_complete.html", context)


# ---------------------------------------------------------------- consultant: diagnosis, requests, sessions


@consultant_required
def diagnosis(request: HttpRequest, code: str) -> HttpResponse:
    engagement = _engagement(request, code)
    instance = Diagnosis.objects.filter(engagement=engagement).first() or Diagnosis(engagement=engagement)
    form = DiagnosisForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        complete = "complete" in request.POST
        try:
            services.diagnosis_save(
                actor=request.user, engagement=engagement, values=form.service_values(), complete=complete
            )
        except DomainError as error:
            form.add_error(None, str(error.message))
        else:
            messages.success(request, _("Diagnosis completed.") if complete else _("Diagnosis saved."))
            return _back(engagement)
    return render(request, "engagements/diagnosis.html", {"e": engagement, "form": form})


@consultant_required
@require_POST
def request_send(request: HttpRequest, code: str) -> HttpResponse:
    engagement = _engagement(request, code)
    shown = _submit(
        request,
        FormalRequestForm(request.POST, auto_id="request_%s"),
        lambda data: services.formal_request_send(actor=request.user, engagement=engagement, **data),
        _("Formal request sent to the client."),
        lambda form: _detail_page(request, code, request_form=form),
    )
    return shown or _back(engagement, "requests")


@consultant_required
@require_POST
def request_record(request: HttpRequest, public_id) -> HttpResponse:
    formal = get_scoped_or_404(selectors.request_list_for_user(request.user), public_id=public_id)
    shown = _submit(
        request,
        RecordAnswerForm(request.POST),
        lambda data: services.formal_request_record_answer(actor=request.user, request=formal, text=data["answer"]),
        _("Answer recorded."),
        lambda form: _detail_page(request, formal.engagement.code, record_form=form, record_for=formal.public_id),
    )
    return shown or _back(formal.engagement, "requests")


@consultant_required
@require_POST
def session_schedule(request: HttpRequest, public_id) -> HttpResponse:
    session = get_scoped_or_404(selectors.session_list_for_user(request.user), public_id=public_id)
    shown = _submit(
        request,
        ScheduleForm(request.POST),
        lambda data: services.session_schedule(actor=request.user, session=session, **data),
        _("Session scheduled; the client received the invitation."),
        lambda form: _detail_page(request, session.engagement.code, schedule_form=form, schedule_for=session.public_id),
    )
    return shown or _back(session.engagement, "sessions")


@consultant_required
def session_log(request: HttpRequest, public_id) -> HttpResponse:
    session = get_scoped_or_404(selectors.session_list_for_user(request.user), public_id=public_id)
    form = SessionLogForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.session_log_publish(
                actor=request.user, session=session, values=form.values(), next_steps=form.next_steps()
            )
        except DomainError as error:
            form.add_error(None, str(error.message))
        else:
            messages.success(request, _("Log published: the client can read it now."))
            return _back(session.engagement, "sessions")
    held = rules.session_held(session.scheduled_at, timezone.now())
    context = {"session": session, "e": session.engagement, "form": form, "held": held}
    return render(request, "engagements/session_log.html", context)


@consultant_required
@require_POST
def checklist_review(request: HttpRequest, public_id) -> HttpResponse:
    item = get_scoped_or_404(selectors.checklist_list_for_user(request.user), public_id=public_id)
    _submit(
        request,
        ReviewForm(request.POST),
        lambda data: services.checklist_review(actor=request.user, item=item, accept=data["accept"], note=data["note"]),
        _("Checklist updated."),
    )
    return _back(item.engagement, "checklist")


@consultant_required
@require_POST
def note_add(request: HttpRequest, code: str) -> HttpResponse:
    engagement = _engagement(request, code)
    shown = _submit(
        request,
        NoteForm(request.POST, auto_id="note_%s"),
        lambda data: services.internal_note_add(actor=request.user, engagement=engagement, body=data["body"]),
        _("Note added."),
        lambda form: _detail_page(request, code, note_form=form),
    )
    return shown or _back(engagement, "notes")


@staff_required
@require_POST
def change_classify(request: HttpRequest, public_id) -> HttpResponse:
    change = get_scoped_or_404(selectors.change_request_list_for_user(request.user), public_id=public_id)
    _submit(
        request,
        ClassifyForm(request.POST),
        lambda data: services.change_request_classify(actor=request.user, change=change, **data),
        _("Change request classified."),
    )
    return _back(change.engagement, "changes")


# ---------------------------------------------------------------- client (and consultant) actions


@client_required
@require_POST
def request_answer(request: HttpRequest, public_id) -> HttpResponse:
    formal = get_scoped_or_404(selectors.request_list_for_user(request.user), public_id=public_id)
    shown = _submit(
        request,
        AnswerForm(request.POST, request.FILES),
        lambda data: services.formal_request_answer(
            actor=request.user, request=formal, text=data["answer"], files=data["files"]
        ),
        _("Thank you: your answer was sent to the consultancy."),
        lambda form: _detail_page(request, formal.engagement.code, answer_form=form, answer_for=formal.public_id),
        NOT_SENT,
    )
    return shown or _back(formal.engagement, "requests")


@client_required
@require_POST
def checklist_deliver(request: HttpRequest, public_id) -> HttpResponse:
    item = get_scoped_or_404(selectors.checklist_list_for_user(request.user), public_id=public_id)
    shown = _submit(
        request,
        DeliverForm(request.POST, request.FILES),
        lambda data: services.checklist_deliver(actor=request.user, item=item, note=data["note"], file=data["file"]),
        _("Delivered. The consultant will verify it."),
        lambda form: _detail_page(request, item.engagement.code, deliver_form=form, deliver_for=item.public_id),
        NOT_SENT,
    )
    return shown or _back(item.engagement, "checklist")


@login_required
@require_POST
def step_toggle(request: HttpRequest, public_id) -> HttpResponse:
    step = get_scoped_or_404(selectors.next_step_list_for_user(request.user), public_id=public_id)
    _run(
        request,
        lambda: services.next_step_set_done(actor=request.user, step=step, done=request.POST.get("done") == "1"),
        _("Next step updated."),
    )
    return _back(step.engagement, "next-steps")


@login_required
@require_POST
def change_raise(request: HttpRequest, code: str) -> HttpResponse:
    engagement = _engagement(request, code)
    shown = _submit(
        request,
        ChangeRequestForm(request.POST, auto_id="change_%s"),
        lambda data: services.change_request_raise(actor=request.user, engagement=engagement, **data),
        _("Change request sent. The consultancy will tell you how it can be covered."),
        lambda form: _detail_page(request, code, change_form=form),
    )
    return shown or _back(engagement, "changes")


@login_required
def session_ics(request: HttpRequest, public_id) -> HttpResponse:
    """A scheduled session for the person's calendar (the same UID as the invitations by e-mail)."""
    sessions = selectors.session_list_for_user(request.user).filter(scheduled_at__isnull=False)
    session = get_scoped_or_404(sessions, public_id=public_id)
    response = HttpResponse(services.session_download(session), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="sesion-{session.number}.ics"'
    return response


@login_required
def attachment_download(request: HttpRequest, public_id) -> FileResponse:
    attachment = get_scoped_or_404(selectors.attachment_list_for_user(request.user), public_id=public_id)
    return FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.original_name)


@login_required
def checklist_file(request: HttpRequest, public_id) -> FileResponse:
    item = get_scoped_or_404(selectors.checklist_list_for_user(request.user), public_id=public_id)
    if not item.file:
        raise PermissionDenied
    return FileResponse(item.file.open("rb"), as_attachment=True, filename=item.file.name.rsplit("/", 1)[-1])
