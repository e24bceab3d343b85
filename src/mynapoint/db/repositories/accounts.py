from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import bindparam, case, delete, func, literal, or_, select, update

from mynapoint.db.repositories.statements import (
    Query,
    insert_skipping_conflicts,
    tuples,
    utc,
)
from mynapoint.db.tables import account_code_tries, payment_accounts
from mynapoint.db.types import UtcDateTime
from mynapoint.domain.accounts import ACCOUNT_CODE_TRIES, CODE_TRIES_KEPT, CodeTries, PaymentAccount

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from sqlalchemy import ColumnElement
    from sqlalchemy.engine import Connection


class SqlAccountRepository:
    def __init__(self, connection: Callable[[], Connection]) -> None:
        self._connection = connection

    def save(self, account: PaymentAccount, at: datetime) -> bool:
        """A replaced account keeps its first registered_at; every person's tries start again."""
        connection = self._connection()
        details = {
            "operator_code": account.operator_code,
            "holder_name": account.holder_name,
            "security_code_hash": account.security_code_hash,
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
        self.unlock(account.service_code, account.payment_service_id)
        return False

    def count_by_service(self, operator_code: str) -> dict[str, int]:
        query = (
            select(payment_accounts.c.service_code, func.count())
            .where(payment_accounts.c.operator_code == operator_code)
            .group_by(payment_accounts.c.service_code)
        )
        return {str(row[0]): int(row[1]) for row in self._connection().execute(query)}

    def get(self, service_code: str, payment_service_id: str) -> PaymentAccount | None:
        # Every preview and application reads this: a statement built and compiled once.
        values = {"service_code": service_code, "account": payment_service_id}
        for operator_code, holder_name, code_hash, registered_at in tuples(
            self._connection(), _ACCOUNT, values
        ):
            return PaymentAccount(
                service_code=service_code,
                payment_service_id=payment_service_id,
                operator_code=operator_code,
                holder_name=holder_name,
                security_code_hash=code_hash,
                registered_at=utc(registered_at),
            )
        return None

    def replace_code_hash(
        self, service_code: str, payment_service_id: str, old: str, new: str
    ) -> bool:
        # Conditional: an operator's re-registration at the same moment keeps its new code.
        statement = (
            update(payment_accounts)
            .where(
                _account_is(service_code, payment_service_id),
                payment_accounts.c.security_code_hash == old,
            )
            .values(security_code_hash=new)
        )
        return self._connection().execute(statement).rowcount == 1

    def code_tries(
        self, person: str, service_code: str, payment_service_id: str
    ) -> CodeTries | None:
        return _read_tries(self._connection(), person, service_code, payment_service_id)

    def record_wrong_code(
        self,
        person: str,
        service_code: str,
        payment_service_id: str,
        *,
        at: datetime,
        lock_until: datetime,
    ) -> CodeTries:
        connection = self._connection()
        tries = account_code_tries.c
        inserted = connection.execute(
            insert_skipping_conflicts(connection, account_code_tries).values(
                service_code=service_code,
                payment_service_id=payment_service_id,
                person=person,
                wrong_codes=1,
                last_wrong_at=at,
                locked_until=lock_until if ACCOUNT_CODE_TRIES == 1 else None,
            )
        ).rowcount
        if inserted != 1:
            # One UPDATE reads and writes the counter, so concurrent wrong codes are counted
            # one after the other and never pass ACCOUNT_CODE_TRIES; a live lock matches no
            # row and stays as it is. Tries whose lock ended, or too old to count, start again.
            stale = or_(
                tries.locked_until.is_not(None), tries.last_wrong_at <= at - CODE_TRIES_KEPT
            )
            counted = case((stale, 1), else_=tries.wrong_codes + 1)
            connection.execute(
                update(account_code_tries)
                .where(
                    _tries_of(person, service_code, payment_service_id),
                    or_(tries.locked_until.is_(None), tries.locked_until <= at),
                )
                .values(
                    wrong_codes=counted,
                    last_wrong_at=at,
                    locked_until=case(
                        (counted >= ACCOUNT_CODE_TRIES, literal(lock_until, UtcDateTime())),
                        else_=None,
                    ),
                )
            )
        found = _read_tries(connection, person, service_code, payment_service_id)
        if found is None:
            raise LookupError("the tries just counted are gone; a purge ran in between")
        return found

    def forget_code_tries(
        self, person: str, service_code: str, payment_service_id: str, at: datetime
    ) -> None:
        tries = account_code_tries.c
        self._connection().execute(
            delete(account_code_tries).where(
                _tries_of(person, service_code, payment_service_id),
                or_(tries.locked_until.is_(None), tries.locked_until <= at),
            )
        )

    def unlock(self, service_code: str, payment_service_id: str) -> int:
        statement = delete(account_code_tries).where(
            (account_code_tries.c.service_code == service_code)
            & (account_code_tries.c.payment_service_id == payment_service_id)
        )
        return self._connection().execute(statement).rowcount

    def purge_code_tries(self, now: datetime) -> int:
        tries = account_code_tries.c
        statement = delete(account_code_tries).where(
            or_(
                tries.locked_until <= now,
                tries.locked_until.is_(None) & (tries.last_wrong_at <= now - CODE_TRIES_KEPT),
            )
        )
        return self._connection().execute(statement).rowcount


def _account_is(service_code: str, payment_service_id: str) -> ColumnElement[bool]:
    return (payment_accounts.c.service_code == service_code) & (
        payment_accounts.c.payment_service_id == payment_service_id
    )


def _tries_of(person: str, service_code: str, payment_service_id: str) -> ColumnElement[bool]:
    tries = account_code_tries.c
    return (
        (tries.service_code == service_code)
        & (tries.payment_service_id == payment_service_id)
        & (tries.person == person)
    )


def _read_tries(
    connection: Connection, person: str, service_code: str, payment_service_id: str
) -> CodeTries | None:
    values = {"person": person, "service_code": service_code, "account": payment_service_id}
    for wrong_codes, last_wrong_at, locked_until in tuples(connection, _TRIES, values):
        return CodeTries(
            wrong_codes=wrong_codes,
            last_wrong_at=utc(last_wrong_at),
            locked_until=None if locked_until is None else utc(locked_until),
        )
    return None


_ACCOUNT = Query(
    select(
        payment_accounts.c.operator_code,
        payment_accounts.c.holder_name,
        payment_accounts.c.security_code_hash,
        payment_accounts.c.registered_at,
    ).where(
        payment_accounts.c.service_code == bindparam("service_code"),
        payment_accounts.c.payment_service_id == bindparam("account"),
    )
)
# Every application and preview reads this: a statement built and compiled once.
_TRIES = Query(
    select(
        account_code_tries.c.wrong_codes,
        account_code_tries.c.last_wrong_at,
        account_code_tries.c.locked_until,
    ).where(
        account_code_tries.c.service_code == bindparam("service_code"),
        account_code_tries.c.payment_service_id == bindparam("account"),
        account_code_tries.c.person == bindparam("person"),
    )
)
