from __future__ import annotations

import random
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, case, exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from mynapoint.db.repositories.statements import Query, tuples, utc
from mynapoint.db.tables import mykey_reservation_shards, mykeys
from mynapoint.domain.mykey import RESERVATION_SHARDS, MyKey, shard_capacity

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy import ColumnElement, Update
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
        connection = self._connection()
        # The unique constraints on person and mykey_id decide between concurrent
        # requests. The savepoint confines a refused insert, so the rest of the
        # unit of work can still commit (PostgreSQL aborts the whole transaction
        # after an error otherwise).
        try:
            with connection.begin_nested():
                connection.execute(
                    insert(mykeys).values(
                        mykey_id=mykey.mykey_id, person=mykey.person, created_at=mykey.created_at
                    )
                )
        except IntegrityError:
            return False
        return True

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
            connection.execute(_increment(first))
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
        statement = _increment(shard).where(
            _shards.reserved < shard_capacity(frame, shard),
            ~exists().where(_shards_over_their_share(frame)),
        )
        return self._connection().execute(statement).rowcount == 1

    def _take_counting_all(self, frame: int) -> bool:
        connection = self._connection()
        rows = connection.execute(
            select(_shards.shard, _shards.reserved).order_by(_shards.shard).with_for_update()
        ).all()
        if sum(reserved for _, reserved in rows) >= frame:
            return False
        emptiest = min(rows, key=lambda row: row.reserved).shard
        connection.execute(_increment(emptiest))
        return True


def _increment(shard: int) -> Update:
    return (
        update(mykey_reservation_shards)
        .where(_shards.shard == shard)
        .values(reserved=_shards.reserved + 1)
    )


def _shards_over_their_share(frame: int) -> ColumnElement[bool]:
    other = mykey_reservation_shards.alias("other")
    base, extra = divmod(frame, RESERVATION_SHARDS)
    share = base + case((other.c.shard < extra, 1), else_=0)
    return other.c.reserved > share
