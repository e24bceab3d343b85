from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import bindparam, delete, insert, select, update

from mynapoint.db.repositories.statements import Query, returned, tuples, utc, written
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
        # Every card login writes one: a statement built and compiled once.
        written(
            self._connection(),
            _ADD,
            {
                "challenge_id": challenge.challenge_id,
                "nonce": challenge.nonce,
                "expires_at": challenge.expires_at,
                "used_at": challenge.used_at,
            },
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

    def use(self, challenge_id: str, at: datetime) -> Challenge | None:
        # The condition, the write and the read are one statement: of two logins racing
        # for the same challenge, the second finds it used and changes nothing.
        for nonce, expires_at in returned(self._connection(), _USE, {"id": challenge_id, "at": at}):
            return Challenge(
                challenge_id=challenge_id,
                nonce=bytes(nonce),
                expires_at=utc(expires_at),
                used_at=at,
            )
        return None

    def purge(self, expired_before: datetime) -> int:
        statement = delete(login_challenges).where(login_challenges.c.expires_at < expired_before)
        return self._connection().execute(statement).rowcount


_ADD = Query(
    insert(login_challenges).values(
        challenge_id=bindparam("challenge_id"),
        nonce=bindparam("nonce"),
        expires_at=bindparam("expires_at"),
        used_at=bindparam("used_at"),
    )
)
_USE = Query(
    update(login_challenges)
    .where(
        # Not named as a column: SQLite's execute would take that for a value to SET.
        login_challenges.c.challenge_id == bindparam("id"),
        login_challenges.c.used_at.is_(None),
        login_challenges.c.expires_at > bindparam("at"),
    )
    .values(used_at=bindparam("at"))
    .returning(login_challenges.c.nonce, login_challenges.c.expires_at)
)
_CHALLENGE = Query(
    select(
        login_challenges.c.nonce, login_challenges.c.expires_at, login_challenges.c.used_at
    ).where(login_challenges.c.challenge_id == bindparam("challenge_id"))
)
