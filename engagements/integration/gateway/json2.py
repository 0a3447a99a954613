"""OdooGateway over Odoo's external JSON-2 API (Odoo 19+), on httpx.

Odoo 19 deprecates `/xmlrpc` and `/jsonrpc` (removal announced for Odoo 22);
JSON-2 replaces them. Same rules as the odoorpc gateway: explicit field lists,
reads of at most 1,000 ids per call, creates as lists, a timeout on every
call, a call counter, errors classified as retryable, permanent or ambiguous,
HTTPS except on loopback.

What this module assumes of JSON-2 (from Odoo 19's description of its external
API; not yet checked against a real Odoo 19 server):

- `POST /json/2/<model>/<method>`, headers `Authorization: bearer <api key>`,
  `X-Odoo-Database: <db>` (optional when the host selects the database; always
  sent), `Content-Type: application/json`. The body holds the method's
  arguments BY NAME plus `ids` (omitted for `@api.model` methods) and
  `context`. Names used: `search_read(domain, fields, limit, order)`,
  `read(ids, fields)`, `search_count(domain)`, `create(vals_list)`,
  `write(ids, vals)`, and any public method on `ids`.
- Success: HTTP 200, the method's return value as JSON. Error: 4xx/5xx with
  `{"name", "message", "arguments", "context", "debug"}`; `name` is the
  exception's qualified class name. A bad key: 401
  `werkzeug.exceptions.Unauthorized` "Invalid apikey".
- No login: the key is checked on each call. `res.users/context_get` without
  ids is the cheapest authenticated call (`check_key`).
- `GET /web/version` (Odoo 17+, no authentication) answers
  `{"version_info": [19, 0, 0, "final", 0, ""], "version": "19.0"}`; Odoo 16
  has no such route (404): `version` is then "" (major 0). Runs build this
  gateway only when the connection check found 19+ (`clients`); the check
  asks `/web/version` first and uses odoorpc below 19.
- Each call is its own transaction (commit on success, rollback on error).

Classification: 401 (or `AccessDenied`) → permanent `odoo_auth`, with a fixed
message (never the key). An error body with a `name`: the shared taxonomy
(`server_error`: serialization failure and lock → retryable, the rest →
permanent, e.g. 403 AccessError (private method), 404 unknown model or
method, 422/400 ValidationError/UserError). No error body: 404 → permanent
`odoo_database` (no JSON-2 route: unknown database, or Odoo before 19),
429/5xx (a proxy's page) → retryable, other 4xx → permanent. Network: not
connected → retryable `odoo_unreachable`; a timeout or a cut after sending →
retryable on reads, `AmbiguousWriteError` on writes (`WRITE_METHODS`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

from engagements.integration.gateway.base import (
    CREATE_BATCH,
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

USER_AGENT = "portal-integration (JSON-2)"
JSON2_FROM = 19  # the first Odoo major with JSON-2


def _error(response: httpx.Response) -> GatewayError:
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = None
    name = body.get("name", "") if isinstance(body, dict) else ""
    if status == 401 or name == "odoo.exceptions.AccessDenied":
        return PermanentError("Odoo refused the API key.", code="odoo_auth", odoo_name=name)
    if name:
        return server_error(name, str(body.get("message") or f"Odoo answered HTTP {status}."))
    if status == 404:
        return PermanentError(
            "Odoo has no JSON-2 API at this address for this database (Odoo 19 or later is needed).",
            code="odoo_database",
        )
    if status == 429 or status >= 500:
        return RetryableError(f"Odoo answered HTTP {status}.", code="odoo_http")
    return PermanentError(f"Odoo answered HTTP {status}.", code="odoo_rejected")


def probe_version(url: str, *, timeout: float) -> str:
    """GET /web/version, unauthenticated: "19.0"; "" where the route does not exist (Odoo 16, or not
    Odoo). The first thing a connection check asks, before any key is sent."""
    parts = require_https(url)
    with httpx.Client(base_url=f"{parts.scheme}://{parts.netloc}", timeout=timeout, follow_redirects=False) as http:
        return _version(_request(http, "version", "GET", "/web/version"))


def _request(http: httpx.Client, method: str, verb: str, path: str, **request: Any) -> httpx.Response:
    """One HTTP call for the Odoo `method`; network failures in the taxonomy (a cut write is ambiguous)."""
    try:
        return http.request(verb, path, **request)
    except (httpx.ConnectError, httpx.ConnectTimeout):
        raise RetryableError("Odoo is not reachable.", code="odoo_unreachable") from None
    except httpx.TransportError:  # timed out, or cut after the request left: maybe applied
        raise timeout_error(method) from None


def _version(response: httpx.Response) -> str:
    if response.status_code in (429, 502, 503, 504):  # busy, or a proxy without its Odoo
        raise RetryableError(f"Odoo answered HTTP {response.status_code}.", code="odoo_http")
    if response.status_code != 200:
        return ""  # no such route: Odoo 16, or not Odoo
    try:
        return str(response.json().get("version") or "")
    except (ValueError, AttributeError):
        return ""  # not Odoo's answer (a portal page): no version known


class Json2Gateway(Versioned):
    """`version`: what /web/version said, when the caller asked it already (a connection check).
    The key goes only with the JSON-2 calls, never with GET /web/version. `deadline`: a total time
    for all calls (a check), each then getting what is left of it."""

    def __init__(
        self,
        *,
        url: str,
        database: str,
        api_key: str,
        timeout: float = 30.0,
        version: str | None = None,
        deadline: Deadline | None = None,
    ):
        parts = require_https(url)
        self.calls = 0
        self._timeout, self._deadline = timeout, deadline
        self._auth = {"Authorization": f"bearer {api_key}", "X-Odoo-Database": database}
        self._http = httpx.Client(
            base_url=f"{parts.scheme}://{parts.netloc}",
            timeout=timeout,
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT},
        )
        self.version = self._version() if version is None else version

    def close(self) -> None:
        self._http.close()

    def _send(self, method: str, path: str, body: dict | None = None) -> httpx.Response:
        self.calls += 1
        timeout = self._deadline.timeout(self._timeout) if self._deadline else self._timeout
        if timeout <= 0:
            raise timeout_error(method)
        if body is None:
            return _request(self._http, method, "GET", path, timeout=timeout)
        return _request(self._http, method, "POST", path, json=body, headers=self._auth, timeout=timeout)

    def _version(self) -> str:
        """GET /web/version (unauthenticated: no key in it)."""
        return _version(self._send("version", "/web/version"))

    def _execute(self, model: str, method: str, body: dict) -> Any:
        response = self._send(method, f"/json/2/{model}/{method}", body)
        if response.status_code != 200:
            raise _error(response)
        try:
            return response.json()
        except ValueError:
            raise PermanentError(f"Odoo's answer to {method} is not JSON.", code="odoo_http") from None

    def check_key(self) -> dict:
        """The user's context: the cheapest call that proves the key and the database (no login in JSON-2)."""
        return self._execute("res.users", "context_get", {})

    def search_read(self, model, domain, fields, *, limit=None, order=None, context=None) -> list[dict]:
        body = {"domain": domain, "fields": list(fields), **search_options(limit, order, context)}
        return self._execute(model, "search_read", body)

    def read(self, model, ids, fields, *, context=None) -> list[dict]:
        named = {"fields": list(fields), **({"context": context} if context else {})}
        return [
            row for chunk in batches(ids, READ_BATCH) for row in self._execute(model, "read", {"ids": chunk, **named})
        ]

    def search_count(self, model, domain) -> int:
        return self._execute(model, "search_count", {"domain": domain})

    def create(self, model, values, *, context=None) -> list[int]:
        named = {"context": context} if context else {}
        chunks = batches(values, CREATE_BATCH)
        return [new for chunk in chunks for new in self._execute(model, "create", {"vals_list": chunk, **named})]

    def write(self, model, ids, values) -> bool:
        return self._execute(model, "write", {"ids": list(ids), "vals": values})

    def call(self, model: str, method: str, ids: Sequence[int], *, context: dict | None = None) -> Any:
        body: dict[str, Any] = {"ids": list(ids)} if ids else {}
        return self._execute(model, method, {**body, "context": context} if context else body)

    def report_pdf(self, model, record_id, report, *, via_portal=False) -> bytes:
        """JSON-2 has no web login: the PDF always comes from the record's portal link."""
        if not via_portal:
            raise PermanentError("JSON-2 has no web login: use the record's portal link.", code="odoo_web_login")
        link = self._execute(model, "get_portal_url", {"ids": [record_id], "report_type": "pdf", "download": True})
        response = self._send("report", str(link))
        return pdf_body(response.status_code, response.headers.get("content-type", ""), response.content)
