"""A database that cannot be reached (a restart, a failover) is 503 unavailable with
Retry-After, never a 500: the request did not happen, and the client may send it again."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient

from citizen_app import bearer, citizen_app
from mynapoint.bootstrap import Platform
from mynapoint.config import Settings
from mynapoint.db.engine import create_engine_for
from mynapoint.jpki.authority import SimulatedCardAuthority
from mynapoint.jpki.memory import InMemoryAuthorityStore
from mynapoint.jpki.revocation import CachedRevocationList
from mynapoint.rules.loader import load_campaigns, load_catalog
from mynapoint.services.clock import FixedClock
from mynapoint.web.app import create_app
from mynapoint.web.csrf import CSRF_COOKIE, CSRF_FIELD

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from sqlalchemy.engine import Engine

# Nothing listens on port 1: every connection is refused, as while PostgreSQL restarts.
UNREACHABLE = "postgresql+psycopg://nobody@127.0.0.1:1/none"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(database_url=UNREACHABLE, var_dir=tmp_path, demo=True)
    clock = FixedClock(datetime(2021, 7, 19, 1, tzinfo=UTC))
    authority = SimulatedCardAuthority(InMemoryAuthorityStore(), now=clock.now)
    revocations = CachedRevocationList(authority.revocation_list, clock.now)
    engine = create_engine_for(settings.database_url)
    platform = Platform(
        settings, engine, clock, load_campaigns(), load_catalog(), authority, revocations
    )
    # raise_server_exceptions (the default): an error that leaves the app, even answered by
    # the outermost handler, reaches the server, which then drops the connection.
    with TestClient(create_app(settings, platform), base_url="https://testserver") as client:
        yield client
    engine.dispose()


# Well-formed credentials, so that the platform has to ask the database about them: a citizen
# session token, and an operator key ("mnp_" + 12-character key id + "." + secret).
CITIZEN = {"Authorization": "Bearer " + "t" * 43}
OPERATOR = {"Authorization": "Bearer mnp_abcdefghijkl." + "s" * 43}


@pytest.mark.parametrize(
    ("method", "path", "headers", "body"),
    [
        ("GET", "/api/v1/me", CITIZEN, None),
        ("POST", "/api/v1/auth/challenges", {}, None),
        # The body gate looks the key up before reading the body: that lookup fails too.
        ("POST", "/api/v1/operator/events", OPERATOR, {"events": []}),
        ("GET", "/api/v1/operator/grants", OPERATOR, None),
    ],
)
def test_the_api_answers_503_unavailable_with_retry_after(
    client, caplog, method, path, headers, body
):
    with caplog.at_level(logging.WARNING, logger="mynapoint.web"):
        response = client.request(method, path, headers=headers, json=body)
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "unavailable"
    assert int(response.headers["Retry-After"]) > 0
    web = [r for r in caplog.records if r.name == "mynapoint.web"]
    assert any("database unavailable" in r.getMessage() for r in web)
    assert not any(r.levelno >= logging.ERROR for r in web)


def test_a_page_answers_with_the_busy_page_not_the_failure_page(client):
    client.get("/staff/sign-in")  # sets the CSRF cookie; the sign-in itself needs the database
    response = client.post(
        "/staff/sign-in",
        data={
            CSRF_FIELD: client.cookies[CSRF_COOKIE],
            "name": "chuo-staff",
            "password": "madoguchi-2021",
        },
    )
    assert response.status_code == 503
    assert "text/html" in response.headers["content-type"]
    assert "混み合っています" in response.text
    assert int(response.headers["Retry-After"]) > 0


def _pooled_backends(engine: Engine) -> list[int]:
    """The PostgreSQL backend of every connection the engine's pool keeps idle."""
    held = [engine.connect() for _ in range(engine.pool.checkedin())]  # type: ignore[attr-defined]
    try:
        return [int(c.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()) for c in held]
    finally:
        for connection in held:
            connection.close()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_connections_lost_in_the_pool_cost_one_503_then_the_pool_reconnects(
    database_url, tmp_path, postgresql_worker_engine
):
    # As after a PostgreSQL restart: the pooled connections' backends are gone. The pool does
    # not ping at checkout (db/engine.py POOL_PRE_PING); the first request that meets a dead
    # connection is 503 unavailable, never a 500, and the pool then reconnects everything.
    with citizen_app(database_url, tmp_path) as app:
        token = app.token(app.issue())
        assert app.client.get("/api/v1/me", headers=bearer(token)).status_code == 200
        backends = _pooled_backends(app.platform.engine)
        assert backends
        with postgresql_worker_engine.connect() as admin:
            for pid in backends:
                admin.exec_driver_sql(f"SELECT pg_terminate_backend({pid})")

        answers = [app.client.get("/api/v1/me", headers=bearer(token)) for _ in range(3)]

    statuses = [answer.status_code for answer in answers]
    assert set(statuses) <= {200, 503}, statuses
    assert statuses.count(503) <= 1, statuses
    assert statuses[-2:] == [200, 200], statuses
    for answer in answers:
        if answer.status_code == 503:
            assert answer.json()["error"]["code"] == "unavailable"
            assert int(answer.headers["Retry-After"]) > 0
