"""Refuse cross-origin writes to the chat server.

A page on any other site can make the visitor's browser POST to a server on
localhost; gradio's CORS settings only hide the response, the upload is
already stored by then. This middleware answers 403 to every state-changing
request (anything but GET, HEAD and OPTIONS) whose ``Origin`` is not the
server's own, ``Origin: null`` included (sandboxed frames, ``file:`` pages),
before any route runs. Requests without an ``Origin`` (``gradio_client``,
curl) are not from a browser page and pass.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def same_origin(origin: str, host: str) -> bool:
    """Whether an ``Origin`` header names the host (and port) the request was sent to."""
    if not origin or origin == "null":
        return False
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and parts.netloc.lower() == host.lower()


class SameOriginMiddleware:
    """ASGI middleware: 403 for cross-origin state-changing HTTP requests."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in SAFE_METHODS:
            headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
            origin = headers.get("origin")
            if origin is not None and not same_origin(origin, headers.get("host", "")):
                body = b'{"error": "cross-origin request refused: open the chat from its own address"}'
                await send(
                    {
                        "type": "http.response.start",
                        "status": 403,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)
