"""Session invitations calendars accept: built with icalendar, one UID per session, REQUEST when it is
scheduled or moved (the sequence grows), CANCEL when the engagement ends, PUBLISH when downloaded."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from engagements import services
from portal.models import OutgoingMail

pytestmark = pytest.mark.django_db


def _calendar(text: str) -> tuple[Calendar, object]:
    calendar = Calendar.from_ical(text)
    return calendar, calendar.walk("VEVENT")[0]


def _invitations() -> list[str]:
    """The .ics attached to the queued mails, oldest first, each once (a mail has a row per recipient)."""
    found = []
    for row in OutgoingMail.objects.order_by("pk"):
        for _name, content, kind in row.attachments:
            if kind.startswith("text/calendar") and content not in found:
                found.append(content)
    return found


def _schedule(session, carla, days: int):
    start = (timezone.now() + timedelta(days=days)).replace(microsecond=0)
    services.session_schedule(actor=carla, session=session, scheduled_at=start, video_link="https://meet.x/a")
    return start


def test_it_invites_the_clients_people_with_the_consultant_as_organizer(engagement, carla, alice, bob):
    session = engagement.sessions.get(number=1)
    start = _schedule(session, carla, 3)
    calendar, event = _calendar(_invitations()[-1])
    assert calendar["METHOD"] == "REQUEST" and calendar["VERSION"] == "2.0"
    assert str(event["UID"]) == f"session-{session.public_id}@portal"
    assert event.decoded("DTSTART") == start and event.decoded("DTEND") == start + timedelta(minutes=60)
    assert str(event["ORGANIZER"]) == f"mailto:{carla.email}" and event["ORGANIZER"].params["CN"] == carla.full_name
    attendees = sorted(str(a) for a in event.get("ATTENDEE"))
    assert attendees == [f"mailto:{alice.email}", f"mailto:{bob.email}"]
    assert event["SUMMARY"].startswith("Sesión 1: ")  # in the portal's language, whoever scheduled it
    assert "https://meet.x/a" in str(event["DESCRIPTION"]) and str(event["LOCATION"]) == "https://meet.x/a"


def test_moving_a_session_updates_the_same_event(engagement, carla):
    session = engagement.sessions.get(number=1)
    _schedule(session, carla, 3)
    moved = _schedule(session, carla, 5)
    first, second = (_calendar(text)[1] for text in _invitations()[-2:])
    assert str(first["UID"]) == str(second["UID"])
    assert int(second["SEQUENCE"]) == int(first["SEQUENCE"]) + 1
    assert second.decoded("DTSTART") == moved
    assert any("se movió" in m.body for m in OutgoingMail.objects.all())


def test_an_ended_engagement_cancels_the_sessions_ahead(engagement, carla, sam):
    session = engagement.sessions.get(number=2)
    _schedule(session, carla, 4)
    services.engagement_cancel(actor=sam, engagement=engagement, reason="El cliente desistió")
    calendar, event = _calendar(_invitations()[-1])
    assert calendar["METHOD"] == "CANCEL" and event["STATUS"] == "CANCELLED"
    assert str(event["UID"]) == f"session-{session.public_id}@portal" and int(event["SEQUENCE"]) == 2
    assert engagement.events.filter(kind="session.cancelled", data__number=2).exists()


def test_the_portal_download_is_a_published_copy_of_the_same_event(client, engagement, carla, alice, charlie):
    session = engagement.sessions.get(number=1)
    _schedule(session, carla, 2)
    url = reverse("engagements:session_ics", args=[session.public_id])
    client.force_login(alice)
    response = client.get(url)
    assert response["Content-Type"].startswith("text/calendar")
    calendar, event = _calendar(response.content.decode())
    assert calendar["METHOD"] == "PUBLISH" and "ATTENDEE" not in event
    assert str(event["UID"]) == f"session-{session.public_id}@portal"
    client.force_login(charlie)
    assert client.get(url).status_code == 404
    assert not mail.outbox or all(charlie.email not in m.to for m in mail.outbox)
