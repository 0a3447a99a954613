"""The one connection to the consultancy's Odoo: stored encrypted, write-only, bound to where it was
saved for, and checked with a verdict staff can act on."""

import pytest
from django.core.management import call_command
from django.db import connection as db
from django.urls import reverse

from books import check, services
from books.models import BooksConnection, Health
from portal.models import AuditEvent
from tests.books.conftest import committed, connect, unreachable

pytestmark = pytest.mark.django_db
SECRET = "key-Zq81-never-shown"


def _raw_key() -> str:
    with db.cursor() as cursor:
        cursor.execute("SELECT api_key FROM books_booksconnection WHERE id = 1")
        return cursor.fetchone()[0]


def test_the_key_is_stored_encrypted_and_never_rendered_or_audited(books, sam, client):
    connect(books.url, sam, api_key=SECRET)
    assert SECRET not in _raw_key() and BooksConnection.objects.get().api_key.reveal() == SECRET
    client.force_login(sam)
    page = client.get(reverse("books:page")).content.decode()
    assert SECRET not in page and 'name="api_key"' in page and "••••••" in page
    assert not [e for e in AuditEvent.objects.all() if SECRET in str(e.data)]


def test_saving_without_a_key_keeps_it_and_a_new_address_or_database_clears_it(books, sam, client):
    connect(books.url, sam, api_key=SECRET)
    services.connection_save(actor=sam, url=books.url, database="lab", login="otro", company_id=1)
    assert BooksConnection.objects.get().api_key.reveal() == SECRET  # same destination: kept
    client.force_login(sam)
    response = client.post(
        reverse("books:page"),
        {
            "save_connection": "1",
            "url": "https://attacker.example",
            "database": "lab",
            "login": "admin",
            "company_id": 1,
        },
        follow=True,
    )
    saved = BooksConnection.objects.get()
    assert saved.url == "https://attacker.example" and not saved.api_key  # never sent to the new address
    assert "La clave API se borró" in response.content.decode()
    services.connection_save(actor=sam, url=books.url, database="otra", login="admin", company_id=1, api_key="k2")
    services.connection_save(actor=sam, url=books.url, database="lab", login="admin", company_id=1)
    assert not BooksConnection.objects.get().api_key


def test_the_check_says_what_it_found(connected):
    with committed():
        verdict = check.connection_check()
    assert "problem" not in verdict, verdict
    assert (verdict["version"], verdict["company"], verdict["currency"]) == ("17.0", "Libros del Sur SpA", "CLP")
    assert verdict["localisation"] == {"documents": True, "chile": True, "sii_status": False}
    assert all(verdict["rights"].values()) and verdict["settings"] == {}
    saved = BooksConnection.objects.get()
    assert saved.health == Health.OK and saved.odoo_major == 17 and saved.last_check == verdict


def test_the_check_names_each_setting_odoo_does_not_have(connected, sam, client):
    connect(connected.url, sam, sale_journal_id=6, payment_journal_id=99, service_product_id=999, add_on_tax_id=27)
    connected.odoo.data["account.tax"][27]["amount"] = 10.0
    verdict = check.connection_check()
    assert verdict["problem"] == "books_settings"
    assert verdict["settings"] == {
        "sale_journal_id": "journal_kind",
        "payment_journal_id": "missing",
        "service_product_id": "missing",
        "add_on_tax_id": "tax_kind",
    }
    client.force_login(sam)
    page = client.get(reverse("books:page")).content.decode()
    assert "Diario de ventas (id): no es un diario de ese tipo" in page
    assert "Producto de los hitos del servicio (id): no existe en Odoo" in page


def test_a_refused_key_fails_the_check_and_pauses_the_books(connected, sam):
    connect(connected.url, sam, api_key="wrong")
    verdict = check.connection_check()
    assert verdict["problem"] == "odoo_auth" and verdict["reachable"] is True
    assert BooksConnection.objects.get().health == Health.FAILING


def test_an_unreachable_odoo_is_told_as_such(books, sam):
    down = unreachable()
    connect(down, sam)
    verdict = check.connection_check()
    assert verdict["problem"] == "odoo_unreachable" and verdict["reachable"] is False
    assert BooksConnection.objects.get().health == Health.UNKNOWN  # down is not refused: pushes keep trying


def test_the_check_runs_in_the_worker_and_the_page_follows_it(connected, sam, client):
    client.force_login(sam)
    with committed():
        response = client.post(reverse("books:check"))
        assert "Probando la conexión" in client.get(response["Location"]).content.decode()
    page = client.get(reverse("books:page")).content.decode()
    assert "Conectado, con los permisos que necesita la contabilidad." in page
    assert "Libros del Sur SpA (CLP)" in page


def test_the_books_key_is_rotated_with_every_other_secret(books, sam, settings, capsys):
    from cryptography.fernet import Fernet

    connect(books.url, sam, api_key=SECRET)
    settings.FERNET_KEYS = [Fernet.generate_key().decode(), *settings.FERNET_KEYS]
    call_command("rotate_encryption_key")
    assert "books.BooksConnection: rotated 1" in capsys.readouterr().out
    settings.FERNET_KEYS = settings.FERNET_KEYS[:1]
    assert BooksConnection.objects.get().api_key.reveal() == SECRET
