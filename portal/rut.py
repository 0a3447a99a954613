"""Chilean RUT: validation with its check digit, compact storage, display."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum import exceptions as stdnum_errors
from stdnum.cl import rut as stdnum_rut

INVALID_RUT = _("Enter a valid RUT, for example 76.123.456-7 (the check digit must match).")


def normalize_rut(value: str) -> str:
    """Return the compact form ("761234567") or raise ValidationError."""
    try:
        return stdnum_rut.validate(value or "")
    except stdnum_errors.ValidationError as exc:
        raise ValidationError(INVALID_RUT, code="invalid_rut") from exc


def format_rut(compact: str) -> str:
    return stdnum_rut.format(compact)


def validate_rut_field(value: str) -> None:
    normalize_rut(value)
