"""GET /healthz: 200 when the database answers, 503 otherwise."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from mynapoint.web.dependencies import ClockDep, EngineDep
from mynapoint.web.errors import ServiceUnavailable, responses

router = APIRouter(tags=["operations"])


class HealthOut(BaseModel):
    status: str
    database: str
    platform_time: str


@router.get("/healthz", responses=responses("unavailable"))
def healthz(engine: EngineDep, clock: ClockDep) -> HealthOut:
    """Liveness and readiness: the database must answer a query."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        raise ServiceUnavailable("the database is not reachable") from exc
    return HealthOut(
        status="ok", database=engine.dialect.name, platform_time=clock.now().isoformat()
    )
