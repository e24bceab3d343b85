"""GET /healthz: 200 when the database answers, 503 otherwise."""

from __future__ import annotations

import threading
import time
import weakref
from typing import Final

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from mynapoint.db.engine import reading
from mynapoint.web.dependencies import ClockDep, EngineDep
from mynapoint.web.errors import ServiceUnavailable, responses

router = APIRouter(tags=["operations"])


class HealthOut(BaseModel):
    status: str
    database: str
    platform_time: str


# An answer of the database this recent stands for the next probes of this process, so that
# probes (a load balancer's, every process's, or a flood of them) cost the database at most one
# query a second per process; a failure is never kept: the next probe asks again.
ANSWER_KEPT_SECONDS: Final = 1.0


class _LastAnswer:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        # By engine: the monotonic time of its last answer.
        self.at: weakref.WeakKeyDictionary[Engine, float] = weakref.WeakKeyDictionary()


_last_answer = _LastAnswer()


def _database_answers(engine: Engine) -> None:
    now = time.monotonic()
    with _last_answer.lock:
        answered = _last_answer.at.get(engine)
    if answered is not None and now - answered < ANSWER_KEPT_SECONDS:
        return
    try:
        # Outside a transaction: one round trip, not BEGIN, SELECT and ROLLBACK (whose
        # rollback also makes psycopg drop the connection's prepared statements).
        with reading(engine) as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        with _last_answer.lock:
            _last_answer.at.pop(engine, None)
        raise ServiceUnavailable("the database is not reachable") from exc
    with _last_answer.lock:
        _last_answer.at[engine] = now


@router.get("/healthz", responses=responses("unavailable"))
def healthz(engine: EngineDep, clock: ClockDep) -> HealthOut:
    """Liveness and readiness: the database must have answered a query within the last
    second (ANSWER_KEPT_SECONDS)."""
    _database_answers(engine)
    return HealthOut(
        status="ok", database=engine.dialect.name, platform_time=clock.now().isoformat()
    )
