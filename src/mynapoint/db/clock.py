"""The platform clock's anchor: one row, the (start, real time) pair every process reads."""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from mynapoint.db.engine import WRITE_LOCK, reading
from mynapoint.db.tables import platform_clock
from mynapoint.services.clock import AnchorUnreadable, ClockAnchor

if TYPE_CHECKING:
    from collections.abc import Iterator
    from datetime import datetime

    from sqlalchemy.engine import Connection, Engine

_ROW_ID = 1


def read_anchor(engine: Engine) -> ClockAnchor | None:
    """The recorded pair; None while the database runs on real time."""
    try:
        # One SELECT, without a transaction: every process re-reads it every few seconds.
        with reading(engine) as connection:
            return _recorded(connection)
    except SQLAlchemyError as exc:
        raise AnchorUnreadable(f"cannot read the recorded anchor: {type(exc).__name__}") from exc


def anchor_clock(engine: Engine, start: datetime, real_now: datetime) -> ClockAnchor:
    """Record (start, real_now) unless a pair is recorded already; return the recorded pair.

    A recorded pair wins over any later start: a process given another start (a stale
    MYNAPOINT_CLOCK_START) must not move the clock under the processes already running on
    it. `set_clock` moves it on purpose. The write is one insert that does nothing on a
    conflict, so processes anchoring at the same moment agree on whichever got in first.
    """
    insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
    statement = insert(platform_clock).values(
        id=_ROW_ID, started_at=start, recorded_real_at=real_now
    )
    with _writing(engine) as connection:
        connection.execute(statement.on_conflict_do_nothing(index_elements=[platform_clock.c.id]))
        recorded = _recorded(connection)
    assert recorded is not None  # noqa: S101 - written or found in this transaction
    return recorded


def set_clock(engine: Engine, start: datetime, real_now: datetime) -> ClockAnchor:
    """Restart platform time at `start` from now (`mynapoint clock set`): a new demo run."""
    with _writing(engine) as connection:
        connection.execute(delete(platform_clock))
        connection.execute(
            platform_clock.insert().values(id=_ROW_ID, started_at=start, recorded_real_at=real_now)
        )
        recorded = _recorded(connection)
    assert recorded is not None  # noqa: S101 - written in this transaction
    return recorded


def clear_clock(engine: Engine) -> None:
    """Forget the recorded pair: the database runs on real time (`mynapoint clock clear`)."""
    with _writing(engine) as connection:
        connection.execute(delete(platform_clock))


@contextmanager
def _writing(engine: Engine) -> Iterator[Connection]:
    """One write transaction, committed when the block ends without an error."""
    with (
        engine.connect().execution_options(**{WRITE_LOCK: True}) as connection,
        connection.begin(),
    ):
        yield connection


def _recorded(connection: Connection) -> ClockAnchor | None:
    row = connection.execute(
        select(platform_clock.c.started_at, platform_clock.c.recorded_real_at).where(
            platform_clock.c.id == _ROW_ID
        )
    ).one_or_none()
    return None if row is None else ClockAnchor(row.started_at, row.recorded_real_at)
