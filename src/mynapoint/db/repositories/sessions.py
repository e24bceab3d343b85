from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import insert, select, update

from mynapoint.db.tables import citizen_sessions
from mynapoint.domain.auth import Session

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from sqlalchemy.engine import Connection


class SqlSessionRepository:
    def __init__(self, connection: Callable[[], Connection]) -> None:
        self._connection = connection

    def add(self, session: Session) -> None:
        self._connection().execute(
            insert(citizen_sessions).values(
                token_hash=session.token_hash,
                person=session.person,
                serial=session.serial,
                expires_at=session.expires_at,
                ended_at=session.ended_at,
            )
        )

    def get(self, token_hash: str) -> Session | None:
        query = select(citizen_sessions).where(citizen_sessions.c.token_hash == token_hash)
        row = self._connection().execute(query).one_or_none()
        if row is None:
            return None
        return Session(
            token_hash=row.token_hash,
            person=row.person,
            serial=row.serial,
            expires_at=row.expires_at,
            ended_at=row.ended_at,
        )

    def end(self, token_hash: str, at: datetime) -> None:
        """Ending an ended or unknown session changes nothing: signing out twice is harmless."""
        self._connection().execute(
            update(citizen_sessions)
            .where(
                citizen_sessions.c.token_hash == token_hash,
                citizen_sessions.c.ended_at.is_(None),
            )
            .values(ended_at=at)
        )
