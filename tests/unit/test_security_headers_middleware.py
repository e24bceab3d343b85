"""The security headers middleware adds each header once and keeps one the response set."""

from __future__ import annotations

import asyncio
from typing import Any

from mynapoint.web.security_headers import (
    CONTENT_SECURITY_POLICY,
    SECURITY_HEADERS,
    SecurityHeaders,
)


def _sent(response_headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    async def app(_scope: Any, _receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": response_headers})
        await send({"type": "http.response.body", "body": b"{}"})

    messages: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    asyncio.run(SecurityHeaders(app)({"type": "http"}, receive, send))
    assert messages[1] == {"type": "http.response.body", "body": b"{}"}
    return [(bytes(name), bytes(value)) for name, value in messages[0]["headers"]]


def test_every_header_is_added_once_after_the_responses_own():
    headers = _sent([(b"content-type", b"application/json")])
    assert headers[0] == (b"content-type", b"application/json")
    expected = {"content-security-policy": CONTENT_SECURITY_POLICY} | {
        name.lower(): value for name, value in SECURITY_HEADERS.items()
    }
    assert {name.decode(): value.decode() for name, value in headers[1:]} == expected
    assert len(headers) == 1 + len(expected)


def test_a_header_the_response_set_is_kept_as_it_is():
    headers = _sent([(b"x-frame-options", b"SAMEORIGIN")])
    assert [value for name, value in headers if name == b"x-frame-options"] == [b"SAMEORIGIN"]
    assert (b"x-content-type-options", b"nosniff") in headers
