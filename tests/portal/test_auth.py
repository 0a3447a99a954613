"""Login by email, closed sign-up, MFA for internal users, the admin gate."""

import pytest
from allauth.mfa.models import Authenticator

from portal.audit import Code
from portal.models import AuditEvent, Role, User
from tests.conftest import PASSWORD, login_with_mfa, make_user, totp_code

pytestmark = pytest.mark.django_db


class TestLogin:
    def test_it_logs_a_client_in_with_email_and_password(self, client, alice):
        response = client.post("/accounts/login/", {"login": "ALICE@andes.test", "password": PASSWORD})
        assert response.status_code == 302
        assert response["Location"] == "/portal/"
        page = client.get("/portal/")
        assert page.status_code == 200
        assert "Andes SpA" in page.content.decode()

    def test_it_refuses_a_wrong_password_with_a_message_and_audits_it(self, client, alice):
        response = client.post("/accounts/login/", {"login": alice.email, "password": "wrong"}, REMOTE_ADDR="10.1.2.3")
        assert response.status_code == 200
        assert "_auth_user_id" not in client.session
        assert response.context["form"].errors
        event = AuditEvent.objects.get(code=Code.LOGIN_FAILED)
        assert (event.target, event.ip_address) == (alice.email, "10.1.2.3")

    def test_it_audits_a_successful_login_with_ip(self, client, alice):
        client.post("/accounts/login/", {"login": alice.email, "password": PASSWORD}, REMOTE_ADDR="10.9.8.7")
        event = AuditEvent.objects.get(code=Code.LOGIN_SUCCEEDED)
        assert (event.actor, event.ip_address) == (alice, "10.9.8.7")

    def test_the_login_page_is_spanish_by_default(self, client):
        page = client.get("/accounts/login/").content.decode()
        assert 'lang="es"' in page
        assert "Ingresar" in page

    def test_it_sends_anonymous_users_to_login(self, client, andes):
        assert client.get("/")["Location"] == "/servicio/"  # visitors see the public service page
        for url in ["/portal/", "/portal/companies/", f"/portal/companies/{andes.public_id}/", "/portal/team/"]:
            response = client.get(url, follow=True)
            assert response.redirect_chain[-1][0].startswith("/accounts/login/"), url


class TestSignupClosed:
    def test_it_shows_that_signup_is_closed(self, client):
        response = client.get("/accounts/signup/")
        assert "account/signup_closed.html" in [t.name for t in response.templates]

    def test_a_signup_post_creates_nobody(self, client):
        client.post(
            "/accounts/signup/",
            {"email": "intruder@example.com", "password1": "Very-Long-Pass-99", "password2": "Very-Long-Pass-99"},
        )
        assert not User.objects.filter(email="intruder@example.com").exists()


class TestMFARequired:
    def test_a_consultant_without_totp_cannot_reach_internal_pages(self, client, db):
        consultant = make_user("nuevo@consultora.test", Role.CONSULTANT, mfa=False)
        client.force_login(consultant)
        for url in ["/portal/", "/portal/companies/"]:
            response = client.get(url)
            assert response.status_code == 302
            assert response["Location"] == "/accounts/2fa/totp/activate/"

    def test_staff_without_totp_cannot_open_the_admin(self, client, db):
        staff = make_user("jefa@consultora.test", Role.STAFF, mfa=False)
        client.force_login(staff)
        response = client.get("/admin/")
        assert response["Location"] == "/accounts/2fa/totp/activate/"

    def test_a_consultant_enrols_totp_and_then_gets_in(self, client, db, django_capture_on_commit_callbacks):
        consultant = make_user("nuevo@consultora.test", Role.CONSULTANT, mfa=False)
        login_with_mfa(client, consultant)
        # allauth asks for the password again before enrolment.
        client.post("/accounts/reauthenticate/", {"password": PASSWORD})
        page = client.get("/accounts/2fa/totp/activate/")
        secret = page.context["form"].secret
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post("/accounts/2fa/totp/activate/", {"code": totp_code(secret)})
        assert response.status_code == 302
        assert Authenticator.objects.filter(user=consultant, type=Authenticator.Type.TOTP).exists()
        assert client.get("/portal/").status_code == 200
        assert AuditEvent.objects.filter(code=Code.MFA_ADDED, actor=consultant).exists()

    def test_the_totp_seed_is_stored_encrypted(self, carla):
        stored = Authenticator.objects.get(user=carla, type=Authenticator.Type.TOTP).data["secret"]
        assert "JBSWY3DPEHPK3PXP" not in stored

    def test_a_wrong_totp_code_is_refused_with_a_message(self, client, carla):
        response = client.post("/accounts/login/", {"login": carla.email, "password": PASSWORD})
        assert response["Location"].startswith("/accounts/2fa/authenticate/")
        response = client.post(
            "/accounts/2fa/authenticate/", {"code": "000000" if totp_code() != "000000" else "111111"}
        )
        assert response.status_code == 200
        assert response.context["form"].errors["code"]
        assert client.get("/portal/").status_code == 302
        assert AuditEvent.objects.filter(code=Code.MFA_FAILED).exists()

    def test_a_consultant_with_totp_logs_in_with_code(self, client, carla):
        login_with_mfa(client, carla)
        assert client.get("/portal/").status_code == 200

    def test_clients_are_not_asked_for_mfa(self, client, alice):
        client.force_login(alice)
        assert client.get("/portal/").status_code == 200


class TestAdminGate:
    def test_anonymous_admin_goes_to_the_portal_login(self, client):
        response = client.get("/admin/")
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")
        response = client.get(response["Location"])
        assert response["Location"].startswith("/accounts/login/")

    def test_a_client_gets_403_from_the_admin_login(self, client, alice):
        client.force_login(alice)
        assert client.get("/admin/login/").status_code == 403

    def test_staff_with_mfa_reaches_the_admin(self, client, sam):
        login_with_mfa(client, sam)
        assert client.get("/admin/").status_code == 200
