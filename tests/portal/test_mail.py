"""Mail with the mail server down (a loopback port that refuses): an invitation is kept and can be
re-sent, queued notifications are retried with a growing delay, and /healthz counts them."""

import logging
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from engagements import services as lifecycle
from portal import mail as outbox
from portal import tasks
from portal.audit import Code
from portal.models import AuditEvent, Invitation, MailStatus, OutgoingMail
from tests.conftest import login_with_mfa
from tests.engagements.fixtures import INQUIRY
from tests.portal.test_health import TOKEN

NOT_SENT = "quedó guardada, pero no se pudo enviar el correo"
LOCMEM = "django.core.mail.backends.locmem.EmailBackend"


def _link() -> str:
    return "/invitation/" + re.search(r"/invitation/(\S+)/", mail.outbox[-1].body).group(1) + "/"


# ---------------------------------------------------------------- an invitation, sent from the request


@pytest.mark.django_db(transaction=True)  # the e-mail goes out after a real commit, as in production
def test_an_invitation_with_the_mail_server_down_is_kept_and_can_be_resent(client, sam, andes, settings):
    login_with_mfa(client, sam)
    page = f"/portal/companies/{andes.public_id}/"
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", _refusing_port(), 2

    response = client.post(page, {"email": "nina@andes.test", "full_name": "Nina Andes"}, follow=True)

    assert response.status_code == 200 and response.redirect_chain == [(page, 302)]
    text = response.content.decode()
    assert NOT_SENT in text and "Invitación enviada" not in text
    assert "Correo no enviado" in text and "Reenviar" in text  # on the pending invitation
    invitation = Invitation.objects.get(email="nina@andes.test")
    assert invitation.is_pending and invitation.email_failed
    assert AuditEvent.objects.filter(code=Code.INVITATION_SENT, target="nina@andes.test").exists()

    settings.EMAIL_BACKEND = LOCMEM  # the server is back
    response = client.post(reverse("portal:invitation_resend", args=[invitation.public_id]), follow=True)
    assert "Invitación enviada a nina@andes.test" in response.content.decode()
    assert [m.to for m in mail.outbox] == [["nina@andes.test"]]
    invitation.refresh_from_db()
    assert not invitation.email_failed and invitation.expires_at > timezone.now() + timedelta(days=6)
    assert AuditEvent.objects.filter(code=Code.INVITATION_RESENT, actor=sam).exists()
    client.post("/accounts/logout/")
    assert client.get(_link()).status_code == 200  # the new link works


@pytest.mark.django_db(transaction=True)
def test_a_team_invitation_with_the_mail_server_down_says_so(client, sam, unreachable_mail_server):
    login_with_mfa(client, sam)
    response = client.post(
        reverse("portal:team"), {"email": "nuevo@consultora.test", "full_name": "Nuevo", "role": "consultant"}
    )
    assert response.status_code == 302
    assert NOT_SENT in client.get(reverse("portal:team")).content.decode()
    assert Invitation.objects.get(email="nuevo@consultora.test").email_failed


@pytest.mark.django_db
def test_resending_gives_a_new_link_and_the_old_one_stops_working(
    client, sam, andes, django_capture_on_commit_callbacks
):
    from portal import services

    with django_capture_on_commit_callbacks(execute=True):
        invitation, _token = services.invitation_create(actor=sam, request=None, email="n@andes.test", company=andes)
    old = _link()
    with django_capture_on_commit_callbacks(execute=True):
        services.invitation_resend(actor=sam, request=None, invitation=invitation)
    assert _link() != old
    assert client.get(old).status_code == 410 and client.get(_link()).status_code == 200


def _refusing_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# ---------------------------------------------------------------- queued notifications


@pytest.fixture
def queued(service, unreachable_mail_server, django_capture_on_commit_callbacks) -> OutgoingMail:
    """A staff notification (a new inquiry) whose first attempt met the mail server down."""
    with django_capture_on_commit_callbacks(execute=True):
        _inquiry(service)
    return OutgoingMail.objects.get()


def _inquiry(service) -> None:
    lifecycle.inquiry_submit(service=service, data=dict(INQUIRY), request=None)  # staff are notified


@pytest.mark.django_db
def test_a_notification_that_fails_is_retried_with_a_growing_delay_then_given_up(queued, client, caplog):
    assert queued.status == MailStatus.PENDING and queued.attempts == 1 and not mail.outbox
    assert queued.recipient == "office@consultora.test" and "ConnectionRefusedError" in queued.last_error
    start = queued.next_attempt_at
    assert outbox.mail_retry_sweep(now=start - timedelta(seconds=1)) == {}  # not due yet

    gaps, moment = [queued.next_attempt_at - queued.created_at], queued.next_attempt_at
    while True:
        outbox.mail_retry_sweep(now=moment)
        queued.refresh_from_db()
        if queued.status != MailStatus.PENDING:
            break
        gaps.append(queued.next_attempt_at - moment)
        moment = queued.next_attempt_at
    minutes = [round(gap.total_seconds() / 60) for gap in gaps]
    assert minutes == [1, 5, 30, 120, 360]
    assert queued.status == MailStatus.FAILED and queued.attempts == 6 and queued.next_attempt_at is None
    assert any(r.name == "portal.mail" and r.levelno == logging.ERROR for r in caplog.records)

    body = client.get("/healthz", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").json()
    assert body["checks"]["mail"] == {"ok": False, "retrying": 0, "failed_24h": 1}
    assert "mail" in client.get("/healthz").json()["failed"]


@pytest.fixture(autouse=True)
def _healthz_token(settings):
    settings.HEALTHZ_TOKEN = TOKEN


@pytest.mark.django_db
def test_a_notification_is_sent_by_the_sweep_once_the_server_is_back(queued, settings, client):
    body = client.get("/healthz", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").json()
    assert body["checks"]["mail"] == {"ok": True, "retrying": 1, "failed_24h": 0}
    settings.EMAIL_BACKEND = LOCMEM
    assert outbox.mail_retry_sweep(now=queued.next_attempt_at) == {"sent": 1}
    queued.refresh_from_db()
    assert queued.status == MailStatus.SENT and queued.attempts == 2
    assert [m.to for m in mail.outbox] == [["office@consultora.test"]] and mail.outbox[0].subject == queued.subject
    assert outbox.mail_retry_sweep(now=queued.next_attempt_at or timezone.now() + timedelta(days=1)) == {}


@pytest.mark.django_db
def test_the_sweep_stops_at_the_first_failure_while_the_server_is_down(service, unreachable_mail_server):
    for _ in range(3):
        _inquiry(service)
    # No commit hook ran (as if the worker lost the task): the sweep picks them up after LOST_AFTER.
    later = timezone.now() + outbox.LOST_AFTER + timedelta(seconds=1)
    assert outbox.mail_retry_sweep(now=later) == {"pending": 1}
    assert sorted(OutgoingMail.objects.values_list("attempts", flat=True)) == [0, 0, 1]


@pytest.mark.django_db
def test_a_rolled_back_write_queues_nothing(service):
    with pytest.raises(RuntimeError), transaction.atomic():
        _inquiry(service)
        raise RuntimeError
    assert not OutgoingMail.objects.exists()


@pytest.mark.django_db
def test_a_task_delivered_twice_sends_once(service, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _inquiry(service)
    row = OutgoingMail.objects.get()
    assert tasks.mail_deliver([row.pk]) == ["skipped"]  # django-q2 delivers at least once
    assert len(mail.outbox) == 1
