"""What the repositories write differently on SQLite and PostgreSQL, kept in one place."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final, TypeVar

from psycopg import sql
from sqlalchemy import String, any_, bindparam
from sqlalchemy.dialects import postgresql, sqlite

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence

    from sqlalchemy import ColumnElement, Select, Table
    from sqlalchemy.dialects.postgresql import Insert as PostgresqlInsert
    from sqlalchemy.dialects.sqlite import Insert as SqliteInsert
    from sqlalchemy.engine import Connection

T = TypeVar("T")

# Values per IN list. SQLite builds older than 3.32 allow 999 variables in a
# statement; psycopg allows 65,535 parameters, and fewer round trips matter more there.
IN_LIST_SIZES: Final = {"sqlite": 900, "postgresql": 10_000}


def dialect_insert(connection: Connection, table: Table) -> PostgresqlInsert | SqliteInsert:
    """An INSERT that can take ON CONFLICT clauses (both dialects spell them the same)."""
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def insert_skipping_conflicts(
    connection: Connection, table: Table
) -> PostgresqlInsert | SqliteInsert:
    """INSERT … ON CONFLICT DO NOTHING whose rowcount says how many rows were inserted.

    SQLAlchemy keeps an INSERT's rowcount only when asked (on PostgreSQL it is
    -1 otherwise); a conflict skipped counts 0.
    """
    return (
        dialect_insert(connection, table)
        .on_conflict_do_nothing()
        .execution_options(preserve_rowcount=True)
    )


def in_chunks(connection: Connection, values: Iterable[T]) -> Iterator[list[T]]:
    """The distinct values, in their first order, cut into IN lists the database accepts."""
    distinct = list(dict.fromkeys(values))
    size = IN_LIST_SIZES.get(connection.dialect.name, 900)
    for start in range(0, len(distinct), size):
        yield distinct[start : start + size]


def is_postgresql(connection: Connection) -> bool:
    return connection.dialect.name == "postgresql"


# From this many values on, PostgreSQL gets one array parameter instead of an IN list.
ARRAY_FROM: Final = 64


def matching(
    connection: Connection, column: ColumnElement[str], values: Iterable[str]
) -> Iterator[ColumnElement[bool]]:
    """`column IN values` as few conditions as the database allows, each for one statement.

    On PostgreSQL a long list becomes one `column = ANY(array)`: a single parameter,
    so the statement is compiled and parsed once whatever the count (an IN list of
    5,000 placeholders costs more to render and parse than to run). A short list
    stays an IN list, planned for its values: psycopg prepares a statement run often,
    and a generic plan made while a table was nearly empty (a scan) would then
    serve single-key lookups on a large table.
    """
    if is_postgresql(connection):
        distinct = list(dict.fromkeys(values))
        if len(distinct) >= ARRAY_FROM:
            array = bindparam("values", distinct, type_=postgresql.ARRAY(String), unique=True)
            yield column == any_(array)
            return
        values = distinct
    for chunk in in_chunks(connection, values):
        yield column.in_(chunk)


def copy_rows(
    connection: Connection,
    table: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
) -> None:
    """PostgreSQL only: `COPY table (columns) FROM STDIN` in the connection's transaction.

    The fastest way to write many rows: about twice the rate of an executemany.
    """
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    driver = connection.connection.driver_connection
    if driver is None:  # pragma: no cover - a checked-out connection has its driver's
        raise RuntimeError("the connection has no open driver connection")
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def tuples(connection: Connection, query: Select[Any]) -> Iterable[Sequence[Any]]:
    """The rows of a SELECT as plain tuples, for reads of many rows.

    On PostgreSQL they come straight from psycopg, without SQLAlchemy's Row objects
    and result processing: a timestamp column then holds an aware datetime in the
    session's time zone, so pass it through `utc` (what UtcDateTime would return).
    """
    if not is_postgresql(connection):
        return connection.execute(query)
    compiled = query.compile(
        dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
    )
    driver = connection.connection.driver_connection
    if driver is None:  # pragma: no cover - a checked-out connection has its driver's
        raise RuntimeError("the connection has no open driver connection")
    with driver.cursor() as cursor:
        cursor.execute(str(compiled), compiled.params)
        rows: list[tuple[Any, ...]] = cursor.fetchall()
    return rows


def utc(at: datetime) -> datetime:
    """An aware timestamp read from the database, in UTC (as UtcDateTime reads it)."""
    return at if at.tzinfo is UTC else at.astimezone(UTC)
