from __future__ import annotations

import random
from typing import TYPE_CHECKING, Final

from sqlalchemy import BigInteger, bindparam, case, exists, func, select, update
from sqlalchemy.dialects import postgresql

from mynapoint.db.repositories.statements import Query, tuples, utc, written
from mynapoint.db.tables import mykey_reservation_shards, mykeys
from mynapoint.domain.mykey import RESERVATION_SHARDS, MyKey, shard_capacity

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy import ColumnElement
    from sqlalchemy.engine import Connection

# Which shard to try: spreading the load, not a secret.
_shuffle = random.SystemRandom()
_shards = mykey_reservation_shards.c
_FOR_PERSON = Query(
    select(mykeys.c.mykey_id, mykeys.c.created_at).where(mykeys.c.person == bindparam("person"))
)


class SqlMyKeyRepository:
    def __init__(self, connection: Callable[[], Connection]) -> None:
        self._connection = connection

    def for_person(self, person: str) -> MyKey | None:
        for mykey_id, created_at in tuples(self._connection(), _FOR_PERSON, {"person": person}):
            return MyKey(mykey_id=mykey_id, person=person, created_at=utc(created_at))
        return None

    def add(self, mykey: MyKey) -> bool:
        # The unique constraints on person and mykey_id decide between concurrent
        # requests; a refused insert changes nothing and the rest of the unit of work can
        # still commit (ON CONFLICT DO NOTHING: no savepoint and its two round trips).
        values = {"mykey_id": mykey.mykey_id, "person": mykey.person, "at": mykey.created_at}
        return written(self._connection(), _ADD, values) == 1

    def count(self) -> int:
        return self._connection().execute(select(func.count()).select_from(mykeys)).scalar_one()

    def reserve(self, frame: int | None) -> bool:
        """R17, exact without one row that every reservation waits on: see the table's comment.

        Whenever no shard holds more than its share of `frame`, a shard below its share gives
        a place in one UPDATE, and the sum cannot pass the frame. A shard holds more than its
        share only after the frame became smaller than the reservations spread over the
        shards (a new, smaller frame): then every shard is locked and the sum is compared with
        the frame, one reservation at a time, as the single counter did before.
        """
        connection = self._connection()
        first = _shuffle.randrange(RESERVATION_SHARDS)
        if frame is None:
            # No frame: counted all the same, so that a later frame starts from the truth.
            written(connection, _INCREMENT, {"which": first})
            return True
        if self._take(first, frame):
            return True
        rows = connection.execute(select(_shards.shard, _shards.reserved)).all()
        if any(reserved > shard_capacity(frame, shard) for shard, reserved in rows):
            return self._take_counting_all(frame)
        with_room = [
            shard
            for shard, reserved in rows
            if reserved < shard_capacity(frame, shard) and shard != first
        ]
        # A shard full now stays full (the rows read are committed counts, which only grow),
        # so only the others are tried, in random order: refused only when every one is full.
        return any(self._take(shard, frame) for shard in _shuffle.sample(with_room, len(with_room)))

    def _take(self, shard: int, frame: int) -> bool:
        base, extra = divmod(frame, RESERVATION_SHARDS)
        values = {
            "which": shard,
            "capacity": shard_capacity(frame, shard),
            "base": base,
            "extra": extra,
        }
        return written(self._connection(), _TAKE, values) == 1

    def _take_counting_all(self, frame: int) -> bool:
        connection = self._connection()
        rows = connection.execute(
            select(_shards.shard, _shards.reserved).order_by(_shards.shard).with_for_update()
        ).all()
        if sum(reserved for _, reserved in rows) >= frame:
            return False
        emptiest = min(rows, key=lambda row: row.reserved).shard
        written(connection, _INCREMENT, {"which": emptiest})
        return True


# Every new MyKey ID runs these: statements built and compiled once. ON CONFLICT DO NOTHING
# compiles the same on SQLite.
_ADD = Query(
    postgresql.insert(mykeys)
    .values(mykey_id=bindparam("mykey_id"), person=bindparam("person"), created_at=bindparam("at"))
    .on_conflict_do_nothing()
    .execution_options(preserve_rowcount=True)
)
_INCREMENT_ANY: Final = (
    update(mykey_reservation_shards)
    # Not named as a column: SQLite's execute would take that for a value to SET.
    .where(_shards.shard == bindparam("which"))
    .values(reserved=_shards.reserved + 1)
)
_INCREMENT = Query(_INCREMENT_ANY)


def _shards_over_their_share() -> ColumnElement[bool]:
    """A shard holding more than its share of the frame: `base` places each, one more for
    the shards numbered below `extra` (divmod(frame, RESERVATION_SHARDS))."""
    other = mykey_reservation_shards.alias("other")
    share = bindparam("base", type_=BigInteger) + case(
        (other.c.shard < bindparam("extra"), 1), else_=0
    )
    return other.c.reserved > share


_TAKE = Query(
    _INCREMENT_ANY.where(
        _shards.reserved < bindparam("capacity"), ~exists().where(_shards_over_their_share())
    )
)
