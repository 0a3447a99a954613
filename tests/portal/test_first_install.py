"""What a new production installation needs before anyone can use it (README "Running in
production"): the service published, the first staff account able to sign in, and sign-in that
survives a mail server that does not answer."""

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.management import call_command
from django.urls import reverse

from engagements.models import Service, ServiceTerms
from portal.models import Role, User
from tests.conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db


def test_publish_service_opens_the_service_page_and_is_idempotent(client, capsys):
    assert client.get("/servicio/").status_code == 404  # a new database: nothing to sell yet
    call_command("publish_service")
    call_command("publish_service")  # after an update with the same terms
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("Service integracion-odoo-tienda-online: terms version 1 ") and out[0] == out[1]
    assert Service.objects.count() == 1 and ServiceTerms.objects.count() == 1
    page = client.get("/servicio/")
    assert page.status_code == 200 and "Integración Odoo Tienda Online" in page.content.decode()


def test_the_first_staff_account_signs_in_without_waiting_for_an_email(client, monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)
    call_command("createsuperuser", "--no-input", email="Jefa@Consultora.test", verbosity=0)
    user = User.objects.get()
    assert user.email == "jefa@consultora.test" and user.role == Role.STAFF and user.is_superuser
    assert EmailAddress.objects.filter(user=user, email=user.email, verified=True, primary=True).exists()
    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302 and "confirm-email" not in response["Location"]
    assert not mail.outbox
    # Signed in; staff are sent to set up TOTP before any internal page.
    assert client.get("/portal/", follow=True).redirect_chain[-1][0].startswith("/accounts/")
    assert client.session.get("_auth_user_id") == str(user.pk)


def test_sign_in_with_the_mail_server_down_says_so_instead_of_failing(client, unreachable_mail_server):
    user = make_user("nueva@andes.test")
    EmailAddress.objects.filter(user=user).update(verified=False)  # so the sign-in sends a confirmation
    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD}, follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("account_email_verification_sent")  # the next step
    assert "No pudimos enviarle el correo en este momento" in page
    assert "no se pudo enviar" in page  # and the page does not claim that it was sent:
    assert "enviado a nueva@andes.test" not in page and "Le enviamos un correo" not in page


def test_with_the_mail_server_up_the_page_says_the_email_was_sent(client):
    user = make_user("nueva@andes.test")
    EmailAddress.objects.filter(user=user).update(verified=False)
    page = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD}, follow=True).content.decode()
    assert "Le enviamos un correo" in page and "no se pudo enviar" not in page
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [user.email]
