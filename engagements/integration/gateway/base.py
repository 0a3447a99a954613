"""The Odoo gateway interface, and how Odoo's answers map onto the shared error taxonomy.

Flows talk to Odoo only through an OdooGateway: odoorpc (JSON-RPC) for Odoo
16-18, JSON-2 (gateway/json2.py) for Odoo 19+, where JSON-RPC is deprecated.
A gateway is a context manager (`with gateway: ...` closes it).

The error classes are those of integration/errors.py, shared with the shop adapters; they are
re-exported here under the names gateway users know (`GatewayError` is the taxonomy's base).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from types import TracebackType
from typing import Any, Protocol, Self
from urllib.parse import SplitResult, urlsplit

from engagements.integration import destinations
from engagements.integration.calls import Client, Deadline
from engagements.integration.errors import AmbiguousWriteError, PermanentError, RetryableError
from engagements.integration.errors import IntegrationError as GatewayError

__all__ = [
    "CREATE_BATCH",
    "READ_BATCH",
    "AmbiguousWriteError",
    "Deadline",
    "GatewayError",
    "OdooGateway",
    "PermanentError",
    "RetryableError",
]

READ_BATCH = 1000  # ids per read: one call per thousand records at most
CREATE_BATCH = 200  # records per create call (one transaction each in Odoo)
PDF_LIMIT = 20 * 1024 * 1024  # bytes of a report PDF we accept (an invoice is a few hundred KB)


# Odoo exceptions after which the same call can simply be made again (nothing was committed).
RETRYABLE_NAMES = {
    "psycopg2.errors.SerializationFailure",
    "psycopg2.errors.LockNotAvailable",
    "odoo.http.SessionExpiredException",
}
# Methods that change data: a timeout on them is ambiguous (Odoo may have committed).
WRITE_METHODS = {"create", "write", "unlink", "action_confirm", "action_cancel", "load"}


def require_https(url: str) -> SplitResult:
    """The URL's parts, when a key may be sent there (see destinations.py): the API key travels in
    every call, so never in clear over a network, nor to this machine or a private network."""
    problem = destinations.address_problem(url, resolve=True)
    if problem:
        raise PermanentError(f"Odoo's address is refused ({problem}).", code=f"odoo_{problem}")
    return urlsplit(url if "://" in url else f"https://{url}")


def server_error(name: str, text: str) -> GatewayError:
    """An exception Odoo raised and reported (`name` is its qualified class name)."""
    if name in RETRYABLE_NAMES:
        return RetryableError(text, code="odoo_unavailable", odoo_name=name)
    return PermanentError(text, code="odoo_rejected", odoo_name=name)


def timeout_error(method: str) -> GatewayError:
    if method in WRITE_METHODS:
        message = f"Odoo did not answer {method} in time; it may have been applied."
        return AmbiguousWriteError(message, code="odoo_write_ambiguous")
    return RetryableError(f"Odoo did not answer {method} in time.", code="odoo_timeout")


def pdf_body(status: int, content_type: str, body: bytes) -> bytes:
    """A report's PDF as Odoo sent it, or why not: 5xx is retryable; 4xx (e.g. 400 when the server
    has no wkhtmltopdf) and a page that is not a PDF (the web login page) are not."""
    if status >= 500:
        raise RetryableError(f"Odoo answered HTTP {status} for the PDF.", code="odoo_http")
    if status != 200 or not content_type.startswith("application/pdf") or not body.startswith(b"%PDF"):
        raise PermanentError(f"Odoo did not send the PDF (HTTP {status}, {content_type}).", code="odoo_pdf_failed")
    if len(body) > PDF_LIMIT:
        raise PermanentError("Odoo's PDF is larger than we accept.", code="odoo_pdf_failed")
    return body


def version_major(version: str) -> int:
    """ "17.0" -> 17, "saas~18.2" -> 18, "" -> 0."""
    return int(str(version).split(".")[0].split("saas~")[-1] or 0)


def field_map(major: int) -> dict[str, Any]:
    return FIELD_MAPS.get(major, FIELD_MAPS[17])


class Versioned(Client):
    """`major` and `fields` (the version's FIELD_MAPS entry) from the `version` a gateway learnt."""

    version: str

    @property
    def major(self) -> int:
        return version_major(self.version)

    @property
    def fields(self) -> dict[str, Any]:
        return field_map(self.major)


def batches(items: Sequence, size: int) -> Iterator[list]:
    """`items` in slices of at most `size` (READ_BATCH ids, CREATE_BATCH records): one call each."""
    items = list(items)
    return (items[start : start + size] for start in range(0, len(items), size))


def search_options(limit: int | None, order: str | None, context: dict | None) -> dict[str, Any]:
    """search_read's optional named arguments, only those given."""
    options: dict[str, Any] = {} if limit is None else {"limit": limit}
    if order:
        options["order"] = order
    if context:
        options["context"] = context
    return options


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
    # Odoo 19 renamed sale.order.line's tax_id to tax_ids (and product_uom to product_uom_id).
    19: {"storable_domain": [["is_storable", "=", True]], "line_taxes": "tax_ids", "product_type": "type"},
}


class OdooGateway(Protocol):
    calls: int
    version: str

    @property
    def major(self) -> int: ...

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None: ...

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

    def create(self, model: str, values: list[dict], *, context: dict | None = None) -> list[int]: ...

    def write(self, model: str, ids: Sequence[int], values: dict) -> bool: ...

    def call(self, model: str, method: str, ids: Sequence[int], *, context: dict | None = None) -> Any: ...

    def report_pdf(self, model: str, record_id: int, report: str, *, via_portal: bool = False) -> bytes:
        """The PDF of one record's report, over HTTP (odoorpc's report.download cannot since Odoo 14):
        a web session then /report/pdf/<report>/<id>, or with `via_portal` the record's customer
        portal link (its access token; the way for API keys, which Odoo refuses for web logins)."""
        ...
