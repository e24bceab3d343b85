from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from mynapoint.db.tables import staff_accounts, staff_sessions
from mynapoint.domain.staff import Role, StaffAccount, StaffSession

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from sqlalchemy.engine import Connection, Row


class SqlStaffRepository:
    def __init__(self, connection: Callable[[], Connection]) -> None:
        self._connection = connection

    def add(self, account: StaffAccount) -> bool:
        connection = self._connection()
        # The primary key decides between two accounts added with one name at once; the
        # savepoint keeps the rest of the unit of work usable on PostgreSQL.
        try:
            with connection.begin_nested():
                connection.execute(
                    insert(staff_accounts).values(
                        name=account.name,
                        role=account.role.value,
                        corner=account.corner,
                        city=account.city,
                        operator=account.operator,
                        disabled_at=account.created_at if account.disabled else None,
                        password_hash=account.password_hash,
                        first_sign_in_pending=account.must_change_password,
                        created_at=account.created_at,
                        updated_at=account.created_at,
                    )
                )
        except IntegrityError:
            return False
        return True

    def get(self, name: str) -> StaffAccount | None:
        row = (
            self._connection()
            .execute(select(staff_accounts).where(staff_accounts.c.name == name))
            .one_or_none()
        )
        return None if row is None else _account(row)

    def set_password(
        self, name: str, password_hash: str, *, must_change: bool, at: datetime
    ) -> None:
        self._connection().execute(
            update(staff_accounts)
            .where(staff_accounts.c.name == name)
            .values(password_hash=password_hash, first_sign_in_pending=must_change, updated_at=at)
        )

    def set_disabled(self, name: str, *, disabled: bool, at: datetime) -> None:
        self._connection().execute(
            update(staff_accounts)
            .where(staff_accounts.c.name == name)
            .values(disabled_at=at if disabled else None, updated_at=at)
        )

    def listed(self, corner: str | None) -> list[StaffAccount]:
        query = select(staff_accounts).order_by(staff_accounts.c.name)
        if corner is not None:
            query = query.where(staff_accounts.c.corner == corner)
        return [_account(row) for row in self._connection().execute(query)]


class SqlStaffSessionRepository:
    def __init__(self, connection: Callable[[], Connection]) -> None:
        self._connection = connection

    def add(self, session: StaffSession) -> None:
        self._connection().execute(
            insert(staff_sessions).values(
                token_hash=session.token_hash,
                staff=session.staff,
                created_at=session.created_at,
                last_seen_at=session.last_seen_at,
                expires_at=session.expires_at,
                ended_at=session.ended_at,
            )
        )

    def get(self, token_hash: str) -> StaffSession | None:
        row = (
            self._connection()
            .execute(select(staff_sessions).where(staff_sessions.c.token_hash == token_hash))
            .one_or_none()
        )
        if row is None:
            return None
        return StaffSession(
            token_hash=row.token_hash,
            staff=row.staff,
            created_at=row.created_at,
            last_seen_at=row.last_seen_at,
            expires_at=row.expires_at,
            ended_at=row.ended_at,
        )

    def touch(self, token_hash: str, at: datetime) -> None:
        self._connection().execute(
            update(staff_sessions)
            .where(
                staff_sessions.c.token_hash == token_hash,
                staff_sessions.c.ended_at.is_(None),
                staff_sessions.c.last_seen_at < at,
            )
            .values(last_seen_at=at)
        )

    def end(self, token_hash: str, at: datetime) -> None:
        self._connection().execute(
            update(staff_sessions)
            .where(staff_sessions.c.token_hash == token_hash, staff_sessions.c.ended_at.is_(None))
            .values(ended_at=at)
        )

    def purge(self, before: datetime, idle_since: datetime) -> int:
        sessions = staff_sessions.c
        statement = delete(staff_sessions).where(
            or_(
                sessions.expires_at < before,
                sessions.ended_at < before,
                sessions.last_seen_at < idle_since,
            )
        )
        return self._connection().execute(statement).rowcount

    def end_all(self, staff: str, at: datetime) -> None:
        self._connection().execute(
            update(staff_sessions)
            .where(staff_sessions.c.staff == staff, staff_sessions.c.ended_at.is_(None))
            .values(ended_at=at)
        )


def _account(row: Row[Any]) -> StaffAccount:
    return StaffAccount(
        name=row.name,
        role=Role(row.role),
        corner=row.corner,
        password_hash=row.password_hash,
        created_at=row.created_at,
        must_change_password=row.first_sign_in_pending,
        city=row.city,
        operator=row.operator,
        disabled=row.disabled_at is not None,
    )
