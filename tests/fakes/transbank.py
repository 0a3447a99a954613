"""A fake Transbank Webpay Plus (REST API v1.2) over loopback HTTP, with its payment form.

It follows tests/fakes/data/transbank (README.md: the protocol summary with its sources;
examples.json: the exchanges and error bodies it answers with):

- REST under /rswebpaytransaction/api/webpay/v1.2/transactions: create (POST, with or without
  the trailing slash; the amount as a JSON number or string), commit (PUT /{token}, no body),
  status (GET /{token}), refund (POST /{token}/refunds). Every call needs the
  Tbk-Api-Key-Id / Tbk-Api-Key-Secret headers (else 401 "Not Authorized"). Errors are
  `{"error_message": ...}` with 404 (unknown token) or 422 (validation, a second commit, a commit
  of an aborted, timed-out or expired token, status after 7 days, a bad refund amount).
- The payment form at /webpayserver/initTransaction (token_ws by POST form or GET), whose
  buttons approve (credit, credit in installments, debit), reject, abort ("anular compra y
  volver": POST back with TBK_TOKEN, as integration does), let the form time out (GET back with
  only TBK_ORDEN_COMPRA and TBK_ID_SESION) or fail (both tokens). Card data is never asked.

Its model of what the documentation leaves open: the form's decision is what `status` reports
from then on (AUTHORIZED or FAILED, with the card fields), so a merchant whose browser never
came back learns the outcome from status; commit confirms once (a second commit is 422 "already
locked"); a transaction not decided on the form stays INITIALIZED. A full refund within 3 hours
of the commit is REVERSED; otherwise NULLIFIED (partial: PARTIALLY_NULLIFIED with `balance`);
debit and prepaid cards refund only in full, installment sales never partially.

Knobs for tests: `latency` (seconds before every REST answer: a time-out), `unavailable` (that
many REST calls answered 503), `amount_skew` (added to the amount commit and status report: an
amount mismatch), `requests` (method and path of every REST call), `approve()`, `reject()`,
`abort()` (the form's buttons without a browser) and `age()` (move a transaction back in time).

Run on its own: `python -m tests.fakes.transbank --port 8073` (Transbank's public integration
commerce code and secret, see examples.json).
"""

from __future__ import annotations

import html
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.fakes.loopback import LoopbackServer, json_handler, run_cli

EXAMPLES = json.loads((Path(__file__).resolve().parent / "data" / "transbank" / "examples.json").read_text())
ERRORS = EXAMPLES["errors"]
PREFIX = EXAMPLES["base_path"] + "/transactions"
COMMERCE_CODE = EXAMPLES["headers"]["Tbk-Api-Key-Id"]
API_KEY_SECRET = EXAMPLES["headers"]["Tbk-Api-Key-Secret"]
FORM_PATH = "/webpayserver/initTransaction"
DECIDE_PATH = "/webpayserver/decide"
TOKEN_LIFE = 5 * 60  # seconds the form accepts a token after create
STATUS_DAYS = 7
REVERSE_HOURS = 3
BUY_ORDER_SYMBOLS = set("|_=&%.,~:/?[+!@()>-")


@dataclass(frozen=True)
class Card:
    last4: str
    payment_type: str  # VN credit, VC installments, VD debit
    installments: int = 0


CARDS = {
    "credit": Card("6623", "VN"),  # VISA 4051 8856 0044 6623
    "installments": Card("6623", "VC", 3),
    "debit": Card("7763", "VD"),  # Redcompra 4051 8842 3993 7763
    "rejected": Card("0568", "VN"),  # MASTERCARD 5186 0595 5959 0568
}


@dataclass
class Txn:
    token: str
    buy_order: str
    session_id: str
    amount: Decimal
    return_url: str
    created: float
    status: str = "INITIALIZED"
    card: Card | None = None
    ended: str = ""  # aborted, timeout, form_error: the form closed without a decision
    committed_at: float | None = None
    nullified: Decimal = Decimal(0)
    authorization_code: str = ""
    transaction_date: str = ""


def _error(key: str) -> tuple[int, dict, dict]:
    return ERRORS[key]["status"], {}, dict(ERRORS[key]["body"])


def _refused(message: str, status: int = 422) -> tuple[int, dict, dict]:
    return status, {}, {"error_message": message}


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


@dataclass
class FakeTransbank:
    commerce_code: str = COMMERCE_CODE
    api_key_secret: str = API_KEY_SECRET
    latency: float = 0.0
    unavailable: int = 0
    amount_skew: int = 0
    transactions: dict[str, Txn] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""  # set by the server: where the form lives

    # ------------------------------------------------------------ the form's buttons, for tests
    def approve(self, token: str, card: str = "credit") -> None:
        with self.lock:
            self._decide(self.transactions[token], "approve" if card == "credit" else f"approve_{card}")

    def reject(self, token: str) -> None:
        with self.lock:
            self._decide(self.transactions[token], "reject")

    def abort(self, token: str) -> None:
        with self.lock:
            self._decide(self.transactions[token], "abort")

    def age(self, token: str, seconds: float) -> None:
        """Move a transaction's creation (and commit) back in time."""
        txn = self.transactions[token]
        txn.created -= seconds
        if txn.committed_at:
            txn.committed_at -= seconds

    # ------------------------------------------------------------ REST
    def answer(self, method: str, path: str, headers, body: bytes) -> tuple[int, dict, object]:
        if self.latency:
            time.sleep(self.latency)
        self.requests.append((method, path))
        if self.unavailable:
            self.unavailable -= 1
            return 503, {}, "<html><body>503 Service Unavailable</body></html>"
        if headers.get("Tbk-Api-Key-Id") != self.commerce_code or headers.get("Tbk-Api-Key-Secret") != (
            self.api_key_secret
        ):
            return _error("unauthorized")
        route = path[len(PREFIX) :].strip("/").split("/") if path.startswith(PREFIX) else None
        if route is None:
            return _error("not_found")
        try:
            payload = json.loads(body) if body else {}
        except ValueError:
            return _refused("Invalid JSON", 400)
        with self.lock:
            return self._route(method, route, payload)

    def _route(self, method: str, route: list[str], payload: dict) -> tuple[int, dict, object]:
        if route == [""] and method == "POST":
            return self._create(payload)
        txn = self.transactions.get(route[0])
        if method not in ("PUT", "GET", "POST") or len(route) > 2 or (len(route) == 2 and route[1] != "refunds"):
            return _refused("Method not allowed", 405)
        if txn is None:
            return _error("not_found")
        if method == "PUT" and len(route) == 1:
            return self._commit(txn)
        if method == "GET" and len(route) == 1:
            if time.time() - txn.created > STATUS_DAYS * 86400:
                return _error("status_after_7_days")
            return 200, {}, self._body(txn)
        if method == "POST" and len(route) == 2:
            return self._refund(txn, payload)
        return _refused("Method not allowed", 405)

    def _create(self, payload: dict) -> tuple[int, dict, object]:
        for name in ("buy_order", "session_id", "amount", "return_url"):
            if str(payload.get(name) or "").strip() == "":
                return _refused(f"{name} is required")
        buy_order, session_id, return_url = payload["buy_order"], payload["session_id"], payload["return_url"]
        if len(buy_order) > 26 or not all(c.isalnum() or c in BUY_ORDER_SYMBOLS for c in buy_order):
            return _refused("Invalid value for parameter: buy_order")
        if len(session_id) > 61:
            return _refused("Invalid value for parameter: session_id")
        if len(return_url) > 256:
            return _refused("Invalid value for parameter: return_url")
        try:
            amount = Decimal(str(payload["amount"]))
        except InvalidOperation:
            return _refused("Invalid value for parameter: amount")
        if amount <= 0 or amount != amount.to_integral_value():  # CLP: whole pesos
            return _refused("Invalid value for parameter: amount")
        token = secrets.token_hex(32)  # 64 characters, like Transbank's
        self.transactions[token] = Txn(token, buy_order, session_id, amount, return_url, time.time())
        return 200, {}, {"token": token, "url": f"{self.url}{FORM_PATH}"}

    def _commit(self, txn: Txn) -> tuple[int, dict, object]:
        if txn.committed_at is not None:
            return _error("commit_twice")
        if txn.card is None:  # aborted, timed out, expired or never paid
            return _error("commit_aborted_or_expired")
        txn.committed_at = time.time()
        return 200, {}, self._body(txn)

    def _body(self, txn: Txn) -> dict:
        body = {
            "vci": "",
            "amount": _number(txn.amount + self.amount_skew),
            "status": txn.status,
            "buy_order": txn.buy_order,
            "session_id": txn.session_id,
            "accounting_date": datetime.fromtimestamp(txn.created, UTC).strftime("%m%d"),
            "transaction_date": txn.transaction_date,
            "installments_number": 0,
        }
        if txn.card is not None:
            approved = txn.status != "FAILED"
            body.update(
                vci="TSY" if approved else "TSN",
                card_detail={"card_number": txn.card.last4},
                authorization_code=txn.authorization_code,
                payment_type_code=txn.card.payment_type,
                response_code=0 if approved else -1,
                installments_number=txn.card.installments,
            )
            if txn.card.installments:
                body["installments_amount"] = _number((txn.amount / txn.card.installments).quantize(Decimal(1)))
            if txn.nullified:
                body["balance"] = _number(txn.amount - txn.nullified)
        return body

    def _refund(self, txn: Txn, payload: dict) -> tuple[int, dict, object]:
        if "amount" not in payload:
            return _refused("amount is required!")
        try:
            amount = Decimal(str(payload["amount"]))
        except InvalidOperation:
            return _error("refund_invalid_amount")
        if amount <= 0 or amount != amount.to_integral_value():
            return _error("refund_invalid_amount")
        if txn.committed_at is None or txn.status not in ("AUTHORIZED", "PARTIALLY_NULLIFIED"):
            return _refused("Transaction does not allow nullification (16)")
        left = txn.amount - txn.nullified
        if amount > left:
            return _refused("Amount exceeds the balance (311)")
        full = amount == left
        if not full and txn.card.payment_type in ("VD", "VP"):
            return _refused("Operation not allowed (308)")
        if not full and txn.card.installments:
            return _refused("No partial nullification with installments (53)")
        if full and not txn.nullified and time.time() - txn.committed_at < REVERSE_HOURS * 3600:
            txn.status, txn.nullified = "REVERSED", amount
            return 200, {}, {"type": "REVERSED"}
        txn.nullified += amount
        txn.status = "NULLIFIED" if txn.nullified == txn.amount else "PARTIALLY_NULLIFIED"
        return (
            200,
            {},
            {
                "type": "NULLIFIED",
                "authorization_code": f"{secrets.randbelow(10**6):06d}",
                "authorization_date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
                "nullified_amount": _number(amount),
                "balance": _number(txn.amount - txn.nullified),
                "response_code": 0,
            },
        )

    # ------------------------------------------------------------ the payment form (browser)
    def form(self, method: str, path: str, query: dict, body: bytes) -> tuple[int, dict, object]:
        fields = {k: v[-1] for k, v in parse_qs(body.decode()).items()} if method == "POST" else {}
        fields = {**query, **fields}
        with self.lock:
            txn = self.transactions.get(fields.get("token_ws", ""))
            if txn is None or txn.card is not None or txn.ended or time.time() - txn.created > TOKEN_LIFE:
                return 200, {}, _page("Transacción no válida", "<p>El token no existe, ya se usó o expiró.</p>")
            if path == FORM_PATH:
                return 200, {}, _form_page(txn)
            return self._decide(txn, fields.get("action", ""))

    def _decide(self, txn: Txn, action: str) -> tuple[int, dict, object]:
        back = {"TBK_ORDEN_COMPRA": txn.buy_order, "TBK_ID_SESION": txn.session_id}
        if action.startswith("approve") or action == "reject":
            txn.card = CARDS["rejected"] if action == "reject" else CARDS[action.partition("_")[2] or "credit"]
            txn.status = "FAILED" if action == "reject" else "AUTHORIZED"
            txn.authorization_code = "000000" if action == "reject" else "1213"
            txn.transaction_date = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
            return 303, {"Location": _with_query(txn.return_url, {"token_ws": txn.token})}, ""
        if action == "timeout":
            txn.ended = "timeout"
            return 303, {"Location": _with_query(txn.return_url, back)}, ""
        if action in ("abort", "error"):
            txn.ended = "aborted" if action == "abort" else "form_error"
            fields = {"TBK_TOKEN": txn.token, **back, **({"token_ws": txn.token} if action == "error" else {})}
            return 200, {}, _post_back(txn.return_url, fields)
        return 400, {}, _page("Acción desconocida", "")


def _with_query(url: str, params: dict) -> str:
    return f"{url}{'&' if urlsplit(url).query else '?'}{urlencode(params)}"


def _page(title: str, content: str, script: str = "") -> str:
    return (
        f'<!DOCTYPE html><html lang="es"><head><meta charset="utf-8"><title>{html.escape(title)}</title></head>'
        f"<body><h1>Webpay (simulado)</h1><h2>{html.escape(title)}</h2>{content}{script}</body></html>"
    )


def _form_page(txn: Txn) -> str:
    amount = f"{int(txn.amount):,}".replace(",", ".")
    buttons = [
        ("approve", "Pagar con crédito (VISA ****6623)"),
        ("approve_installments", "Pagar en 3 cuotas (VISA ****6623)"),
        ("approve_debit", "Pagar con débito (Redcompra ****7763)"),
        ("reject", "Pagar con tarjeta rechazada (MASTERCARD ****0568)"),
        ("abort", "Anular compra y volver al comercio"),
        ("timeout", "Simular tiempo agotado"),
        ("error", "Simular error del formulario"),
    ]
    rows = "".join(
        f'<p><button type="submit" name="action" value="{value}">{html.escape(label)}</button></p>'
        for value, label in buttons
    )
    content = (
        f"<p>Comercio de integración · Orden {html.escape(txn.buy_order)}</p><p>Monto: ${amount}</p>"
        f'<form method="post" action="{DECIDE_PATH}"><input type="hidden" name="token_ws" value="{txn.token}">'
        f"{rows}</form>"
    )
    return _page("Pago", content)


def _post_back(return_url: str, fields: dict) -> str:
    """The page Webpay shows when it sends the browser back by POST (abort, form error)."""
    inputs = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in fields.items()
    )
    content = (
        f'<form id="back" method="post" action="{html.escape(return_url)}">{inputs}'
        '<button type="submit">Volver al comercio</button></form>'
    )
    return _page("Volviendo al comercio", content, "<script>document.getElementById('back').submit()</script>")


class FakeTransbankServer(LoopbackServer):
    def __init__(self, transbank: FakeTransbank | None = None, port: int = 0):
        self.transbank = transbank or FakeTransbank()
        fake = self.transbank

        def serve(method, path, query, headers, body):
            route = urlsplit(path).path
            if route in (FORM_PATH, DECIDE_PATH):
                return fake.form(method, route, query, body)
            return fake.answer(method, route, headers, body)

        super().__init__(json_handler(serve), port)
        fake.url = self.url


if __name__ == "__main__":
    run_cli(
        lambda port: FakeTransbankServer(port=port),
        8073,
        __doc__.splitlines()[0],
        "Fake Transbank Webpay Plus on {url} (commerce code 597055555532). Ctrl-C stops it.",
    )
