"""Refuse cross-origin writes to the chat server.

A page on any other site can make the visitor's browser POST to a server on
localhost; gradio's CORS settings only hide the response, the upload is
already stored by then. This middleware answers 403 to every state-changing
request (anything but GET, HEAD and OPTIONS) whose ``Origin`` is not the
server's own, ``Origin: null`` included (sandboxed frames, ``file:`` pages),
before any route runs. Requests without an ``Origin`` (``gradio_client``,
curl) are not from a browser page and pass.

It also answers 403 to any request, reads included, whose ``Host`` is a name the
server was not started under. DNS rebinding points a name the attacker owns
(``evil.example``) at 127.0.0.1; the browser then sends ``Host: evil.example:PORT``
with a matching ``Origin``, so the origin check alone lets it through. An IP
address, ``localhost`` and the names given with ``qa serve --allowed-host`` pass.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def same_origin(origin: str, host: str) -> bool:
    """Whether an ``Origin`` header names the host (and port) the request was sent to."""
    if not origin or origin == "null":
        return False
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and parts.netloc.lower() == host.lower()


def host_name(host: str) -> str:
    """The name in a ``Host`` header, without its port or an IPv6 address's brackets, lower case."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


# What a Host header may be (RFC 9110: a name or an address, then a port): "127.0.0.1:7911@evil.example"
# is not one, however its pieces read.
_HOST = re.compile(r"(?:\[[0-9a-z:.%]+\]|[a-z0-9._-]+)(?::[0-9]{1,5})?")


def known_host(host: str, allowed: Iterable[str]) -> bool:
    """Whether a ``Host`` header names this server: an IP address, localhost, or an allowed name."""
    if not _HOST.fullmatch(host.strip().lower()):
        return False
    name = host_name(host).rstrip(".")
    if not name:
        return False
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        return name in {"localhost", *(a.lower().rstrip(".") for a in allowed)}


class SameOriginMiddleware:
    """ASGI middleware: 403 for requests to an unknown ``Host`` and cross-origin state-changing ones."""

    def __init__(self, app: App, allowed_hosts: Iterable[str] = ()) -> None:
        self.app = app
        self.allowed_hosts = frozenset(allowed_hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            pairs = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in scope.get("headers", [])]
            headers = dict(pairs)
            host = headers.get("host", "")
            repeated = [n for n in ("host", "origin") if sum(k == n for k, _ in pairs) > 1]
            if repeated:  # which of two a proxy or a framework reads is anyone's guess: neither is trusted
                await _refuse(scope, send, b"a request with two Host or Origin headers is refused")
                return
            if not known_host(host, self.allowed_hosts):
                await _refuse(
                    scope,
                    send,
                    b"unknown Host refused: open the chat at its IP address or localhost, "
                    b"or start it with qa serve --allowed-host NAME",
                )
                return
            origin = headers.get("origin")
            if scope["type"] == "http" and scope["method"] not in SAFE_METHODS:
                if origin is not None and not same_origin(origin, host):
                    await _refuse(scope, send, b"cross-origin request refused: open the chat from its own address")
                    return
        await self.app(scope, receive, send)


async def _refuse(scope: Scope, send: Send, message: bytes) -> None:
    if scope["type"] == "websocket":  # closing before accepting answers the handshake with 403
        await send({"type": "websocket.close", "code": 1008})
        return
    body = b'{"error": "' + message + b'"}'
    await send(
        {
            "type": "http.response.start",
            "status": 403,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
