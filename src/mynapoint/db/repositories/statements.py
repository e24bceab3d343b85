"""What the repositories write differently on SQLite and PostgreSQL, kept in one place."""

from __future__ import annotations

from collections import OrderedDict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final, TypeVar

import psycopg
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
from sqlalchemy.exc import StatementError

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping, Sequence

    from sqlalchemy import Column, ColumnElement, Select, Table
    from sqlalchemy.dialects.postgresql import Insert as PostgresqlInsert
    from sqlalchemy.dialects.sqlite import Insert as SqliteInsert
    from sqlalchemy.engine import Connection, Dialect
    from sqlalchemy.sql.compiler import ExpandedState, SQLCompiler
    from sqlalchemy.sql.dml import UpdateBase
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


class Query:
    """A statement built once (its values as named `bindparam`s), compiled once per database.

    For the reads and writes every request makes: building a statement and compiling it
    cost more than running it (issue 13). Run a SELECT with `tuples(connection, query,
    values)`, an INSERT, UPDATE or DELETE with `written` or `returned`.
    """

    __slots__ = ("_compiled", "_plain", "statement")

    def __init__(self, statement: Select[Any] | UpdateBase) -> None:
        self.statement = statement
        self._compiled: dict[Dialect, SQLCompiler] = {}
        # Per dialect, for a statement without IN lists to render: its SQL and the values
        # built into it, so that a call only adds its own values (no SQLAlchemy at all).
        self._plain: dict[Dialect, tuple[str, dict[str, Any]]] = {}

    def compiled(self, dialect: Dialect) -> SQLCompiler:
        compiled = self._compiled.get(dialect)
        if compiled is None:
            compiled = self._compiled[dialect] = dialect.statement_compiler(dialect, self.statement)
        return compiled

    def sql(
        self, dialect: Dialect, values: Mapping[str, Any] | None
    ) -> tuple[str, Mapping[str, Any]]:
        """The SQL and parameters for these values, as psycopg takes them."""
        plain = self._plain.get(dialect)
        if plain is not None:
            statement, built_in = plain
            return statement, {**built_in, **values} if values else built_in
        compiled = self.compiled(dialect)
        expanded = compiled.construct_expanded_state(values)
        given = values or {}
        if (
            expanded.statement == compiled.string
            and not compiled.escaped_bind_names
            and all(name in expanded.parameters for name in given)
        ):
            built_in = {k: v for k, v in expanded.parameters.items() if k not in given}
            self._plain[dialect] = (expanded.statement, built_in)
        return expanded.statement, expanded.parameters


# Statements compiled for `tuples`, by dialect and shape (SQLAlchemy's cache key: the
# statement without its values). Bounded: the repositories build a few dozen shapes.
COMPILED_CACHE_SIZE: Final = 500
_compiled_by_shape: OrderedDict[tuple[Dialect, Any], SQLCompiler] = OrderedDict()


def tuples(
    connection: Connection,
    query: Select[Any] | Query,
    values: Mapping[str, Any] | None = None,
) -> Sequence[Sequence[Any]]:
    """The rows of a SELECT as plain tuples, for reads of many rows and for hot reads.

    `values` are those of a `Query`'s bindparams, by name; they reach the driver as they
    are (no type's bind processing), as do the values built into a Select.

    On PostgreSQL they come straight from psycopg, without SQLAlchemy's Row objects
    and result processing: a timestamp column then holds an aware datetime in the
    session's time zone, so pass it through `utc` (what UtcDateTime would return).
    The transaction's time zone is set to UTC first, so that `utc` finds nothing to
    convert: psycopg gives datetime.UTC for "UTC", and for the server's usual
    "Etc/UTC" a ZoneInfo, whose conversions cost several times more. The statement is
    compiled once per shape (`Query`, or a Select's cache key) and its values put in
    for each call; IN lists are rendered for their length then.
    """
    if not is_postgresql(connection):
        statement = query.statement if isinstance(query, Query) else query
        return connection.execute(statement, dict(values or {})).all()
    dialect = connection.dialect
    if isinstance(query, Query):
        return _fetch(connection, *query.sql(dialect, values))
    if values:
        raise TypeError("values go with a Query; a Select carries its own")
    expanded = _expanded(dialect, query)
    return _fetch(connection, expanded.statement, expanded.parameters)


def written(connection: Connection, query: Query, values: Mapping[str, Any]) -> int:
    """Run a write built once (`Query` of an INSERT, UPDATE or DELETE): the rows it changed.

    Unlike `tuples`, the values go through their columns' types (UtcDateTime refuses a naive
    datetime and writes UTC), as SQLAlchemy's own execute would put them.
    """
    if not is_postgresql(connection):
        return connection.execute(query.statement, dict(values)).rowcount
    return _run(connection, *_written_sql(connection.dialect, query, values), fetch=False)[0]


def returned(
    connection: Connection, query: Query, values: Mapping[str, Any]
) -> Sequence[Sequence[Any]]:
    """Run a write built once with RETURNING: the rows it returned, as `tuples` reads them
    (on PostgreSQL a timestamp comes back as psycopg gives it: pass it through `utc`)."""
    if not is_postgresql(connection):
        return connection.execute(query.statement, dict(values)).all()
    return _run(connection, *_written_sql(connection.dialect, query, values), fetch=True)[1]


def _written_sql(
    dialect: Dialect, query: Query, values: Mapping[str, Any]
) -> tuple[str, Mapping[str, Any]]:
    statement, parameters = query.sql(dialect, values)
    processors = query.compiled(dialect)._bind_processors  # noqa: SLF001 - the types' own
    processed = dict(parameters)
    try:
        for name, value in parameters.items():
            processor = processors.get(name)
            if callable(processor) and value is not None:
                processed[name] = processor(value)
    except (ValueError, TypeError) as error:
        # As SQLAlchemy reports a value its type refuses.
        raise StatementError(str(error), statement, parameters, error) from error
    return statement, processed


def _expanded(dialect: Dialect, query: Select[Any]) -> ExpandedState:
    key = query._generate_cache_key()  # noqa: SLF001 - SQLAlchemy's own cache key, as its cache
    if key is None:  # pragma: no cover - a construct SQLAlchemy does not cache
        return dialect.statement_compiler(dialect, query).construct_expanded_state()
    shape = (dialect, key.key)
    compiled: SQLCompiler | None = _compiled_by_shape.get(shape)
    if compiled is None:
        compiled = dialect.statement_compiler(dialect, query, cache_key=key)
        _compiled_by_shape[shape] = compiled
        if len(_compiled_by_shape) > COMPILED_CACHE_SIZE:
            _compiled_by_shape.popitem(last=False)
    # This call's values, in the places the cached compilation gave their shape's.
    values = compiled.construct_params(extracted_parameters=key.bindparams, escape_names=False)
    return compiled.construct_expanded_state(values)


def _fetch(
    connection: Connection, statement: str, parameters: Mapping[str, Any]
) -> list[tuple[Any, ...]]:
    return _run(connection, statement, parameters, fetch=True)[1]


def _run(
    connection: Connection, statement: str, parameters: Mapping[str, Any], *, fetch: bool
) -> tuple[int, list[tuple[Any, ...]]]:
    driver = connection.connection.driver_connection
    if driver is None:  # pragma: no cover - a checked-out connection has its driver's
        raise RuntimeError("the connection has no open driver connection")
    cursor = None
    try:
        with driver.cursor() as cursor:
            if driver.info.parameter_status("TimeZone") != "UTC":
                # Until the transaction ends; timestamptz values and comparisons do not change.
                cursor.execute("SET LOCAL TIME ZONE 'UTC'")
            # The engine's listeners see this statement as they see SQLAlchemy's own: the
            # reading connections' guard (db/engine.py), tests counting statements.
            for listener in connection.dispatch.before_cursor_execute:
                statement, parameters = listener(
                    connection,
                    cursor,
                    statement,
                    parameters,
                    None,
                    False,  # noqa: FBT003 - the event's signature
                )
            cursor.execute(statement, parameters)
            rows: list[tuple[Any, ...]] = cursor.fetchall() if fetch else []
            rowcount = cursor.rowcount
    except psycopg.Error as error:
        # As SQLAlchemy answers its own statements' errors: wrapped in its DBAPIError
        # classes (web/errors.py answers a lost connection 503), and on a disconnect every
        # pooled connection of that time invalidated.
        connection._handle_dbapi_exception(error, statement, parameters, cursor, None)  # noqa: SLF001
    return rowcount, rows


def utc(at: datetime) -> datetime:
    """An aware timestamp read from the database, in UTC (as UtcDateTime reads it)."""
    return at if at.tzinfo is UTC else at.astimezone(UTC)
