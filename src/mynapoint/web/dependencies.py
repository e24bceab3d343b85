"""FastAPI dependencies: the wired platform parts, taken from the app's state."""

from __future__ import annotations

from functools import cache
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.engine import Engine

from mynapoint.bootstrap import Platform
from mynapoint.domain.auth import Session
from mynapoint.domain.campaigns import CampaignRules
from mynapoint.domain.services import Catalog
from mynapoint.services.applications import ApplicationDesk
from mynapoint.services.auth import authenticate
from mynapoint.services.clock import Clock
from mynapoint.services.codes import CodeHasher
from mynapoint.services.operators import authenticate_operator


def get_platform(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


PlatformDep = Annotated[Platform, Depends(get_platform)]


def get_rules(platform: PlatformDep) -> CampaignRules:
    return platform.rules


def get_catalog(platform: PlatformDep) -> Catalog:
    return platform.catalog


def get_clock(platform: PlatformDep) -> Clock:
    return platform.clock


def get_engine(platform: PlatformDep) -> Engine:
    return platform.engine


RulesDep = Annotated[CampaignRules, Depends(get_rules)]
CatalogDep = Annotated[Catalog, Depends(get_catalog)]
ClockDep = Annotated[Clock, Depends(get_clock)]
EngineDep = Annotated[Engine, Depends(get_engine)]

_bearer = HTTPBearer(
    auto_error=False, description="the session token from POST /api/v1/auth/sessions"
)


def get_citizen(
    platform: PlatformDep,
    clock: ClockDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Session:
    token = credentials.credentials if credentials is not None else None
    return authenticate(platform.unit_of_work(), token, clock.now())


Citizen = Annotated[Session, Depends(get_citizen)]


_operator_bearer = HTTPBearer(
    scheme_name="OperatorKey",
    auto_error=False,
    description="a payment operator's API key (mnp_…) from `mynapoint operator key`",
)


def get_operator(
    platform: PlatformDep,
    clock: ClockDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_operator_bearer)],
) -> str:
    key = credentials.credentials if credentials is not None else None
    return authenticate_operator(platform.unit_of_work(), key, clock.now())


# The operator code the API key belongs to: a key acts only for its own operator's services.
Operator = Annotated[str, Depends(get_operator)]


@cache
def get_code_hasher() -> CodeHasher:
    # One per process: it holds nothing but its parameters and a decoy hash made once.
    return CodeHasher()


CodeHasherDep = Annotated[CodeHasher, Depends(get_code_hasher)]


def get_application_desk(platform: PlatformDep, hasher: CodeHasherDep) -> ApplicationDesk:
    return ApplicationDesk(
        rules=platform.rules,
        catalog=platform.catalog,
        authority=platform.authority,
        revocations=platform.revocations,
        hasher=hasher,
    )


ApplicationDeskDep = Annotated[ApplicationDesk, Depends(get_application_desk)]
