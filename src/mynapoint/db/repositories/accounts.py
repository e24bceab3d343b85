from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select, update

from mynapoint.db.repositories.statements import insert_skipping_conflicts
from mynapoint.db.tables import payment_accounts
from mynapoint.domain.accounts import ACCOUNT_CODE_TRIES, PaymentAccount

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from sqlalchemy import ColumnElement
    from sqlalchemy.engine import Connection


class SqlAccountRepository:
    def __init__(self, connection: Callable[[], Connection]) -> None:
        self._connection = connection

    def save(self, account: PaymentAccount, at: datetime) -> bool:
        """A replaced account keeps its first registered_at; its counter starts again at 0."""
        connection = self._connection()
        details = {
            "operator_code": account.operator_code,
            "holder_name": account.holder_name,
            "security_code_hash": account.security_code_hash,
            "wrong_codes": 0,
            "updated_at": at,
        }
        # Insert unless the row exists (an ON CONFLICT clause needs no savepoint
        # and waits for a concurrent insert of the same key), then replace it.
        inserted = connection.execute(
            insert_skipping_conflicts(connection, payment_accounts).values(
                service_code=account.service_code,
                payment_service_id=account.payment_service_id,
                registered_at=account.registered_at,
                **details,
            )
        ).rowcount
        if inserted == 1:
            return True
        connection.execute(
            update(payment_accounts)
            .where(_account_is(account.service_code, account.payment_service_id))
            .values(details)
        )
        return False

    def get(self, service_code: str, payment_service_id: str) -> PaymentAccount | None:
        return _read(self._connection(), service_code, payment_service_id)

    def record_code_attempt(
        self, service_code: str, payment_service_id: str, *, correct: bool
    ) -> PaymentAccount:
        connection = self._connection()
        # One UPDATE that reads and writes the counter, so concurrent attempts are
        # counted one after the other and never push it past ACCOUNT_CODE_TRIES; a
        # locked account matches no row and stays locked.
        connection.execute(
            update(payment_accounts)
            .where(
                _account_is(service_code, payment_service_id),
                payment_accounts.c.wrong_codes < ACCOUNT_CODE_TRIES,
            )
            .values(wrong_codes=0 if correct else payment_accounts.c.wrong_codes + 1)
        )
        account = _read(connection, service_code, payment_service_id)
        if account is None:
            raise LookupError(
                f"no account '{payment_service_id}' of service '{service_code}'; "
                "the operator registers an account before its code can be checked"
            )
        return account

    def unlock(self, service_code: str, payment_service_id: str) -> bool:
        statement = (
            update(payment_accounts)
            .where(_account_is(service_code, payment_service_id))
            .values(wrong_codes=0)
        )
        return self._connection().execute(statement).rowcount == 1


def _account_is(service_code: str, payment_service_id: str) -> ColumnElement[bool]:
    return (payment_accounts.c.service_code == service_code) & (
        payment_accounts.c.payment_service_id == payment_service_id
    )


def _read(
    connection: Connection, service_code: str, payment_service_id: str
) -> PaymentAccount | None:
    query = select(payment_accounts).where(_account_is(service_code, payment_service_id))
    row = connection.execute(query).one_or_none()
    if row is None:
        return None
    return PaymentAccount(
        service_code=row.service_code,
        payment_service_id=row.payment_service_id,
        operator_code=row.operator_code,
        holder_name=row.holder_name,
        security_code_hash=row.security_code_hash,
        registered_at=row.registered_at,
        wrong_codes=row.wrong_codes,
    )
