"""How much of each budget frame of the rules (R17) is used, and when it fills at the recent pace.

A frame has persons (the MyKey ID reservations it allows: the platform refuses new ones once the
frame in force is full, services/mykey.py) and yen (the points its phase may grant, one yen a
point). Both are read from the statistics' summary tables, as of their refresh:

- persons used: the MyKey IDs reserved, all of them (the platform counts every reservation
  against the frame in force, whichever phase it was made in);
- yen used: the points granted for the frame's phase's measures less those clawed back, by
  grant day (instructions dated later are already committed, so they count).

The pace is the mean per day over the last `PACE_DAYS` complete JST days (the days before the
refresh's day); the day a frame fills is the refresh's day plus the days the rest takes at that
pace (None when the frame is full already, or would not fill within 100 years at that pace).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final

from mynapoint.domain.calendar import jst_date
from mynapoint.domain.campaigns import BudgetFrame, CampaignRules
from mynapoint.domain.statistics import Dimension, Metric
from mynapoint.services.statistics import StatisticsStore, breakdown, totals

PACE_DAYS: Final = 14
HORIZON_DAYS: Final = 36_500  # a forecast further than 100 years ahead is none


@dataclass(frozen=True)
class Use:
    """One side of a frame (persons or yen): its size, how much is used, the pace and when full."""

    size: int
    used: int
    per_day: float
    full_on: date | None

    @property
    def left(self) -> int:
        return max(self.size - self.used, 0)

    @property
    def reached(self) -> bool:
        return self.used >= self.size

    @property
    def percent(self) -> float:
        return 100.0 * self.used / self.size if self.size else 100.0


@dataclass(frozen=True)
class FrameUse:
    frame: BudgetFrame
    in_force: bool  # the frame new reservations are counted against now
    announced: bool  # announced by the refresh's day
    persons: Use
    yen: Use


@dataclass(frozen=True)
class BudgetUse:
    computed_at: datetime
    pace_from: date
    pace_to: date
    pace_days: int
    frames: tuple[FrameUse, ...]


def full_on(size: int, used: int, per_day: float, today: date) -> date | None:
    """The day a frame of `size` fills from `used` at `per_day` (None: full already, or not
    within HORIZON_DAYS at that pace)."""
    if used >= size or per_day <= 0:
        return None
    days = math.ceil((size - used) / per_day)
    return None if days > HORIZON_DAYS else today + timedelta(days=days)


def budget_use(
    store: StatisticsStore, rules: CampaignRules, pace_days: int = PACE_DAYS
) -> BudgetUse:
    """Each budget frame's use as of the statistics' refresh (StatisticsNotComputed before)."""
    everything = totals(store)
    today = jst_date(everything.computed_at)
    pace_to = today - timedelta(days=1)
    pace_from = today - timedelta(days=pace_days)
    recent = totals(store, pace_from, pace_to)
    persons_pace = recent.mykeys / pace_days

    phase_of = {measure.value: rule.phase for measure, rule in rules.measures.items()}

    def points_by_phase(start: date | None, end: date | None) -> dict[str, int]:
        net: dict[str, int] = {}
        for metric, sign in ((Metric.POINTS_GRANTED, 1), (Metric.POINTS_CLAWED_BACK, -1)):
            found = breakdown(store, metric, (Dimension.MEASURE,), start, end)
            for figure in found.figures:
                phase = phase_of.get(figure.keys[0], "")
                net[phase] = net.get(phase, 0) + sign * figure.points
        return net

    yen_used = points_by_phase(None, None)
    yen_recent = points_by_phase(pace_from, pace_to)
    announced = [frame for frame in rules.budget_frames if frame.announced <= today]
    in_force = max(announced, key=lambda frame: frame.announced) if announced else None
    frames = []
    for frame in rules.budget_frames:
        yen_pace = yen_recent.get(frame.phase, 0) / pace_days
        used = yen_used.get(frame.phase, 0)
        frames.append(
            FrameUse(
                frame=frame,
                in_force=frame is in_force,
                announced=frame.announced <= today,
                persons=Use(
                    frame.persons,
                    everything.mykeys,
                    persons_pace,
                    full_on(frame.persons, everything.mykeys, persons_pace, today),
                ),
                yen=Use(frame.yen, used, yen_pace, full_on(frame.yen, used, yen_pace, today)),
            )
        )
    return BudgetUse(everything.computed_at, pace_from, pace_to, pace_days, tuple(frames))
