"""Findings of the outside audit on the platform: an admin that cannot run code or take over an
account, password changes in the audit trail, one password hash per login, seed_demo kept out
of production."""

from io import StringIO

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession
from django.contrib import admin
from django.contrib.auth.hashers import MD5PasswordHasher
from django.contrib.sessions.models import Session
from django.core.management import CommandError, call_command
from django.urls import reverse
from django_q.models import Failure, OrmQ, Schedule

from portal.admin import AuditedAdmin
from portal.audit import Code
from portal.models import AuditEvent, Role, User
from tests.conftest import PASSWORD, login_with_mfa, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def root(db) -> User:
    """A superuser (createsuperuser makes staff with every permission), signed in with TOTP."""
    user = make_user("root@consultora.test", Role.STAFF)
    User.objects.filter(pk=user.pk).update(is_superuser=True)
    user.refresh_from_db()
    return user


# ---------------------------------------------------------------- the admin


def test_a_superuser_cannot_add_a_schedule_that_runs_a_shell_command(client, root):
    login_with_mfa(client, root)
    before = Schedule.objects.count()
    add = reverse("admin:django_q_schedule_add")
    assert client.get(add).status_code == 403
    response = client.post(
        add, {"name": "x", "func": "os.system", "args": "'touch /tmp/pwned'", "schedule_type": "O", "repeats": "-1"}
    )
    assert response.status_code == 403
    assert Schedule.objects.count() == before and not Schedule.objects.filter(func="os.system").exists()


def test_a_superuser_cannot_change_a_schedule_or_resubmit_a_task(client, root):
    login_with_mfa(client, root)
    schedule = Schedule.objects.first()  # created by the migrations
    change = reverse("admin:django_q_schedule_change", args=[schedule.pk])
    assert client.get(change).status_code == 200  # visible...
    response = client.post(change, {"name": schedule.name, "func": "os.system", "schedule_type": "O"})
    assert response.status_code == 403  # ...not writable
    schedule.refresh_from_db()
    assert schedule.func != "os.system"
    when = "2026-01-01T00:00Z"
    failed = Failure.objects.create(
        id="f1", name="f1", func="os.system", args=("id",), started=when, stopped=when, success=False
    )
    response = client.post(
        reverse("admin:django_q_failure_changelist"), {"action": "resubmit_task", "_selected_action": [failed.pk]}
    )
    assert OrmQ.objects.count() == 0 and Failure.objects.filter(pk=failed.pk).exists()
    assert "resubmit" not in client.get(reverse("admin:django_q_failure_changelist")).content.decode()


def test_allauth_addresses_and_authenticators_are_read_only(client, root, carla):
    login_with_mfa(client, root)
    address = EmailAddress.objects.get(user=carla)
    response = client.post(
        reverse("admin:account_emailaddress_change", args=[address.pk]),
        {"email": "attacker@evil.test", "user": root.pk, "verified": "on", "primary": "on"},
    )
    assert response.status_code == 403
    assert EmailAddress.objects.get(pk=address.pk).email == carla.email
    assert client.get(reverse("admin:account_emailaddress_add")).status_code == 403
    totp = Authenticator.objects.get(user=carla)
    page = client.get(reverse("admin:mfa_authenticator_change", args=[totp.pk]))
    assert page.status_code == 200 and totp.data["secret"] not in page.content.decode()
    assert client.post(reverse("admin:mfa_authenticator_delete", args=[totp.pk]), {"post": "yes"}).status_code == 403
    assert Authenticator.objects.filter(pk=totp.pk).exists()


def test_no_admin_lets_even_a_superuser_add_or_change_and_every_admin_is_audited(rf, root):
    request = rf.get("/admin/")
    request.user = root
    deletable = []
    for model, model_admin in admin.site._registry.items():
        assert isinstance(model_admin, AuditedAdmin), model
        assert not model_admin.has_add_permission(request), model
        assert not model_admin.has_change_permission(request), model
        if model_admin.has_delete_permission(request):
            deletable.append(model)
    assert deletable == [UserSession]


def test_ending_a_session_in_the_admin_ends_it_and_is_audited(client, root, alice):
    alice_browser = client_class_login(alice)
    session = UserSession.objects.get(user=alice)
    login_with_mfa(client, root)
    response = client.post(reverse("admin:usersessions_usersession_delete", args=[session.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not UserSession.objects.filter(pk=session.pk).exists()
    assert not Session.objects.filter(session_key=session.session_key).exists()
    assert alice_browser.get("/portal/").status_code == 302  # signed out
    event = AuditEvent.objects.get(code=Code.ADMIN_DELETED)
    assert event.actor == root and event.target == f"usersessions.UserSession:{session.pk}"
    assert event.data["model"] == "usersessions.UserSession"


def client_class_login(user):
    from django.test import Client

    browser = Client()
    assert browser.post("/accounts/login/", {"login": user.email, "password": PASSWORD}).status_code == 302
    return browser


# ---------------------------------------------------------------- passwords


@pytest.fixture
def hashes(monkeypatch) -> list[str]:
    """Every password verification of this test (the test settings' hasher)."""
    calls = []
    verify = MD5PasswordHasher.verify

    def counting(self, password, encoded):
        calls.append(password)
        return verify(self, password, encoded)

    monkeypatch.setattr(MD5PasswordHasher, "verify", counting)
    return calls


def test_a_failed_login_hashes_the_password_once(client, alice, hashes):
    client.post("/accounts/login/", {"login": alice.email, "password": "wrong-password"})
    assert hashes == ["wrong-password"]


def test_a_successful_login_hashes_the_password_once(client, alice, hashes):
    assert client.post("/accounts/login/", {"login": alice.email, "password": PASSWORD}).status_code == 302
    assert hashes == [PASSWORD]


def test_a_password_change_is_audited(client, alice):
    client.force_login(alice)
    new = "Another-Horse-2027"
    response = client.post(
        reverse("account_change_password"), {"oldpassword": PASSWORD, "password1": new, "password2": new}
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(code=Code.PASSWORD_CHANGED)
    assert (event.actor, event.target) == (alice, alice.email)
    assert new not in str(event.data) and PASSWORD not in str(event.data)


def test_a_password_reset_through_the_emailed_link_is_audited(client, alice, mailoutbox):
    import re

    client.post(reverse("account_reset_password"), {"email": alice.email})
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+)", mailoutbox[-1].body).group(1)
    form = client.get(link, follow=True)
    new = "Reset-Horse-2027"
    response = client.post(form.redirect_chain[-1][0], {"password1": new, "password2": new})
    assert response.status_code == 302
    event = AuditEvent.objects.get(code=Code.PASSWORD_RESET)
    assert (event.actor, event.target) == (alice, alice.email)


# ---------------------------------------------------------------- seed_demo


def test_seed_demo_refuses_to_run_with_debug_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--i-know-this-is-not-production"):
        call_command("seed_demo", stdout=StringIO())
    assert not User.objects.filter(email="staff@demo.test").exists()
