"""CSRF protection for the pages' forms: a per-browser secret in a cookie, echoed by each form.

The API needs none of this: it authenticates with bearer tokens, which a browser never
attaches by itself. The pages keep their sign-in in cookies, so every state-changing form
carries the secret as a hidden field (`{{ csrf_input() }}` in a template) or, for htmx, as
the `X-CSRF-Token` header; a POST without the matching value is refused with a page that
says what to do, never performed. The cookie is `SameSite=Strict` and `HttpOnly` besides.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Final

from fastapi import HTTPException, Request

CSRF_COOKIE: Final = "mp_csrf"
CSRF_FIELD: Final = "csrf_token"
CSRF_HEADER: Final = "X-CSRF-Token"


class CsrfRejected(HTTPException):
    def __init__(self) -> None:
        super().__init__(status_code=403, detail="csrf_failed")


def csrf_token(request: Request) -> str:
    """The browser's secret: from its cookie, or a new one the middleware will set."""
    token = getattr(request.state, "csrf_token", None)
    if token is None:
        token = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)
        request.state.csrf_token = token
    return str(token)


async def check_csrf(request: Request) -> None:
    """A FastAPI dependency for every page POST: the form (or header) must echo the cookie."""
    expected = request.cookies.get(CSRF_COOKIE)
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not expected or not sent or not hmac.compare_digest(expected, sent):
        raise CsrfRejected
