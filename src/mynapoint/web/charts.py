"""Charts drawn by the server as SVG: no JavaScript, no library, nothing fetched.

`bar_chart` draws horizontal bars (one per labelled value: long Japanese names fit on the left,
and a phone's narrow screen keeps them readable); `column_chart` draws a time series, one
column per day with a value axis and date labels; `band_chart` a running total over days, the
recorded part as a line and projections as dashed lines over their bands. Each is an
`<svg role="img">` with a `<title>` and a `<desc>` (what a screen reader says), scaled to its
container by its viewBox.
The numbers themselves go in a table after the chart (the page's job): the chart is there to be
looked at, the table to be read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final

from markupsafe import Markup, escape

WIDTH: Final = 640
ROW: Final = 28  # height of one bar's row
BAR: Final = 18
LABEL_WIDTH: Final = 190  # the bars' labels, on their left
VALUE_ROOM: Final = 90  # the value, after the longest bar
PLOT_HEIGHT: Final = 200
LEFT: Final = 64  # the value axis' labels
BOTTOM: Final = 40  # the date labels
TOP: Final = 12
TICKS: Final = 4
MAX_LABEL: Final = 16  # characters of a bar's label shown; the table has the whole name


@dataclass(frozen=True)
class Bar:
    label: str
    value: int


def _clip(text: str) -> str:
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


def tick_step(value: int) -> int:
    """The value axis' step: the smallest 1, 2 or 5 × 10^n whose TICKS steps reach `value`
    (1 for 0), so that every tick is a round whole number."""
    scale = 1
    while True:
        for step in (1, 2, 5):
            if step * scale * TICKS >= value:
                return step * scale
        scale *= 10


def _open(title: str, desc: str, height: int, name: str) -> list[str]:
    return [
        (
            f'<svg class="chart" role="img" aria-labelledby="{name}-title {name}-desc" '
            f'viewBox="0 0 {WIDTH} {height}" xmlns="http://www.w3.org/2000/svg" '
            f'preserveAspectRatio="xMinYMin meet">'
        ),
        f'<title id="{name}-title">{escape(title)}</title>',
        f'<desc id="{name}-desc">{escape(desc)}</desc>',
    ]


def bar_chart(
    name: str,
    title: str,
    desc: str,
    bars: Sequence[Bar],
    show: Callable[[int], str] = str,
    empty: str = "",
) -> Markup:
    """Horizontal bars whose lengths are proportional to their values (the longest one fills
    the plot), each labelled on its left and followed by its value as `show` writes it.
    `name` makes the SVG's ids unique on the page; `empty` is written when there are no bars.
    """
    if not bars:
        height = ROW + TOP
        parts = _open(title, desc, height, name)
        parts.append(
            f'<text class="empty" x="{WIDTH // 2}" y="{TOP + BAR}" '
            f'text-anchor="middle">{escape(empty)}</text>'
        )
        return Markup("".join([*parts, "</svg>"]))  # noqa: S704 - every text is escaped
    height = TOP + ROW * len(bars) + 4
    plot = WIDTH - LABEL_WIDTH - VALUE_ROOM
    top = max(bar.value for bar in bars) or 1
    parts = _open(title, desc, height, name)
    parts.append(
        f'<line class="axis" x1="{LABEL_WIDTH}" y1="{TOP - 4}" x2="{LABEL_WIDTH}" '
        f'y2="{height - 2}"/>'
    )
    for index, bar in enumerate(bars):
        y = TOP + index * ROW
        length = round(plot * max(bar.value, 0) / top, 1)
        middle = y + BAR // 2 + 5
        parts += [
            (
                f'<text class="label" x="{LABEL_WIDTH - 8}" y="{middle}" text-anchor="end">'
                f"{escape(_clip(bar.label))}</text>"
            ),
            f'<rect class="bar" x="{LABEL_WIDTH}" y="{y}" width="{length}" height="{BAR}"/>',
            (
                f'<text class="value" x="{LABEL_WIDTH + length + 6}" y="{middle}">'
                f"{escape(show(bar.value))}</text>"
            ),
        ]
    return Markup("".join([*parts, "</svg>"]))  # noqa: S704 - every text is escaped


def column_chart(
    name: str,
    title: str,
    desc: str,
    days: Sequence[tuple[date, int]],
    show: Callable[[int], str] = str,
    day_label: Callable[[date], str] = lambda day: f"{day.month}/{day.day}",
    empty: str = "",
) -> Markup:
    """A time series: one column per day (in the order given), heights proportional to the
    values on an axis from 0 to a round top, with TICKS + 1 value labels on the left and the
    first, last and some days between labelled below."""
    if not days:
        return bar_chart(name, title, desc, (), show, empty)
    height = TOP + PLOT_HEIGHT + BOTTOM
    plot_width = WIDTH - LEFT - 8
    base = TOP + PLOT_HEIGHT
    step_value = tick_step(max(value for _, value in days))
    top = step_value * TICKS
    parts = _open(title, desc, height, name)
    for tick in range(TICKS + 1):
        value = step_value * tick
        y = round(base - PLOT_HEIGHT * tick / TICKS, 1)
        parts += [
            f'<line class="grid" x1="{LEFT}" y1="{y}" x2="{WIDTH - 8}" y2="{y}"/>',
            (
                f'<text class="tick" x="{LEFT - 6}" y="{y + 4}" text-anchor="end">'
                f"{escape(show(value))}</text>"
            ),
        ]
    step = plot_width / len(days)
    width = round(max(step * 0.8, 1.0), 2)
    every = max(1, round(len(days) / 6))
    for index, (day, value) in enumerate(days):
        x = round(LEFT + index * step + (step - width) / 2, 2)
        column = round(PLOT_HEIGHT * max(value, 0) / top, 1)
        parts.append(
            f'<rect class="bar" x="{x}" y="{round(base - column, 1)}" width="{width}" '
            f'height="{column}"><title>{escape(day_label(day))}: {escape(show(value))}'
            "</title></rect>"
        )
        if index % every == 0 or index == len(days) - 1:
            if index != len(days) - 1 and len(days) - 1 - index < every / 2:
                continue  # too close to the last day's label
            # The last label ends at its column's right edge, the first starts at its left
            # edge: centred, either would run past the drawing's side and be clipped.
            at, anchor = round(x + width / 2, 1), "middle"
            if index == len(days) - 1:
                at, anchor = round(x + width, 1), "end"
            elif index == 0:
                at, anchor = x, "start"
            parts.append(
                f'<text class="day" x="{at}" y="{base + 18}" '
                f'text-anchor="{anchor}">{escape(day_label(day))}</text>'
            )
    parts.append(f'<line class="axis" x1="{LEFT}" y1="{base}" x2="{WIDTH - 8}" y2="{base}"/>')
    return Markup("".join([*parts, "</svg>"]))  # noqa: S704 - every text is escaped


@dataclass(frozen=True)
class Pair:
    """Two values of one row: e.g. what was granted and what a candidate would grant."""

    label: str
    first: int
    second: int


PAIR_ROW: Final = 40  # two bars and the gap below them
PAIR_BAR: Final = 14
LEGEND: Final = 24


def paired_bar_chart(
    name: str,
    title: str,
    desc: str,
    pairs: Sequence[Pair],
    series: tuple[str, str],
    show: Callable[[int], str] = str,
    empty: str = "",
) -> Markup:
    """Horizontal bars in pairs, one pair per row (the first series above the second, told
    apart by fill and by a legend), on one scale: the longest bar of either series fills the
    plot. Negative values draw as empty bars; their value is still written."""
    if not pairs:
        return bar_chart(name, title, desc, (), show, empty)
    height = LEGEND + TOP + PAIR_ROW * len(pairs)
    plot = WIDTH - LABEL_WIDTH - VALUE_ROOM
    top = max(max(pair.first, pair.second) for pair in pairs) or 1
    parts = _open(title, desc, height, name)
    for index, label in enumerate(series):
        x = LABEL_WIDTH + index * 200
        parts += [
            f'<rect class="bar series-{index + 1}" x="{x}" y="4" width="14" height="14"/>',
            f'<text class="legend" x="{x + 20}" y="16">{escape(label)}</text>',
        ]
    start = LEGEND + TOP
    parts.append(
        f'<line class="axis" x1="{LABEL_WIDTH}" y1="{start - 4}" x2="{LABEL_WIDTH}" '
        f'y2="{height - 2}"/>'
    )
    for index, pair in enumerate(pairs):
        y = start + index * PAIR_ROW
        parts.append(
            f'<text class="label" x="{LABEL_WIDTH - 8}" y="{y + PAIR_BAR + 4}" '
            f'text-anchor="end">{escape(_clip(pair.label))}</text>'
        )
        for offset, (number, value) in enumerate(((1, pair.first), (2, pair.second))):
            top_y = y + offset * PAIR_BAR
            length = round(plot * max(value, 0) / top, 1)
            parts += [
                (
                    f'<rect class="bar series-{number}" x="{LABEL_WIDTH}" y="{top_y}" '
                    f'width="{length}" height="{PAIR_BAR - 1}"/>'
                ),
                (
                    f'<text class="value" x="{LABEL_WIDTH + length + 6}" '
                    f'y="{top_y + PAIR_BAR - 3}">{escape(show(value))}</text>'
                ),
            ]
    return Markup("".join([*parts, "</svg>"]))  # noqa: S704 - every text is escaped


@dataclass(frozen=True)
class BandPoint:
    """A projected total on a day: expected, and its band."""

    day: date
    expected: float
    low: float
    high: float


@dataclass(frozen=True)
class Projected:
    """One projection of a band chart; `kind` names its look (a CSS class: "in-force",
    "candidate")."""

    kind: str
    points: Sequence[BandPoint]


def _polyline(points: Sequence[tuple[float, float]]) -> str:
    return " ".join(f"{x},{y}" for x, y in points)


def _bands(
    projections: Sequence[Projected],
    x: Callable[[date], float],
    y: Callable[[float], float],
) -> list[str]:
    """Each projection's band (low, then high backwards: one closed shape) and expected line."""
    parts = []
    for projection in projections:
        points = projection.points
        if not points:
            continue
        outline = [(x(p.day), y(p.low)) for p in points]
        outline += [(x(p.day), y(p.high)) for p in reversed(points)]
        expected = [(x(p.day), y(p.expected)) for p in points]
        parts += [
            f'<polygon class="band {projection.kind}" points="{_polyline(outline)}"/>',
            f'<polyline class="projection {projection.kind}" points="{_polyline(expected)}"/>',
        ]
    return parts


def band_chart(
    name: str,
    title: str,
    desc: str,
    recorded: Sequence[tuple[date, float]],
    projections: Sequence[Projected],
    *,
    show: Callable[[int], str] = str,
    day_label: Callable[[date], str] = lambda day: f"{day.year}/{day.month}",
    limit: float | None = None,
    empty: str = "",
) -> Markup:
    """A running total over days: the recorded days as a solid line, then each projection's
    expected total as a dashed line over its band (low to high) as a shaded area, on a day
    axis (proportional to time) and a value axis from 0 to a round top. A vertical line marks
    the last recorded day; `limit` (e.g. a budget frame) is drawn as a line, the value axis
    raised to it, when it is at most twice the highest value (a frame far above the values
    would flatten every line: it is left out)."""
    band_days = [p.day for projection in projections for p in projection.points]
    days = [day for day, _ in recorded] + band_days
    if not days:
        return bar_chart(name, title, desc, (), show, empty)
    first, last = min(days).toordinal(), max(days).toordinal()
    span = max(last - first, 1)
    highest = max(
        [value for _, value in recorded]
        + [p.high for projection in projections for p in projection.points]
        + [0.0]
    )
    drawn_limit = limit if limit is not None and limit <= 2 * highest else None
    highest = max(highest, drawn_limit or 0.0)
    step_value = tick_step(round(highest))
    top = step_value * TICKS
    height = TOP + PLOT_HEIGHT + BOTTOM
    left = LEFT + 16
    plot_width = WIDTH - left - 12
    base = TOP + PLOT_HEIGHT

    def x(day: date) -> float:
        return round(left + plot_width * (day.toordinal() - first) / span, 1)

    def y(value: float) -> float:
        return round(base - PLOT_HEIGHT * max(value, 0.0) / (top or 1), 1)

    parts = _open(title, desc, height, name)
    for tick in range(TICKS + 1):
        value = step_value * tick
        at = y(value)
        parts += [
            f'<line class="grid" x1="{left}" y1="{at}" x2="{WIDTH - 12}" y2="{at}"/>',
            (
                f'<text class="tick" x="{left - 6}" y="{at + 4}" text-anchor="end">'
                f"{escape(show(value))}</text>"
            ),
        ]
    parts += _bands(projections, x, y)
    if recorded:
        line = [(x(day), y(value)) for day, value in recorded]
        now = line[-1][0]
        parts += [
            f'<polyline class="recorded" points="{_polyline(line)}"/>',
            f'<line class="now" x1="{now}" y1="{TOP}" x2="{now}" y2="{base}"/>',
        ]
    if drawn_limit is not None:
        at = y(drawn_limit)
        parts.append(f'<line class="limit" x1="{left}" y1="{at}" x2="{WIDTH - 12}" y2="{at}"/>')
    labels = 5
    for index in range(labels + 1):
        day = date.fromordinal(first + round(span * index / labels))
        anchor = "start" if index == 0 else "end" if index == labels else "middle"
        parts.append(
            f'<text class="day" x="{x(day)}" y="{base + 18}" text-anchor="{anchor}">'
            f"{escape(day_label(day))}</text>"
        )
    parts.append(f'<line class="axis" x1="{left}" y1="{base}" x2="{WIDTH - 12}" y2="{base}"/>')
    return Markup("".join([*parts, "</svg>"]))  # noqa: S704 - every text is escaped
