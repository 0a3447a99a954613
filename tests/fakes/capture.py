"""Two servers on loopback that are neither Odoo nor a shop, for the tests of what we send where.

`CaptureServer` keeps every request it gets (method, path with query, headers, body) and answers each
with `answer(method, path)`, by default a web page (a host that is not the API, a captive portal, an
attacker's server). `saw(secret)` says whether a secret reached it in any form: in the path, a header,
the body, or inside a Basic authorization.

`HangingServer` accepts connections and never answers: a shop or an Odoo that hangs.
"""

from __future__ import annotations

import base64
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler

from tests.fakes.loopback import LoopbackServer, reply

PAGE = b"<html><body><h1>Bienvenido</h1></body></html>"


@dataclass(frozen=True)
class Captured:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def text(self) -> str:
        """Everything a secret could travel in, Basic credentials decoded."""
        parts = [self.method, self.path, self.body.decode(errors="replace")]
        for name, value in self.headers.items():
            parts.append(f"{name}: {value}")
            if value.startswith("Basic "):
                parts.append(base64.b64decode(value[6:]).decode(errors="replace"))
        return "\n".join(parts)


Answer = Callable[[str, str], tuple[int, str, bytes]]  # (method, path) -> (status, content type, body)


class CaptureServer(LoopbackServer):
    def __init__(self, answer: Answer | None = None):
        self.requests: list[Captured] = []
        server = self
        answer = answer or (lambda method, path: (200, "text/html; charset=utf-8", PAGE))

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
                server.requests.append(Captured(self.command, self.path, dict(self.headers.items()), body))
                status, content_type, payload = answer(self.command, self.path)
                reply(self, status, payload, content_type, {})

            do_GET = do_POST = do_PUT = do_DELETE = _serve

            def log_message(self, *args):
                pass

        super().__init__(Handler)

    def saw(self, secret: str) -> bool:
        return any(secret in request.text() for request in self.requests)


class HangingServer:
    """Accepts every connection on 127.0.0.1 and never says a word; `accepted` counts them."""

    def __init__(self):
        self._socket = socket.create_server(("127.0.0.1", 0))
        self._socket.settimeout(0.05)
        self.port = self._socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.accepted = 0
        self._held: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _address = self._socket.accept()
            except TimeoutError:
                continue
            self.accepted += 1
            self._held.append(connection)  # kept open, never read from nor written to

    def __enter__(self) -> HangingServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(2)
        for connection in self._held:
            connection.close()
        self._socket.close()
