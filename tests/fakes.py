"""In-memory stand-ins for the storage ports, for tests that need no database.

`FakeUnitOfWork` obeys the same contract as `mynapoint.db.unit_of_work.SqlUnitOfWork`
(tests/unit_of_work_contract.py runs the same tests on both): changes are
visible to other units of work only after `commit()`, a person has at most one
MyKey ID and an ID belongs to one person, a challenge is used once.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Self

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime
    from types import TracebackType

    from mynapoint.domain.auth import Challenge, Session
    from mynapoint.domain.mykey import MyKey

# Longer than any test should hold a unit of work open; a nested second unit of
# work on the same database fails after this instead of hanging the run.
_LOCK_TIMEOUT_S = 5


@dataclass
class FakeTables:
    challenges: dict[str, Challenge] = field(default_factory=dict)
    sessions: dict[str, Session] = field(default_factory=dict)  # by token hash
    mykeys: dict[str, MyKey] = field(default_factory=dict)  # by MyKey ID

    def copy(self) -> FakeTables:
        # The values are frozen dataclasses, so copying the dicts is enough.
        return FakeTables(dict(self.challenges), dict(self.sessions), dict(self.mykeys))


@dataclass
class FakeDatabase:
    """What has been committed. Share one between several FakeUnitOfWork objects."""

    committed: FakeTables = field(default_factory=FakeTables)
    # Held for a whole `with uow:` block, as SQLite's BEGIN IMMEDIATE is, so
    # that units of work in different threads run one after the other.
    lock: threading.Lock = field(default_factory=threading.Lock)


class FakeUnitOfWork:
    def __init__(self, database: FakeDatabase | None = None) -> None:
        self.database = database or FakeDatabase()
        self.commits = 0
        self._working: FakeTables | None = None
        self.challenges = FakeChallengeRepository(self._current)
        self.sessions = FakeSessionRepository(self._current)
        self.mykeys = FakeMyKeyRepository(self._current)

    @property
    def committed(self) -> FakeTables:
        return self.database.committed

    def __enter__(self) -> Self:
        if self._working is not None:
            raise RuntimeError(
                "this unit of work is already open; finish the `with uow:` block before "
                "starting another"
            )
        if not self.database.lock.acquire(timeout=_LOCK_TIMEOUT_S):
            raise RuntimeError(
                f"another unit of work on this FakeDatabase stayed open for "
                f"{_LOCK_TIMEOUT_S} s; are two `with` blocks nested?"
            )
        self._working = self.database.committed.copy()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._working is None:
            return
        # Whatever commit() did not take is dropped here: the rollback.
        self._working = None
        self.database.lock.release()

    def commit(self) -> None:
        self.database.committed = self._current().copy()
        self.commits += 1

    def _current(self) -> FakeTables:
        if self._working is None:
            raise RuntimeError("use the unit of work inside `with uow:`")
        return self._working


class FakeChallengeRepository:
    def __init__(self, tables: Callable[[], FakeTables]) -> None:
        self._tables = tables

    def add(self, challenge: Challenge) -> None:
        challenges = self._tables().challenges
        if challenge.challenge_id in challenges:
            raise ValueError(f"challenge '{challenge.challenge_id}' exists already")
        challenges[challenge.challenge_id] = challenge

    def get(self, challenge_id: str) -> Challenge | None:
        return self._tables().challenges.get(challenge_id)

    def mark_used(self, challenge_id: str, at: datetime) -> bool:
        challenges = self._tables().challenges
        challenge = challenges.get(challenge_id)
        if challenge is None or challenge.used_at is not None:
            return False
        challenges[challenge_id] = replace(challenge, used_at=at)
        return True


class FakeSessionRepository:
    def __init__(self, tables: Callable[[], FakeTables]) -> None:
        self._tables = tables

    def add(self, session: Session) -> None:
        sessions = self._tables().sessions
        if session.token_hash in sessions:
            raise ValueError(f"a session with token hash '{session.token_hash}' exists already")
        sessions[session.token_hash] = session

    def get(self, token_hash: str) -> Session | None:
        return self._tables().sessions.get(token_hash)

    def end(self, token_hash: str, at: datetime) -> None:
        sessions = self._tables().sessions
        session = sessions.get(token_hash)
        if session is not None and session.ended_at is None:
            sessions[token_hash] = replace(session, ended_at=at)


class FakeMyKeyRepository:
    def __init__(self, tables: Callable[[], FakeTables]) -> None:
        self._tables = tables

    def for_person(self, person: str) -> MyKey | None:
        return next((m for m in self._tables().mykeys.values() if m.person == person), None)

    def add(self, mykey: MyKey) -> bool:
        mykeys = self._tables().mykeys
        if mykey.mykey_id in mykeys or self.for_person(mykey.person) is not None:
            return False
        mykeys[mykey.mykey_id] = mykey
        return True

    def count(self) -> int:
        return len(self._tables().mykeys)
