"""The forecast's backtest on the demo's generated history (SQLite and PostgreSQL): a forecast
from a past day sees nothing after it, and each horizon's record is the statistics' total."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

import pytest

from mynapoint.bootstrap import build_platform
from mynapoint.config import Settings
from mynapoint.demo import seed_generated_history
from mynapoint.domain.calendar import JST
from mynapoint.services.policy_backtest import backtest
from mynapoint.services.policy_forecast import DailyHistory, forecast_from, read_history
from mynapoint.services.statistics import totals

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from mynapoint.bootstrap import Platform

DEMO_DAY = datetime(2021, 7, 19, 10, 0, tzinfo=JST)
SIZE = 600
START = date(2021, 2, 1)


@pytest.fixture
def platform(database_url: str, tmp_path: Path) -> Iterator[Platform]:
    settings = Settings(
        database_url=database_url,
        var_dir=tmp_path,
        clock_start=DEMO_DAY,
        demo_history_persons=SIZE,
        demo_history_seed=16,
    )
    platform = build_platform(settings)
    try:
        assert seed_generated_history(platform).written == SIZE  # refreshes the statistics
        yield platform
    finally:
        platform.engine.dispose()


def cut(history: DailyHistory, last_day: date) -> DailyHistory:
    """The statistics as a refresh on the morning after `last_day` would have left them."""
    return DailyHistory(
        computed_at=datetime.combine(last_day + timedelta(days=1), time(10), JST),
        mykeys={day: n for day, n in history.mykeys.items() if day <= last_day},
        yen={
            measure: {day: n for day, n in days.items() if day <= last_day}
            for measure, days in history.yen.items()
        },
    )


def test_a_backtest_forecasts_with_the_days_up_to_its_start_only_and_checks_the_record(
    platform: Platform,
) -> None:
    done = backtest(platform.statistics, platform.rules, START, (7, 30, 90, 400))
    then = forecast_from(cut(read_history(platform.statistics), START), platform.rules)
    assert done.forecast.frames == then.frames
    assert done.forecast.last_day == START
    assert done.forecast.not_announced == ("phase2",)

    to_end = (date(2021, 7, 18) - START).days
    assert [(c.side, c.horizon_days) for c in done.checks] == [
        (side, horizon) for horizon in (7, 30, 90, to_end) for side in ("persons", "yen")
    ]
    assert done.beyond == (400,)
    for check in done.checks:
        recorded = totals(platform.statistics, end=check.day)
        expected = (
            recorded.mykeys
            if check.side == "persons"
            else recorded.points_granted - recorded.points_clawed_back
        )
        assert check.actual == expected
        assert check.day == START + timedelta(days=check.horizon_days)
        assert (
            check.used
            == (then.frames[0].persons if check.side == "persons" else then.frames[0].yen).used
        )
        assert check.predicted.low <= check.predicted.expected <= check.predicted.high
    # The history keeps growing after the start: a forecast without any pace would be wrong.
    assert all(check.actual > check.used for check in done.checks)
