"""A fake SMTP server on loopback: enough of RFC 5321 for smtplib (EHLO/HELO, MAIL, RCPT, DATA,
RSET, NOOP, QUIT, no TLS, no AUTH), keeping every message it accepts. For processes a test starts
(a worker cluster), whose mail the test's in-memory outbox cannot see."""

from __future__ import annotations

import email
import socketserver
import threading
from email.message import EmailMessage
from email.policy import default


class _Session(socketserver.StreamRequestHandler):
    server: _Server

    def _reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def _data(self) -> bytes:
        lines = []
        while (line := self.rfile.readline()) not in (b".\r\n", b".\n", b""):
            lines.append(line[1:] if line.startswith(b"..") else line)  # dot-unstuffing
        return b"".join(lines)

    def handle(self) -> None:
        self._reply("220 fake-smtp ready")
        recipients: list[str] = []
        while line := self.rfile.readline():
            verb = line[:4].decode(errors="replace").upper()
            if verb in ("EHLO", "HELO"):
                self._reply("250 fake-smtp")
            elif verb == "MAIL":
                recipients = []
                self._reply("250 OK")
            elif verb == "RCPT":
                recipients.append(line.decode().split(":", 1)[1].strip().strip("<>"))
                self._reply("250 OK")
            elif verb == "DATA":
                self._reply("354 End data with <CR><LF>.<CR><LF>")
                message = email.message_from_bytes(self._data(), policy=default)
                with self.server.lock:
                    self.server.messages.append((recipients, message))
                self._reply("250 OK: queued")
            elif verb == "QUIT":
                self._reply("221 Bye")
                return
            else:  # RSET, NOOP
                self._reply("250 OK")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Session)
        self.lock = threading.Lock()
        self.messages: list[tuple[list[str], EmailMessage]] = []


class FakeSMTPServer:
    """Use as a context manager; `port`, and `messages`: (recipients, message) pairs."""

    def __init__(self):
        self.server = _Server()
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def messages(self) -> list[tuple[list[str], EmailMessage]]:
        with self.server.lock:
            return list(self.server.messages)

    def __enter__(self) -> FakeSMTPServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
