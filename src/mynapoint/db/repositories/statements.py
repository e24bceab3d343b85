"""What the repositories write differently on SQLite and PostgreSQL, kept in one place."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, TypeVar

from sqlalchemy.dialects import postgresql, sqlite

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from sqlalchemy import Table
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
