"""FastAPI dependencies: the wired platform parts, taken from the app's state."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.engine import Engine

from mynapoint.bootstrap import Platform
from mynapoint.domain.campaigns import CampaignRules
from mynapoint.domain.services import Catalog
from mynapoint.services.clock import Clock


def get_platform(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


def get_rules(request: Request) -> CampaignRules:
    return get_platform(request).rules


def get_catalog(request: Request) -> Catalog:
    return get_platform(request).catalog


def get_clock(request: Request) -> Clock:
    return get_platform(request).clock


def get_engine(request: Request) -> Engine:
    return get_platform(request).engine


RulesDep = Annotated[CampaignRules, Depends(get_rules)]
CatalogDep = Annotated[Catalog, Depends(get_catalog)]
ClockDep = Annotated[Clock, Depends(get_clock)]
EngineDep = Annotated[Engine, Depends(get_engine)]
