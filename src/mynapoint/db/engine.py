from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, InterfaceError, OperationalError

if TYPE_CHECKING:
    from sqlite3 import Connection as SQLiteConnection
    from sqlite3 import Cursor as SQLiteCursor

    from psycopg import Connection as PsycopgConnection
    from sqlalchemy.engine import Connection, Engine
    from sqlalchemy.pool import ConnectionPoolEntry

# Execution option for a transaction that will write. SQLite then starts it with
# BEGIN IMMEDIATE: a deferred transaction that reads first and writes later fails
# at once with "database is locked" when another writer got in between (WAL
# snapshot conflict), whereas IMMEDIATE waits for the busy timeout. PostgreSQL
# ignores it.
WRITE_LOCK: Final = "write_lock"

# Execution option for a connection that only reads: it runs without a transaction
# (AUTOCOMMIT), so PostgreSQL is spared the BEGIN and ROLLBACK round trips around its
# SELECTs (issue 13). Nothing is lost by it: at READ COMMITTED, PostgreSQL's level here,
# each statement of a transaction reads its own snapshot anyway, and a SELECT without
# FOR UPDATE takes no lock that a transaction would hold. Anything but a SELECT on such a
# connection is refused (_refuse_writes), so a write can never commit by itself there.
READ_ONLY: Final = "read_only"

SQLITE_BUSY_TIMEOUT_MS: Final = 15_000

# PostgreSQL connections kept per process, and how many more may open under a burst (closed
# again when returned). FastAPI runs up to 40 sync handlers at once in its thread pool: with
# SQLAlchemy's default 5 + 10, handlers queued for a connection and the 10 overflow ones were
# opened and closed per request (a new backend each time). Measured on 2 cores (issue 13):
# 20 + 20 serves GET /me and enrollment without connection churn or pool waits.
POOL_SIZE: Final = 20
MAX_OVERFLOW: Final = 20
# A pooled PostgreSQL connection older than this is closed and opened again at its next
# checkout, so that no connection outlives a load balancer's or a pooler's idle limit.
POOL_RECYCLE_SECONDS: Final = 1800
# No pool_pre_ping: it costs a round trip at every checkout (one in three of GET /me's,
# issue 13). A connection lost while pooled (PostgreSQL restarted, a failover) instead fails
# its first statement: SQLAlchemy sees the disconnect, invalidates every connection the pool
# opened before it, and the request is answered 503 unavailable (web/errors.py); the requests
# after it get new connections (tests/e2e/test_database_outage.py).
POOL_PRE_PING: Final = False

_DRIVERS: Final = {
    "sqlite": "sqlite+pysqlite",
    "sqlite+pysqlite": "sqlite+pysqlite",
    "postgres": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
    "postgresql+psycopg": "postgresql+psycopg",
}
_EXAMPLES: Final = "sqlite+pysqlite:////absolute/path.db or postgresql+psycopg://user@host:5432/db"


def parse_database_url(url: str) -> URL:
    """Accept SQLite and PostgreSQL (psycopg 3) URLs; a bare scheme gets the supported driver."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        # The value is left out: a malformed URL may still contain a password.
        raise ValueError(f"the database URL cannot be parsed; expected e.g. {_EXAMPLES}") from None
    driver = _DRIVERS.get(parsed.drivername)
    if driver is None:
        raise ValueError(
            f"database URL {parsed.render_as_string(hide_password=True)!r} uses "
            f"{parsed.drivername!r}; expected e.g. {_EXAMPLES}"
        )
    return parsed.set(drivername=driver)


def sqlite_url(path: Path) -> str:
    return f"sqlite+pysqlite:///{path.absolute()}"


class ReadOnlyViolation(RuntimeError):
    """A statement other than a SELECT was sent on a reading connection (a programming error)."""


def reading(engine: Engine) -> Connection:
    """A connection for reads only, outside any transaction (see READ_ONLY)."""
    return engine.connect().execution_options(isolation_level="AUTOCOMMIT", **{READ_ONLY: True})


def _refuse_writes(
    connection: Connection,
    _cursor: object,
    statement: str,
    _parameters: object,
    _context: object,
    _executemany: bool,  # noqa: FBT001 - SQLAlchemy's event signature
) -> None:
    if connection.get_execution_options().get(READ_ONLY) and not (
        statement.lstrip()[:6].upper() == "SELECT" and "FOR UPDATE" not in statement.upper()
    ):
        raise ReadOnlyViolation(
            "a reading connection (no transaction) was sent a statement other than a plain "
            f"SELECT: {statement.split(maxsplit=1)[0]!r}; use a unit of work that commits"
        )


def create_engine_for(
    url: str, *, pool_size: int = POOL_SIZE, max_overflow: int = MAX_OVERFLOW
) -> Engine:
    # hide_parameters: a database error's message (and so its log line) never shows the bound
    # values, which are payment service IDs, staff names, token hashes.
    parsed = parse_database_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _create_sqlite_engine(parsed)
    engine = create_engine(
        parsed,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_recycle=POOL_RECYCLE_SECONDS,
        pool_pre_ping=POOL_PRE_PING,
        hide_parameters=True,
    )
    event.listen(engine, "connect", _name_utc_utc)
    event.listen(engine, "before_cursor_execute", _refuse_writes)
    return engine


# Names PostgreSQL gives the zone UTC (e.g. "Etc/UTC", Debian's default).
_UTC_NAMES: Final = frozenset(
    {"UTC", "Etc/UTC", "UCT", "Etc/UCT", "Universal", "Etc/Universal", "Zulu", "Etc/Zulu"}
)


def _name_utc_utc(dbapi_connection: PsycopgConnection[Any], _record: ConnectionPoolEntry) -> None:
    # A session whose zone is UTC under another name is set to "UTC" itself, the same zone:
    # psycopg then returns timestamps with datetime.UTC, and db/repositories/statements.py
    # `tuples` need not SET LOCAL TIME ZONE (a round trip) in every transaction that reads
    # with it. Committed: the pool's rollback on return would undo it otherwise.
    if dbapi_connection.info.parameter_status("TimeZone") in _UTC_NAMES:
        dbapi_connection.execute("SET TIME ZONE 'UTC'")
        dbapi_connection.commit()


def _create_sqlite_engine(url: URL) -> Engine:
    database = url.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, hide_parameters=True)
    event.listen(engine, "connect", _configure_sqlite_connection)
    event.listen(engine, "checkout", _leave_transactions_to_sqlalchemy)
    event.listen(engine, "begin", _begin_sqlite_transaction)
    event.listen(engine, "before_cursor_execute", _refuse_writes)
    return engine


def _configure_sqlite_connection(
    dbapi_connection: SQLiteConnection, _record: ConnectionPoolEntry
) -> None:
    # sqlite3's legacy mode starts transactions only before DML, so SELECTs and
    # DDL would run outside them; we emit BEGIN ourselves instead (see below).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        # The busy timeout first: switching to WAL needs a lock another
        # connection may hold while it does the same.
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        _use_wal(cursor)
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _use_wal(cursor: SQLiteCursor) -> None:
    """Switch the database file to WAL once; later connections find it switched.

    SQLite answers "database is locked" at once, without waiting for the busy
    timeout, when the switch meets another connection's lock (processes that
    start together), so the switch is retried until the timeout.
    """
    if str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal":
        return
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL").fetchall()
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)
        else:
            return


def _leave_transactions_to_sqlalchemy(
    dbapi_connection: SQLiteConnection, _record: ConnectionPoolEntry, _proxy: object
) -> None:
    # A connection used with isolation_level="AUTOCOMMIT" comes back from the
    # pool's reset with sqlite3's legacy mode on again.
    dbapi_connection.isolation_level = None


def _begin_sqlite_transaction(connection: Connection) -> None:
    options = connection.get_execution_options()
    if options.get("isolation_level") == "AUTOCOMMIT":
        return
    connection.exec_driver_sql("BEGIN IMMEDIATE" if options.get(WRITE_LOCK) else "BEGIN")


def is_database_unavailable(exc: BaseException) -> bool:
    """A lost or refused database connection (a restart, a failover, SQLite busy past its
    timeout): the request did not happen or was rolled back, so the client may retry. A bug
    such as an IntegrityError is not one of these."""
    if isinstance(exc, OperationalError | InterfaceError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated
