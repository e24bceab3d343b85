"""The ceiling of `make bench-api`: a FastAPI app with one sync endpoint and nothing else,
served the same way as the platform (same server, same number of workers). A sync `def`
runs in the thread pool as the platform's handlers do, so the ratio of a platform endpoint
to this one is what the platform's own work costs.

Given a PostgreSQL URL (DATABASE_ENV), the same app also answers the database floors: a sync
endpoint making one (/trivial/db1) or four (/trivial/db4) round trips of `SELECT 1` through
SQLAlchemy, on an engine made by the platform's own factory (db/engine.py: the same pool
settings) and read outside a transaction as the platform reads (`reading`). They say what a
platform endpoint needing that many round trips can reach at best on this machine."""

from __future__ import annotations

import os
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Final

from fastapi import FastAPI, Request
from sqlalchemy import text

from mynapoint.db.engine import create_engine_for, reading

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from sqlalchemy.engine import Engine

DATABASE_ENV: Final = "MYNAPOINT_BENCH_TRIVIAL_DATABASE_URL"
SELECT_ONE: Final = text("SELECT 1")


def _round_trips(engine: Engine, count: int) -> dict[str, str]:
    with reading(engine) as connection:
        for _ in range(count):
            connection.execute(SELECT_ONE).scalar_one()
    return {"status": "ok"}


def create_app() -> FastAPI:
    url = os.environ.get(DATABASE_ENV)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.engine = create_engine_for(url) if url else None
        try:
            yield
        finally:
            if app.state.engine is not None:
                app.state.engine.dispose()

    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)

    @app.get("/trivial")
    def trivial() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/trivial/db1")
    def one_round_trip(request: Request) -> dict[str, str]:
        return _round_trips(request.app.state.engine, 1)

    @app.get("/trivial/db4")
    def four_round_trips(request: Request) -> dict[str, str]:
        return _round_trips(request.app.state.engine, 4)

    return app
