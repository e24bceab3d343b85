"""Admission control: past capacity, refuse at once and say when to come back, never time out.

The opening day of the real program failed because every request was let in: threads, the
database pool and then the clients' patience ran out together. This pure ASGI middleware,
per server process, bounds the work in flight. Every request belongs to one class, and each
class has its own share of slots, so that no class can take another's:

- `citizens`: a citizen already inside — a bearer token on the API (any /api/v1 route but
  the operators'), or the page sign-in cookie. They are finishing an application: they come
  first. (The token is not checked here — that costs a database read — so a made-up one
  only gets a request into the citizens' share, where the route refuses it at once.)
- `arrivals`: everyone else on the public pages and the public API, the login and the card
  handshake. New arrivals are refused first: while a full round of citizens (as many as
  their share has slots) waits for a slot, an arrival is turned away at once, even if the
  arrivals' share has room.
- `operators`: /api/v1/operator/… (payment operators' intake and grants).
- `staff`: the support-corner console (/staff/…, /counter/…, or the staff sign-in cookie).
- static files and /healthz pass without a slot: they are cheap, and a load balancer must
  see a busy process as alive.

A request that finds its class full waits up to `admit_wait_seconds` in a bounded queue
(`admit_queue_factor` × the class's slots; a full queue refuses at once), first come first
served. If no slot frees up it is refused: the API with `503 overloaded` and `Retry-After`,
a page with the waiting page (web/templates/waiting.html, Japanese or English), which
reloads itself after `Retry-After` seconds and says that nothing was lost. Memory is bounded
by the slots and the queues. Refusals are counted per class; a warning line with the count
goes to the log at most every REFUSAL_LOG_SECONDS per class (the access log has a 503 line
for each one).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mynapoint.web import i18n
from mynapoint.web.pages.citizen.session import SESSION_COOKIE
from mynapoint.web.pages.staff.access import STAFF_COOKIE

if TYPE_CHECKING:
    from fastapi import FastAPI
    from starlette.types import ASGIApp, Receive, Scope, Send

    from mynapoint.config import Settings

log = logging.getLogger("mynapoint.admission")

CITIZENS: Final = "citizens"
ARRIVALS: Final = "arrivals"
OPERATORS: Final = "operators"
STAFF: Final = "staff"
CLASSES: Final = (CITIZENS, ARRIVALS, OPERATORS, STAFF)

OVERLOADED: Final = "overloaded"
REFUSAL_LOG_SECONDS: Final = 10.0

_BYPASS_PREFIXES: Final = ("/static/",)
_BYPASS_PATHS: Final = frozenset({"/healthz"})
_OPERATOR_PREFIX: Final = "/api/v1/operator/"
_STAFF_PREFIXES: Final = ("/staff", "/counter")
_API_PREFIXES: Final = ("/api/", "/openapi.json", "/docs")


def request_class(scope: Scope) -> str | None:
    """The class a request belongs to; None for what passes without a slot."""
    path: str = scope.get("path", "")
    if path in _BYPASS_PATHS or path.startswith(_BYPASS_PREFIXES):
        return None
    if path.startswith(_OPERATOR_PREFIX):
        return OPERATORS
    if any(path == prefix or path.startswith(prefix + "/") for prefix in _STAFF_PREFIXES):
        return STAFF
    headers = dict(scope.get("headers") or [])
    if path.startswith("/api/"):
        scheme, _, token = headers.get(b"authorization", b"").partition(b" ")
        return CITIZENS if scheme.lower() == b"bearer" and token.strip() else ARRIVALS
    cookies = headers.get(b"cookie", b"")
    if _has_cookie(cookies, SESSION_COOKIE):
        return CITIZENS
    if _has_cookie(cookies, STAFF_COOKIE):
        return STAFF
    return ARRIVALS


def _has_cookie(header: bytes, name: str) -> bool:
    wanted = name.encode("ascii") + b"="
    parts = (part.strip() for part in header.split(b";"))
    return any(part.startswith(wanted) and part != wanted for part in parts)


def is_api(scope: Scope) -> bool:
    return str(scope.get("path", "")).startswith(_API_PREFIXES)


@dataclass(frozen=True)
class AdmissionLimits:
    """Slots per class, the queue per class as a multiple of its slots, the longest wait."""

    slots: dict[str, int]
    queue_factor: int = 8
    wait_seconds: float = 1.5
    retry_after_seconds: int = 5

    @classmethod
    def from_settings(cls, settings: Settings) -> AdmissionLimits:
        return cls(
            slots={
                CITIZENS: settings.admit_citizens,
                ARRIVALS: settings.admit_arrivals,
                OPERATORS: settings.admit_operators,
                STAFF: settings.admit_staff,
            },
            queue_factor=settings.admit_queue_factor,
            wait_seconds=settings.admit_wait_seconds,
            retry_after_seconds=settings.admit_retry_after_seconds,
        )


@dataclass
class Share:
    """One class's slots and its queue. Runs on the event loop only: no lock needed."""

    name: str
    slots: int
    queue: int
    in_flight: int = 0
    waiting: deque[asyncio.Future[None]] = field(default_factory=deque)
    refused: int = 0
    _refused_logged: int = 0
    _logged_at: float = float("-inf")

    def try_enter(self) -> bool:
        # Those already waiting go first.
        if self.in_flight < self.slots and not self.waiting:
            self.in_flight += 1
            return True
        return False

    async def enter(self, wait_seconds: float) -> bool:
        """A slot within `wait_seconds`, or False (the queue full, or no slot came)."""
        if self.try_enter():
            return True
        if len(self.waiting) >= self.queue or wait_seconds <= 0:
            return False
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiting.append(turn)
        try:
            await asyncio.wait_for(asyncio.shield(turn), wait_seconds)
        except TimeoutError:
            # A slot handed over just as the wait ran out is taken.
            return turn.done() and not turn.cancelled()
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self.leave()
            raise
        finally:
            if not turn.done():
                turn.cancel()
            if turn in self.waiting:
                self.waiting.remove(turn)
        return True

    def leave(self) -> None:
        """Hand the slot to the first one still waiting, else free it."""
        while self.waiting:
            turn = self.waiting.popleft()
            if not turn.done():
                turn.set_result(None)
                return
        self.in_flight -= 1

    def count_refusal(self) -> None:
        self.refused += 1
        now = time.monotonic()
        if now - self._logged_at >= REFUSAL_LOG_SECONDS:
            log.warning(
                "admission: the %s share is full; refusing with 503 %s",
                self.name,
                OVERLOADED,
                extra={
                    "admission_class": self.name,
                    "refused": self.refused - self._refused_logged,
                    "refused_total": self.refused,
                    "in_flight": self.in_flight,
                    "waiting": len(self.waiting),
                    "slots": self.slots,
                },
            )
            self._logged_at = now
            self._refused_logged = self.refused


class Admission:
    """The middleware. `limits` given (tests) or read from the platform's settings on the first
    request (`web_app.state.platform`, which the app's lifespan sets)."""

    def __init__(
        self, app: ASGIApp, web_app: FastAPI | None = None, limits: AdmissionLimits | None = None
    ) -> None:
        self.app = app
        self._web_app = web_app
        self._limits = limits
        self.shares: dict[str, Share] | None = None if limits is None else _shares(limits)
        if web_app is not None:
            web_app.state.admission = self

    @property
    def limits(self) -> AdmissionLimits:
        if self._limits is None:
            assert self._web_app is not None  # noqa: S101 - one of the two is given
            settings: Settings = self._web_app.state.platform.settings
            self._limits = AdmissionLimits.from_settings(settings)
            self.shares = _shares(self._limits)
        return self._limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        name = request_class(scope)
        if name is None:
            await self.app(scope, receive, send)
            return
        limits = self.limits
        assert self.shares is not None  # noqa: S101 - set with the limits
        share = self.shares[name]
        # Citizens inside come first: while a full round of them waits for a slot (as many
        # as the share has slots), a new arrival is not let in at all. One citizen waiting a
        # few milliseconds for a slot is the ordinary to and fro of a busy process, not a
        # backlog: refusing arrivals then turned away new citizens at 32 connections, where
        # the platform had room (bench/RESULTS.md, 2026-12-07).
        citizens = self.shares[CITIZENS]
        if name == ARRIVALS and len(citizens.waiting) >= citizens.slots:
            admitted = False
        else:
            admitted = await share.enter(limits.wait_seconds)
        if not admitted:
            share.count_refusal()
            await refusal(scope, limits.retry_after_seconds)(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            share.leave()


def _shares(limits: AdmissionLimits) -> dict[str, Share]:
    return {
        name: Share(name, slots, slots * limits.queue_factor)
        for name, slots in limits.slots.items()
    }


def refusal(scope: Scope, retry_after_seconds: int) -> Response:
    """503 with Retry-After: the API's error body, or the waiting page in the reader's language."""
    headers = {"Retry-After": str(retry_after_seconds), "Cache-Control": "no-store"}
    if is_api(scope):
        return JSONResponse(
            {
                "error": {
                    "code": OVERLOADED,
                    "message": (
                        "the platform is at capacity just now; nothing was done: send the same "
                        f"request again after {retry_after_seconds} s (Retry-After)"
                    ),
                    "details": {"retry_after_seconds": retry_after_seconds},
                }
            },
            status_code=503,
            headers=headers,
        )
    return waiting_page(Request(scope), retry_after_seconds, headers)


def waiting_page(request: Request, retry_after_seconds: int, headers: dict[str, str]) -> Response:
    from mynapoint.web.templating import templates  # noqa: PLC0415 - templates import the pages

    locale = i18n.pick_locale(
        request.query_params.get(i18n.LOCALE_QUERY), request.cookies.get(i18n.LOCALE_COOKIE)
    )
    token = i18n.use_locale(locale)
    try:
        # Rendered here, while the locale is set: the body is in the reader's language.
        body = templates.get_template("waiting.html").render(
            request=request,
            retry_after=retry_after_seconds,
            # A GET reloads itself; a form sent (POST) is not sent again behind the reader's back.
            reloads=request.method in {"GET", "HEAD"},
        )
    finally:
        i18n.reset_locale(token)
    return Response(body, status_code=503, headers=headers, media_type="text/html")
