"""Real databases: SQLite always, PostgreSQL when MYNAPOINT_TEST_DATABASE_URL is set.

Each pytest-xdist worker gets its own PostgreSQL database, recreated at the start
of the session, and each test its own schema in it, so neither workers nor tests
see each other's rows.
"""

from __future__ import annotations

import itertools
import os
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import text

from mynapoint.db.engine import create_engine_for, parse_database_url, sqlite_url
from mynapoint.db.migrate import upgrade

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from sqlalchemy.engine import Engine

POSTGRESQL_URL_VARIABLE = "MYNAPOINT_TEST_DATABASE_URL"
_POSTGRESQL_EXAMPLE = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

_schema_numbers = itertools.count()


def _postgresql_admin_url() -> str:
    url = os.environ.get(POSTGRESQL_URL_VARIABLE, "").strip()
    if url:
        return url
    if os.environ.get("CI") == "true":
        pytest.fail(
            f"CI is true but {POSTGRESQL_URL_VARIABLE} is not set: CI must run the "
            f"PostgreSQL tests. Set it, e.g. {_POSTGRESQL_EXAMPLE} (.ci/run does).",
            pytrace=False,
        )
    pytest.skip(
        f"{POSTGRESQL_URL_VARIABLE} is not set; "
        f"set it to e.g. {_POSTGRESQL_EXAMPLE} to run the PostgreSQL tests"
    )


@pytest.fixture(scope="session")
def postgresql_worker_engine() -> Iterator[Engine]:
    """An engine on this worker's own database, created afresh for the session."""
    admin_url = parse_database_url(_postgresql_admin_url())
    if admin_url.get_backend_name() != "postgresql":
        pytest.fail(
            f"{POSTGRESQL_URL_VARIABLE} must be a PostgreSQL URL, e.g. {_POSTGRESQL_EXAMPLE}; "
            f"got {admin_url.render_as_string(hide_password=True)!r}",
            pytrace=False,
        )
    # "gw0", "gw1", … under pytest-xdist; one name when run without it.
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    # The process id too: two test runs at once on one server must not share (or drop) a database.
    name = f"mynapoint_test_{worker}_{os.getpid()}"
    admin = create_engine_for(admin_url.render_as_string(hide_password=False))
    admin = admin.execution_options(isolation_level="AUTOCOMMIT")

    def drop_database() -> None:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    drop_database()
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine = create_engine_for(
        admin_url.set(database=name).render_as_string(hide_password=False)
    ).execution_options(isolation_level="AUTOCOMMIT")
    try:
        yield engine
    finally:
        engine.dispose()
        drop_database()
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database, not yet migrated."""
    if request.param == "sqlite":
        return sqlite_url(tmp_path / "mynapoint.db")
    worker_engine: Engine = request.getfixturevalue("postgresql_worker_engine")
    schema = f"test_{next(_schema_numbers)}"
    with worker_engine.connect() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    # The schema first on the search path: unqualified names, alembic_version
    # included, land in it.
    url = worker_engine.url.update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_engine_for(database_url)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def migrated_engine(engine: Engine) -> Engine:
    upgrade(engine)
    return engine
