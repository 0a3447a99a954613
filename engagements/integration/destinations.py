"""Where a connection's keys may go: its destination, and the addresses keys are never sent to.

A stored key belongs to the destination it was saved for: the scheme, host and port of the URL
(plus the Odoo database, or the shop platform). A save that changes the destination clears the
stored keys (connections.py), so they can never be sent to a host typed after them. The gateway
and the shop transport both refuse an address here before any key leaves.

Keys travel over HTTPS only, and never to this machine or a private network (a request to those
would let a portal user reach what only the server can). `INTEGRATION_ALLOW_LOCAL` lifts both
rules for development and the test suite, whose fake Odoo and shops listen on http://127.0.0.1.

Forms judge the URL as written. The gateway and the shop transport also resolve the name just
before they connect (`resolve=True`) and refuse it when any of its addresses is not public: a
public-looking name may point at 127.0.0.1 or a cloud's metadata address. A name whose answer
changes between that look-up and the connection (DNS rebinding) is not caught.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

DEFAULT_PORTS = {"https": 443, "http": 80}
LOCAL_NAMES = ("localhost", "localhost.localdomain")
HTTPS_REQUIRED, LOCAL_ADDRESS = "https_required", "local_address"


@dataclass(frozen=True)
class Destination:
    scheme: str
    host: str
    port: int | None
    scope: str = ""  # the Odoo database, or the shop platform

    @classmethod
    def of(cls, url: str, scope: str = "") -> Destination:
        parts = urlsplit(url.strip() if "://" in url else f"https://{url.strip()}")
        try:
            port = parts.port or DEFAULT_PORTS.get(parts.scheme)
        except ValueError:  # a port out of range: no destination keys could go to
            port = None
        return cls(parts.scheme.lower(), (parts.hostname or "").rstrip(".").lower(), port, scope.strip())


def _is_local(host: str) -> bool:
    if host in LOCAL_NAMES or host.endswith(".localhost"):
        return True
    try:
        return not ipaddress.ip_address(host.strip("[]")).is_global
    except ValueError:
        return False  # a name: judged by what it is, not by what it resolves to


def _resolves_locally(destination: Destination) -> bool:
    """Whether any address the name resolves to is not public. A name that does not resolve is
    left to the connection, which fails on it with the transport's own error."""
    try:
        found = socket.getaddrinfo(destination.host, destination.port, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return False
    return any(not ipaddress.ip_address(str(sockaddr[0]).split("%")[0]).is_global for *_, sockaddr in found)


def address_problem(url: str, *, resolve: bool = False) -> str | None:
    """None when keys may be sent to `url`; else HTTPS_REQUIRED or LOCAL_ADDRESS. With `resolve`,
    a name is also judged by the addresses it resolves to now (just before connecting)."""
    destination = Destination.of(url)
    if destination.scheme not in DEFAULT_PORTS:
        return HTTPS_REQUIRED
    if not destination.host:
        return LOCAL_ADDRESS
    if _is_local(destination.host):
        return None if settings.INTEGRATION_ALLOW_LOCAL else LOCAL_ADDRESS
    if resolve and not settings.INTEGRATION_ALLOW_LOCAL and _resolves_locally(destination):
        return LOCAL_ADDRESS
    return None if destination.scheme == "https" else HTTPS_REQUIRED
