"""Key rotation drill (S6): secrets stored under key A, FERNET_KEYS = "B,A", the command, then
with "B" alone every secret still decrypts; an undecryptable value fails the run by name only."""

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from cryptography.fernet import Fernet
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection, models
from django.test import override_settings

from engagements.integration.models import OdooConnection, ShopConnection
from portal import crypto
from portal.adapters import MFAAdapter
from tests.conftest import TOTP_SECRET, make_user

KEY_A = settings.FERNET_KEYS[0]  # the fixtures' users already have TOTP seeds under it
KEY_B, KEY_C = Fernet.generate_key().decode(), Fernet.generate_key().decode()
ODOO_KEY, SHOP_KEY, SHOP_SECRET = "odoo-api-key-canary", "ck_rotation_canary", "cs_rotation_canary"


def _raw(model, pk, column: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {model._meta.db_table} WHERE id = %s", [pk])  # our own table names
        return cursor.fetchone()[0]


@pytest.fixture
def stored(engagement):
    """Secrets of every kind stored under key A: Odoo and shop keys, a TOTP seed, recovery codes."""
    with override_settings(FERNET_KEYS=[KEY_A]):
        odoo = OdooConnection.objects.create(
            engagement=engagement, url="https://c.odoo.com", database="c", login="bot", api_key=ODOO_KEY
        )
        shop = ShopConnection.objects.create(
            engagement=engagement,
            platform="woocommerce",
            base_url="https://shop.example",
            api_key=SHOP_KEY,
            api_secret=SHOP_SECRET,
            webhook_secret="",
        )
        user = make_user("rotation@consultora.test", "staff", mfa=False)
        totp = TOTP.activate(user, TOTP_SECRET).instance
        codes = RecoveryCodes.activate(user).instance
        seed = MFAAdapter().decrypt(codes.data["seed"])
    return odoo, shop, totp, codes, seed


def _decrypts_with_b_only(odoo, shop, totp, codes, seed) -> None:
    with override_settings(FERNET_KEYS=[KEY_B]):
        assert OdooConnection.objects.get(pk=odoo.pk).api_key.reveal() == ODOO_KEY
        shop = ShopConnection.objects.get(pk=shop.pk)
        assert (shop.api_key.reveal(), shop.api_secret.reveal(), shop.webhook_secret.reveal()) == (
            SHOP_KEY,
            SHOP_SECRET,
            "",
        )
        adapter = MFAAdapter()
        assert adapter.decrypt(Authenticator.objects.get(pk=totp.pk).data["secret"]) == TOTP_SECRET
        assert adapter.decrypt(Authenticator.objects.get(pk=codes.pk).data["seed"]) == seed


@pytest.mark.django_db
def test_after_rotation_every_secret_decrypts_with_the_new_key_alone(stored, capsys):
    with override_settings(FERNET_KEYS=[KEY_B, KEY_A]):
        call_command("rotate_encryption_key", "--batch-size", "1")
    out = capsys.readouterr().out
    assert "integration.OdooConnection: rotated 1, empty 0, failures 0" in out
    assert "integration.ShopConnection: rotated 2, empty 1, failures 0" in out
    assert f"mfa.Authenticator: rotated {Authenticator.objects.count()}, empty 0, failures 0" in out
    assert "0 failures." in out
    _decrypts_with_b_only(*stored)
    with override_settings(FERNET_KEYS=[KEY_A]), pytest.raises(crypto.InvalidToken):
        OdooConnection.objects.get(pk=stored[0].pk)  # the old key no longer opens anything


@pytest.mark.django_db
def test_a_dry_run_writes_nothing(stored, capsys):
    odoo = stored[0]
    before = _raw(OdooConnection, odoo.pk, "api_key")
    with override_settings(FERNET_KEYS=[KEY_B, KEY_A]):
        call_command("rotate_encryption_key", "--dry-run")
    assert "integration.OdooConnection: would rotate 1" in capsys.readouterr().out
    assert _raw(OdooConnection, odoo.pk, "api_key") == before


@pytest.mark.django_db
def test_an_undecryptable_value_is_named_never_shown_and_fails_the_run(stored, capsys):
    odoo, shop = stored[0], stored[1]
    stray = Fernet(KEY_C.encode()).encrypt(b"lost-secret-canary").decode()
    OdooConnection.objects.filter(pk=odoo.pk).update(api_key=models.Value(stray, output_field=models.TextField()))
    with override_settings(FERNET_KEYS=[KEY_B, KEY_A]), pytest.raises(CommandError, match="1 value"):
        call_command("rotate_encryption_key")
    captured = capsys.readouterr()
    assert f"integration.OdooConnection pk={odoo.pk} api_key" in captured.err
    assert "lost-secret-canary" not in captured.out + captured.err and stray not in captured.out + captured.err
    assert _raw(OdooConnection, odoo.pk, "api_key") == stray  # left as it was
    with override_settings(FERNET_KEYS=[KEY_B]):  # every other row was still rotated
        assert ShopConnection.objects.get(pk=shop.pk).api_key.reveal() == SHOP_KEY
