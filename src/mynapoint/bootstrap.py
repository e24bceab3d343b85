from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from mynapoint.db.authority_store import SqlAuthorityStore
from mynapoint.db.clock import anchor_clock, read_anchor
from mynapoint.db.engine import create_engine_for
from mynapoint.db.migrate import require_current, upgrade
from mynapoint.db.statistics_store import SqlStatisticsStore
from mynapoint.db.unit_of_work import SqlUnitOfWork, UnitOfWorkFactory
from mynapoint.domain.campaigns import CampaignRules
from mynapoint.domain.services import Catalog
from mynapoint.jpki.authority import SimulatedCardAuthority
from mynapoint.jpki.revocation import CachedRevocationList
from mynapoint.rules.loader import load_campaigns, load_catalog
from mynapoint.services.clock import Clock, RecordedClock, SystemClock
from mynapoint.services.codes import CodeHasher, CodeKeyFile
from mynapoint.services.head_signing import AuditKey, AuditKeyFile
from mynapoint.services.ledger import Workers
from mynapoint.services.ports import UnitOfWork
from mynapoint.services.statistics import StatisticsStore
from mynapoint.services.throttling import LimitsThrottle, NullThrottle, Throttle

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from mynapoint.config import Settings


# Worker processes evaluating a file's persons (Platform.evaluation_workers).
EVALUATION_PROCESSES = 2


def build_engine(settings: Settings, *, migrate: bool = True) -> Engine:
    """An engine on a database migrated to the latest revision; with `migrate` False (a server
    worker: its parent migrated) the database is only checked to be at it (NotMigrated)."""
    engine = create_engine_for(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
    )
    try:
        if migrate:
            upgrade(engine)
        else:
            require_current(engine)
    except BaseException:
        engine.dispose()
        raise
    return engine


def build_throttle(settings: Settings) -> Throttle:
    return LimitsThrottle(
        settings.rate_limit_storage, settings.rate_limits, settings.rate_limit_namespace
    )


def build_clock(settings: Settings, engine: Engine) -> RecordedClock:
    """The database's platform clock, the same for every process on it (INTERFACES, "The
    platform clock"). MYNAPOINT_CLOCK_START records an anchor only where none is recorded:
    a recorded anchor wins over it (the command line warns); `mynapoint clock set` moves it."""
    if settings.clock_start is not None:
        anchor_clock(engine, settings.clock_start, SystemClock().now())
    return RecordedClock(lambda: read_anchor(engine))


@dataclass(frozen=True, eq=False)
class Platform:
    """Everything a request or command needs, wired once from the settings."""

    settings: Settings
    engine: Engine
    clock: Clock
    rules: CampaignRules
    catalog: Catalog
    authority: SimulatedCardAuthority
    revocations: CachedRevocationList
    # The rate limits (services/throttling.py); a platform built by hand throttles nothing.
    throttle: Throttle = field(default_factory=NullThrottle)

    def unit_of_work(self) -> UnitOfWork:
        return SqlUnitOfWork(self.engine, queued=not self.settings.runs_jobs_inprocess)

    @cached_property
    def statistics(self) -> StatisticsStore:
        """The summary tables of the program's statistics (services/statistics.py)."""
        return SqlStatisticsStore(self.engine)

    @cached_property
    def audit_key_file(self) -> AuditKeyFile:
        return AuditKeyFile(self.settings.audit_signing_key_path)

    @cached_property
    def code_hasher(self) -> CodeHasher:
        """Keeps security codes: a keyed HMAC whose key file is read, or created, on first use."""
        return CodeHasher(CodeKeyFile(self.settings.code_key_path).key())

    def audit_key(self) -> AuditKey:
        """The key that signs audit heads; read, or created, on first use."""
        return self.audit_key_file.key()

    @contextmanager
    def evaluation_workers(self) -> Iterator[Workers | None]:
        """Worker processes for evaluating many persons (a file's intake) on PostgreSQL, one
        per core up to EVALUATION_PROCESSES; None on SQLite, which writes one transaction
        at a time whatever the number of writers."""
        processes = min(EVALUATION_PROCESSES, os.cpu_count() or 1)
        if self.engine.dialect.name != "postgresql" or processes < 2:
            yield None
            return
        # spawn: a forked child would inherit this process's threads and open connections.
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(processes, mp_context=context) as pool:
            yield Workers(pool, UnitOfWorkFactory(self.settings.database_url))

    @staticmethod
    @contextmanager
    def replay_pool(processes: int) -> Iterator[tuple[Executor | None, int]]:
        """Worker processes for a policy replay, which only reads: `processes` of them on either
        database (SQLite serves many readers); (None, 1) for one, which runs in this process."""
        if processes < 2:
            yield None, 1
            return
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(processes, mp_context=context) as pool:
            yield pool, processes

    def new_reader(self) -> Callable[[], UnitOfWork]:
        """Units of work that a worker process can open (picklable)."""
        return UnitOfWorkFactory(self.settings.database_url)


def build_platform(
    settings: Settings,
    clock: Clock | None = None,
    throttle: Throttle | None = None,
    *,
    migrate: bool = True,
) -> Platform:
    """Wire the platform; `clock` and `throttle` replace the settings' (tests pass a fixed
    clock, and a NullThrottle where they hammer the platform on purpose). `migrate` False: a
    server worker, which checks the database's revision instead of migrating it."""
    engine = build_engine(settings, migrate=migrate)
    clock = clock or build_clock(settings, engine)
    # The simulated card authority stands in for J-LIS; a real adapter would be wired here.
    authority = SimulatedCardAuthority(SqlAuthorityStore(engine), now=clock.now)
    platform = Platform(
        settings=settings,
        engine=engine,
        clock=clock,
        rules=load_campaigns(),
        catalog=load_catalog(),
        authority=authority,
        revocations=CachedRevocationList(authority.revocation_list, clock.now),
        throttle=throttle or build_throttle(settings),
    )
    # Read (or created) now: a missing or unreadable key stops the start, not an application.
    _ = platform.code_hasher
    return platform
