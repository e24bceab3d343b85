"""The budget frames' forecast (issue 16, item 2; docs/POLICY.md "Forecast").

From the recent pace of MyKey IDs and points (the statistics' summary tables), each budget
frame's (R17) persons and yen to come, the total at the phase's close and the day the frame
fills, with a band, under the rules in force or under a candidate rules file.

The model, stated once (the docs repeat it):

- Series. Persons: MyKey IDs reserved per JST day, all of them (the platform counts every
  reservation against the frame in force, services/mykey.py; services/budget.py reads them so
  too), running from the program's first application day to the last day the frame's phase
  takes applications. Yen: points granted less those clawed back per grant day (one yen a
  point), one series per measure of the frame's phase, running over the measure's spending
  window (a spending measure) or its application window (a fixed one).
- Pace of a series: the mean of its last W days up to the forecast's day D (W = 28 by default;
  days before the series opens are left out). Band: mean ± 1.96 · sd / √W, sd the sample
  standard deviation of those days: a 95 % interval of the mean pace if the days were
  independent draws. It says how well the recent pace is known, not that the pace will hold.
- Projection: linear, day by day from D + 1: total(t) = used by D + Σ pace × days the series
  runs in [D + 1, t]. The low and high totals use the low and high paces of every series
  together (their bands add up: the wider, safer choice). The frame fills on the first day the
  total reaches its size (early: with the high pace, late: with the low one), or not at all
  before its series close (None).
- Rules. In force: the windows as announced by D (a forecast made on D knows no later
  extension). A candidate: every window it states, whatever its announcement days (a proposal
  is asked "what if"), a spending measure's pace scaled by its rate over the rate in force, a
  fixed one's by its points over the points in force. A measure with no history (not yet open
  on D, or new in a candidate) has no pace: it adds nothing.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Final

from mynapoint.domain.calendar import jst_date
from mynapoint.domain.campaigns import BudgetFrame, CampaignRules, MeasureRule
from mynapoint.domain.errors import MynapointError
from mynapoint.domain.measures import MeasureKind
from mynapoint.domain.statistics import Dimension, Metric
from mynapoint.domain.versions import Versioned
from mynapoint.rules.candidates import IN_FORCE
from mynapoint.services.statistics import StatisticsStore, series

WINDOW_DAYS: Final = 28
Z_95: Final = 1.96  # the normal quantile of a two-sided 95 % interval
_ONE_DAY: Final = timedelta(days=1)


class ForecastDayOutOfRange(MynapointError):
    code = "forecast_day_out_of_range"


# --- the model: plain daily series in, a projection out ------------------------------------------


@dataclass(frozen=True)
class Band:
    expected: float
    low: float
    high: float

    def scaled(self, factor: float) -> Band:
        return Band(self.expected * factor, self.low * factor, self.high * factor)

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high


def pace(daily: Sequence[float]) -> Band:
    """Mean per day of `daily`, with mean ± Z_95 · sd / √n (a negative low only for a
    negative mean: a count does not go below 0)."""
    if not daily:
        return Band(0.0, 0.0, 0.0)
    mean = statistics.fmean(daily)
    spread = Z_95 * statistics.stdev(daily) / math.sqrt(len(daily)) if len(daily) > 1 else 0.0
    return Band(mean, max(mean - spread, min(mean, 0.0)), mean + spread)


@dataclass(frozen=True)
class Series:
    """One daily series that fills a frame: its last days (oldest first), the factor a
    candidate applies to it, and the days it runs (inclusive)."""

    recent: Sequence[float]
    opens: date
    closes: date
    factor: float = 1.0


@dataclass(frozen=True)
class Flow:
    """A series' projected pace per day, over the days it runs (inclusive)."""

    pace: Band
    opens: date
    closes: date

    def days_in(self, first: date, last: date) -> int:
        start, end = max(first, self.opens), min(last, self.closes)
        return max((end - start).days + 1, 0)


@dataclass(frozen=True)
class Fill:
    """The day a frame fills at the expected, high (early) and low (late) pace; None: not
    before its series close."""

    expected: date | None
    early: date | None
    late: date | None


@dataclass(frozen=True)
class Projection:
    """One side of a frame (persons, or yen) from the day after the data on."""

    size: int
    used: int
    starts: date  # the first day projected: the forecast's day + 1
    flows: tuple[Flow, ...]
    fill: Fill = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fill", self._fill())

    @property
    def closes(self) -> date:
        """The last day any series runs (the day before `starts` when none runs any more)."""
        return max((f.closes for f in self.flows), default=self.starts - _ONE_DAY)

    @property
    def pace(self) -> Band:
        """Per day on the first projected day (the series still to run)."""
        running = [f.pace for f in self.flows if f.closes >= self.starts]
        return Band(*(sum(getattr(p, side) for p in running) for side in _SIDES))

    @property
    def full(self) -> bool:
        return self.used >= self.size

    def at(self, day: date) -> Band:
        """The projected total by the end of `day` (the used total for a day before)."""
        return Band(
            *(
                self.used
                + sum(getattr(f.pace, side) * f.days_in(self.starts, day) for f in self.flows)
                for side in _SIDES
            )
        )

    @property
    def at_close(self) -> Band:
        return self.at(self.closes)

    def _fill(self) -> Fill:
        if self.full:
            return Fill(None, None, None)
        found: dict[str, date | None] = dict.fromkeys(_SIDES)
        day = self.starts
        while day <= self.closes and any(found[side] is None for side in _SIDES):
            total = self.at(day)
            for side in _SIDES:
                if found[side] is None and getattr(total, side) >= self.size:
                    found[side] = day
            day += _ONE_DAY
        return Fill(found["expected"], found["high"], found["low"])


_SIDES: Final = ("expected", "low", "high")


def project(size: int, used: int, last_day: date, daily: Sequence[Series]) -> Projection:
    """The model: each series' pace (scaled by its factor) from `last_day` + 1 (module docs)."""
    flows = tuple(Flow(pace(s.recent).scaled(s.factor), s.opens, s.closes) for s in daily)
    return Projection(size, used, last_day + _ONE_DAY, flows)


# --- reading: the statistics' daily figures ----------------------------------------------------


@dataclass(frozen=True)
class DailyHistory:
    """The statistics' daily figures a forecast reads: MyKey IDs per day, and net points
    (granted less clawed back) per measure and day."""

    computed_at: datetime
    mykeys: Mapping[date, int]
    yen: Mapping[str, Mapping[date, int]]  # measure -> day -> net points

    @property
    def last_day(self) -> date:
        """The last complete JST day: the day before the refresh's."""
        return jst_date(self.computed_at) - _ONE_DAY

    def persons_by(self, day: date) -> int:
        return sum(n for d, n in self.mykeys.items() if d <= day)

    def yen_by(self, measures: Sequence[str], day: date) -> int:
        return sum(n for m in measures for d, n in self.yen.get(m, {}).items() if d <= day)


def read_history(store: StatisticsStore) -> DailyHistory:
    """Every day's figures (StatisticsNotComputed before the first refresh)."""
    mykeys = series(store, Metric.MYKEYS)
    yen: dict[str, dict[date, int]] = {}
    for metric, sign in ((Metric.POINTS_GRANTED, 1), (Metric.POINTS_CLAWED_BACK, -1)):
        for figure in series(store, metric, (Dimension.MEASURE,)).figures:
            if figure.day is not None:
                days = yen.setdefault(figure.keys[0], {})
                days[figure.day] = days.get(figure.day, 0) + sign * figure.points
    persons = {f.day: f.count for f in mykeys.figures if f.day is not None}
    return DailyHistory(mykeys.computed_at, persons, yen)


def _recent(days: Mapping[date, int], opens: date, last_day: date, window_days: int) -> list[float]:
    first = max(last_day - timedelta(days=window_days - 1), opens)
    count = (last_day - first).days + 1
    return [float(days.get(first + timedelta(days=i), 0)) for i in range(max(count, 0))]


# --- the forecast ------------------------------------------------------------------------------


@dataclass(frozen=True)
class FrameForecast:
    frame: BudgetFrame
    persons: Projection
    yen: Projection


@dataclass(frozen=True)
class Forecast:
    rules: str  # IN_FORCE or the candidate's name
    computed_at: datetime  # the statistics' refresh
    last_day: date  # the last day of data used (the forecast's day)
    window_days: int
    frames: tuple[FrameForecast, ...]
    not_announced: tuple[str, ...]  # phases whose frame the rules had not announced by then


def _last_day_of(closes: Versioned[datetime], as_of: date | None) -> date | None:
    visible = closes.visible(as_of)
    # Windows are half-open: the last day is the one before the closing instant's JST day
    # unless the instant falls inside a day.
    return jst_date(visible[-1].value - timedelta(microseconds=1)) if visible else None


def _window(rule: MeasureRule, as_of: date | None) -> tuple[date, date] | None:
    """The days a measure's points accrue: its spending window, or its application window."""
    if rule.kind is MeasureKind.SPENDING and rule.spending_opens and rule.spending_closes:
        last = _last_day_of(rule.spending_closes, as_of)
        return None if last is None else (jst_date(rule.spending_opens), last)
    last = _last_day_of(rule.applications_close, as_of)
    return None if last is None else (jst_date(rule.applications_open), last)


def _factor(rule: MeasureRule, in_force: CampaignRules) -> float:
    """What a candidate's measure does to the pace recorded under the rules in force."""
    now = in_force.measures.get(rule.measure)
    if now is None:
        return 1.0
    if rule.kind is MeasureKind.SPENDING:
        return rule.rate_percent / now.rate_percent if now.rate_percent else 1.0
    return rule.fixed_points / now.fixed_points if now.fixed_points else 1.0


def forecast_from(
    history: DailyHistory,
    in_force: CampaignRules,
    *,
    candidate: tuple[str, CampaignRules] | None = None,
    as_of: date | None = None,
    window_days: int = WINDOW_DAYS,
) -> Forecast:
    """Each frame's forecast from the data through `as_of` (default: the last complete day)."""
    day = history.last_day if as_of is None else as_of
    program_opens = min(jst_date(r.applications_open) for r in in_force.measures.values())
    if day > history.last_day or day < program_opens:
        raise ForecastDayOutOfRange(
            f"no forecast from {day}: the statistics (computed at "
            f"{history.computed_at.isoformat()}) hold the days {program_opens} to "
            f"{history.last_day}; give a day in that range",
            day=day.isoformat(),
            last_day=history.last_day.isoformat(),
        )
    if window_days < 1:
        raise ValueError(f"a pace needs at least one day, not {window_days}")
    name, rules = candidate if candidate is not None else (IN_FORCE, in_force)
    rules_as_of = day if candidate is None else None
    frames, unannounced = [], []
    for frame in rules.budget_frames:
        if rules_as_of is not None and frame.announced > rules_as_of:
            unannounced.append(frame.phase)
            continue
        frames.append(_frame(history, in_force, rules, rules_as_of, frame, day, window_days))
    return Forecast(name, history.computed_at, day, window_days, tuple(frames), tuple(unannounced))


def _frame(
    history: DailyHistory,
    in_force: CampaignRules,
    rules: CampaignRules,
    rules_as_of: date | None,
    frame: BudgetFrame,
    day: date,
    window_days: int,
) -> FrameForecast:
    measures = [r for r in rules.measures.values() if r.phase == frame.phase]
    yen_series, applying = [], []
    for rule in measures:
        if not rule.is_announced(rules_as_of):
            continue
        window = _window(rule, rules_as_of)
        applications = _last_day_of(rule.applications_close, rules_as_of)
        if applications is not None:
            applying.append(applications)
        if window is None:
            continue
        opens, closes = window
        recent = _recent(history.yen.get(rule.measure.value, {}), opens, day, window_days)
        yen_series.append(Series(recent, opens, closes, _factor(rule, in_force)))
    program_opens = min(jst_date(r.applications_open) for r in rules.measures.values())
    persons_series = (
        [
            Series(
                _recent(history.mykeys, program_opens, day, window_days),
                program_opens,
                max(applying),
            )
        ]
        if applying
        else []
    )
    codes = [r.measure.value for r in measures]
    return FrameForecast(
        frame,
        project(frame.persons, history.persons_by(day), day, persons_series),
        project(frame.yen, history.yen_by(codes, day), day, yen_series),
    )


def forecast(
    store: StatisticsStore,
    in_force: CampaignRules,
    *,
    candidate: tuple[str, CampaignRules] | None = None,
    as_of: date | None = None,
    window_days: int = WINDOW_DAYS,
) -> Forecast:
    """forecast_from the statistics' daily figures (StatisticsNotComputed before a refresh)."""
    return forecast_from(
        read_history(store), in_force, candidate=candidate, as_of=as_of, window_days=window_days
    )
