"""EncryptedTextField: secrets at rest, never rendered by accident.

The database holds a Fernet token (portal.crypto, rotating keys). In Python
the value is a `Secret`, whose str() and repr() are a mask: a template, a log
line or an error message that touches it shows "••••••", and code must call
`.reveal()` on purpose to use the secret.
"""

from __future__ import annotations

from django.db import models
from django.db.models.query_utils import DeferredAttribute

from portal import crypto

MASK = "••••••"


class Secret:
    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __str__(self) -> str:
        return MASK if self._value else ""

    def __repr__(self) -> str:
        return f"Secret({MASK!r})"

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


class SecretAttribute(DeferredAttribute):
    """Whatever is assigned (a str from a form, a Secret from the database) is kept as a Secret."""

    def __set__(self, instance, value) -> None:
        if value is not None and not isinstance(value, Secret):
            value = Secret(str(value))
        instance.__dict__[self.field.attname] = value


class EncryptedTextField(models.TextField):
    descriptor_class = SecretAttribute
    _pyi_private_set_type: str | Secret  # what django-stubs' mypy plugin types the attribute as
    _pyi_private_get_type: Secret

    def from_db_value(self, value, expression, connection):
        """Stored tokens must decrypt: a missing key fails loudly instead of
        sending ciphertext to Odoo as if it were the key."""
        if value is None:
            return None
        if value == "":
            return Secret("")
        try:
            return Secret(crypto.decrypt(value))
        except crypto.InvalidToken as exc:
            raise crypto.InvalidToken(
                f"{self.model.__name__}.{self.name} cannot be decrypted with FERNET_KEYS"
            ) from exc

    def to_python(self, value):
        """Values assigned in Python are the plain secret."""
        if value is None or isinstance(value, Secret):
            return value
        return Secret(str(value))

    def get_prep_value(self, value):
        if value is None:
            return None
        plain = value.reveal() if isinstance(value, Secret) else str(value)
        return crypto.encrypt(plain) if plain else ""

    def value_to_string(self, obj) -> str:
        return MASK  # serialisers and dumpdata never see the secret
