"""What the repositories write differently on SQLite and PostgreSQL, kept in one place."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final, TypeVar

from psycopg import sql
from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Integer,
    SmallInteger,
    String,
    TypeDecorator,
    any_,
    bindparam,
    func,
    literal,
)
from sqlalchemy.dialects import postgresql, sqlite

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence

    from sqlalchemy import Column, ColumnElement, Select, Table
    from sqlalchemy.dialects.postgresql import Insert as PostgresqlInsert
    from sqlalchemy.dialects.sqlite import Insert as SqliteInsert
    from sqlalchemy.engine import Connection
    from sqlalchemy.types import TypeEngine

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


# From this many values on, PostgreSQL gets one parameter instead of an IN list.
ARRAY_FROM: Final = 64
# Joins the values of that parameter: a control character no key in practice contains (a list
# where one does goes as an array parameter instead).
SEPARATOR: Final = "\x1f"


def matching(
    connection: Connection, column: ColumnElement[str], values: Iterable[str]
) -> Iterator[ColumnElement[bool]]:
    """`column IN values` as few conditions as the database allows, each for one statement.

    On PostgreSQL a long list becomes one `column = ANY(…)` with a single parameter,
    so the statement is compiled and parsed once whatever the count (an IN list of
    5,000 placeholders costs more to render and parse than to run). The parameter is
    the values joined into one string and split by the server: psycopg dumps a list of
    5,000 strings as an array about ten times slower. A short list stays an IN list,
    planned for its values: psycopg prepares a statement run often, and a generic plan
    made while a table was nearly empty (a scan) would then serve single-key lookups on
    a large table.
    """
    if is_postgresql(connection):
        distinct = dict.fromkeys(values)
        if len(distinct) >= ARRAY_FROM:
            yield column == any_(_text_array(list(distinct)))
            return
        values = distinct
    for chunk in in_chunks(connection, values):
        yield column.in_(chunk)


def _text_array(values: list[str]) -> ColumnElement[Any]:
    """PostgreSQL: the values as one text[] expression with a single parameter."""
    joined = SEPARATOR.join(values)
    if "" in values or joined.count(SEPARATOR) != len(values) - 1:
        return bindparam("values", values, type_=postgresql.ARRAY(String), unique=True)
    return func.string_to_array(
        bindparam("joined", joined, type_=String, unique=True),
        literal(SEPARATOR, String),
        type_=postgresql.ARRAY(String),
    )


def copy_rows(
    connection: Connection,
    into: str,
    columns: Sequence[Column[Any]],
    rows: Iterable[Sequence[Any]],
) -> None:
    """PostgreSQL only: `COPY into (columns) FROM STDIN` in the connection's transaction.

    The fastest way to write many rows: about twice the rate of an executemany. Binary
    format with each column's type stated, so psycopg dumps every value in C: several
    times faster than the text format, whose datetimes and integers it formats in Python.
    """
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
        sql.Identifier(into), sql.SQL(", ").join(sql.Identifier(c.name) for c in columns)
    )
    driver = connection.connection.driver_connection
    if driver is None:  # pragma: no cover - a checked-out connection has its driver's
        raise RuntimeError("the connection has no open driver connection")
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        copy.set_types([_copy_type(column) for column in columns])
        for row in rows:
            copy.write_row(row)


def _copy_type(column: Column[Any]) -> str:
    """The PostgreSQL type name binary COPY sends the column's values as."""
    kind: TypeEngine[Any] = column.type
    if isinstance(kind, TypeDecorator):
        kind = kind.impl_instance
    if isinstance(kind, DateTime):
        return "timestamptz" if kind.timezone else "timestamp"
    # Subclasses before their base classes.
    for python_type, name in (
        (BigInteger, "int8"),
        (SmallInteger, "int2"),
        (Integer, "int4"),
        (Boolean, "bool"),
        (Date, "date"),
        (String, "text"),
    ):
        if isinstance(kind, python_type):
            return name
    raise TypeError(f"no COPY type for column {column.name!r} of type {kind!r}")


def tuples(connection: Connection, query: Select[Any]) -> Iterable[Sequence[Any]]:
    """The rows of a SELECT as plain tuples, for reads of many rows.

    On PostgreSQL they come straight from psycopg, without SQLAlchemy's Row objects
    and result processing: a timestamp column then holds an aware datetime in the
    session's time zone, so pass it through `utc` (what UtcDateTime would return).
    The transaction's time zone is set to UTC first, so that `utc` finds nothing to
    convert: psycopg gives datetime.UTC for "UTC", and for the server's usual
    "Etc/UTC" a ZoneInfo, whose conversions cost several times more.
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
        if driver.info.parameter_status("TimeZone") != "UTC":
            # Until the transaction ends; timestamptz values and comparisons do not change.
            cursor.execute("SET LOCAL TIME ZONE 'UTC'")
        cursor.execute(str(compiled), compiled.params)
        rows: list[tuple[Any, ...]] = cursor.fetchall()
    return rows


def utc(at: datetime) -> datetime:
    """An aware timestamp read from the database, in UTC (as UtcDateTime reads it)."""
    return at if at.tzinfo is UTC else at.astimezone(UTC)
