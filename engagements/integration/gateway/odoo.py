"""OdooGateway over odoorpc (JSON-RPC). The ONLY module that imports odoorpc.

Explicit field lists (never `env[model]`, which fetches every field), reads
in batches of at most 1,000 ids, creates as lists, a timeout on every call,
errors classified as retryable, permanent or ambiguous, and a call counter.
"""

from __future__ import annotations

import socket
import urllib.error
import urllib.request
from collections.abc import Sequence
from http.cookiejar import CookieJar
from typing import Any

import odoorpc
from odoorpc.error import RPCError

from engagements.integration.gateway.base import (
    CREATE_BATCH,
    PDF_LIMIT,
    READ_BATCH,
    Deadline,
    GatewayError,
    PermanentError,
    RetryableError,
    Versioned,
    batches,
    pdf_body,
    require_https,
    search_options,
    server_error,
    timeout_error,
)


def _classify(error: Exception, method: str) -> GatewayError:
    if isinstance(error, RPCError):
        data = (error.info or {}).get("data", {}) if isinstance(error.info, dict) else {}
        name, text = data.get("name", ""), str(error)
        if text == "Wrong login ID or password":
            return PermanentError("Odoo refused the user or API key.", code="odoo_auth", odoo_name=name)
        if name == "psycopg2.OperationalError" and "does not exist" in text:
            return PermanentError("The Odoo database does not exist.", code="odoo_database", odoo_name=name)
        return server_error(name, text)  # retryable (serialization failure, lock) or permanent
    if isinstance(error, socket.timeout | TimeoutError) or "timed out" in str(error):
        return timeout_error(method)
    if isinstance(error, urllib.error.HTTPError):
        return RetryableError(f"Odoo answered HTTP {error.code}.", code="odoo_http")
    if isinstance(error, urllib.error.URLError | ConnectionError | OSError):
        return RetryableError("Odoo is not reachable.", code="odoo_unreachable")
    return GatewayError(str(error), code="odoo_error")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an error: the key (in the login's body) goes to the saved address only."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def _opener() -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()), _NoRedirect())


class OdoorpcGateway(Versioned):
    """odoorpc asks `/web/webclient/version_info` (no key) before the login sends the key. `deadline`:
    a total time for all calls (a connection check), each then getting what is left of it."""

    def __init__(
        self,
        *,
        url: str,
        database: str,
        login: str,
        api_key: str,
        timeout: float = 30.0,
        deadline: Deadline | None = None,
    ):
        parts = require_https(url)  # the API key travels in every call: never in clear over a network
        ssl = parts.scheme == "https"
        self.calls = 0
        self._db, self._login, self._key = database, login, api_key
        self._timeout, self._deadline = timeout, deadline
        try:
            self.calls += 1  # version_info
            self._odoo = odoorpc.ODOO(
                parts.hostname,
                protocol="jsonrpc+ssl" if ssl else "jsonrpc",
                port=parts.port or (443 if ssl else 80),
                timeout=self._call_timeout("login"),
                opener=_opener(),
            )
            self.calls += 2  # common.login + context_get
            self._odoo.config["timeout"] = self._call_timeout("login")
            self._odoo.login(database, login, api_key)
        except GatewayError:
            raise
        except Exception as error:
            raise _classify(error, "login") from None
        self.version = self._odoo.version

    def _call_timeout(self, method: str) -> float:
        if self._deadline is None:
            return self._timeout
        if self._deadline.expired():
            raise timeout_error(method)
        return self._deadline.timeout(self._timeout)

    def _execute(self, model: str, method: str, args: list, kwargs: dict | None = None) -> Any:
        self.calls += 1
        self._odoo.config["timeout"] = self._call_timeout(method)
        try:
            return self._odoo.execute_kw(model, method, args, kwargs or {})
        except Exception as error:
            raise _classify(error, method) from None

    def search_read(self, model, domain, fields, *, limit=None, order=None, context=None) -> list[dict]:
        kwargs = {"fields": list(fields), **search_options(limit, order, context)}
        return self._execute(model, "search_read", [domain], kwargs)

    def read(self, model, ids, fields, *, context=None) -> list[dict]:
        kwargs = {"context": context} if context else {}
        return [
            row
            for chunk in batches(ids, READ_BATCH)
            for row in self._execute(model, "read", [chunk, list(fields)], kwargs)
        ]

    def search_count(self, model, domain) -> int:
        return self._execute(model, "search_count", [domain])

    def create(self, model, values, *, context=None) -> list[int]:
        kwargs = {"context": context} if context else None
        chunks = batches(values, CREATE_BATCH)
        return [new for chunk in chunks for new in self._execute(model, "create", [chunk], kwargs)]

    def write(self, model, ids, values) -> bool:
        return self._execute(model, "write", [list(ids), values])

    def call(self, model: str, method: str, ids: Sequence[int], *, context: dict | None = None) -> Any:
        return self._execute(model, method, [list(ids)], {"context": context} if context else None)

    def report_pdf(self, model, record_id, report, *, via_portal=False) -> bytes:
        if via_portal:
            link = self._execute(model, "get_portal_url", [[record_id]], {"report_type": "pdf", "download": True})
            return self._download(str(link).lstrip("/"))
        self.calls += 1
        credentials = {"db": self._db, "login": self._login, "password": self._key}
        try:
            self._odoo.json("/web/session/authenticate", credentials)  # the session cookie stays in odoorpc's jar
        except RPCError as error:
            data = error.info.get("data", {}) if isinstance(error.info, dict) else {}
            if data.get("name") == "odoo.exceptions.AccessDenied":
                raise PermanentError("Odoo refused a web login with this key.", code="odoo_web_login") from None
            raise _classify(error, "report") from None
        except Exception as error:
            raise _classify(error, "report") from None
        return self._download(f"report/pdf/{report}/{record_id}")

    def _download(self, path: str) -> bytes:
        self.calls += 1
        try:
            response = self._odoo.http(path)
            status, content_type = response.status, response.headers.get("Content-Type", "")
            body = response.read(PDF_LIMIT + 1)
        except urllib.error.HTTPError as error:
            status, content_type, body = error.code, error.headers.get("Content-Type", ""), b""
        except Exception as error:
            raise _classify(error, "report") from None
        return pdf_body(status, content_type, body)
