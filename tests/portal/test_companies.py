"""Client companies: RUT validation, edits, membership removal, audit."""

import pytest
from django.core.exceptions import ValidationError

from portal import services
from portal.audit import Code
from portal.errors import DomainError
from portal.models import AuditEvent, ClientCompany, Membership
from portal.rut import INVALID_RUT, normalize_rut
from tests.conftest import PASSWORD, login_with_mfa

pytestmark = pytest.mark.django_db
VALID = {"legal_name": "Nueva SpA", "rut": "76.543.210-3", "address": "Calle 1", "billing_email": "a@nueva.test"}


class TestRut:
    @pytest.mark.parametrize("raw", ["76.543.210-3", "765432103", "76543210-3", " 76.543.210-3 "])
    def test_it_accepts_valid_ruts_in_any_format(self, raw):
        assert normalize_rut(raw) == "765432103"

    @pytest.mark.parametrize("raw", ["76.543.210-4", "abc", "", "1-0"])
    def test_it_rejects_a_wrong_check_digit_or_garbage(self, raw):
        with pytest.raises(ValidationError):
            normalize_rut(raw)

    def test_k_check_digit(self):
        assert normalize_rut("10.000.013-k") == "10000013K"


class TestCompanyPages:
    def test_staff_create_a_company_and_it_is_audited(self, client, sam):
        login_with_mfa(client, sam)
        response = client.post("/portal/companies/new/", VALID)
        company = ClientCompany.objects.get()
        assert response["Location"] == f"/portal/companies/{company.public_id}/"
        assert company.rut == "765432103" and company.rut_display == "76.543.210-3"
        assert AuditEvent.objects.filter(code=Code.COMPANY_CREATED, actor=sam).exists()

    def test_an_invalid_rut_shows_a_translated_error_and_saves_nothing(self, client, sam):
        login_with_mfa(client, sam)
        response = client.post("/portal/companies/new/", {**VALID, "rut": "76.543.210-4"})
        assert response.status_code == 200
        assert response.context["form"].errors["rut"] == [str(INVALID_RUT)]
        assert not ClientCompany.objects.exists()

    def test_a_duplicate_rut_is_refused(self, client, sam, andes):
        login_with_mfa(client, sam)
        response = client.post("/portal/companies/new/", {**VALID, "rut": "765432103"})
        assert str(services.RUT_TAKEN) in response.context["form"].errors["rut"]
        assert ClientCompany.objects.count() == 1

    def test_staff_edit_a_company(self, client, sam, andes):
        login_with_mfa(client, sam)
        client.post(f"/portal/companies/{andes.public_id}/edit/", {**VALID, "rut": "765432103"})
        andes.refresh_from_db()
        assert andes.legal_name == "Nueva SpA"

    def test_editing_to_another_companys_rut_is_refused(self, sam, andes, otra):
        with pytest.raises(DomainError):
            services.company_update(actor=sam, request=None, company=andes, **{**VALID, "rut": otra.rut})


class TestMembershipRemoval:
    def test_removing_a_member_deactivates_them_and_is_audited(self, client, sam, alice):
        login_with_mfa(client, sam)
        client.post(f"/portal/members/{alice.public_id}/remove/")
        alice.refresh_from_db()
        assert not alice.is_active
        assert not Membership.objects.filter(user=alice).exists()
        codes = list(AuditEvent.objects.filter(target=alice.email).values_list("code", flat=True))
        assert Code.MEMBERSHIP_REMOVED in codes and Code.USER_DEACTIVATED in codes
        client.post("/accounts/logout/")
        client.post("/accounts/login/", {"login": alice.email, "password": PASSWORD})
        assert client.get("/portal/").status_code == 302
