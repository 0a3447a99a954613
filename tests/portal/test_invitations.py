"""Staff invite client contacts; the link sets a password and lands them in their company."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from portal import services
from portal.audit import Code
from portal.errors import DomainError
from portal.models import AuditEvent, Invitation, Membership, Role, User
from tests.conftest import login_with_mfa

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "Una-Clave-Larga-2026"


def _invite(client, company, email="nina@andes.test"):
    return client.post(f"/portal/companies/{company.public_id}/", {"email": email, "full_name": "Nina Andes"})


def _link_from_outbox() -> str:
    match = re.search(r"http://\S+/invitation/(\S+)/", mail.outbox[-1].body)
    assert match, mail.outbox[-1].body
    return f"/invitation/{match.group(1)}/"


def _accept(client, link, password=NEW_PASSWORD):
    return client.post(link, {"full_name": "Nina Andes", "password1": password, "password2": password})


class TestInvitationFlow:
    def test_it_runs_end_to_end(self, client, sam, andes, django_capture_on_commit_callbacks):
        login_with_mfa(client, sam)
        with django_capture_on_commit_callbacks(execute=True):
            response = _invite(client, andes)
        assert response.status_code == 302
        assert mail.outbox[-1].to == ["nina@andes.test"]
        link = _link_from_outbox()
        client.post("/accounts/logout/")

        form_page = client.get(link)
        assert form_page.status_code == 200
        assert "nina@andes.test" in form_page.content.decode()
        response = _accept(client, link)
        assert response.status_code == 302 and response["Location"] == "/portal/"

        nina = User.objects.get(email="nina@andes.test")
        assert nina.role == Role.CLIENT and nina.check_password(NEW_PASSWORD)
        assert Membership.objects.get(user=nina).company == andes
        assert "Andes SpA" in client.get("/portal/").content.decode()
        codes = set(AuditEvent.objects.values_list("code", flat=True))
        assert {Code.INVITATION_SENT, Code.INVITATION_ACCEPTED, Code.MEMBERSHIP_ADDED} <= codes

    def test_the_token_is_not_stored_in_clear(self, sam, andes):
        invitation, token = services.invitation_create(actor=sam, request=None, email="x@andes.test", company=andes)
        assert token not in invitation.token_hash
        assert not Invitation.objects.filter(token_hash=token).exists()

    def test_a_used_link_is_refused_with_a_message(self, client, sam, andes):
        _, token = services.invitation_create(actor=sam, request=None, email="x@andes.test", company=andes)
        _accept(client, f"/invitation/{token}/")
        client.post("/accounts/logout/")
        response = client.get(f"/invitation/{token}/")
        assert response.status_code == 410
        assert str(services.INVITATION_USED) in response.content.decode()
        assert User.objects.filter(email="x@andes.test").count() == 1

    def test_an_expired_link_is_refused_and_creates_nobody(self, client, sam, andes):
        invitation, token = services.invitation_create(actor=sam, request=None, email="x@andes.test", company=andes)
        Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
        response = _accept(client, f"/invitation/{token}/")
        assert response.status_code == 410
        assert str(services.INVITATION_EXPIRED) in response.content.decode()
        assert not User.objects.filter(email="x@andes.test").exists()

    def test_a_revoked_link_is_refused(self, client, sam, andes):
        invitation, token = services.invitation_create(actor=sam, request=None, email="x@andes.test", company=andes)
        services.invitation_revoke(actor=sam, request=None, invitation=invitation)
        assert _accept(client, f"/invitation/{token}/").status_code == 410

    def test_an_unknown_token_is_refused(self, client):
        response = client.get("/invitation/not-a-real-token/")
        assert response.status_code == 410
        assert str(services.INVITATION_INVALID) in response.content.decode()

    def test_reinviting_replaces_the_pending_link(self, sam, andes):
        _, first = services.invitation_create(actor=sam, request=None, email="x@andes.test", company=andes)
        _, second = services.invitation_create(actor=sam, request=None, email="x@andes.test", company=andes)
        with pytest.raises(DomainError):
            services.invitation_for_token(first)
        assert services.invitation_for_token(second).email == "x@andes.test"

    def test_mismatched_passwords_keep_the_form_and_create_nobody(self, client, sam, andes):
        _, token = services.invitation_create(actor=sam, request=None, email="x@andes.test", company=andes)
        response = client.post(
            f"/invitation/{token}/", {"full_name": "X", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD + "x"}
        )
        assert response.status_code == 200 and response.context["form"].errors["password2"]
        assert not User.objects.filter(email="x@andes.test").exists()

    def test_a_weak_password_is_refused(self, client, sam, andes):
        _, token = services.invitation_create(actor=sam, request=None, email="x@andes.test", company=andes)
        response = _accept(client, f"/invitation/{token}/", password="12345")
        assert response.context["form"].errors["password1"]
        assert not User.objects.filter(email="x@andes.test").exists()


class TestInvitationRefusals:
    def test_an_email_of_another_company_is_refused(self, client, sam, andes, charlie):
        login_with_mfa(client, sam)
        response = _invite(client, andes, email="CHARLIE@otra.test")
        assert response.status_code == 200
        assert str(services.EMAIL_OTHER_COMPANY) in response.context["form"].errors["email"]
        assert not Invitation.objects.exists()

    def test_an_existing_member_is_refused(self, sam, andes, alice):
        with pytest.raises(DomainError) as error:
            services.invitation_create(actor=sam, request=None, email=alice.email, company=andes)
        assert error.value.message == services.EMAIL_IS_MEMBER

    def test_a_consultancy_email_cannot_join_a_client(self, sam, andes, carla):
        with pytest.raises(DomainError) as error:
            services.invitation_create(actor=sam, request=None, email=carla.email, company=andes)
        assert error.value.message == services.EMAIL_INTERNAL

    def test_a_pending_invitation_elsewhere_is_refused(self, sam, andes, otra):
        services.invitation_create(actor=sam, request=None, email="x@mail.test", company=otra)
        with pytest.raises(DomainError) as error:
            services.invitation_create(actor=sam, request=None, email="x@mail.test", company=andes)
        assert error.value.message == services.INVITATION_PENDING_ELSEWHERE

    def test_clients_and_consultants_cannot_invite(self, client, alice, carla, andes):
        client.force_login(alice)
        assert _invite(client, andes).status_code == 403
        client.logout()
        login_with_mfa(client, carla)
        assert _invite(client, andes).status_code == 404  # consultants see no company yet
        assert not Invitation.objects.exists()


class TestInternalTeam:
    def test_staff_invite_a_consultant_who_then_must_enrol_mfa(self, client, sam, django_capture_on_commit_callbacks):
        login_with_mfa(client, sam)
        with django_capture_on_commit_callbacks(execute=True):
            client.post("/portal/team/", {"email": "nuevo@consultora.test", "role": Role.CONSULTANT})
        link = _link_from_outbox()
        client.post("/accounts/logout/")
        _accept(client, link)
        assert User.objects.get(email="nuevo@consultora.test").role == Role.CONSULTANT
        assert client.get("/portal/")["Location"] == "/accounts/2fa/totp/activate/"

    def test_staff_change_a_role_and_it_is_audited(self, client, sam, carla):
        login_with_mfa(client, sam)
        client.post(f"/portal/team/{carla.public_id}/role/", {"role": Role.STAFF})
        carla.refresh_from_db()
        assert carla.role == Role.STAFF
        event = AuditEvent.objects.get(code=Code.ROLE_CHANGED)
        assert event.data == {"from": "consultant", "to": "staff"} and event.actor == sam

    def test_a_client_cannot_be_made_internal(self, client, sam, alice):
        login_with_mfa(client, sam)
        assert client.post(f"/portal/team/{alice.public_id}/role/", {"role": Role.STAFF}).status_code == 404
        alice.refresh_from_db()
        assert alice.role == Role.CLIENT

    def test_staff_cannot_change_their_own_role(self, sam):
        with pytest.raises(DomainError):
            services.user_set_role(actor=sam, request=None, user=sam, role=Role.CONSULTANT)


def test_a_client_removed_from_a_company_can_be_invited_again(client, sam, alice, otra):
    services.membership_remove(actor=sam, request=None, membership=alice.membership)
    _, token = services.invitation_create(actor=sam, request=None, email=alice.email, company=otra)
    response = _accept(client, f"/invitation/{token}/")
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.is_active and alice.check_password(NEW_PASSWORD) and alice.membership.company == otra
    assert User.objects.filter(email=alice.email).count() == 1


def test_an_active_member_still_cannot_be_invited_elsewhere(sam, alice, otra):
    with pytest.raises(DomainError):
        services.invitation_create(actor=sam, request=None, email=alice.email, company=otra)
