from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import insert, select

from mynapoint.db.tables import operator_keys
from mynapoint.domain.ledger import OperatorKey

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy.engine import Connection


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
        if row is None:
            return None
        return OperatorKey(
            key_id=row.key_id,
            operator_code=row.operator_code,
            secret_hash=row.secret_hash,
            created_at=row.created_at,
            revoked_at=row.revoked_at,
        )
