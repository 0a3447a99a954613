"""Session limits: idle by role (clients 2 h, staff and consultants 30 min),
12 h absolute, and logout that ends the session on the server.

Time is moved by rewriting the stamps the middleware keeps in the stored
session, as if the last request or the login had happened that long ago.
"""

import time

import pytest
from allauth.usersessions.models import UserSession
from django.contrib.messages import constants
from django.contrib.sessions.models import Session
from django.test import Client

from portal.sessions import LOGIN_AT, SEEN_AT
from tests.conftest import login_with_mfa

pytestmark = pytest.mark.django_db

HOME = "/portal/"
MINUTE, HOUR = 60, 3600


def shift(client, key: str, seconds_ago: int) -> None:
    """Pretend the stored event happened `seconds_ago` seconds ago."""
    session = client.session
    session[key] = int(time.time()) - seconds_ago
    session.save()


def assert_signed_out(client, session_key: str) -> None:
    response = client.get(HOME, follow=True)
    assert response.redirect_chain[0] == (f"/accounts/login/?next={HOME}", 302)
    assert constants.WARNING in [m.level for m in response.context["messages"]]
    assert not Session.objects.filter(session_key=session_key).exists()
    assert client.get(HOME).status_code == 302  # and it stays that way


def test_the_login_request_stamps_the_session(client, alice):
    before = int(time.time())
    login_with_mfa(client, alice)
    session = client.session
    assert before <= session[LOGIN_AT] <= session[SEEN_AT] <= time.time()


class TestIdleLimit:
    def test_a_client_idle_for_just_under_two_hours_stays_in(self, client, alice):
        login_with_mfa(client, alice)
        shift(client, SEEN_AT, 2 * HOUR - MINUTE)
        assert client.get(HOME).status_code == 200

    def test_a_client_idle_for_over_two_hours_is_signed_out(self, client, alice):
        login_with_mfa(client, alice)
        shift(client, SEEN_AT, 2 * HOUR + MINUTE)
        assert_signed_out(client, client.session.session_key)

    def test_a_consultant_idle_for_over_thirty_minutes_is_signed_out(self, client, carla):
        login_with_mfa(client, carla)
        shift(client, SEEN_AT, 29 * MINUTE)
        assert client.get(HOME).status_code == 200
        shift(client, SEEN_AT, 31 * MINUTE)
        assert_signed_out(client, client.session.session_key)

    def test_staff_idle_for_over_thirty_minutes_are_signed_out(self, client, sam):
        login_with_mfa(client, sam)
        shift(client, SEEN_AT, 31 * MINUTE)
        assert_signed_out(client, client.session.session_key)

    def test_activity_moves_the_idle_clock(self, client, carla):
        login_with_mfa(client, carla)
        shift(client, SEEN_AT, 20 * MINUTE)
        assert client.get(HOME).status_code == 200
        assert client.session[SEEN_AT] >= time.time() - 5

    def test_htmx_requests_are_sent_to_login_as_a_whole_page(self, client, carla):
        login_with_mfa(client, carla)
        shift(client, SEEN_AT, 31 * MINUTE)
        response = client.get(HOME, headers={"HX-Request": "true"})
        assert response["HX-Redirect"] == f"/accounts/login/?next={HOME}"


class TestAbsoluteLimit:
    def test_a_busy_client_is_signed_out_twelve_hours_after_login(self, client, alice):
        login_with_mfa(client, alice)
        shift(client, LOGIN_AT, 12 * HOUR - MINUTE)
        assert client.get(HOME).status_code == 200
        shift(client, LOGIN_AT, 12 * HOUR + MINUTE)
        shift(client, SEEN_AT, 0)  # active a moment ago: only the absolute limit applies
        assert_signed_out(client, client.session.session_key)

    def test_a_busy_consultant_is_signed_out_twelve_hours_after_login(self, client, carla):
        login_with_mfa(client, carla)
        shift(client, LOGIN_AT, 12 * HOUR + MINUTE)
        assert_signed_out(client, client.session.session_key)


class TestLogout:
    def test_logout_deletes_the_session_and_the_old_cookie_opens_nothing(self, client, alice):
        login_with_mfa(client, alice)
        stolen = client.session.session_key
        assert Session.objects.filter(session_key=stolen).exists()

        client.post("/accounts/logout/")
        assert not Session.objects.filter(session_key=stolen).exists()

        client.cookies["sessionid"] = stolen  # replay the copied cookie
        response = client.get(HOME)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


class TestMySessions:
    """ "Mis sesiones" (allauth.usersessions): a person sees where they are signed in and ends the rest."""

    URL = "/accounts/sessions/"

    def test_a_client_sees_their_sessions_and_ends_the_others(self, alice, bob):
        laptop, phone, colleague = Client(), Client(HTTP_USER_AGENT="Teléfono de Alice"), Client()
        login_with_mfa(laptop, alice)
        login_with_mfa(phone, alice)
        login_with_mfa(colleague, bob)
        page = laptop.get(self.URL).content.decode()
        assert "Teléfono de Alice" in page and "Actual" in page and "Cerrar las demás sesiones" in page
        assert UserSession.objects.filter(user=alice).count() == 2

        response = laptop.post(self.URL, follow=True)
        assert "Se han cerrado todas las demás sesiones." in response.content.decode()
        assert phone.get(HOME)["Location"].startswith("/accounts/login/")  # the phone is signed out
        assert laptop.get(HOME).status_code == 200  # this one is not
        assert colleague.get(HOME).status_code == 200  # nor anybody else's
        assert list(UserSession.objects.filter(user=alice).values_list("session_key", flat=True)) == [
            laptop.session.session_key
        ]

    def test_the_page_lists_no_one_elses_session(self, alice, bob):
        mine, theirs = Client(), Client(HTTP_USER_AGENT="Navegador de Bob")
        login_with_mfa(mine, alice)
        login_with_mfa(theirs, bob)
        assert "Navegador de Bob" not in mine.get(self.URL).content.decode()
