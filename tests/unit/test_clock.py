from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest

from mynapoint.services.clock import Clock, FixedClock, OffsetClock, SystemClock

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
