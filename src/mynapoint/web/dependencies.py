"""FastAPI dependencies: the wired platform parts, taken from the app's state.

The ones that only look things up are `async def`: FastAPI runs a plain `def` dependency in
its thread pool, a thread hop per dependency per request for a dictionary lookup (issue 13).
Those that touch the database (get_citizen, get_operator) stay `def`, off the event loop."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.engine import Engine

from mynapoint.bootstrap import Platform
from mynapoint.domain.auth import InvalidToken, Session, TokenExpired
from mynapoint.domain.campaigns import CampaignRules
from mynapoint.domain.services import Catalog
from mynapoint.services.applications import ApplicationDesk
from mynapoint.services.auth import authenticate
from mynapoint.services.clock import Clock
from mynapoint.services.codes import CodeHasher
from mynapoint.services.operators import authenticate_operator
from mynapoint.services.passwords import PasswordHasher
from mynapoint.services.throttling import REFUSED_CREDENTIALS


async def get_platform(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


PlatformDep = Annotated[Platform, Depends(get_platform)]


async def get_rules(platform: PlatformDep) -> CampaignRules:
    return platform.rules


async def get_catalog(platform: PlatformDep) -> Catalog:
    return platform.catalog


async def get_clock(platform: PlatformDep) -> Clock:
    return platform.clock


async def get_engine(platform: PlatformDep) -> Engine:
    return platform.engine


RulesDep = Annotated[CampaignRules, Depends(get_rules)]
CatalogDep = Annotated[Catalog, Depends(get_catalog)]
ClockDep = Annotated[Clock, Depends(get_clock)]
EngineDep = Annotated[Engine, Depends(get_engine)]

_bearer = HTTPBearer(
    auto_error=False, description="the session token from POST /api/v1/auth/sessions"
)


def client_address(request: Request) -> str:
    """The address the request came from: the connection's peer, or the client a trusted proxy
    names (uvicorn takes X-Forwarded-For from the addresses in FORWARDED_ALLOW_IPS)."""
    return request.client.host if request.client is not None else "unknown"


async def _client_address(request: Request) -> str:
    return client_address(request)


ClientAddress = Annotated[str, Depends(_client_address)]

T = TypeVar("T")


def _counting_refusals(platform: Platform, client: str | None, check: Callable[[], T]) -> T:
    """Check a credential that was sent: an address that sent too many refused ones lately is
    refused before its credential is even looked at, so keys cannot be guessed at speed."""
    if client is None:
        return check()
    platform.throttle.check(REFUSED_CREDENTIALS, client)
    try:
        return check()
    except (InvalidToken, TokenExpired):
        platform.throttle.hit(REFUSED_CREDENTIALS, client)
        raise


# web/limits_body.py checks the bearer credential of a request with a body before the route
# runs (so that nobody's body is read before their credential is known); the route's
# dependency then takes that answer for the same credential, in the same request, instead of
# asking the database a second time. A context variable: it lives as long as the request.
_resolved: ContextVar[tuple[object, str, object] | None] = ContextVar(
    "mynapoint_resolved_bearer", default=None
)


@contextmanager
def resolved_bearer(resolver: object, token: str, result: object) -> Iterator[None]:
    """While the rest of the request runs: `resolver` found `result` for `token`."""
    handle = _resolved.set((resolver, token, result))
    try:
        yield
    finally:
        _resolved.reset(handle)


def _resolved_before(resolver: object, token: str | None) -> object:
    known = _resolved.get()
    if token and known is not None and known[0] is resolver and known[1] == token:
        return known[2]
    return None


def get_citizen(
    platform: PlatformDep,
    clock: ClockDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    # Optional for web/limits_body.py, which calls this before the route (and passes it).
    client: Annotated[str | None, Depends(_client_address)] = None,
) -> Session:
    token = credentials.credentials if credentials is not None else None
    known = _resolved_before(get_citizen, token)
    if isinstance(known, Session):
        return known
    return _counting_refusals(
        platform,
        client if token else None,
        lambda: authenticate(platform.unit_of_work(), token, clock.now()),
    )


Citizen = Annotated[Session, Depends(get_citizen)]


@dataclass(frozen=True)
class Bearer:
    """A request's bearer credential, not yet checked: for a route that checks it together with
    its own reads (GET /api/v1/me), on one connection."""

    token: str | None
    client: str

    def counting_refusals(self, platform: Platform, check: Callable[[], T]) -> T:
        """`check` (which raises InvalidToken or TokenExpired for a refused credential), counted
        per address as the Citizen dependency counts them."""
        return _counting_refusals(platform, self.client if self.token else None, check)


async def get_bearer(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    client: Annotated[str, Depends(_client_address)],
) -> Bearer:
    # Only reads the header: no thread hop for it.
    return Bearer(credentials.credentials if credentials is not None else None, client)


BearerDep = Annotated[Bearer, Depends(get_bearer)]


_operator_bearer = HTTPBearer(
    scheme_name="OperatorKey",
    auto_error=False,
    description="a payment operator's API key (mnp_…) from `mynapoint operator key`",
)


def get_operator(
    platform: PlatformDep,
    clock: ClockDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_operator_bearer)],
    # Optional for web/limits_body.py, which calls this before the route (and passes it).
    client: Annotated[str | None, Depends(_client_address)] = None,
) -> str:
    key = credentials.credentials if credentials is not None else None
    known = _resolved_before(get_operator, key)
    if isinstance(known, str):
        return known
    return _counting_refusals(
        platform,
        client if key else None,
        lambda: authenticate_operator(platform.unit_of_work(), key, clock.now()),
    )


# The operator code the API key belongs to: a key acts only for its own operator's services.
Operator = Annotated[str, Depends(get_operator)]


async def get_code_hasher(platform: PlatformDep) -> CodeHasher:
    return platform.code_hasher


CodeHasherDep = Annotated[CodeHasher, Depends(get_code_hasher)]


@cache
def get_password_hasher() -> PasswordHasher:
    # One per process: it holds nothing but its parameters and a decoy hash made once.
    return PasswordHasher()


PasswordHasherDep = Annotated[PasswordHasher, Depends(get_password_hasher)]


async def get_application_desk(platform: PlatformDep, hasher: CodeHasherDep) -> ApplicationDesk:
    return ApplicationDesk(
        rules=platform.rules,
        catalog=platform.catalog,
        authority=platform.authority,
        revocations=platform.revocations,
        hasher=hasher,
        throttle=platform.throttle,
        account_lock=timedelta(seconds=platform.settings.account_lock_seconds),
    )


ApplicationDeskDep = Annotated[ApplicationDesk, Depends(get_application_desk)]
