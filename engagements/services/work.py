"""Writes of the work itself: checklist, sessions and logs, next steps,
formal requests and answers, change requests, internal notes."""

from __future__ import annotations

from datetime import date, datetime

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from engagements import reasons, rules, uploads
from engagements.errors import SessionNotHeld, StepNotYours
from engagements.models import (
    Attachment,
    ChangeClassification,
    ChangeRequest,
    ChecklistItem,
    ChecklistStatus,
    Engagement,
    FormalRequest,
    InternalNote,
    NextStep,
    Session,
    SessionStatus,
)
from engagements.services.invitations import session_invitation_send
from engagements.services.lifecycle import (
    REASON_REQUIRED,
    _lock,
    _require_reason,
    client_addresses,
    consultant_addresses,
    engagement_reactivate,
    event_record,
)
from portal.errors import DomainError
from portal.models import User
from portal.notifications import email_enqueue, staff_addresses

NOT_ACTIVE = _("This can only be done while the engagement is active or waiting on the client.")
SESSION_ALREADY_LOGGED = _("This session's log is already published.")
SESSION_IN_PAST = _("Choose a date and time in the future.")
LOG_FIELD_REQUIRED = _("The log needs the objective, the activity done, the time used and the progress status.")
NEXT_STEPS_REQUIRED = _("Add at least one next step with its owner and due date.")
ALREADY_ANSWERED = _("This request has already been answered.")
ANSWER_REQUIRED = _("Write an answer or attach a file.")
ALREADY_CLASSIFIED = _("This change request was already classified.")
CHECKLIST_NOT_PENDING = _("This item was already delivered.")
CHECKLIST_NOT_DELIVERED = _("Only a delivered item can be verified or sent back.")

# ---------------------------------------------------------------- checklist


def _lock_item(item: ChecklistItem) -> ChecklistItem:
    return ChecklistItem.objects.select_for_update().select_related("engagement").get(pk=item.pk)


def _require_running(engagement: Engagement) -> None:
    if engagement.status not in (rules.ACTIVE, rules.WAITING):
        raise DomainError(NOT_ACTIVE)


@transaction.atomic
def checklist_deliver(*, actor: User, item: ChecklistItem, note: str, file=None) -> ChecklistItem:
    item = _lock_item(item)
    _require_running(item.engagement)
    if item.status not in (ChecklistStatus.PENDING, ChecklistStatus.RETURNED):
        raise DomainError(CHECKLIST_NOT_PENDING)
    item.status, item.client_note = ChecklistStatus.DELIVERED, note.strip()
    item.delivered_at, item.delivered_by = timezone.now(), actor
    fields = ["status", "client_note", "delivered_at", "delivered_by"]
    with uploads.stored_with_rows("file") as saved:
        if file is not None:
            item.file = file
            fields.append("file")
        item.save(update_fields=fields)
        if file is not None:
            saved.append(item.file)
        event_record(item.engagement, "checklist.delivered", actor=actor, data={"item": item.kind})
    email_enqueue(
        to=consultant_addresses(item.engagement),
        template="checklist_delivered",
        context={"engagement": item.engagement, "item": item},
    )
    return item


@transaction.atomic
def checklist_review(*, actor: User, item: ChecklistItem, accept: bool, note: str = "") -> ChecklistItem:
    """The consultant verifies a delivered item, or sends it back with a note."""
    item = _lock_item(item)
    _require_running(item.engagement)
    if item.status != ChecklistStatus.DELIVERED:
        raise DomainError(CHECKLIST_NOT_DELIVERED)
    if not accept:
        _require_reason(note)
    item.status = ChecklistStatus.VERIFIED if accept else ChecklistStatus.RETURNED
    item.consultant_note = note.strip()
    item.verified_at = timezone.now() if accept else None
    item.save(update_fields=["status", "consultant_note", "verified_at"])
    kind = "checklist.verified" if accept else "checklist.returned"
    event_record(item.engagement, kind, actor=actor, data={"item": item.kind}, reason=note)
    if not accept:
        email_enqueue(
            to=client_addresses(item.engagement),
            template="checklist_returned",
            context={"engagement": item.engagement, "item": item},
        )
    return item


# ---------------------------------------------------------------- notes and change requests


@transaction.atomic
def internal_note_add(*, actor: User, engagement: Engagement, body: str) -> InternalNote:
    if not body.strip():
        raise DomainError(REASON_REQUIRED, field="body")
    return InternalNote.objects.create(engagement=engagement, author=actor, body=body.strip())


@transaction.atomic
def change_request_raise(*, actor: User, engagement: Engagement, title: str, description: str) -> ChangeRequest:
    change = ChangeRequest.objects.create(
        engagement=engagement, title=title.strip(), description=description.strip(), raised_by=actor
    )
    event_record(engagement, "change_request.raised", actor=actor, data={"title": change.title})
    email_enqueue(
        to=staff_addresses() + consultant_addresses(engagement),
        template="change_request_raised",
        context={"engagement": engagement, "change": change},
    )
    return change


@transaction.atomic
def change_request_classify(
    *, actor: User, change: ChangeRequest, classification: str, note: str = ""
) -> ChangeRequest:
    """Staff decide what an out-of-scope need becomes: billing quotes add-ons
    and hour banks; a new service becomes a new lead for the same company."""
    change = ChangeRequest.objects.select_for_update().select_related("engagement").get(pk=change.pk)
    if change.classified_at is not None:
        raise DomainError(ALREADY_CLASSIFIED)
    change.classification, change.classification_note = classification, note.strip()
    change.classified_by, change.classified_at = actor, timezone.now()
    change.save(update_fields=["classification", "classification_note", "classified_by", "classified_at"])
    if classification == ChangeClassification.NEW_SERVICE:
        _lead_from_change(change, actor)
    event_record(
        change.engagement,
        "change_request.classified",
        actor=actor,
        data={"title": change.title, "classification": classification},
    )
    email_enqueue(
        to=client_addresses(change.engagement),
        template="change_request_classified",
        context={"engagement": change.engagement, "change": change},
    )
    return change


def _lead_from_change(change: ChangeRequest, actor: User) -> Engagement:
    source = change.engagement
    lead = Engagement.objects.create(
        terms=source.terms,
        company=source.company,
        title=change.title[:200],
        status=rules.LEAD,
        status_changed_at=timezone.now(),
    )
    event_record(lead, "engagement.created_from_change", actor=actor, data={"from": source.code}, client_visible=False)
    return lead


# ---------------------------------------------------------------- sessions and logs


def _lock_session(session: Session) -> Session:
    return Session.objects.select_for_update().select_related("engagement").get(pk=session.pk)


@transaction.atomic
def session_schedule(*, actor: User, session: Session, scheduled_at: datetime, video_link: str) -> Session:
    """Schedule (or move) a session; the client gets an email with an .ics invitation."""
    session = _lock_session(session)
    _require_running(session.engagement)
    if session.log_published_at is not None:
        raise DomainError(SESSION_ALREADY_LOGGED)
    if scheduled_at <= timezone.now():
        raise DomainError(SESSION_IN_PAST, field="scheduled_at")
    rescheduled = session.scheduled_at is not None
    session.scheduled_at, session.video_link, session.status = scheduled_at, video_link, SessionStatus.SCHEDULED
    session.save(update_fields=["scheduled_at", "video_link", "status"])
    event_record(
        session.engagement,
        "session.scheduled",
        actor=actor,
        data={"number": session.number, "at": scheduled_at.isoformat(), "rescheduled": rescheduled},
    )
    session_invitation_send(session, actor=actor, rescheduled=rescheduled)
    return session


def _check_log(values: dict, steps: list[dict]) -> None:
    if not all(str(values.get(k) or "").strip() for k in ("objective", "activity", "progress_status")):
        raise DomainError(LOG_FIELD_REQUIRED)
    if not values.get("minutes_used"):
        raise DomainError(LOG_FIELD_REQUIRED, field="minutes_used")
    if not steps or not all(s.get("description") and s.get("owner") and s.get("due_date") for s in steps):
        raise DomainError(NEXT_STEPS_REQUIRED)


@transaction.atomic
def session_log_publish(*, actor: User, session: Session, values: dict, next_steps: list[dict]) -> Session:
    """Write the log of a held session (scheduled, its time come) and show it to
    the client at once.

    `values`: objective, activity, minutes_used, progress_status.
    `next_steps`: [{"description", "owner" (client/consultant), "due_date"}].
    """
    session = _lock_session(session)
    _require_running(session.engagement)
    if session.log_published_at is not None:
        raise DomainError(SESSION_ALREADY_LOGGED)
    if not rules.session_held(session.scheduled_at, timezone.now()):
        raise SessionNotHeld()
    _check_log(values, next_steps)
    for field in ("objective", "activity", "minutes_used", "progress_status"):
        setattr(session, field, values[field])
    session.status, session.log_published_at, session.logged_by = SessionStatus.HELD, timezone.now(), actor
    session.save()
    NextStep.objects.bulk_create(
        NextStep(
            engagement=session.engagement,
            session=session,
            description=s["description"].strip(),
            owner=s["owner"],
            due_date=s["due_date"],
        )
        for s in next_steps
    )
    event_record(
        session.engagement,
        "session.log_published",
        actor=actor,
        data={"number": session.number, "minutes": session.minutes_used},
    )
    email_enqueue(
        to=client_addresses(session.engagement),
        template="session_log_published",
        context={"engagement": session.engagement, "session": session, "next_steps": next_steps},
    )
    return session


@transaction.atomic
def next_step_set_done(*, actor: User, step: NextStep, done: bool) -> NextStep:
    """Mark a next step done (or open again): its owner side or the consultancy only."""
    step = NextStep.objects.select_for_update().get(pk=step.pk)
    if not rules.may_mark_step(actor.role, step.owner):
        raise StepNotYours()
    if (step.done_at is not None) == done:
        return step
    step.done_at, step.done_by = (timezone.now(), actor) if done else (None, None)
    step.save(update_fields=["done_at", "done_by"])
    return step


# ---------------------------------------------------------------- formal requests


@transaction.atomic
def formal_request_send(
    *, actor: User, engagement: Engagement, kind: str, subject: str, body: str, due_date: date | None
) -> FormalRequest:
    """A formal request to the client; its sent date starts the R1 clock."""
    engagement = _lock(engagement)
    _require_running(engagement)
    request = FormalRequest.objects.create(
        engagement=engagement,
        kind=kind,
        subject=subject.strip(),
        body=body.strip(),
        due_date=due_date,
        sent_at=timezone.now(),
        sent_by=actor,
    )
    event_record(engagement, "request.sent", actor=actor, data={"subject": request.subject, "kind": kind})
    email_enqueue(
        to=client_addresses(engagement),
        template="request_sent",
        context={"engagement": engagement, "request": request},
    )
    return request


def _answer(request: FormalRequest, *, actor: User, text: str, elsewhere: bool) -> None:
    request.answer, request.answered_at, request.answered_by = text.strip(), timezone.now(), actor
    request.answered_elsewhere = elsewhere
    request.save(update_fields=["answer", "answered_at", "answered_by", "answered_elsewhere"])


def _reactivate_if_waiting(request: FormalRequest) -> None:
    """Answering the request an R1 hold is about reactivates the engagement,
    whatever else is open (rules.answer_reactivates). A manual hold stays until
    staff lift it."""
    engagement = _lock(request.engagement)
    if rules.answer_reactivates(
        status=engagement.status,
        held_manually=engagement.held_manually,
        hold_request=engagement.waiting_for_id,
        answered_request=request.pk,
    ):
        engagement_reactivate(actor=None, engagement=engagement, reason=reasons.ANSWER_REACTIVATES)


@transaction.atomic
def formal_request_answer(
    *, actor: User, request: FormalRequest, text: str, files: list[UploadedFile]
) -> FormalRequest:
    """The client answers in the portal with text and/or files (already validated)."""
    request = FormalRequest.objects.select_for_update().select_related("engagement").get(pk=request.pk)
    if request.answered_at is not None:
        raise DomainError(ALREADY_ANSWERED)
    if not text.strip() and not files:
        raise DomainError(ANSWER_REQUIRED, field="answer")
    _answer(request, actor=actor, text=text, elsewhere=False)
    with uploads.stored_with_rows("files") as saved:
        for upload in files:
            attachment = Attachment.objects.create(
                request=request,
                file=upload,
                original_name=upload.name[:200],
                content_type=(upload.content_type or "application/octet-stream")[:100],
                size=upload.size,
                uploaded_by=actor,
            )
            saved.append(attachment.file)
        event_record(request.engagement, "request.answered", actor=actor, data={"subject": request.subject})
    email_enqueue(
        to=consultant_addresses(request.engagement),
        template="request_answered",
        context={"engagement": request.engagement, "request": request},
    )
    _reactivate_if_waiting(request)
    return request


@transaction.atomic
def formal_request_record_answer(*, actor: User, request: FormalRequest, text: str) -> FormalRequest:
    """The consultant records an answer the client gave by phone, email..."""
    request = FormalRequest.objects.select_for_update().select_related("engagement").get(pk=request.pk)
    if request.answered_at is not None:
        raise DomainError(ALREADY_ANSWERED)
    if not text.strip():
        raise DomainError(ANSWER_REQUIRED, field="answer")
    _answer(request, actor=actor, text=text, elsewhere=True)
    event_record(request.engagement, "request.answered", actor=actor, data={"subject": request.subject})
    _reactivate_if_waiting(request)
    return request
