"""The consultancy's Odoo through the integration's gateway: the ONE module of `books` that names it.

Everything Odoo-side in `books` goes through an `OdooGateway` (odoorpc below Odoo 19, JSON-2
from 19), the same interface the client integration uses: never a second Odoo client. The
gateway's names are imported here only, so moving them is a one-place edit.

What the localisation installed is learnt once per pass from `ir.model.fields` (one cheap
search_read, the same answer as fields_get without its 90 KB): the Chilean partner fields are
sent only where l10n_cl exists, the document type only with l10n_latam documents, and the SII
status is read only where l10n_cl_edi (Enterprise) adds it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings

from books.models import BooksConnection
from engagements.integration.gateway.base import (
    READ_BATCH,
    GatewayError,
    OdooGateway,
    PermanentError,
    batches,
)
from engagements.integration.gateway.json2 import JSON2_FROM, Json2Gateway
from engagements.integration.gateway.odoo import OdoorpcGateway

__all__ = [
    "READ_BATCH",
    "Capabilities",
    "GatewayError",
    "OdooGateway",
    "PermanentError",
    "batches",
    "capabilities",
    "open_gateway",
    "probe_major",
]

# Fields whose presence tells what is installed (model, field).
DOCUMENT_TYPE = ("account.move", "l10n_latam_document_type_id")  # l10n_latam_invoice_document
TAXPAYER_TYPE = ("res.partner", "l10n_cl_sii_taxpayer_type")  # l10n_cl
IDENTIFICATION = ("res.partner", "l10n_latam_identification_type_id")  # l10n_latam_base
SII_STATUS = ("account.move", "l10n_cl_dte_status")  # l10n_cl_edi (Enterprise only)
PROBES = (DOCUMENT_TYPE, TAXPAYER_TYPE, IDENTIFICATION, SII_STATUS)


@dataclass(frozen=True)
class Capabilities:
    documents: bool = False  # account.move carries a LATAM document type (33, 34, 61)
    chile: bool = False  # Chilean partner fields (taxpayer type, identification type RUT)
    sii_status: bool = False  # the DTE status sent to the SII


def capabilities(gateway: OdooGateway) -> Capabilities:
    rows = gateway.search_read(
        "ir.model.fields",
        [["model", "in", sorted({m for m, _ in PROBES})], ["name", "in", sorted({f for _, f in PROBES})]],
        ["model", "name"],
    )
    present = {(row["model"], row["name"]) for row in rows}
    return Capabilities(
        documents=DOCUMENT_TYPE in present,
        chile=TAXPAYER_TYPE in present and IDENTIFICATION in present,
        sii_status=SII_STATUS in present,
    )


def build_gateway(connection: BooksConnection, *, timeout: float | None = None) -> OdooGateway:
    """JSON-2 once the check found Odoo 19 or later (its JSON-RPC is deprecated), else odoorpc."""
    if not connection.api_key:
        raise PermanentError("No API key is stored for the books' Odoo.", code="odoo_auth")
    seconds = timeout or settings.BOOKS_ODOO_TIMEOUT
    key = connection.api_key.reveal()
    if (connection.odoo_major or 0) >= JSON2_FROM:
        return Json2Gateway(url=connection.url, database=connection.database, api_key=key, timeout=seconds)
    return OdoorpcGateway(
        url=connection.url, database=connection.database, login=connection.login, api_key=key, timeout=seconds
    )


def probe_major(connection: BooksConnection, *, timeout: float) -> int:
    """Odoo's major version from GET /web/version (0 where it has none: Odoo 16)."""
    key = connection.api_key.reveal() if connection.api_key else "-"  # a header value may not end in a space
    probe = Json2Gateway(url=connection.url, database=connection.database, api_key=key, timeout=timeout)
    try:
        return probe.major
    finally:
        probe.close()


@contextmanager
def open_gateway(connection: BooksConnection, *, timeout: float | None = None) -> Iterator[OdooGateway]:
    gateway = build_gateway(connection, timeout=timeout)
    try:
        yield gateway
    finally:
        close = getattr(gateway, "close", None)
        if close is not None:
            close()
