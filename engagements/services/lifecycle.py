"""Every write of the engagement lifecycle.

Each service is keyword-only and atomic, locks the engagement row before it
changes state, records an EngagementEvent, and raises DomainError with a
translated message when it refuses. Side effects (email) are enqueued after
commit through portal.notifications.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime, timedelta

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from engagements import hooks, reasons, rules
from engagements.errors import AdminCloseTooEarly, PhaseIncomplete
from engagements.models import (
    ChecklistItem,
    ChecklistKind,
    ChecklistStatus,
    Diagnosis,
    Engagement,
    EngagementEvent,
    FormalRequest,
    Inquiry,
    Phase,
    PhasePlan,
    Service,
    ServiceTerms,
    Session,
    Status,
)
from portal import services as people
from portal.audit import client_ip
from portal.clock import business_tz
from portal.errors import DomainError
from portal.models import ClientCompany, Role, User
from portal.notifications import email_enqueue, staff_addresses

TRANSITION_NOT_ALLOWED = _("This engagement cannot move from “%(current)s” to “%(target)s”.")
TRANSITION_WRONG_ROLE = _("Your role cannot move this engagement from “%(current)s” to “%(target)s”.")
DIAGNOSIS_INCOMPLETE = _("Complete the diagnosis before issuing a quote.")
DIAGNOSIS_MISSING = _(
    "The diagnosis needs the current order and product flow, the flows in scope and the validation owner."
)
DIAGNOSIS_NO_API = _("Odoo Online without external API access cannot be integrated; change the plan or hosting first.")
PHASE_NOT_CURRENT = _("Only the current phase can be completed.")
CLOSE_BEFORE_CLOSING = _("Complete the testing and validation phase before closing the engagement.")
REASON_REQUIRED = _("Give a reason.")
CONSULTANT_REQUIRED = _("Choose a consultant.")
NOT_A_CONSULTANT = _("This person is not a consultant of the consultancy.")
COMPANY_REQUIRED = _("Choose an existing company or enter the new company's details.")

CHECKLIST = [
    (ChecklistKind.SHOP_ACCESS, True),
    (ChecklistKind.CHANNEL, True),
    (ChecklistKind.CURRENT_FLOW, True),
    (ChecklistKind.VALIDATION_OWNER, True),
    (ChecklistKind.VALIDATIONS, False),
]


def actor_role(actor: User | None) -> str:
    return rules.SYSTEM if actor is None else actor.role


def client_addresses(engagement: Engagement) -> list[str]:
    if engagement.company_id is None:
        return []
    return list(engagement.company.memberships.filter(user__is_active=True).values_list("user__email", flat=True))


def consultant_addresses(engagement: Engagement) -> list[str]:
    return [engagement.consultant.email] if engagement.consultant_id else staff_addresses()


def event_record(
    engagement: Engagement,
    kind: str,
    *,
    actor: User | None,
    reason: str = "",
    data: dict | None = None,
    client_visible: bool = True,
    old_status: str = "",
    new_status: str = "",
) -> EngagementEvent:
    return EngagementEvent.objects.create(
        engagement=engagement,
        kind=kind,
        actor=actor,
        reason=reason,
        data=data or {},
        client_visible=client_visible,
        old_status=old_status,
        new_status=new_status,
    )


def _lock(engagement: Engagement) -> Engagement:
    return Engagement.objects.select_for_update(of=("self",)).select_related("terms", "company").get(pk=engagement.pk)


# ---------------------------------------------------------------- the one transition service


def _refusal(error: rules.TransitionRefused) -> DomainError:
    message = TRANSITION_WRONG_ROLE if error.reason == "wrong_role" else TRANSITION_NOT_ALLOWED
    labels = dict(Status.choices)
    return DomainError(message % {"current": labels[error.current], "target": labels[error.target]})


def _apply_waiting_clock(
    engagement: Engagement, target: str, now: datetime, *, manual: bool, waiting_for: FormalRequest | None
) -> list[str]:
    """Entering waiting starts R2's clock and records what the wait is about;
    leaving it keeps the period (it pushes the estimate) and, back to active,
    restarts R1's clock (rules.r1_clock)."""
    if target == rules.WAITING:
        engagement.waiting_since, engagement.held_manually = now, manual
        engagement.waiting_for = None if manual else waiting_for
        return ["waiting_since", "held_manually", "waiting_for"]
    if engagement.status != rules.WAITING:
        return []
    fields = ["waiting_since", "held_manually", "waiting_for"]
    if engagement.waiting_since is not None:
        tz = business_tz()
        period = [rules.local_date(engagement.waiting_since, tz).isoformat(), rules.local_date(now, tz).isoformat()]
        engagement.wait_periods = [*engagement.wait_periods, period]
        fields.append("wait_periods")
    if target == rules.ACTIVE:
        engagement.reactivated_at = now
        fields.append("reactivated_at")
    engagement.waiting_since, engagement.held_manually, engagement.waiting_for = None, False, None
    return fields


@transaction.atomic
def engagement_transition(
    *,
    engagement: Engagement,
    target: str,
    actor: User | None,
    reason: str = "",
    data: dict | None = None,
    manual_hold: bool = False,
    waiting_for: FormalRequest | None = None,
) -> Engagement:
    """Move an engagement to `target` if the table allows it for the actor's role.

    Idempotent: asking for the status it already has changes nothing.
    `waiting_for`: the formal request an R1 hold is about (its answer reactivates).
    """
    engagement = _lock(engagement)
    if engagement.status == target:
        return engagement
    try:
        rules.check_transition(engagement.status, target, actor_role(actor))
    except rules.TransitionRefused as error:
        raise _refusal(error) from error
    now = timezone.now()
    old = engagement.status
    fields = _apply_waiting_clock(engagement, target, now, manual=manual_hold, waiting_for=waiting_for)
    engagement.status, engagement.status_changed_at = target, now
    engagement.save(update_fields=[*fields, "status", "status_changed_at"])
    event_record(
        engagement,
        "engagement.status_changed",
        actor=actor,
        reason=reason,
        data=data,
        old_status=old,
        new_status=target,
    )
    if target in rules.TERMINAL:
        from engagements.services.invitations import session_invitations_cancel  # it imports this module

        session_invitations_cancel(engagement, actor=actor)
    return engagement


# ---------------------------------------------------------------- inquiry and lead conversion


def service_current_terms(service: Service) -> ServiceTerms:
    return service.terms.order_by("-version").first()


@transaction.atomic
def inquiry_submit(*, service: Service, data: dict, request: HttpRequest | None) -> Engagement:
    """A prospect's inquiry becomes a lead (an engagement in status `lead`)."""
    inquiry = Inquiry.objects.create(service=service, ip_address=client_ip(request), **data)
    now = timezone.now()
    engagement = Engagement.objects.create(
        terms=service_current_terms(service),
        inquiry=inquiry,
        title=f"{service.name_es} · {inquiry.company_name}",
        status=rules.LEAD,
        status_changed_at=now,
    )
    event_record(engagement, "engagement.inquiry_received", actor=None, client_visible=False)
    email_enqueue(
        to=staff_addresses(), template="inquiry_received", context={"inquiry": inquiry, "engagement": engagement}
    )
    return engagement


def _check_consultant(consultant: User | None) -> None:
    if consultant is None:
        raise DomainError(CONSULTANT_REQUIRED, field="consultant")
    if consultant.role not in (Role.CONSULTANT, Role.STAFF) or not consultant.is_active:
        raise DomainError(NOT_A_CONSULTANT, field="consultant")


@transaction.atomic
def lead_convert(
    *,
    actor: User,
    request: HttpRequest | None,
    engagement: Engagement,
    consultant: User | None,
    company: ClientCompany | None = None,
    new_company: dict | None = None,
    invite_contact: bool = True,
) -> Engagement:
    """Staff turn a lead into an engagement of a client company, in diagnosis."""
    engagement = _lock(engagement)
    if engagement.status != rules.LEAD:
        raise DomainError(
            TRANSITION_NOT_ALLOWED % {"current": engagement.get_status_display(), "target": _("Diagnosis")}
        )
    _check_consultant(consultant)
    if company is None and not (new_company and all(str(v).strip() for v in new_company.values())):
        raise DomainError(COMPANY_REQUIRED, field="company")
    if company is None:
        company = people.company_create(actor=actor, request=request, **new_company)
    engagement.company, engagement.consultant = company, consultant
    engagement.save(update_fields=["company", "consultant"])
    Diagnosis.objects.get_or_create(engagement=engagement, defaults=_diagnosis_defaults(engagement))
    engagement_transition(engagement=engagement, target=rules.DIAGNOSIS, actor=actor, reason=reasons.LEAD_CONVERTED)
    if invite_contact and engagement.inquiry_id:
        inquiry = engagement.inquiry
        people.invitation_create(
            actor=actor, request=request, email=inquiry.email, full_name=inquiry.name, company=company
        )
    email_enqueue(to=[consultant.email], template="engagement_assigned", context={"engagement": engagement})
    return engagement


def _diagnosis_defaults(engagement: Engagement) -> dict:
    inquiry = engagement.inquiry
    if inquiry is None:
        return {}
    version = inquiry.odoo_version if inquiry.odoo_version in ("16", "17", "18") else ""
    return {"shop_platform": inquiry.shop_platform, "odoo_version": version, "odoo_hosting": inquiry.odoo_hosting}


@transaction.atomic
def engagement_assign_consultant(*, actor: User, engagement: Engagement, consultant: User | None) -> Engagement:
    engagement = _lock(engagement)
    _check_consultant(consultant)
    if engagement.consultant_id == consultant.pk:
        return engagement
    engagement.consultant = consultant
    engagement.save(update_fields=["consultant"])
    event_record(
        engagement,
        "engagement.consultant_assigned",
        actor=actor,
        data={"consultant": consultant.email},
        client_visible=False,
    )
    email_enqueue(to=[consultant.email], template="engagement_assigned", context={"engagement": engagement})
    return engagement


# ---------------------------------------------------------------- diagnosis


def _diagnosis_gaps(diagnosis: Diagnosis) -> list:
    gaps = []
    if (
        not (diagnosis.as_is_order_flow.strip() and diagnosis.as_is_product_flow.strip())
        or not diagnosis.flows_in_scope
        or not diagnosis.validation_owner_name.strip()
    ):
        gaps.append(DIAGNOSIS_MISSING)
    if diagnosis.odoo_hosting == "odoo_online" and diagnosis.external_api == "no":
        gaps.append(DIAGNOSIS_NO_API)
    return gaps


@transaction.atomic
def diagnosis_save(*, actor: User, engagement: Engagement, values: dict, complete: bool) -> Diagnosis:
    """Save the diagnosis; `complete` also marks it done (required before a quote)."""
    engagement = _lock(engagement)
    if engagement.status not in (rules.DIAGNOSIS, rules.QUOTED):
        raise DomainError(
            TRANSITION_NOT_ALLOWED % {"current": engagement.get_status_display(), "target": _("Diagnosis")}
        )
    diagnosis, _created = Diagnosis.objects.select_for_update().get_or_create(engagement=engagement)
    for field, value in values.items():
        setattr(diagnosis, field, value)
    if complete:
        gaps = _diagnosis_gaps(diagnosis)
        if gaps:
            raise DomainError(gaps[0])
        diagnosis.completed_at, diagnosis.completed_by = timezone.now(), actor
    diagnosis.save()
    if complete:
        event_record(engagement, "diagnosis.completed", actor=actor)
    return diagnosis


@transaction.atomic
def engagement_mark_quoted(*, actor: User | None, engagement: Engagement, reason: str = "") -> Engagement:
    """diagnosis → quoted. Billing calls this when a quote is sent; staff may
    also record a quote sent outside the portal."""
    engagement = _lock(engagement)
    diagnosis = Diagnosis.objects.filter(engagement=engagement).first()
    if engagement.status == rules.DIAGNOSIS and (diagnosis is None or not diagnosis.is_complete):
        raise DomainError(DIAGNOSIS_INCOMPLETE)
    return engagement_transition(engagement=engagement, target=rules.QUOTED, actor=actor, reason=reason)


# ---------------------------------------------------------------- scope confirmation (seam for billing)


def _create_plan(engagement: Engagement, today) -> None:
    weeks = engagement.terms.estimate_max_weeks
    share = {Phase.PLANNING: 1, Phase.CONFIGURATION: 3, Phase.TESTING: 1, Phase.CLOSING: 1}
    unit = timedelta(days=weeks * 7 / sum(share.values()))
    start = today
    for order, phase in enumerate(rules.PHASES):
        end = start + unit * share[phase]
        PhasePlan.objects.create(
            engagement=engagement,
            phase=phase,
            order=order,
            planned_start=start,
            planned_end=end,
            started_at=timezone.now() if phase == rules.PLANNING else None,
        )
        start = end


def _create_sessions(engagement: Engagement) -> None:
    for number, spec in enumerate(engagement.terms.sessions, start=1):
        Session.objects.create(
            engagement=engagement,
            number=number,
            kind=spec["kind"],
            title_es=spec["title_es"],
            title_en=spec["title_en"],
            planned_minutes=spec["minutes"],
        )


def _create_checklist(engagement: Engagement) -> None:
    for order, (kind, required) in enumerate(CHECKLIST):
        ChecklistItem.objects.create(engagement=engagement, kind=kind, order=order, required_for_access=required)


@transaction.atomic
def engagement_confirm_scope(*, engagement: Engagement, actor: User | None, reason: str = "") -> Engagement:
    """quoted → active: the sessions, the client checklist and the plan are
    created and the clocks start. Quote acceptance (billing) calls this; the
    SCOPE_CONFIRMED hook runs in the same transaction (the 40% milestone)."""
    engagement = _lock(engagement)
    if engagement.scope_confirmed_at:  # confirmed once; later moves are other transitions
        return engagement
    engagement = engagement_transition(engagement=engagement, target=rules.ACTIVE, actor=actor, reason=reason)
    now = timezone.now()
    engagement.scope_confirmed_at, engagement.phase = now, rules.PLANNING
    engagement.save(update_fields=["scope_confirmed_at", "phase"])
    _create_plan(engagement, rules.local_date(now, business_tz()))
    _create_sessions(engagement)
    _create_checklist(engagement)
    event_record(engagement, "engagement.scope_confirmed", actor=actor)
    hooks.run(hooks.SCOPE_CONFIRMED, engagement=engagement, actor=actor)
    email_enqueue(to=client_addresses(engagement), template="scope_confirmed", context={"engagement": engagement})
    return engagement


# ---------------------------------------------------------------- phases and close


def phase_gaps_of(engagement: Engagement, phase: str, now: datetime | None = None) -> rules.PhaseGaps:
    """What is not done for `phase`: its sessions not held or not logged, the
    client's deliverables not verified, the formal requests still open."""
    now = now or timezone.now()
    sessions = engagement.sessions.order_by("number").values_list("number", "kind", "scheduled_at", "log_published_at")
    done = ChecklistStatus.VERIFIED
    return rules.phase_gaps(
        phase,
        sessions=[(n, kind, rules.session_held(at, now), logged is not None) for n, kind, at, logged in sessions],
        deliverables=[
            (kind, required, status == done)
            for kind, required, status in engagement.checklist.values_list("kind", "required_for_access", "status")
        ],
        open_requests=list(
            engagement.requests.filter(answered_at__isnull=True).order_by("sent_at").values_list("subject", flat=True)
        ),
    )


def _progress(engagement: Engagement) -> int:
    completed = PhasePlan.objects.filter(engagement=engagement, completed_at__isnull=False).values_list(
        "phase", flat=True
    )
    return rules.executed_share(completed, engagement.terms.phase_weights)


@transaction.atomic
def phase_complete(*, actor: User, engagement: Engagement, phase: str, reason: str = "") -> Engagement:
    """Complete the current phase and start the next one. Completing
    "configuration and base implementation" triggers the 30% milestone.

    Refused with PhaseIncomplete while the phase has work not done, unless a
    reason is given: the override and what was missing go on the timeline. The
    client's progress is the executed share of the completed phases."""
    engagement = _lock(engagement)
    if engagement.status != rules.ACTIVE or engagement.phase != phase:
        raise DomainError(PHASE_NOT_CURRENT)
    gaps = phase_gaps_of(engagement, phase)
    if gaps and not reason.strip():
        raise PhaseIncomplete(gaps)
    now = timezone.now()
    PhasePlan.objects.filter(engagement=engagement, phase=phase).update(completed_at=now)
    following = rules.next_phase(phase)
    if following is not None:
        PhasePlan.objects.filter(engagement=engagement, phase=following).update(started_at=now)
        engagement.phase = following
    engagement.progress_percent = _progress(engagement)
    engagement.save(update_fields=["phase", "progress_percent"])
    data = {"phase": phase}
    if gaps:
        data["overridden"] = asdict(gaps)
    event_record(engagement, "engagement.phase_completed", actor=actor, data=data, reason=reason.strip())
    hooks.run(hooks.PHASE_COMPLETED, engagement=engagement, phase=phase, actor=actor)
    return engagement


@transaction.atomic
def engagement_close(*, actor: User, engagement: Engagement, reason: str) -> Engagement:
    """Delivered: final validation or go-live. Triggers the last 30%."""
    engagement = _lock(engagement)
    if engagement.status == rules.ACTIVE and engagement.phase != rules.CLOSING:
        raise DomainError(CLOSE_BEFORE_CLOSING)
    engagement = engagement_transition(engagement=engagement, target=rules.CLOSED, actor=actor, reason=reason)
    now = timezone.now()
    PhasePlan.objects.filter(engagement=engagement, completed_at__isnull=True).update(completed_at=now)
    engagement.progress_percent = _progress(engagement)
    engagement.save(update_fields=["progress_percent"])
    hooks.run(hooks.CLOSED, engagement=engagement, actor=actor)
    email_enqueue(to=client_addresses(engagement), template="engagement_closed", context={"engagement": engagement})
    return engagement


def _require_reason(reason: str) -> None:
    if not reason.strip():
        raise DomainError(REASON_REQUIRED, field="reason")


@transaction.atomic
def engagement_hold(*, actor: User, engagement: Engagement, reason: str) -> Engagement:
    """Staff put an engagement on hold by hand, before R1 would."""
    _require_reason(reason)
    engagement = engagement_transition(
        engagement=engagement, target=rules.WAITING, actor=actor, reason=reason, manual_hold=True
    )
    email_enqueue(to=client_addresses(engagement), template="engagement_waiting", context={"engagement": engagement})
    return engagement


@transaction.atomic
def engagement_reactivate(*, actor: User | None, engagement: Engagement, reason: str) -> Engagement:
    """The client answered what the wait was about, or staff reactivate: back to
    active, and R1's clock restarts today for the requests still open."""
    engagement = engagement_transition(engagement=engagement, target=rules.ACTIVE, actor=actor, reason=reason)
    email_enqueue(
        to=client_addresses(engagement) + consultant_addresses(engagement),
        template="engagement_reactivated",
        context={"engagement": engagement},
    )
    return engagement


def admin_close_first_day(engagement: Engagement) -> date | None:
    """R2: the first day an administrative close is allowed, while the engagement waits on the client."""
    if engagement.status != rules.WAITING or engagement.waiting_since is None:
        return None
    return rules.r2_fires_on(engagement.waiting_since, business_tz(), engagement.terms.wait_rules)


@transaction.atomic
def engagement_admin_close(*, actor: User | None, engagement: Engagement, reason: str) -> Engagement:
    """R2: only after `close_after_days` calendar days waiting on the client
    without reactivation (AdminCloseTooEarly names the first allowed day; before
    it staff can only cancel). The ADMIN_CLOSED hook is where billing proposes
    the unexecuted balance as a credit (R3)."""
    _require_reason(reason)
    engagement = _lock(engagement)
    first_day = admin_close_first_day(engagement)
    if first_day is not None and rules.local_date(timezone.now(), business_tz()) < first_day:
        raise AdminCloseTooEarly(first_day, engagement.terms.close_after_days)
    engagement = engagement_transition(engagement=engagement, target=rules.ADMIN_CLOSED, actor=actor, reason=reason)
    hooks.run(hooks.ADMIN_CLOSED, engagement=engagement, actor=actor, reason=reason)
    email_enqueue(
        to=client_addresses(engagement), template="engagement_admin_closed", context={"engagement": engagement}
    )
    return engagement


@transaction.atomic
def engagement_cancel(*, actor: User, engagement: Engagement, reason: str) -> Engagement:
    """Staff stop an engagement: a different outcome from an administrative close
    (no credit is proposed), and the only one before R2's 90 days."""
    _require_reason(reason)
    return engagement_transition(engagement=engagement, target=rules.CANCELLED, actor=actor, reason=reason)
