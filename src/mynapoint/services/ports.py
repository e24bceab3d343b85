"""What the use cases need from storage: repositories inside one unit of work.

`db/` implements these over SQLAlchemy; tests use in-memory fakes. A unit of
work rolls back unless `commit()` runs inside its `with` block.
"""

from __future__ import annotations

from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from mynapoint.domain.auth import Challenge, Session
from mynapoint.domain.mykey import MyKey


class ChallengeRepository(Protocol):
    def add(self, challenge: Challenge) -> None: ...

    def get(self, challenge_id: str) -> Challenge | None: ...

    def mark_used(self, challenge_id: str, at: datetime) -> bool:
        """Use a challenge once: False if it was used already (two logins raced for it)."""
        ...


class SessionRepository(Protocol):
    def add(self, session: Session) -> None: ...

    def get(self, token_hash: str) -> Session | None: ...

    def end(self, token_hash: str, at: datetime) -> None: ...


class MyKeyRepository(Protocol):
    def for_person(self, person: str) -> MyKey | None: ...

    def add(self, mykey: MyKey) -> bool:
        """Store a new MyKey ID; False (and nothing stored) if the person already has one or
        the ID is taken. Both are unique in the database, so concurrent requests cannot both win.
        """
        ...

    def count(self) -> int: ...


class UnitOfWork(Protocol):
    challenges: ChallengeRepository
    sessions: SessionRepository
    mykeys: MyKeyRepository

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...
