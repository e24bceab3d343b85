from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from mynapoint.db.engine import WRITE_LOCK
from mynapoint.db.tables import platform_clock

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.engine import Engine

_ROW_ID = 1


def anchor_clock(engine: Engine, start: datetime, real_now: datetime) -> tuple[datetime, datetime]:
    """Record (start, real_now) unless `start` is already recorded; return what is recorded.

    Every process on a database computes platform time from the same pair. A
    different start replaces the recorded one: a new start value means a new
    demo run. The write is one upsert, so processes anchoring at the same
    moment agree on whichever got in first.
    """
    values = {"id": _ROW_ID, "started_at": start, "recorded_real_at": real_now}
    insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
    statement = insert(platform_clock).values(values)
    upsert = statement.on_conflict_do_update(
        index_elements=[platform_clock.c.id],
        set_={
            "started_at": statement.excluded.started_at,
            "recorded_real_at": statement.excluded.recorded_real_at,
        },
        where=platform_clock.c.started_at != statement.excluded.started_at,
    )
    read = select(platform_clock.c.started_at, platform_clock.c.recorded_real_at).where(
        platform_clock.c.id == _ROW_ID
    )
    with engine.connect().execution_options(**{WRITE_LOCK: True}) as connection, connection.begin():
        connection.execute(upsert)
        row = connection.execute(read).one()
    return row.started_at, row.recorded_real_at
