"""The gate every request passes before its body is read: who sends it, and how much.

FastAPI reads and parses a body before any dependency runs, so without this gate an
unauthenticated client could make the server hold (and parse) a body of any size before
answering 401. This pure ASGI middleware, in front of the app:

1. finds the route the request is for (the app's own route table, built once);
2. for a route that needs a bearer credential (a citizen's session token, an operator's API
   key) and a request that carries a body, resolves the credential with the very dependency
   the route uses (web/dependencies.py) and answers its 401 before reading a byte of the body;
3. caps the body by the route's limit: a `Content-Length` above it is refused at once, and a
   body without one (chunked) is counted as it streams and refused as soon as it passes the
   limit. Nothing beyond the limit is ever read. The refusal is `413 request_too_large` with
   `details.limit_bytes`.

It also records the matched route's template in the scope (ROUTE_TEMPLATE), which the access
log writes instead of the path, so identifiers in paths never reach a log line.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.security import HTTPAuthorizationCredentials
from fastapi.security.utils import get_authorization_scheme_param
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mynapoint.db.engine import is_database_unavailable
from mynapoint.domain.errors import MynapointError
from mynapoint.domain.staff import Area
from mynapoint.logs import ROUTE_TEMPLATE
from mynapoint.services.staff import signed_in
from mynapoint.web.dependencies import (
    client_address,
    get_citizen,
    get_operator,
    resolved_bearer,
)
from mynapoint.web.errors import (
    STATUS_BY_CODE,
    database_unavailable,
    error_page,
    error_response,
    is_page,
    retry_after,
)

KIB: Final = 1024
MIB: Final = 1024 * KIB

# Every JSON body and page form but those below: the largest legitimate one is an application
# with a representative's certificate (about 4 KiB).
DEFAULT_BODY_BYTES: Final = 64 * KIB
# POST /api/v1/operator/events: 10,000 events (services/intake.py BATCH_LIMIT). A realistic
# event is about 200 bytes of JSON, one with every field at its longest about 560 bytes
# (tests/e2e/test_body_limits.py measures both); 8 MiB holds 10,000 of the longest with room
# for indentation.
BATCH_BODY_BYTES: Final = 8 * MIB
# The counter's forms carry one or two virtual card files of a few KiB each.
CARD_FILES_BODY_BYTES: Final = 256 * KIB
# A registration file of the operator console: at most 5,000 accounts of about 100 bytes.
REGISTRATION_FILE_BODY_BYTES: Final = 2 * MIB
# A candidate rules file of the policy lab: at most 256 KiB (web/pages/ministry/policy.py),
# with the form's other fields.
POLICY_RULES_BODY_BYTES: Final = 320 * KIB
# An event file upload: Settings.max_upload_bytes (MYNAPOINT_MAX_UPLOAD_BYTES).
UPLOAD: Final = "upload"

ROUTE_BODY_LIMITS: Final[dict[tuple[str, str], int | str]] = {
    ("POST", "/api/v1/operator/events"): BATCH_BODY_BYTES,
    ("POST", "/api/v1/operator/events/files"): UPLOAD,
    ("POST", "/operator/events"): UPLOAD,  # the operator console's upload of the same files
    ("POST", "/operator/payment-accounts"): REGISTRATION_FILE_BODY_BYTES,
    ("POST", "/counter/card"): CARD_FILES_BODY_BYTES,
    ("POST", "/counter/apply"): CARD_FILES_BODY_BYTES,
    ("POST", "/ministry/policy"): POLICY_RULES_BODY_BYTES,
}

# The operator console's uploads: a browser not signed in at /operator (its session cookie
# missing or not valid) has its body capped at DEFAULT_BODY_BYTES, so that nobody but the
# operator's staff can make the server take in a large file; the page then sends it to sign in.
CONSOLE_UPLOADS: Final = frozenset({("POST", "/operator/events"),
                                    ("POST", "/operator/payment-accounts")})  # fmt: skip
OPERATOR_COOKIE: Final = "mp_operator"

# The dependencies that resolve a bearer credential, as the routes declare them.
BEARER_RESOLVERS: Final = (get_citizen, get_operator)
Resolver = Callable[..., object]


class RequestTooLarge(MynapointError):
    code = "request_too_large"


class _BodyTooLarge(Exception):
    """Raised inside `receive` when the streamed body passes the limit."""


@dataclass(frozen=True)
class GatedRoute:
    template: str
    pattern: re.Pattern[str]
    methods: frozenset[str]
    resolver: Resolver | None

    def matches(self, path: str) -> bool:
        return self.pattern.match(path) is not None


def _resolver_of(dependant: Dependant) -> Resolver | None:
    for sub in dependant.dependencies:
        if sub.call in BEARER_RESOLVERS:
            return sub.call
        found = _resolver_of(sub)
        if found is not None:
            return found
    return None


def route_table(app: FastAPI) -> list[GatedRoute]:
    """The app's routes in matching order, with the credential each needs."""
    table = []
    for context in iter_route_contexts(app.routes):
        if not isinstance(context.original_route, APIRoute):
            continue
        table.append(
            GatedRoute(
                template=str(context.path_format),
                pattern=context.path_regex,
                methods=frozenset(context.methods or ()),
                resolver=_resolver_of(context.dependant),
            )
        )
    return table


def _declared_length(headers: Headers) -> int | None:
    value = headers.get("content-length")
    if value is None:
        return None
    return int(value) if value.isascii() and value.isdigit() else -1


@dataclass(frozen=True)
class RouteIndex:
    """The route table arranged for lookup: a path that is some route's template exactly (no
    parameters) finds its matching routes in a dictionary; any other path can only match
    routes with parameters, and only those are tried. Either way the candidates come in the
    table's order, so the answer is the scan's over the whole table (a scan of every pattern
    cost about 10 µs a request with 63 routes: issue 13)."""

    exact: dict[str, tuple[GatedRoute, ...]]
    with_parameters: tuple[GatedRoute, ...]

    @classmethod
    def of(cls, table: list[GatedRoute]) -> RouteIndex:
        with_parameters = tuple(route for route in table if "{" in route.template)
        exact = {
            route.template: tuple(other for other in table if other.matches(route.template))
            for route in table
            if "{" not in route.template
        }
        return cls(exact, with_parameters)

    def candidates(self, path: str) -> tuple[GatedRoute, ...]:
        found = self.exact.get(path)
        if found is not None:
            return found
        return tuple(route for route in self.with_parameters if route.matches(path))


class BodyGate:
    def __init__(self, app: ASGIApp, web_app: FastAPI) -> None:
        self.app = app
        self.web_app = web_app
        self._index: RouteIndex | None = None

    def _route_for(self, scope: Scope) -> GatedRoute | None:
        if self._index is None:
            # Built at the first request: every router is included by then.
            self._index = RouteIndex.of(route_table(self.web_app))
        candidates = self._index.candidates(scope["path"])
        for route in candidates:
            if scope["method"] in route.methods:
                return route
        return candidates[0] if candidates else None

    def limit_for(self, scope: Scope, route: GatedRoute | None) -> int:
        if route is None:
            return DEFAULT_BODY_BYTES
        limit = ROUTE_BODY_LIMITS.get((scope["method"], route.template), DEFAULT_BODY_BYTES)
        if limit == UPLOAD:
            return int(scope["app"].state.platform.settings.max_upload_bytes)
        return int(limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        route = self._route_for(scope)
        scope[ROUTE_TEMPLATE] = route.template if route is not None else None
        headers = Headers(scope=scope)
        declared = _declared_length(headers)
        if declared == -1:
            await self._refuse(scope, send, "malformed_request", "Content-Length is not a number")
            return
        has_body = (declared or 0) > 0 or "transfer-encoding" in headers
        resolved = None
        if has_body and route is not None and route.resolver is not None:
            try:
                refused, resolved = await self._authenticate(scope, route.resolver, headers)
            except Exception as exc:
                if not is_database_unavailable(exc):
                    raise
                # Answered here: this gate runs outside the app's exception handlers.
                response = database_unavailable(Request(scope, _no_body), exc)
                response.headers["Connection"] = "close"  # the body was not read
                await response(scope, _no_body, send)
                return
            if refused is not None:
                await self._refuse(scope, send, refused.code, refused.message, **refused.details)
                return
        limit = self.limit_for(scope, route)
        if (
            has_body
            and route is not None
            and (scope["method"], route.template) in CONSOLE_UPLOADS
            and not await run_in_threadpool(_signed_in_operator, scope, headers)
        ):
            limit = min(limit, DEFAULT_BODY_BYTES)
        if declared is not None and declared > limit:
            await self._too_large(scope, send, limit)
            return
        if resolved is None:
            await self._pass_counted(scope, receive, send, limit)
            return
        # The route's own dependency takes this answer rather than asking the database again.
        with resolved_bearer(*resolved):
            await self._pass_counted(scope, receive, send, limit)

    async def _authenticate(
        self, scope: Scope, resolver: Resolver, headers: Headers
    ) -> tuple[MynapointError | None, tuple[Resolver, str, object] | None]:
        """The refusal, or what the credential resolved to (with the resolver and token)."""
        # As HTTPBearer(auto_error=False) reads the header, so the route sees the same thing.
        scheme, token = get_authorization_scheme_param(headers.get("authorization"))
        credentials = (
            HTTPAuthorizationCredentials(scheme=scheme, credentials=token)
            if scheme.lower() == "bearer" and token
            else None
        )
        platform = scope["app"].state.platform
        client = client_address(Request(scope))
        try:
            result = await run_in_threadpool(
                resolver, platform, platform.clock, credentials, client
            )
        except MynapointError as exc:
            return exc, None
        return None, (resolver, token, result)

    async def _pass_counted(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        received = 0
        exceeded = False
        started = False

        async def counted_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded and not started:
                return  # whatever the app made of the broken body; the 413 goes instead
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            if not exceeded:
                raise
        if exceeded and not started:
            await self._too_large(scope, send, limit)

    async def _too_large(self, scope: Scope, send: Send, limit: int) -> None:
        message = f"the request body is larger than this route takes; send at most {limit:,} bytes"
        await self._refuse(scope, send, RequestTooLarge.code, message, limit_bytes=limit)

    async def _refuse(
        self, scope: Scope, send: Send, code: str, message: str, **details: object
    ) -> None:
        request = Request(scope, _no_body)
        refusal = MynapointError(message, **details)
        refusal.code = code
        headers = retry_after(refusal) or {}
        if is_page(request):
            response = error_page(request, STATUS_BY_CODE.get(code, 400), refusal, headers)
        else:
            headers["Connection"] = "close"
            response = error_response(code, message, details, headers=headers)
        await response(scope, _no_body, send)


def _signed_in_operator(scope: Scope, headers: Headers) -> bool:
    """Whether the request carries a valid session of the operator console."""
    from http.cookies import SimpleCookie  # noqa: PLC0415

    cookie = SimpleCookie(headers.get("cookie", "")).get(OPERATOR_COOKIE)
    if cookie is None:
        return False
    platform = scope["app"].state.platform
    try:
        me = signed_in(platform.unit_of_work(), cookie.value, platform.clock.now(), Area.OPERATOR)
    except Exception:  # noqa: BLE001 - whatever fails (the database down): the small cap
        return False
    return me is not None


async def _no_body() -> Message:
    """The receive of a request answered without reading its body."""
    return {"type": "http.disconnect"}
