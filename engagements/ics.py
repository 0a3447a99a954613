"""Session invitations calendars accept (RFC 5545 and iTIP, RFC 5546), built with `icalendar`.

One event per session, always with the same UID, so that a calendar that received it once updates
it in place: REQUEST when it is scheduled or moved (the sequence grows with each move), CANCEL
(the same UID, the next sequence) when it will not take place, PUBLISH for the copy a person
downloads from the portal (no reply is expected from a download). A REQUEST names a real organizer
(the consultant, who receives the answers) and the client's people as attendees.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from icalendar import Alarm, Calendar, Event, vCalAddress, vText

PUBLISH, REQUEST, CANCEL = "PUBLISH", "REQUEST", "CANCEL"
PRODID = "-//Portal Integración Odoo Tienda Online//ES"


@dataclass(frozen=True)
class Person:
    name: str
    email: str


@dataclass(frozen=True)
class SessionEvent:
    uid: str
    sequence: int
    start: datetime
    minutes: int
    summary: str
    description: str
    location: str
    organizer: Person
    attendees: tuple[Person, ...] = field(default=())


def _address(person: Person, **params: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{person.email}")
    address.params["CN"] = vText(person.name or person.email)
    address.params.update(params)
    return address


def _event(session: SessionEvent, method: str, stamp: datetime) -> Event:
    event = Event()
    event.add("uid", session.uid)
    event.add("sequence", session.sequence)
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("dtstart", session.start.astimezone(UTC))
    event.add("dtend", (session.start + timedelta(minutes=session.minutes)).astimezone(UTC))
    event.add("summary", session.summary)
    event.add("description", session.description)
    event.add("location", session.location)
    if session.location.startswith("https://"):
        event.add("url", session.location)
    event.add("status", "CANCELLED" if method == CANCEL else "CONFIRMED")
    event.add("transp", "OPAQUE")
    event.add("organizer", _address(session.organizer))
    if method != PUBLISH:
        for person in session.attendees:
            event.add(
                "attendee",
                _address(person, ROLE="REQ-PARTICIPANT", PARTSTAT="NEEDS-ACTION", RSVP="TRUE", CUTYPE="INDIVIDUAL"),
            )
    if method != CANCEL:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", session.summary)
        alarm.add("trigger", timedelta(minutes=-15))
        event.add_component(alarm)
    return event


def session_calendar(session: SessionEvent, *, method: str, stamp: datetime) -> str:
    """The whole calendar object (CRLF lines, folded at 75 octets), ready to attach or download."""
    if method not in (PUBLISH, REQUEST, CANCEL):
        raise ValueError(method)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    calendar.add_component(_event(session, method, stamp))
    return calendar.to_ical().decode()
