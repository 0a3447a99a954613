"""What the fake servers share: a threaded HTTP server on 127.0.0.1, replies, a CLI."""

from __future__ import annotations

import argparse
import contextlib
import json
import threading
from collections.abc import Callable
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


class LoopbackServer:
    """A real HTTP server on loopback in a daemon thread; use it as a context manager."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], port: int = 0):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def reply(handler: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str, headers: dict) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    for name, value in headers.items():
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    # The client may have given up (a time-out test): what the request did stays done.
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        handler.wfile.write(body)


Serve = Callable[[str, str, dict, Message, bytes], tuple[int, dict, Any]]


def json_handler(serve: Serve) -> type[BaseHTTPRequestHandler]:
    """A handler for a fake shop API: `serve(method, path with query, query, headers, body)` gives
    (status, headers, payload), sent as JSON, or as an HTML page when the payload is text (a host's
    or proxy's error page)."""

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            query = {k: v[-1] for k, v in parse_qs(urlsplit(self.path).query).items()}
            body = self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
            status, headers, payload = serve(self.command, self.path, query, self.headers, body)
            if isinstance(payload, str):
                reply(self, status, payload.encode(), "text/html; charset=UTF-8", headers)
            else:
                reply(self, status, json.dumps(payload).encode(), "application/json; charset=UTF-8", headers)

        do_GET = do_POST = do_PUT = do_DELETE = _serve

        def log_message(self, *args):
            pass

    return Handler


def run_cli(make_server: Callable[[int], LoopbackServer], default_port: int, description: str, banner: str) -> None:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--port", type=int, default=default_port)
    args = parser.parse_args()
    with make_server(args.port) as server:
        print(banner.format(url=server.url))
        with contextlib.suppress(KeyboardInterrupt):
            server.thread.join()
