from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING

from mynapoint.db.clock import anchor_clock, clear_clock, read_anchor, set_clock
from mynapoint.db.engine import create_engine_for
from mynapoint.db.migrate import upgrade
from mynapoint.services.clock import ClockAnchor

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

JST = timezone(timedelta(hours=9))
START = datetime(2021, 7, 19, 10, 0, tzinfo=JST)
NEXT_RUN_START = datetime(2021, 10, 1, 9, 0, tzinfo=JST)
REAL_NOW = datetime(2025, 11, 26, 0, 0, 0, 123456, tzinfo=UTC)


def test_a_new_database_has_no_recorded_pair(migrated_engine: Engine) -> None:
    assert read_anchor(migrated_engine) is None


def test_the_first_process_records_the_start_and_the_real_time(migrated_engine: Engine) -> None:
    assert anchor_clock(migrated_engine, START, REAL_NOW) == ClockAnchor(START, REAL_NOW)
    assert read_anchor(migrated_engine) == ClockAnchor(START, REAL_NOW)


def test_the_recorded_pair_reads_back_in_utc(migrated_engine: Engine) -> None:
    anchor = anchor_clock(migrated_engine, START, REAL_NOW)

    assert anchor.start.tzinfo is UTC
    assert anchor.recorded_real_at.tzinfo is UTC


def test_a_later_process_with_the_same_start_gets_the_first_pair(migrated_engine: Engine) -> None:
    anchor_clock(migrated_engine, START, REAL_NOW)

    later = anchor_clock(migrated_engine, START, REAL_NOW + timedelta(hours=1))

    assert later == ClockAnchor(START, REAL_NOW)


def test_the_same_instant_written_in_utc_is_the_same_start(migrated_engine: Engine) -> None:
    anchor_clock(migrated_engine, START, REAL_NOW)

    later = anchor_clock(migrated_engine, START.astimezone(UTC), REAL_NOW + timedelta(minutes=3))

    assert later == ClockAnchor(START, REAL_NOW)


def test_a_different_start_leaves_the_recorded_pair(migrated_engine: Engine) -> None:
    """A process given another start (a stale MYNAPOINT_CLOCK_START) must not move the clock
    under the processes already running on it."""
    anchor_clock(migrated_engine, START, REAL_NOW)

    later = anchor_clock(migrated_engine, NEXT_RUN_START, REAL_NOW + timedelta(days=2))

    assert later == ClockAnchor(START, REAL_NOW)


def test_setting_the_clock_begins_a_new_run(migrated_engine: Engine) -> None:
    anchor_clock(migrated_engine, START, REAL_NOW)
    new_run_real_now = REAL_NOW + timedelta(days=2)

    assert set_clock(migrated_engine, NEXT_RUN_START, new_run_real_now) == ClockAnchor(
        NEXT_RUN_START, new_run_real_now
    )
    assert anchor_clock(
        migrated_engine, NEXT_RUN_START, new_run_real_now + timedelta(hours=1)
    ) == ClockAnchor(NEXT_RUN_START, new_run_real_now)


def test_setting_the_same_start_again_restarts_it_from_now(migrated_engine: Engine) -> None:
    set_clock(migrated_engine, START, REAL_NOW)
    again = REAL_NOW + timedelta(days=1)

    assert set_clock(migrated_engine, START, again) == ClockAnchor(START, again)


def test_clearing_the_clock_returns_to_real_time(migrated_engine: Engine) -> None:
    anchor_clock(migrated_engine, START, REAL_NOW)

    clear_clock(migrated_engine)

    assert read_anchor(migrated_engine) is None
    assert anchor_clock(migrated_engine, NEXT_RUN_START, REAL_NOW) == ClockAnchor(
        NEXT_RUN_START, REAL_NOW
    )


def _anchor_together(database_url: str, start: datetime, processes: int) -> set[ClockAnchor]:
    """Each thread has its own engine, as separate processes would."""
    engines = [create_engine_for(database_url) for _ in range(processes)]
    start_together = threading.Barrier(processes)

    def anchor(number: int) -> ClockAnchor:
        start_together.wait()
        return anchor_clock(engines[number], start, REAL_NOW + timedelta(seconds=number))

    try:
        with ThreadPoolExecutor(processes) as pool:
            return set(pool.map(anchor, range(processes)))
    finally:
        for engine in engines:
            engine.dispose()


def test_processes_anchoring_at_the_same_moment_agree(database_url: str, engine: Engine) -> None:
    upgrade(engine)

    pairs = _anchor_together(database_url, START, processes=4)

    assert len(pairs) == 1
    (anchor,) = pairs
    assert anchor.start == START
    assert REAL_NOW <= anchor.recorded_real_at <= REAL_NOW + timedelta(seconds=3)


def test_processes_with_another_start_together_keep_the_recorded_pair(
    database_url: str, engine: Engine
) -> None:
    upgrade(engine)
    recorded = anchor_clock(engine, START, REAL_NOW - timedelta(days=1))

    pairs = _anchor_together(database_url, NEXT_RUN_START, processes=4)

    assert pairs == {recorded}
