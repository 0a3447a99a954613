"""Backup drill: the README's `pg_dump -Fc` of the database, `pg_restore --clean --if-exists` into a
new database, and a stored secret and an uploaded-file record come back identical (the secret still
decrypts with FERNET_KEYS)."""

import os
import subprocess

import psycopg2
import pytest
from django.core.files.base import ContentFile
from django.db import connection

from engagements.integration.models import OdooConnection
from engagements.models import Attachment
from portal import crypto
from tests.engagements.fixtures import send_request

PGBIN = "/usr/lib/postgresql/15/bin"
CANARY = "backup-canary-api-key-7Qx"


def _pg(tool: str, *args: str) -> None:
    db = connection.settings_dict
    subprocess.run(
        [f"{PGBIN}/{tool}", "-h", db["HOST"], "-p", str(db["PORT"]), "-U", db["USER"], *args],
        check=True,
        capture_output=True,
        env={**os.environ, "PGPASSWORD": db.get("PASSWORD") or ""},
        timeout=120,
    )


def _rows(dbname: str, odoo_pk: int, attachment_pk: int) -> tuple:
    db = connection.settings_dict
    with (
        psycopg2.connect(
            host=db["HOST"], port=db["PORT"], user=db["USER"], password=db.get("PASSWORD") or "", dbname=dbname
        ) as conn,
        conn.cursor() as cursor,
    ):
        cursor.execute("SELECT url, login, api_key FROM integration_odooconnection WHERE id = %s", [odoo_pk])
        secret_row = cursor.fetchone()
        cursor.execute(
            "SELECT public_id, file, original_name, content_type, size FROM engagements_attachment WHERE id = %s",
            [attachment_pk],
        )
        file_row = cursor.fetchone()
    conn.close()
    return secret_row, file_row


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs the PostgreSQL test cluster")
@pytest.mark.django_db(transaction=True)  # pg_dump sees committed rows only
def test_a_dump_restored_into_a_new_database_gives_back_the_secret_and_the_file_record(engagement, alice, tmp_path):
    odoo = OdooConnection.objects.create(
        engagement=engagement, url="https://c.odoo.com", database="c", login="bot", api_key=CANARY
    )
    attachment = Attachment(
        request=send_request(engagement, engagement.consultant),
        original_name="accesos.pdf",
        content_type="application/pdf",
        size=9,
        uploaded_by=alice,
    )
    attachment.file.save("accesos.pdf", ContentFile(b"%PDF-1.4\n"), save=True)
    stored_name = attachment.file.name

    dump, restored = tmp_path / "portal.dump", f"{connection.settings_dict['NAME']}_restored"
    _pg("pg_dump", "-Fc", "-f", str(dump), connection.settings_dict["NAME"])
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{restored}"')
        cursor.execute(f'CREATE DATABASE "{restored}"')
    try:
        _pg("pg_restore", "--clean", "--if-exists", "--no-owner", "-d", restored, str(dump))
        original = _rows(connection.settings_dict["NAME"], odoo.pk, attachment.pk)
        copy = _rows(restored, odoo.pk, attachment.pk)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{restored}"')
        attachment.file.delete(save=False)

    assert copy == original and copy[1][1] == stored_name
    assert CANARY not in str(copy) and crypto.decrypt(copy[0][2]) == CANARY
