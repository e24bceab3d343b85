"""The headers every response carries: a strict Content Security Policy and its companions.

The pages (/docs included) load nothing from another origin and run no inline script: htmx,
the pages' own scripts and Swagger UI's start-up are files under /static. So the policy
allows scripts, styles, fonts and connections from the platform itself only.
`frame-ancestors 'none'` and X-Frame-Options keep the pages out of other sites' frames
(clickjacking the counter or the application's confirmation); nosniff stops a browser
reading an upload or a JSON answer as a script; Referrer-Policy keeps the platform's
addresses (which may name an application) from other sites.
"""

from __future__ import annotations

from typing import Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_DIRECTIVES: Final = (
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    # Swagger UI and the pages' CSS draw a few icons as data: URIs.
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "object-src 'none'",
)
CONTENT_SECURITY_POLICY: Final = "; ".join(_DIRECTIVES)

SECURITY_HEADERS: Final = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


# As the response carries them: lower-case names, encoded once.
_RAW_HEADERS: Final = tuple(
    (name.lower().encode("latin-1"), value.encode("latin-1"))
    for name, value in {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        **SECURITY_HEADERS,
    }.items()
)


class SecurityHeaders:
    """Pure ASGI: adds the headers to every HTTP response, errors and refusals included. A
    header the response already has is kept (as MutableHeaders.setdefault would), found in one
    pass over the response's headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message["headers"] = list(message.get("headers", ()))
                present = {name for name, _ in headers}
                headers.extend(pair for pair in _RAW_HEADERS if pair[0] not in present)
            await send(message)

        await self.app(scope, receive, send_with_headers)
