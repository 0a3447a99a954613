"""Calendar invitations of the sessions: sent when a session is scheduled or moved (REQUEST), and
when it will not take place because the engagement ended (CANCEL), always under the session's UID."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from engagements import ics
from engagements.models import Engagement, EngagementEvent, Session
from engagements.services.lifecycle import consultant_addresses, event_record
from portal.models import User
from portal.notifications import email_enqueue


def session_uid(session: Session) -> str:
    return f"session-{session.public_id}@portal"


def session_sequence(session: Session) -> int:
    """Grows with every move and cancellation, so calendars replace what they have."""
    return (
        EngagementEvent.objects.filter(
            Q(kind="session.scheduled") | Q(kind="session.cancelled"), engagement=session.engagement_id
        )
        .filter(data__number=session.number)
        .count()
    )


def _people(engagement: Engagement) -> tuple[ics.Person, tuple[ics.Person, ...]]:
    """The organizer (the consultant, who receives the answers; the consultancy while none is
    assigned) and the client's people as attendees."""
    consultant = engagement.consultant
    if consultant is not None:
        organizer = ics.Person(consultant.get_full_name() or consultant.email, consultant.email)
    else:
        organizer = ics.Person(settings.CONSULTANCY["name"], settings.CONSULTANCY["contact_email"])
    attendees: tuple[ics.Person, ...] = ()
    if engagement.company_id:
        members = engagement.company.memberships.filter(user__is_active=True).select_related("user")
        attendees = tuple(ics.Person(m.user.get_full_name() or m.user.email, m.user.email) for m in members)
    return organizer, attendees


def session_event(session: Session, sequence: int) -> ics.SessionEvent:
    """In the portal's language, like the mail it travels with (portal.notifications)."""
    with translation.override(settings.LANGUAGE_CODE):
        return _session_event(session, sequence)


def _session_event(session: Session, sequence: int) -> ics.SessionEvent:
    engagement = session.engagement
    organizer, attendees = _people(engagement)
    total = engagement.terms.sessions and len(engagement.terms.sessions)
    description = "\n".join(
        [
            _("Session %(number)s of %(total)s of the engagement “%(title)s”.")
            % {"number": session.number, "total": total, "title": engagement.title},
            _("Video call: %(link)s") % {"link": session.video_link},
            _("In the portal: %(url)s")
            % {"url": settings.SITE_URL + reverse("engagements:detail", args=[engagement.code])},
        ]
    )
    return ics.SessionEvent(
        uid=session_uid(session),
        sequence=sequence,
        start=session.scheduled_at,
        minutes=session.planned_minutes,
        summary=_("Session %(number)s: %(title)s · %(engagement)s")
        % {"number": session.number, "title": session.title, "engagement": engagement.title},
        description=description,
        location=session.video_link,
        organizer=organizer,
        attendees=attendees,
    )


def session_invitation_send(session: Session, *, actor: User | None, rescheduled: bool) -> None:
    """After `session.scheduled` was recorded: the REQUEST (a new or moved session) by e-mail."""
    calendar = ics.session_calendar(
        session_event(session, session_sequence(session)), method=ics.REQUEST, stamp=timezone.now()
    )
    email_enqueue(
        to=[p.email for p in _people(session.engagement)[1]] + consultant_addresses(session.engagement),
        template="session_scheduled",
        context={"engagement": session.engagement, "session": session, "rescheduled": rescheduled},
        attachments=[("sesion.ics", calendar, "text/calendar; method=REQUEST")],
    )


def session_invitations_cancel(engagement: Engagement, *, actor: User | None) -> None:
    """The engagement ended: each session still ahead is cancelled in the calendars that have it."""
    now = timezone.now()
    ahead = engagement.sessions.filter(scheduled_at__gt=now, log_published_at__isnull=True).order_by("number")
    for session in ahead:
        session.engagement = engagement
        event_record(engagement, "session.cancelled", actor=actor, data={"number": session.number})
        calendar = ics.session_calendar(session_event(session, session_sequence(session)), method=ics.CANCEL, stamp=now)
        email_enqueue(
            to=[p.email for p in _people(engagement)[1]] + consultant_addresses(engagement),
            template="session_cancelled",
            context={"engagement": engagement, "session": session},
            attachments=[("sesion.ics", calendar, "text/calendar; method=CANCEL")],
        )


def session_download(session: Session) -> str:
    """The copy a person adds to their calendar from the portal (PUBLISH: nothing to answer)."""
    return ics.session_calendar(
        session_event(session, session_sequence(session)), method=ics.PUBLISH, stamp=timezone.now()
    )
