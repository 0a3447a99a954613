"""Transbank Webpay Plus REST (API v1.2): the four calls we make, behind our own interface.

A small httpx client rather than the official transbank-sdk: the SDK takes its host from a
fixed table (integration or production) with no setting for it, so it cannot reach the
loopback fake the tests and the demo use without patching it, and it sends the amount as a
JSON string. Every call authenticates with the Tbk-Api-Key-Id / Tbk-Api-Key-Secret headers,
is made once (no retry inside a web request) and waits at most `timeout` seconds.

Errors are typed: `WebpayUnavailable` when the outcome is unknown (network, time-out, 5xx;
ask `status` later), `WebpayRefused` when Transbank answered no (4xx with its
`error_message`). The secret is never logged or put in an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Protocol

import httpx
from django.conf import settings

API_PATH = "/rswebpaytransaction/api/webpay/v1.2/transactions"
HOSTS = {"integration": "https://webpay3gint.transbank.cl", "production": "https://webpay3g.transbank.cl"}
APPROVED = "AUTHORIZED"


class WebpayError(Exception):
    """Base of what a Webpay call can raise."""


class WebpayUnavailable(WebpayError):
    """No usable answer (network error, time-out, 5xx, unreadable body): the outcome is unknown."""


class WebpayRefused(WebpayError):
    """Transbank answered with an error (4xx): `status` is the HTTP status, `message` its error_message."""

    def __init__(self, status: int, message: str):
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Created:
    token: str
    url: str


@dataclass(frozen=True)
class Transaction:
    """A commit or status answer: the fields we keep (the card number is its last 4 digits)."""

    status: str
    response_code: int | None
    amount: Decimal | None
    buy_order: str
    session_id: str
    authorization_code: str = ""
    card_last4: str = ""
    payment_type: str = ""
    installments: int = 0
    transaction_date: str = ""
    balance: Decimal | None = None

    @property
    def approved(self) -> bool:
        return self.status == APPROVED and self.response_code == 0

    @classmethod
    def from_json(cls, body: dict) -> Transaction:
        card = body.get("card_detail") or {}
        code = body.get("response_code")
        return cls(
            status=str(body.get("status") or ""),
            response_code=int(code) if isinstance(code, int | float) else None,
            amount=_decimal(body.get("amount")),
            buy_order=str(body.get("buy_order") or ""),
            session_id=str(body.get("session_id") or ""),
            authorization_code=str(body.get("authorization_code") or ""),
            card_last4=str(card.get("card_number") or "")[-4:],
            payment_type=str(body.get("payment_type_code") or ""),
            installments=int(body.get("installments_number") or 0),
            transaction_date=str(body.get("transaction_date") or ""),
            balance=_decimal(body.get("balance")),
        )


@dataclass(frozen=True)
class Refund:
    type: str  # REVERSED or NULLIFIED
    authorization_code: str = ""
    nullified_amount: Decimal | None = None
    response_code: int | None = None


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


class Gateway(Protocol):
    def create(self, *, buy_order: str, session_id: str, amount: int, return_url: str) -> Created: ...
    def commit(self, token: str) -> Transaction: ...
    def status(self, token: str) -> Transaction: ...
    def refund(self, token: str, amount: int) -> Refund: ...


class HttpGateway:
    def __init__(self, *, base_url: str, commerce_code: str, api_key_secret: str, timeout: float):
        self._base = base_url.rstrip("/") + API_PATH
        self._headers = {
            "Tbk-Api-Key-Id": commerce_code,
            "Tbk-Api-Key-Secret": api_key_secret,
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        self._timeout = httpx.Timeout(timeout)

    def _call(self, method: str, path: str, json: dict | None = None) -> dict:
        try:
            with httpx.Client(base_url=self._base, headers=self._headers, timeout=self._timeout) as client:
                response = client.request(method, path, json=json)
        except httpx.HTTPError as exc:
            raise WebpayUnavailable(type(exc).__name__) from None
        if response.status_code >= 500:
            raise WebpayUnavailable(f"HTTP {response.status_code}")
        try:
            body = response.json() if response.content else {}
        except ValueError:
            raise WebpayUnavailable(f"HTTP {response.status_code}: not JSON") from None
        if response.status_code != 200:
            message = body.get("error_message") or body.get("description") if isinstance(body, dict) else ""
            raise WebpayRefused(response.status_code, str(message or "")[:300])
        if not isinstance(body, dict):
            raise WebpayUnavailable("HTTP 200: not a JSON object")
        return body

    def create(self, *, buy_order: str, session_id: str, amount: int, return_url: str) -> Created:
        payload = {"buy_order": buy_order, "session_id": session_id, "amount": amount, "return_url": return_url}
        body = self._call("POST", "", payload)
        if not body.get("token") or not str(body.get("url", "")).startswith(("https://", "http://")):
            raise WebpayUnavailable("create: no token or no web address for the form")
        return Created(token=str(body["token"]), url=str(body["url"]))

    def commit(self, token: str) -> Transaction:
        return Transaction.from_json(self._call("PUT", f"/{token}"))

    def status(self, token: str) -> Transaction:
        return Transaction.from_json(self._call("GET", f"/{token}"))

    def refund(self, token: str, amount: int) -> Refund:
        body = self._call("POST", f"/{token}/refunds", {"amount": amount})
        code = body.get("response_code")
        return Refund(
            type=str(body.get("type") or ""),
            authorization_code=str(body.get("authorization_code") or ""),
            nullified_amount=_decimal(body.get("nullified_amount")),
            response_code=int(code) if isinstance(code, int | float) else None,
        )


def is_enabled() -> bool:
    """Webpay is off unless a commerce code and its secret are configured."""
    return bool(settings.WEBPAY["commerce_code"] and settings.WEBPAY["api_key_secret"])


def base_url() -> str:
    return settings.WEBPAY["api_url"] or HOSTS[settings.WEBPAY["environment"]]


def gateway() -> Gateway:
    conf = settings.WEBPAY
    return HttpGateway(
        base_url=base_url(),
        commerce_code=conf["commerce_code"],
        api_key_secret=conf["api_key_secret"],
        timeout=conf["timeout"],
    )
