"""A database that cannot be reached (a restart, a failover) is 503 unavailable with
Retry-After, never a 500: the request did not happen, and the client may send it again."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient

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
