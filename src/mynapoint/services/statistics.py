"""The program's statistics: refreshing the summary tables, and the queries the ministry's
overview and the open data call. Every query reads the summary tables only (never the live
tables) and says as of when its figures were computed."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from mynapoint.domain.calendar import jst_date
from mynapoint.domain.errors import MynapointError
from mynapoint.domain.statistics import (
    SMALL_CELL,
    Cell,
    Dimension,
    Figure,
    Metric,
    Refresh,
    protect,
    suppress,
    totals_of,
)

log = logging.getLogger("mynapoint.statistics")


class StatisticsStore(Protocol):
    def refresh(self, now: datetime, *, full: bool = False) -> Refresh: ...

    def last_refresh(self) -> Refresh | None: ...

    def figures(
        self,
        metric: Metric,
        by: Sequence[Dimension],
        *,
        start: date | None = None,
        end: date | None = None,
        per_day: bool = False,
    ) -> list[Figure]: ...

    def pending(self) -> list[tuple[str, date, int, int]]: ...


class StatisticsNotComputed(MynapointError):
    code = "statistics_not_computed"


class InvalidDateRange(MynapointError):
    code = "invalid_date_range"


def refresh(store: StatisticsStore, now: datetime, *, full: bool = False) -> Refresh:
    """Recompute the days that can have changed since the last refresh (all of them when
    `full`), in one transaction stamped `now`."""
    done = store.refresh(now, full=full)
    log.info(
        "statistics refreshed as of %s (%s, %d metric-days)",
        done.computed_at.isoformat(),
        "full" if done.full else "incremental",
        done.days,
    )
    return done


def as_of(store: StatisticsStore) -> datetime:
    """The moment of the last refresh, which every figure is stamped with."""
    last = store.last_refresh()
    if last is None:
        raise StatisticsNotComputed(
            "the statistics have not been computed yet; run `mynapoint stats refresh` or wait "
            "for the next scheduled refresh"
        )
    return last.computed_at


def _check_range(start: date | None, end: date | None) -> None:
    if start is not None and end is not None and start > end:
        raise InvalidDateRange(
            f"the range starts on {start} after it ends on {end}; give start <= end",
            start=start.isoformat(),
            end=end.isoformat(),
        )


@dataclass(frozen=True)
class Totals:
    computed_at: datetime
    mykeys: int
    applications: int
    cancellations: int
    points_granted: int
    points_clawed_back: int
    assisted_applications: int


def totals(store: StatisticsStore, start: date | None = None, end: date | None = None) -> Totals:
    """The program's totals over [start, end] (JST days, inclusive; None: from/to the end)."""
    _check_range(start, end)
    computed_at = as_of(store)

    def count(metric: Metric) -> tuple[int, int]:
        return totals_of(store.figures(metric, (), start=start, end=end))

    return Totals(
        computed_at=computed_at,
        mykeys=count(Metric.MYKEYS)[0],
        applications=count(Metric.APPLICATIONS)[0],
        cancellations=count(Metric.CANCELLATIONS)[0],
        points_granted=count(Metric.POINTS_GRANTED)[1],
        points_clawed_back=count(Metric.POINTS_CLAWED_BACK)[1],
        assisted_applications=count(Metric.ASSISTED_APPLICATIONS)[0],
    )


@dataclass(frozen=True)
class Breakdown:
    """Figures of one metric summed by some dimensions (and per day, for a time series)."""

    computed_at: datetime
    metric: Metric
    by: tuple[Dimension, ...]
    figures: tuple[Figure, ...]


def breakdown(
    store: StatisticsStore,
    metric: Metric,
    by: Sequence[Dimension],
    start: date | None = None,
    end: date | None = None,
) -> Breakdown:
    """`metric` summed over [start, end] by `by`, e.g. applications by measure and channel."""
    _check_range(start, end)
    computed_at = as_of(store)
    figures = store.figures(metric, by, start=start, end=end)
    return Breakdown(computed_at, metric, tuple(by), tuple(figures))


def series(
    store: StatisticsStore,
    metric: Metric,
    by: Sequence[Dimension] = (),
    start: date | None = None,
    end: date | None = None,
) -> Breakdown:
    """`metric` per day over [start, end], by `by` (none: one figure per day)."""
    _check_range(start, end)
    computed_at = as_of(store)
    figures = store.figures(metric, by, start=start, end=end, per_day=True)
    return Breakdown(computed_at, metric, tuple(by), tuple(figures))


@dataclass(frozen=True)
class PendingAtOperator:
    operator_code: str
    instructions: int
    points: int
    oldest_due: date
    # Instructions whose grant day has passed (grant_on before the refresh's day), and by how
    # many days the oldest of them is late (0: none late).
    late: int
    days_late: int


@dataclass(frozen=True)
class PendingGrants:
    computed_at: datetime
    operators: tuple[PendingAtOperator, ...]


def pending_grants(store: StatisticsStore) -> PendingGrants:
    """Grant instructions not yet acknowledged by each operator, and how late, as of the
    refresh (lateness counts from the refresh's JST day)."""
    computed_at = as_of(store)
    today = jst_date(computed_at)
    by_operator: dict[str, list[tuple[date, int, int]]] = {}
    for operator, due, count, points in store.pending():
        by_operator.setdefault(operator, []).append((due, count, points))
    operators = []
    for operator, rows in sorted(by_operator.items()):
        oldest = min(due for due, _, _ in rows)
        operators.append(
            PendingAtOperator(
                operator_code=operator,
                instructions=sum(count for _, count, _ in rows),
                points=sum(points for _, _, points in rows),
                oldest_due=oldest,
                late=sum(count for due, count, _ in rows if due < today),
                days_late=max((today - oldest).days, 0),
            )
        )
    return PendingGrants(computed_at, tuple(operators))


# --- open data ---------------------------------------------------------------------------------

TOTAL = "total"  # the `service` of a measure's total over services


@dataclass(frozen=True)
class OpenData:
    """Daily counts for everyone: complete JST days only (before the refresh's day), no
    personal data, small cells suppressed (domain/statistics.py)."""

    computed_at: datetime
    threshold: int
    cells: tuple[Cell, ...]

    @property
    def days(self) -> list[date]:
        return sorted({cell.day for cell in self.cells})


def open_data(store: StatisticsStore) -> OpenData:
    """Every day from the first with a figure to the day before the refresh's: MyKey IDs and
    points granted (0 on a day without), and applications per measure (its total, 0 on a day
    without, then each service that had any)."""
    computed_at = as_of(store)
    last_day = date.fromordinal(jst_date(computed_at).toordinal() - 1)
    mykeys = _by_day(store.figures(Metric.MYKEYS, (), end=last_day, per_day=True))
    granted = _by_day(store.figures(Metric.POINTS_GRANTED, (), end=last_day, per_day=True))
    groups: dict[tuple[date, str], list[Figure]] = {}
    for figure in store.figures(
        Metric.APPLICATIONS, (Dimension.MEASURE, Dimension.SERVICE), end=last_day, per_day=True
    ):
        if figure.day is not None:
            groups.setdefault((figure.day, figure.keys[0]), []).append(figure)
    days = {*mykeys, *granted, *(day for day, _ in groups)}
    measures = sorted({measure for _, measure in groups})
    cells: list[Cell] = []
    for ordinal in range(min(days).toordinal(), last_day.toordinal() + 1) if days else ():
        day = date.fromordinal(ordinal)
        mykey = mykeys.get(day)
        cells.append(suppress(Cell(day, "mykey_ids", "", "", None), mykey.count if mykey else 0))
        for measure in measures:
            figures = groups.get((day, measure), [])
            total = suppress(
                Cell(day, "applications", measure, TOTAL, None), sum(f.count for f in figures)
            )
            parts = [
                suppress(Cell(day, "applications", measure, f.keys[1], None), f.count)
                for f in sorted(figures, key=lambda f: f.keys[1])
            ]
            total, parts = protect(total, parts)
            cells.extend([total, *parts])
        grant = granted.get(day)
        cells.append(
            suppress(
                Cell(day, "points_granted", "", "", None),
                grant.points if grant else 0,
                contributors=grant.count if grant else 0,
            )
        )
    return OpenData(computed_at, SMALL_CELL, tuple(cells))


def _by_day(figures: Sequence[Figure]) -> dict[date, Figure]:
    return {figure.day: figure for figure in figures if figure.day is not None}
