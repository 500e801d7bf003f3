"""The security middleware alone, on a tiny ASGI app: Host names and origins."""

from __future__ import annotations

import httpx
import pytest

from ui.security import SameOriginMiddleware, host_name, known_host


async def _ok(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


@pytest.mark.parametrize(
    ("header", "name"),
    [("127.0.0.1:7860", "127.0.0.1"), ("[::1]:7860", "::1"), ("::1", "::1"), ("Chat.Internal", "chat.internal")],
)
def test_host_name_drops_the_port_and_brackets(header: str, name: str) -> None:
    assert host_name(header) == name


@pytest.mark.parametrize(
    ("host", "known"),
    [
        ("127.0.0.1:7860", True),
        ("10.1.2.3", True),
        ("[::1]:7860", True),
        ("[fe80::1%eth0]:80", True),  # an IPv6 address with its zone is still an address
        ("localhost:7860", True),
        ("localhost.:7860", True),
        ("chat.internal:7860", True),  # allowed below
        ("CHAT.INTERNAL", True),
        ("evil.example:7860", False),
        ("localhost.evil.example", False),
        ("127.0.0.1.nip.io", False),
        ("", False),
    ],
)
def test_known_hosts_are_addresses_localhost_and_allowed_names(host: str, known: bool) -> None:
    assert known_host(host, ["chat.internal"]) is known


@pytest.mark.anyio
async def test_the_middleware_refuses_unknown_hosts_and_cross_origin_writes() -> None:
    app = SameOriginMiddleware(_ok, allowed_hosts=["chat.internal"])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as client:
        assert (await client.get("/", headers={"Host": "evil.example"})).status_code == 403
        assert (await client.get("/", headers={"Host": "chat.internal:80"})).status_code == 200
        cross = await client.post("/", headers={"Host": "chat.internal", "Origin": "http://evil.example"})
        assert cross.status_code == 403 and b"cross-origin" in cross.content
        same = await client.post("/", headers={"Host": "chat.internal", "Origin": "http://chat.internal"})
        assert same.status_code == 200
