from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import bindparam, delete, insert, select, update

from mynapoint.db.repositories.statements import Query, tuples, utc
from mynapoint.db.tables import login_challenges
from mynapoint.domain.auth import Challenge

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from sqlalchemy.engine import Connection


class SqlChallengeRepository:
    def __init__(self, connection: Callable[[], Connection]) -> None:
        self._connection = connection

    def add(self, challenge: Challenge) -> None:
        self._connection().execute(
            insert(login_challenges).values(
                challenge_id=challenge.challenge_id,
                nonce=challenge.nonce,
                expires_at=challenge.expires_at,
                used_at=challenge.used_at,
            )
        )

    def get(self, challenge_id: str) -> Challenge | None:
        # Every card login reads this: a statement built and compiled once.
        for nonce, expires_at, used_at in tuples(
            self._connection(), _CHALLENGE, {"challenge_id": challenge_id}
        ):
            return Challenge(
                challenge_id=challenge_id,
                # Some drivers hand back a memoryview for binary columns.
                nonce=bytes(nonce),
                expires_at=utc(expires_at),
                used_at=None if used_at is None else utc(used_at),
            )
        return None

    def mark_used(self, challenge_id: str, at: datetime) -> bool:
        # The condition and the write are one statement: of two logins racing
        # for the same challenge, the second finds it used and changes nothing.
        statement = (
            update(login_challenges)
            .where(
                login_challenges.c.challenge_id == challenge_id,
                login_challenges.c.used_at.is_(None),
            )
            .values(used_at=at)
        )
        return self._connection().execute(statement).rowcount == 1

    def purge(self, expired_before: datetime) -> int:
        statement = delete(login_challenges).where(login_challenges.c.expires_at < expired_before)
        return self._connection().execute(statement).rowcount


_CHALLENGE = Query(
    select(
        login_challenges.c.nonce, login_challenges.c.expires_at, login_challenges.c.used_at
    ).where(login_challenges.c.challenge_id == bindparam("challenge_id"))
)
