"""OdooGateway over odoorpc (JSON-RPC). The ONLY module that imports odoorpc.

Explicit field lists (never `env[model]`, which fetches every field), reads
in batches of at most 1,000 ids, creates as lists, a timeout on every call,
errors classified as retryable, permanent or ambiguous, and a call counter.
"""

from __future__ import annotations

import socket
import urllib.error
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import odoorpc
from odoorpc.error import RPCError

from engagements.integration.gateway.base import (
    CREATE_BATCH,
    FIELD_MAPS,
    READ_BATCH,
    AmbiguousWriteError,
    GatewayError,
    PermanentError,
    RetryableError,
)

# Odoo exceptions that mean "the request itself is wrong": no retry helps.
_PERMANENT = {
    "odoo.exceptions.ValidationError",
    "odoo.exceptions.UserError",
    "odoo.exceptions.AccessError",
    "odoo.exceptions.MissingError",
    "odoo.exceptions.AccessDenied",
    "builtins.ValueError",
    "builtins.TypeError",
    "builtins.AttributeError",
    "builtins.AssertionError",
    "builtins.KeyError",
    "psycopg2.errors.InvalidTextRepresentation",
}
_RETRYABLE = {
    "psycopg2.errors.SerializationFailure",
    "psycopg2.errors.LockNotAvailable",
    "odoo.http.SessionExpiredException",
}
_WRITES = {"create", "write", "unlink", "action_confirm", "action_cancel", "load"}


def _classify(error: Exception, method: str) -> GatewayError:
    if isinstance(error, RPCError):
        data = (error.info or {}).get("data", {}) if isinstance(error.info, dict) else {}
        name, text = data.get("name", ""), str(error)
        if text == "Wrong login ID or password":
            return PermanentError("Odoo refused the user or API key.", code="odoo_auth", odoo_name=name)
        if name == "psycopg2.OperationalError" and "does not exist" in text:
            return PermanentError("The Odoo database does not exist.", code="odoo_database", odoo_name=name)
        if name in _RETRYABLE:
            return RetryableError(text, odoo_name=name)
        if name in _PERMANENT or name.startswith("odoo.exceptions."):
            return PermanentError(text, odoo_name=name)
        return PermanentError(text, odoo_name=name)
    if isinstance(error, socket.timeout | TimeoutError) or "timed out" in str(error):
        if method in _WRITES:
            return AmbiguousWriteError(f"Odoo did not answer {method} in time; it may have been applied.")
        return RetryableError(f"Odoo did not answer {method} in time.", code="odoo_timeout")
    if isinstance(error, urllib.error.HTTPError):
        return RetryableError(f"Odoo answered HTTP {error.code}.", code="odoo_http")
    if isinstance(error, urllib.error.URLError | ConnectionError | OSError):
        return RetryableError("Odoo is not reachable.", code="odoo_unreachable")
    return GatewayError(str(error))


class OdoorpcGateway:
    def __init__(self, *, url: str, database: str, login: str, api_key: str, timeout: float = 30.0):
        parts = urlsplit(url if "://" in url else f"https://{url}")
        ssl = parts.scheme == "https"
        if not ssl and parts.hostname not in ("127.0.0.1", "localhost", "::1"):
            # The API key travels in every call: never in clear over a network.
            raise PermanentError("Odoo must be reached over HTTPS.", code="odoo_https_required")
        self.calls = 0
        self._db, self._key = database, api_key
        try:
            self.calls += 1  # version_info
            self._odoo = odoorpc.ODOO(
                parts.hostname,
                protocol="jsonrpc+ssl" if ssl else "jsonrpc",
                port=parts.port or (443 if ssl else 80),
                timeout=timeout,
            )
            self.calls += 2  # common.login + context_get
            self._odoo.login(database, login, api_key)
        except Exception as error:
            raise _classify(error, "login") from None
        self.version = self._odoo.version

    @property
    def major(self) -> int:
        return int(str(self.version).split(".")[0].split("saas~")[-1] or 0)

    @property
    def fields(self) -> dict[str, Any]:
        return FIELD_MAPS.get(self.major, FIELD_MAPS[17])

    def _execute(self, model: str, method: str, args: list, kwargs: dict | None = None) -> Any:
        self.calls += 1
        try:
            return self._odoo.execute_kw(model, method, args, kwargs or {})
        except Exception as error:
            raise _classify(error, method) from None

    def search_read(self, model, domain, fields, *, limit=None, order=None, context=None) -> list[dict]:
        kwargs: dict[str, Any] = {"fields": list(fields)}
        if limit is not None:
            kwargs["limit"] = limit
        if order:
            kwargs["order"] = order
        if context:
            kwargs["context"] = context
        return self._execute(model, "search_read", [domain], kwargs)

    def read(self, model, ids, fields, *, context=None) -> list[dict]:
        rows: list[dict] = []
        ids = list(ids)
        for start in range(0, len(ids), READ_BATCH):
            kwargs = {"context": context} if context else {}
            rows += self._execute(model, "read", [ids[start : start + READ_BATCH], list(fields)], kwargs)
        return rows

    def search_count(self, model, domain) -> int:
        return self._execute(model, "search_count", [domain])

    def create(self, model, values) -> list[int]:
        ids: list[int] = []
        for start in range(0, len(values), CREATE_BATCH):
            ids += self._execute(model, "create", [values[start : start + CREATE_BATCH]])
        return ids

    def write(self, model, ids, values) -> bool:
        return self._execute(model, "write", [list(ids), values])

    def call(self, model: str, method: str, ids: Sequence[int], *, context: dict | None = None) -> Any:
        return self._execute(model, method, [list(ids)], {"context": context} if context else None)
