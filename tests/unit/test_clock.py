from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest

from mynapoint.services.clock import (
    AnchorUnreadable,
    Clock,
    ClockAnchor,
    FixedClock,
    OffsetClock,
    RecordedClock,
    SystemClock,
)

JST = timezone(timedelta(hours=9))
START = datetime(2021, 7, 19, 10, 0, tzinfo=JST)
RECORDED_REAL_AT = datetime(2025, 11, 26, 3, 0, tzinfo=UTC)
NAIVE = datetime(2021, 7, 19, 10, 0)  # noqa: DTZ001 - refused below


@pytest.mark.parametrize(
    ("real_elapsed", "platform_now"),
    [
        (timedelta(0), START),
        (timedelta(microseconds=1), START + timedelta(microseconds=1)),
        (timedelta(minutes=90), datetime(2021, 7, 19, 11, 30, tzinfo=JST)),
        (timedelta(days=1, hours=14), datetime(2021, 7, 21, 0, 0, tzinfo=JST)),
        # The machine's clock stepped back: platform time steps back with it.
        (timedelta(seconds=-5), datetime(2021, 7, 19, 9, 59, 55, tzinfo=JST)),
    ],
)
def test_platform_time_is_the_start_plus_real_time_elapsed_since_recording(
    real_elapsed: timedelta, platform_now: datetime
) -> None:
    real = FixedClock(RECORDED_REAL_AT + real_elapsed)

    assert OffsetClock(START, RECORDED_REAL_AT, real).now() == platform_now


def test_platform_time_runs_with_the_real_clock() -> None:
    real = FixedClock(RECORDED_REAL_AT)
    clock = OffsetClock(START, RECORDED_REAL_AT, real)

    real.advance(timedelta(minutes=5))

    assert clock.now() == START + timedelta(minutes=5)


def test_platform_time_is_given_in_utc() -> None:
    now = OffsetClock(START, RECORDED_REAL_AT, FixedClock(RECORDED_REAL_AT)).now()

    assert now.tzinfo is UTC
    assert now == datetime(2021, 7, 19, 1, 0, tzinfo=UTC)


def test_the_recorded_real_time_may_be_in_any_offset() -> None:
    real = FixedClock(RECORDED_REAL_AT + timedelta(hours=1))
    recorded_in_jst = RECORDED_REAL_AT.astimezone(JST)

    assert OffsetClock(START, recorded_in_jst, real).now() == START + timedelta(hours=1)


def test_without_a_real_clock_given_the_system_clock_drives_platform_time() -> None:
    clock = OffsetClock(START, datetime.now(UTC))

    assert START <= clock.now() < START + timedelta(minutes=1)


@pytest.mark.parametrize(
    "build",
    [
        lambda: FixedClock(NAIVE),
        lambda: FixedClock(START).set(NAIVE),
        lambda: OffsetClock(NAIVE, RECORDED_REAL_AT),
        lambda: OffsetClock(START, NAIVE),
    ],
    ids=["fixed", "fixed-set", "offset-start", "offset-recorded"],
)
def test_a_datetime_without_offset_is_refused(build: Callable[[], object]) -> None:
    with pytest.raises(ValueError, match="has no UTC offset"):
        build()


def test_the_system_clock_is_aware_utc() -> None:
    now = SystemClock().now()

    assert now.utcoffset() == timedelta(0)


def test_a_fixed_clock_stands_still_until_moved() -> None:
    fixed = FixedClock(START)
    clock: Clock = fixed
    assert clock.now() == clock.now() == START

    fixed.advance(timedelta(seconds=30))
    assert clock.now() == START + timedelta(seconds=30)

    fixed.set(START + timedelta(days=1))
    assert clock.now() == START + timedelta(days=1)


# --- the clock recorded in the database -----------------------------------------------------

NEXT_START = datetime(2021, 10, 1, 9, 0, tzinfo=JST)


class RecordedAnchor:
    """The database's one row, as the clock reads it; counts the reads."""

    def __init__(self, anchor: ClockAnchor | None) -> None:
        self.anchor = anchor
        self.reads = 0
        self.unreadable = False

    def __call__(self) -> ClockAnchor | None:
        self.reads += 1
        if self.unreadable:
            raise AnchorUnreadable("cannot read the recorded anchor: OperationalError")
        return self.anchor


class Ticks:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def __call__(self) -> float:
        return self.seconds


def recorded_clock(
    recorded: RecordedAnchor, real: Clock, ticks: Ticks | None = None
) -> RecordedClock:
    return RecordedClock(
        recorded, real=real, refresh=timedelta(seconds=5), monotonic=ticks or Ticks()
    )


def test_with_nothing_recorded_platform_time_is_real_time() -> None:
    real = FixedClock(RECORDED_REAL_AT)

    clock = recorded_clock(RecordedAnchor(None), real)

    assert clock.anchor is None
    assert clock.now() == RECORDED_REAL_AT


def test_a_recorded_pair_gives_the_start_plus_real_time_elapsed() -> None:
    real = FixedClock(RECORDED_REAL_AT + timedelta(minutes=90))

    clock = recorded_clock(RecordedAnchor(ClockAnchor(START, RECORDED_REAL_AT)), real)

    assert clock.now() == datetime(2021, 7, 19, 11, 30, tzinfo=JST)
    assert clock.now().tzinfo is UTC


def test_a_new_pair_reaches_a_running_process_at_the_next_refresh() -> None:
    recorded = RecordedAnchor(ClockAnchor(START, RECORDED_REAL_AT))
    real, ticks = FixedClock(RECORDED_REAL_AT), Ticks()
    clock = recorded_clock(recorded, real, ticks)

    recorded.anchor = ClockAnchor(NEXT_START, RECORDED_REAL_AT)
    ticks.seconds = 4.9
    assert clock.now() == START
    assert recorded.reads == 1

    ticks.seconds = 5.0
    assert clock.now() == NEXT_START
    assert recorded.reads == 2


def test_a_cleared_pair_returns_a_running_process_to_real_time() -> None:
    recorded = RecordedAnchor(ClockAnchor(START, RECORDED_REAL_AT))
    ticks = Ticks()
    clock = recorded_clock(recorded, FixedClock(RECORDED_REAL_AT), ticks)

    recorded.anchor = None
    ticks.seconds = 5.0

    assert clock.now() == RECORDED_REAL_AT


def test_reload_reads_the_pair_at_once() -> None:
    recorded = RecordedAnchor(None)
    clock = recorded_clock(recorded, FixedClock(RECORDED_REAL_AT))

    recorded.anchor = ClockAnchor(START, RECORDED_REAL_AT)
    clock.reload()

    assert clock.now() == START


def test_an_unreadable_pair_keeps_the_last_one_read_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    recorded = RecordedAnchor(ClockAnchor(START, RECORDED_REAL_AT))
    ticks = Ticks()
    clock = recorded_clock(recorded, FixedClock(RECORDED_REAL_AT), ticks)
    recorded.unreadable = True
    ticks.seconds = 5.0

    with caplog.at_level(logging.WARNING, logger="mynapoint.services.clock"):
        assert clock.now() == START

    assert "keeping the last anchor read" in caplog.text
    # Not read again on every call while the database is away: at the next refresh.
    clock.now()
    assert recorded.reads == 2


def test_a_recorded_pair_without_offset_is_refused() -> None:
    with pytest.raises(ValueError, match="has no UTC offset"):
        ClockAnchor(NAIVE, RECORDED_REAL_AT)
