from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from mynapoint.db.repositories.statements import Query, insert_skipping_conflicts, tuples
from mynapoint.db.tables import settlement_months

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from sqlalchemy.engine import Connection


class SqlSettlementRepository:
    def __init__(self, connection: Callable[[], Connection]) -> None:
        self._connection = connection

    def closed_months(self) -> set[str]:
        # Every application and re-evaluation reads this: a statement built and compiled once.
        return {month for (month,) in tuples(self._connection(), _CLOSED_MONTHS)}

    def close(self, month: str, at: datetime) -> bool:
        """False if the month was closed already; its first closing time stays."""
        connection = self._connection()
        statement = insert_skipping_conflicts(connection, settlement_months).values(
            month=month, closed_at=at
        )
        return connection.execute(statement).rowcount == 1


_CLOSED_MONTHS = Query(select(settlement_months.c.month))
