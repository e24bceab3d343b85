"""Changing audit rows behind the platform's back, as the tables' owner can.

The tables refuse UPDATE and DELETE (migration 0009's triggers), even from their owner;
the owner can still drop the triggers first, and that is the attack these tests play:
what the chain and the signed heads must then still show.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine
    from sqlalchemy.sql.expression import Executable

APPEND_ONLY = ("audit_log", "audit_heads")


def drop_append_only_triggers(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        for table in APPEND_ONLY:
            connection.exec_driver_sql(f"DROP TRIGGER {table}_append_only ON {table}")
        return
    for table in APPEND_ONLY:
        for verb in ("update", "delete"):
            connection.exec_driver_sql(f"DROP TRIGGER {table}_no_{verb}")


def tamper(engine: Engine, *statements: Executable | str) -> None:
    """Drop the triggers and change rows with plain SQL, in one transaction."""
    with engine.begin() as connection:
        drop_append_only_triggers(connection)
        for statement in statements:
            if isinstance(statement, str):
                connection.exec_driver_sql(statement)
            else:
                connection.execute(statement)
