"""Scoped access: another company's objects are 404, wrong roles 403."""

import pytest
from django.http import Http404
from django.test import Client

from portal.access import get_company_for_user
from tests.conftest import login_with_mfa

pytestmark = pytest.mark.django_db


class TestCompanyScope:
    def test_a_client_sees_their_own_company(self, client, alice, andes, bob):
        client.force_login(alice)
        page = client.get(f"/portal/companies/{andes.public_id}/")
        assert page.status_code == 200
        assert bob.email in page.content.decode()

    def test_it_validates_ownership(self, client, charlie, andes, alice):
        client.force_login(charlie)
        response = client.get(f"/portal/companies/{andes.public_id}/")
        assert response.status_code == 404
        assert "Andes" not in response.content.decode()
        assert alice.email not in response.content.decode()

    def test_not_yours_and_does_not_exist_are_the_same_404(self, charlie, andes):
        with pytest.raises(Http404):
            get_company_for_user(charlie, andes.public_id)
        with pytest.raises(Http404):
            get_company_for_user(charlie, "not-a-uuid")

    def test_a_client_sees_no_staff_actions(self, client, alice, andes):
        client.force_login(alice)
        page = client.get(f"/portal/companies/{andes.public_id}/").content.decode()
        assert "/remove/" not in page and "/edit/" not in page

    def test_staff_sees_every_company(self, client, sam, andes, otra):
        login_with_mfa(client, sam)
        assert client.get(f"/portal/companies/{andes.public_id}/").status_code == 200
        assert client.get(f"/portal/companies/{otra.public_id}/").status_code == 200


class TestRoleGates:
    @pytest.mark.parametrize("url", ["/portal/companies/", "/portal/companies/new/", "/portal/team/"])
    def test_a_client_gets_403_on_staff_pages(self, client, alice, url):
        client.force_login(alice)
        assert client.get(url).status_code == 403

    @pytest.mark.parametrize("url", ["/portal/companies/", "/portal/team/"])
    def test_a_consultant_gets_403_on_staff_pages(self, client, carla, url):
        login_with_mfa(client, carla)
        assert client.get(url).status_code == 403

    def test_a_client_cannot_remove_members_of_another_company(self, client, charlie, alice):
        client.force_login(charlie)
        assert client.post(f"/portal/members/{alice.public_id}/remove/").status_code == 403
        alice.refresh_from_db()
        assert alice.is_active

    def test_state_changes_need_post(self, client, sam, alice):
        login_with_mfa(client, sam)
        assert client.get(f"/portal/members/{alice.public_id}/remove/").status_code == 405

    def test_csrf_is_enforced(self, sam, andes):
        strict = Client(enforce_csrf_checks=True)
        strict.force_login(sam)
        response = strict.post(f"/portal/companies/{andes.public_id}/", {"email": "x@andes.test"})
        assert response.status_code == 403


class TestErrorPages:
    def test_an_unknown_url_renders_the_portal_404(self, client, alice):
        client.force_login(alice)
        response = client.get("/portal/does-not-exist/")
        assert response.status_code == 404
        assert "404.html" in [t.name for t in response.templates]

    def test_a_403_renders_the_portal_page(self, client, alice):
        client.force_login(alice)
        response = client.get("/portal/team/")
        assert "403.html" in [t.name for t in response.templates]

    def test_the_500_page_renders_without_a_request_context(self):
        from django.template.loader import render_to_string

        assert "bootstrap.min.css" in render_to_string("500.html")
