"""The program's statistics as values: the metrics kept per day, and the disclosure control
of the open data (small cells suppressed, and no suppressed cell recoverable by subtraction)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Final


class Metric(StrEnum):
    """What a row of daily_statistics counts, and by which day (JST)."""

    MYKEYS = "mykeys"  # MyKey IDs created, by creation day and municipality
    # Applications made (whatever became of them later), by the day applied and measure,
    # service, channel and municipality; cancellations by the day cancelled, same keys.
    APPLICATIONS = "applications"
    CANCELLATIONS = "cancellations"
    # Grant instructions with points > 0 (granted) and < 0 (clawed back, counted positive), by
    # their grant day (grant_on) and operator, service and measure.
    POINTS_GRANTED = "points_granted"
    POINTS_CLAWED_BACK = "points_clawed_back"
    # Applications made at a support-corner counter, by the day and corner.
    ASSISTED_APPLICATIONS = "assisted_applications"


class Dimension(StrEnum):
    MEASURE = "measure"
    SERVICE = "service_code"
    OPERATOR = "operator_code"
    CHANNEL = "channel"
    MUNICIPALITY = "municipality"
    CORNER = "corner"


# Which dimensions each metric is broken down by (the others hold '').
DIMENSIONS: Final[dict[Metric, tuple[Dimension, ...]]] = {
    Metric.MYKEYS: (Dimension.MUNICIPALITY,),
    Metric.APPLICATIONS: (
        Dimension.MEASURE,
        Dimension.SERVICE,
        Dimension.CHANNEL,
        Dimension.MUNICIPALITY,
    ),
    Metric.CANCELLATIONS: (
        Dimension.MEASURE,
        Dimension.SERVICE,
        Dimension.CHANNEL,
        Dimension.MUNICIPALITY,
    ),
    Metric.POINTS_GRANTED: (Dimension.OPERATOR, Dimension.SERVICE, Dimension.MEASURE),
    Metric.POINTS_CLAWED_BACK: (Dimension.OPERATOR, Dimension.SERVICE, Dimension.MEASURE),
    Metric.ASSISTED_APPLICATIONS: (Dimension.CORNER,),
}


@dataclass(frozen=True)
class Refresh:
    """A refresh of the summary tables: as of when, whether it recomputed everything, and how
    many (metric family, day) pairs it recomputed."""

    computed_at: datetime
    full: bool
    days: int


@dataclass(frozen=True)
class Figure:
    """One summed figure of a breakdown or a time series; `day` None when summed over days."""

    keys: tuple[str, ...]
    count: int
    points: int
    day: date | None = None


# --- open data: disclosure control -----------------------------------------------------------

# A published count from 1 to SMALL_CELL - 1 could single out a person (the one applicant
# with a small service on a day); it is suppressed. 10 is the threshold official statistics
# commonly use for counts of persons (e.g. the UK ONS/NHS small-number rules), and the daily
# figures stay useful: only rare service-days fall below it. 0 is shown: it reveals nobody.
SMALL_CELL: Final = 10


@dataclass(frozen=True)
class Cell:
    """One published figure: `value` None when suppressed."""

    day: date
    metric: str
    measure: str
    service: str
    value: int | None
    # "primary" (below SMALL_CELL), "secondary" (hidden so that a primary one cannot be
    # recovered by subtraction from the published total), or "" when shown.
    suppressed: str = ""


def is_small(value: int) -> bool:
    return 0 < value < SMALL_CELL


def suppress(cell: Cell, raw: int, *, contributors: int | None = None) -> Cell:
    """The cell with its value, or suppressed when it counts (or sums over) too few: a points
    figure is judged by the number of grants in it (`contributors`), a count by itself."""
    judged = raw if contributors is None else contributors
    if is_small(judged):
        return replace(cell, value=None, suppressed="primary")
    return replace(cell, value=raw)


def protect(total: Cell, parts: Sequence[Cell]) -> tuple[Cell, list[Cell]]:
    """A published total and its parts, after secondary suppression: when exactly one part is
    suppressed, the total minus the other parts would reveal it, so the smallest other shown
    part is suppressed too (two unknowns cannot be told apart by one subtraction); with no
    other part to hide, the total is hidden instead. A hidden total protects its parts already.
    """
    parts = list(parts)
    hidden = [part for part in parts if part.value is None]
    if total.value is None or len(hidden) != 1:
        return total, parts
    shown = [part for part in parts if part.value is not None]
    if not shown:
        return replace(total, value=None, suppressed="secondary"), parts
    smallest = min(shown, key=lambda part: (part.value or 0, part.service))
    return total, [
        replace(part, value=None, suppressed="secondary") if part is smallest else part
        for part in parts
    ]


def totals_of(figures: Iterable[Figure]) -> tuple[int, int]:
    count = points = 0
    for figure in figures:
        count += figure.count
        points += figure.points
    return count, points
