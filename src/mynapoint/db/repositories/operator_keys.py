from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select, update

from mynapoint.db.tables import operator_keys
from mynapoint.domain.ledger import OperatorKey

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from sqlalchemy.engine import Connection, Row


class SqlOperatorKeyRepository:
    def __init__(self, connection: Callable[[], Connection]) -> None:
        self._connection = connection

    def add(self, key: OperatorKey) -> None:
        self._connection().execute(
            insert(operator_keys).values(
                key_id=key.key_id,
                operator_code=key.operator_code,
                secret_hash=key.secret_hash,
                created_at=key.created_at,
                revoked_at=key.revoked_at,
            )
        )

    def get(self, key_id: str) -> OperatorKey | None:
        query = select(operator_keys).where(operator_keys.c.key_id == key_id)
        row = self._connection().execute(query).one_or_none()
        return None if row is None else _key(row)

    def of_operator(self, operator_code: str) -> list[OperatorKey]:
        query = (
            select(operator_keys)
            .where(operator_keys.c.operator_code == operator_code)
            .order_by(operator_keys.c.created_at.desc(), operator_keys.c.key_id)
        )
        return [_key(row) for row in self._connection().execute(query)]

    def set_revoked_at(self, key_id: str, at: datetime) -> None:
        self._connection().execute(
            update(operator_keys).where(operator_keys.c.key_id == key_id).values(revoked_at=at)
        )


def _key(row: Row[Any]) -> OperatorKey:
    return OperatorKey(
        key_id=row.key_id,
        operator_code=row.operator_code,
        secret_hash=row.secret_hash,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )
