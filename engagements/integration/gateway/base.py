"""The Odoo gateway interface and its error taxonomy.

Flows talk to Odoo only through an OdooGateway, so odoorpc (JSON-RPC, which
Odoo 19 deprecates) can be replaced by a JSON-2 implementation later.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

READ_BATCH = 1000  # ids per read: one call per thousand records at most
CREATE_BATCH = 200  # records per create call (one transaction each in Odoo)


class GatewayError(Exception):
    """Base of the taxonomy. `code` is a stable reason code for run reports;
    the message never contains a credential."""

    code = "odoo_error"

    def __init__(self, message: str, *, code: str | None = None, odoo_name: str = ""):
        super().__init__(message)
        self.code = code or self.code
        self.odoo_name = odoo_name


class RetryableError(GatewayError):
    """Nothing was written (or it is safe to try again): network down, server busy."""

    code = "odoo_unavailable"


class PermanentError(GatewayError):
    """Trying again changes nothing: validation, access, missing record, bad credentials."""

    code = "odoo_rejected"


class AmbiguousWriteError(GatewayError):
    """A write timed out: Odoo may have committed it. Never re-send it blindly:
    look the record up by its marker first."""

    code = "odoo_write_ambiguous"


# Field differences between the Odoo versions we support.
FIELD_MAPS: dict[int, dict[str, Any]] = {
    16: {
        "storable_domain": [["detailed_type", "=", "product"]],
        "line_taxes": "tax_id",
        "product_type": "detailed_type",
    },
    17: {
        "storable_domain": [["detailed_type", "=", "product"]],
        "line_taxes": "tax_id",
        "product_type": "detailed_type",
    },
    18: {"storable_domain": [["is_storable", "=", True]], "line_taxes": "tax_id", "product_type": "type"},
}


class OdooGateway(Protocol):
    calls: int

    @property
    def major(self) -> int: ...

    def search_read(
        self,
        model: str,
        domain: list,
        fields: Sequence[str],
        *,
        limit: int | None = None,
        order: str | None = None,
        context: dict | None = None,
    ) -> list[dict]: ...

    def read(
        self, model: str, ids: Sequence[int], fields: Sequence[str], *, context: dict | None = None
    ) -> list[dict]: ...

    def search_count(self, model: str, domain: list) -> int: ...

    def create(self, model: str, values: list[dict]) -> list[int]: ...

    def write(self, model: str, ids: Sequence[int], values: dict) -> bool: ...

    def call(self, model: str, method: str, ids: Sequence[int], *, context: dict | None = None) -> Any: ...
