from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from mynapoint.db.tables import mykey_reservations, mykeys
from mynapoint.domain.mykey import MyKey

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy.engine import Connection


class SqlMyKeyRepository:
    def __init__(self, connection: Callable[[], Connection]) -> None:
        self._connection = connection

    def for_person(self, person: str) -> MyKey | None:
        query = select(mykeys).where(mykeys.c.person == person)
        row = self._connection().execute(query).one_or_none()
        if row is None:
            return None
        return MyKey(mykey_id=row.mykey_id, person=row.person, created_at=row.created_at)

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
        statement = (
            update(mykey_reservations)
            .where(mykey_reservations.c.id == 1)
            .values(reserved=mykey_reservations.c.reserved + 1)
        )
        if frame is not None:
            statement = statement.where(mykey_reservations.c.reserved < frame)
        return self._connection().execute(statement).rowcount == 1
