"""The forecast's backtest (issue 16, item 2; docs/POLICY.md "Forecast"): forecast from a past
day X with the data through X only, by the same code as a forecast made today
(services/policy_forecast.py), and hold it against what the statistics recorded by X + h.

The rules are the rules in force as announced by X, as a forecast made on X would have had
them: an extension announced later shows as forecast error, which is what it was."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

from mynapoint.domain.campaigns import CampaignRules
from mynapoint.services.policy_forecast import (
    WINDOW_DAYS,
    Band,
    DailyHistory,
    Forecast,
    Projection,
    forecast_from,
    read_history,
)
from mynapoint.services.statistics import StatisticsStore

HORIZONS_DAYS: Final = (7, 30, 90)


@dataclass(frozen=True)
class Check:
    """One side of one frame, predicted for a day and recorded by it."""

    phase: str
    side: str  # "persons" or "yen"
    horizon_days: int
    day: date
    used: int  # by the forecast's day
    predicted: Band
    actual: int

    @property
    def error(self) -> float:
        """Predicted less recorded (positive: the forecast was too high)."""
        return self.predicted.expected - self.actual

    @property
    def error_percent(self) -> float | None:
        """The error over the recorded total (None when it is 0)."""
        return 100.0 * self.error / self.actual if self.actual else None

    @property
    def growth_error_percent(self) -> float | None:
        """The error over what was added after the forecast's day: the harder measure, as the
        total includes what was known already (None when nothing was added)."""
        grown = self.actual - self.used
        return 100.0 * self.error / grown if grown else None

    @property
    def inside(self) -> bool:
        return self.predicted.contains(self.actual)


@dataclass(frozen=True)
class Backtest:
    forecast: Forecast
    checks: tuple[Check, ...]
    beyond: tuple[int, ...]  # horizons that end after the data's last day: not checked


def backtest_from(
    history: DailyHistory,
    in_force: CampaignRules,
    start: date,
    horizons_days: Sequence[int] = HORIZONS_DAYS,
    *,
    window_days: int = WINDOW_DAYS,
    to_end: bool = True,
) -> Backtest:
    """The forecast from `start`, checked `horizons_days` later (and at the data's last day
    when `to_end`); ForecastDayOutOfRange when `start` is not a day of the data."""
    made = forecast_from(history, in_force, as_of=start, window_days=window_days)
    last = history.last_day
    wanted = sorted(set(horizons_days))
    if to_end and last > start:
        wanted = sorted({*wanted, (last - start).days})
    checked = [h for h in wanted if start + timedelta(days=h) <= last]
    checks: list[Check] = []
    for frame in made.frames:
        codes = [
            m.measure.value for m in in_force.measures.values() if m.phase == frame.frame.phase
        ]
        for horizon in checked:
            day = start + timedelta(days=horizon)
            actuals = (("persons", frame.persons, history.persons_by(day)),
                       ("yen", frame.yen, history.yen_by(codes, day)))  # fmt: skip
            checks.extend(
                _check(frame.frame.phase, side, horizon, day, projection, actual)
                for side, projection, actual in actuals
            )
    return Backtest(made, tuple(checks), tuple(h for h in wanted if h not in checked))


def _check(
    phase: str, side: str, horizon: int, day: date, projection: Projection, actual: int
) -> Check:
    return Check(phase, side, horizon, day, projection.used, projection.at(day), actual)


def backtest(
    store: StatisticsStore,
    in_force: CampaignRules,
    start: date,
    horizons_days: Sequence[int] = HORIZONS_DAYS,
    *,
    window_days: int = WINDOW_DAYS,
    to_end: bool = True,
) -> Backtest:
    """backtest_from the statistics' daily figures (StatisticsNotComputed before a refresh)."""
    return backtest_from(
        read_history(store), in_force, start, horizons_days, window_days=window_days, to_end=to_end
    )
