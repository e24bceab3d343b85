"""Two pure ASGI middlewares around every request: the access log, and the reader's language
with the cookies a page set up.

They were `BaseHTTPMiddleware` functions; that class runs the rest of the app in a task of its
own and wraps every response in a stream, which cost a large share of a cheap request's time
(issue 13). These do the same work on the ASGI messages as they pass.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from starlette.datastructures import MutableHeaders, QueryParams
from starlette.requests import cookie_parser
from starlette.responses import Response

from mynapoint.logs import ROUTE_TEMPLATE, logged_path
from mynapoint.web import i18n
from mynapoint.web.csrf import CSRF_COOKIE

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

access_log = logging.getLogger("mynapoint.access")

LOCALE_COOKIE_SECONDS = 365 * 24 * 3600


class AccessLog:
    """One line per answered request: the route's template, not the path (a path may name a
    payment service ID, an application or a job: logs.py), never the query string or headers.
    A request the app raised on without answering is logged by nobody here, as before."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status: int | None = None

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, receive, send_noting_status)
        if status is None:
            return
        method = scope["method"]
        path = logged_path(scope["path"], scope.get(ROUTE_TEMPLATE))
        access_log.info(
            "%s %s %s",
            method,
            path,
            status,
            extra={
                "method": method,
                "path": path,
                "status": status,
                "ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )


class LocaleAndCookies:
    """The reader's language for everything this request renders (web/i18n.py), and the
    cookies a page set up: the remembered language and the CSRF secret (web/csrf.py).

    Most requests (the API's) carry no query string and no cookie, and get no cookie: those
    skip the parsing and the cookie jar (issue 13)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        asked = (
            QueryParams(scope["query_string"]).get(i18n.LOCALE_QUERY)
            if scope.get("query_string")
            else None
        )
        cookies = _cookies(scope)
        remembered = cookies.get(i18n.LOCALE_COOKIE)
        locale = i18n.pick_locale(asked, remembered)
        # The language cookie is set when the reader switched (?lang=) to a language not
        # remembered yet; the CSRF cookie when a page made a secret the browser lacks.
        switched = asked == locale and locale != remembered

        async def send_with_cookies(message: Message) -> None:
            if message["type"] == "http.response.start":
                csrf = scope.get("state", {}).get("csrf_token")
                if switched or (csrf is not None and csrf != cookies.get(CSRF_COOKIE)):
                    headers = MutableHeaders(scope=message)
                    for value in _set_cookies(scope, switched, locale, csrf, cookies):
                        headers.append("set-cookie", value)
            await send(message)

        token = i18n.use_locale(locale)
        try:
            await self.app(scope, receive, send_with_cookies)
        finally:
            i18n.reset_locale(token)


def _cookies(scope: Scope) -> dict[str, str]:
    # As Starlette's Request.cookies reads them: every Cookie header, in order.
    cookies: dict[str, str] = {}
    for name, value in scope["headers"]:
        if name == b"cookie":
            cookies.update(cookie_parser(value.decode("latin-1")))
    return cookies


def _set_cookies(
    scope: Scope, switched: bool, locale: str, csrf: str | None, cookies: dict[str, str]
) -> list[str]:
    # Written by Starlette's own Response.set_cookie, so the attributes are exactly its.
    secure = scope["app"].state.platform.settings.cookie_secure
    jar = Response()
    if switched:
        jar.set_cookie(
            i18n.LOCALE_COOKIE,
            locale,
            max_age=LOCALE_COOKIE_SECONDS,
            secure=secure,
            samesite="lax",
        )
    if csrf is not None and csrf != cookies.get(CSRF_COOKIE):
        jar.set_cookie(CSRF_COOKIE, csrf, httponly=True, secure=secure, samesite="strict", path="/")
    return [value.decode("latin-1") for name, value in jar.raw_headers if name == b"set-cookie"]
