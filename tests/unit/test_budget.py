"""services/budget.py: each budget frame's persons (every MyKey ID reserved) and yen (its phase's
points, net of clawbacks), the pace over the last 14 complete days, and the day it fills."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

import pytest

from mynapoint.domain.campaigns import BudgetFrame
from mynapoint.domain.statistics import Dimension, Figure, Metric, Refresh
from mynapoint.services.budget import budget_use, full_on
from mynapoint.services.statistics import StatisticsNotComputed

NOW = datetime(2021, 7, 24, 3, 0, tzinfo=UTC)  # 12:00 JST on 2021-07-24


@dataclass
class Rows:
    """A summary table in memory: (metric, day, measure) -> (count, points)."""

    rows: dict[tuple[Metric, date, str], tuple[int, int]] = field(default_factory=dict)
    computed_at: datetime | None = NOW

    def refresh(self, now: datetime, *, full: bool = False) -> Refresh:
        raise NotImplementedError

    def last_refresh(self) -> Refresh | None:
        return None if self.computed_at is None else Refresh(self.computed_at, full=True, days=0)

    def figures(
        self,
        metric: Metric,
        by: Sequence[Dimension],
        *,
        start: date | None = None,
        end: date | None = None,
        per_day: bool = False,
    ) -> list[Figure]:
        assert not per_day
        summed: dict[tuple[str, ...], tuple[int, int]] = {}
        for (kind, day, measure), (count, points) in self.rows.items():
            if kind is not metric or (start and day < start) or (end and day > end):
                continue
            keys = (measure,) if Dimension.MEASURE in by else ()
            old = summed.get(keys, (0, 0))
            summed[keys] = (old[0] + count, old[1] + points)
        return [Figure(keys, count, points) for keys, (count, points) in summed.items()]

    def pending(self) -> list[tuple[str, date, int, int]]:
        return []


def _rules(campaign_rules, *frames: BudgetFrame):
    return replace(campaign_rules, budget_frames=frames)


PHASE1 = BudgetFrame("phase1", yen=1_000_000, persons=1_000, announced=date(2019, 12, 5))
PHASE2 = BudgetFrame("phase2", yen=5_000_000, persons=5_000, announced=date(2021, 11, 19))


@pytest.fixture
def campaign_rules():
    from mynapoint.rules.loader import load_campaigns  # noqa: PLC0415

    return load_campaigns()


def test_used_pace_and_the_day_each_frame_fills(campaign_rules):
    store = Rows()
    store.rows[Metric.MYKEYS, date(2021, 6, 1), ""] = (300, 0)  # before the pace's days
    store.rows[Metric.MYKEYS, date(2021, 7, 10), ""] = (140, 0)  # in them: 10 a day
    store.rows[Metric.MYKEYS, date(2021, 7, 24), ""] = (50, 0)  # today: used, not in the pace
    store.rows[Metric.POINTS_GRANTED, date(2021, 7, 20), "phase1"] = (100, 300_000)
    store.rows[Metric.POINTS_CLAWED_BACK, date(2021, 7, 21), "phase1"] = (3, 20_000)
    store.rows[Metric.POINTS_GRANTED, date(2021, 7, 30), "phase1"] = (10, 50_000)  # ahead
    store.rows[Metric.POINTS_GRANTED, date(2021, 7, 20), "phase2_spending"] = (1, 7_000)
    use = budget_use(store, _rules(campaign_rules, PHASE1, PHASE2))

    assert (use.pace_from, use.pace_to, use.pace_days) == (date(2021, 7, 10), date(2021, 7, 23), 14)
    first, second = use.frames
    assert first.in_force
    assert first.announced
    assert not second.announced
    assert not second.in_force
    assert first.persons.used == second.persons.used == 490
    assert first.persons.per_day == pytest.approx(10)
    assert first.persons.full_on == date(2021, 7, 24) + timedelta(days=51)  # 510 at 10 a day
    assert first.yen.used == 330_000
    assert first.yen.per_day == pytest.approx(280_000 / 14)
    assert first.yen.full_on == date(2021, 7, 24) + timedelta(days=34)  # 670,000 at 20,000
    assert second.yen.used == 7_000
    assert round(first.persons.percent, 1) == 49.0


def test_a_frame_reached_or_without_pace_has_no_day(campaign_rules):
    store = Rows()
    store.rows[Metric.MYKEYS, date(2021, 6, 1), ""] = (1_200, 0)
    use = budget_use(store, _rules(campaign_rules, PHASE1))
    (frame,) = use.frames
    assert frame.persons.reached
    assert frame.persons.left == 0
    assert frame.persons.full_on is None
    assert frame.yen.per_day == 0
    assert frame.yen.full_on is None
    assert full_on(10, 4, 4.0, date(2021, 7, 1)) == date(2021, 7, 3)  # 6 left: 2 days (ceil)
    assert full_on(40_000_000, 1, 0.01, date(2021, 7, 1)) is None  # not within 100 years


def test_before_any_refresh_it_says_so(campaign_rules):
    with pytest.raises(StatisticsNotComputed):
        budget_use(Rows(computed_at=None), campaign_rules)
