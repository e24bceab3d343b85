from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Self

from mynapoint.db.engine import WRITE_LOCK, create_engine_for, reading
from mynapoint.db.queue import InProcessJobQueue, ProcrastinateJobQueue
from mynapoint.db.repositories.accounts import SqlAccountRepository
from mynapoint.db.repositories.applications import SqlApplicationRepository
from mynapoint.db.repositories.assisted import SqlAssistedSessionRepository
from mynapoint.db.repositories.audit import SqlAuditRepository
from mynapoint.db.repositories.challenges import SqlChallengeRepository
from mynapoint.db.repositories.events import SqlEventRepository
from mynapoint.db.repositories.grants import SqlGrantRepository
from mynapoint.db.repositories.mykeys import SqlMyKeyRepository
from mynapoint.db.repositories.notices import SqlIngestJobRepository, SqlNoticeRepository
from mynapoint.db.repositories.operator_keys import SqlOperatorKeyRepository
from mynapoint.db.repositories.persons import SqlPersonRepository
from mynapoint.db.repositories.replays import SqlReplayRepository
from mynapoint.db.repositories.sessions import SqlSessionRepository
from mynapoint.db.repositories.settlements import SqlSettlementRepository
from mynapoint.db.repositories.staff import SqlStaffRepository, SqlStaffSessionRepository

if TYPE_CHECKING:
    from types import TracebackType

    from sqlalchemy.engine import Connection, Engine

    from mynapoint.services.ledger_ports import (
        EventRepository,
        GrantRepository,
        IngestJobRepository,
        NoticeRepository,
        SettlementRepository,
    )
    from mynapoint.services.policy_ports import ReplayRepository
    from mynapoint.services.ports import (
        AccountRepository,
        ApplicationRepository,
        AssistedSessionRepository,
        AuditRepository,
        ChallengeRepository,
        JobQueue,
        MyKeyRepository,
        OperatorKeyRepository,
        PersonRepository,
        SessionRepository,
        StaffRepository,
        StaffSessionRepository,
    )


class SqlUnitOfWork:
    """One database transaction per `with uow:` block; rolled back unless `commit()` ran.

    Every block opens a writing transaction (BEGIN IMMEDIATE on SQLite), even
    one that only reads. That is deliberately simple and safe: a block that
    reads and then writes (look up a challenge, then mark it used) can never
    fail half-way with "database is locked", at the price of SQLite running
    blocks one at a time. PostgreSQL ignores the option and runs blocks
    concurrently at READ COMMITTED; there the repositories' writes stay correct
    because each is a single conditional statement or relies on a unique
    constraint, or (for re-evaluating a person's points) locks the person's
    row first: see `persons.lock`.

    The same object can be used for several blocks one after the other; each
    is a new transaction. Statements after `commit()` in the same block start
    a new transaction, which is again rolled back unless committed.

    `with uow.reading():` opens a block that only reads: no transaction at all
    (engine.READ_ONLY), each SELECT seeing what was committed when it started, as
    it would at PostgreSQL's READ COMMITTED; a write or a commit() there is refused.

    `with uow.autocommit():` opens a block whose statements each commit as they run
    (AUTOCOMMIT): for a block that makes a single write, alone atomic, which then costs
    no BEGIN and COMMIT round trips (issue 13); commit() there has nothing left to do.
    """

    def __init__(self, engine: Engine, *, queued: bool = False) -> None:
        """`queued`: jobs go to procrastinate's tables for `mynapoint worker` (PostgreSQL);
        otherwise the serving process runs them from the rows this unit of work commits."""
        self._engine = engine
        self._connection: Connection | None = None
        self._reads_only = False
        self._autocommit = False
        self.challenges: ChallengeRepository = SqlChallengeRepository(self._current)
        self.sessions: SessionRepository = SqlSessionRepository(self._current)
        self.mykeys: MyKeyRepository = SqlMyKeyRepository(self._current)
        self.persons: PersonRepository = SqlPersonRepository(self._current)
        self.operator_keys: OperatorKeyRepository = SqlOperatorKeyRepository(self._current)
        self.accounts: AccountRepository = SqlAccountRepository(self._current)
        self.applications: ApplicationRepository = SqlApplicationRepository(self._current)
        self.events: EventRepository = SqlEventRepository(self._current)
        self.grants: GrantRepository = SqlGrantRepository(self._current)
        self.settlements: SettlementRepository = SqlSettlementRepository(self._current)
        self.notices: NoticeRepository = SqlNoticeRepository(self._current)
        self.jobs: IngestJobRepository = SqlIngestJobRepository(self._current)
        self.audit: AuditRepository = SqlAuditRepository(self._current)
        self.staff: StaffRepository = SqlStaffRepository(self._current)
        self.staff_sessions: StaffSessionRepository = SqlStaffSessionRepository(self._current)
        self.assisted: AssistedSessionRepository = SqlAssistedSessionRepository(self._current)
        self.replays: ReplayRepository = SqlReplayRepository(self._current)
        self.queue: JobQueue = (
            ProcrastinateJobQueue(self._current) if queued else InProcessJobQueue()
        )

    def __enter__(self) -> Self:
        if self._connection is not None:
            raise RuntimeError(
                "this unit of work is already open; finish the `with uow:` block before "
                "starting another"
            )
        if self._reads_only:
            try:
                self._connection = reading(self._engine)
            except BaseException:
                self._reads_only = False
                raise
            return self
        if self._autocommit:
            try:
                self._connection = self._engine.connect().execution_options(
                    isolation_level="AUTOCOMMIT"
                )
            except BaseException:
                self._autocommit = False
                raise
            return self
        connection = self._engine.connect().execution_options(**{WRITE_LOCK: True})
        try:
            connection.begin()
        except BaseException:
            connection.close()
            raise
        self._connection = connection
        return self

    def reading(self) -> Self:
        """Make the next `with` block a reading one (see the class's docstring)."""
        if self._connection is not None:
            raise RuntimeError("reading() comes before its `with` block: `with uow.reading():`")
        self._reads_only = True
        return self

    def autocommit(self) -> Self:
        """Make the next `with` block one whose statements commit one by one (see the class's
        docstring)."""
        if self._connection is not None:
            raise RuntimeError(
                "autocommit() comes before its `with` block: `with uow.autocommit():`"
            )
        self._autocommit = True
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        connection, self._connection = self._connection, None
        self._reads_only = False
        self._autocommit = False
        if connection is not None:
            # Closing rolls back whatever commit() did not commit.
            connection.close()

    def commit(self) -> None:
        connection = self._current()
        if self._reads_only:
            raise RuntimeError("a reading block has nothing to commit; use `with uow:` to write")
        connection.commit()

    def _current(self) -> Connection:
        if self._connection is None:
            raise RuntimeError("use the unit of work inside `with uow:`")
        return self._connection


# The engine of each database this process opened through a UnitOfWorkFactory.
_ENGINES: dict[str, Engine] = {}


@dataclass(frozen=True)
class UnitOfWorkFactory:
    """Opens units of work on one database, named by its URL: unlike a bound method of the
    platform it can be pickled, so a worker process opens its own engine (once) and works
    on the same database."""

    database_url: str

    def __call__(self) -> SqlUnitOfWork:
        engine = _ENGINES.get(self.database_url)
        if engine is None:
            engine = _ENGINES[self.database_url] = create_engine_for(self.database_url)
        return SqlUnitOfWork(engine)
