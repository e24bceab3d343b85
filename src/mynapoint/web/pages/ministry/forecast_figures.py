"""What /ministry/policy/forecast shows, from a ForecastPair (services/policy_forecast_request.py):
each frame's figures under the rules in force and a candidate's as text, and its running
totals over days (recorded, then projected with their bands) for the charts, their tables and
the CSV."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

from markupsafe import Markup

from mynapoint.services.policy_backtest import Backtest
from mynapoint.services.policy_forecast import DailyHistory, Forecast, FrameForecast, Projection
from mynapoint.services.policy_forecast_request import ForecastPair
from mynapoint.web.charts import BandPoint, Projected, band_chart
from mynapoint.web.i18n import N_, _, current_locale, long_date, number, yen
from mynapoint.web.pages.ministry.budget import PHASE_NAMES

SIDES: Final = ("persons", "yen")
RULES: Final = ("in-force", "candidate")
SAMPLE_DAYS: Final = 7  # the charts and their tables: a point a week (the CSV: every day)
SIDE_NAMES: Final = {"persons": N_("人数(マイキーIDの予約)"), "yen": N_("金額(付与したポイント)")}
SHORT_SIDE_NAMES: Final = {"persons": N_("人数"), "yen": N_("金額")}
_ONE_DAY: Final = timedelta(days=1)
# The rows of a frame's table: a Line's field (its id on the page), and the header (a template
# message: its % doubled).
FIGURE_ROWS: Final = (
    ("used", N_("使用 / 枠")),
    ("pace", N_("1日あたりの速さ(95%%区間)")),
    ("close-day", N_("締切")),
    ("at-close", N_("締切までの合計(95%%区間)")),
    ("fill", N_("枠に達する日")),
    ("difference", N_("適用中のルールとの差")),
)


@dataclass(frozen=True)
class Line:
    """One side of a frame under one set of rules, as shown (every text already written)."""

    rules: str  # "in-force" or "candidate"
    label: str
    present: bool  # False: these rules have no such frame (or had not announced it)
    absent: str = ""
    used: str = ""
    pace: str = ""
    close_day: str = ""
    at_close: str = ""
    fill: str = ""
    difference: str = ""


@dataclass(frozen=True)
class Point:
    """A day of a chart: the recorded total (to the last day of data) and each projection."""

    day: date
    recorded: int | None
    projected: Mapping[str, tuple[float, float, float] | None]  # rules -> expected, low, high


@dataclass(frozen=True)
class Chart:
    slug: str  # "phase1-yen"
    title: str
    svg: Markup
    points: Sequence[Point]  # the chart's (a point a week)
    days: Sequence[Point]  # every day (the CSV)


@dataclass(frozen=True)
class Shown:
    phase: str
    name: str
    announced: str
    lines: Mapping[str, Sequence[Line]]  # side -> the lines
    charts: Sequence[Chart]


def phase_name(phase: str) -> str:
    return _(PHASE_NAMES[phase]) if phase in PHASE_NAMES else phase


def _writer(side: str) -> Callable[[int], str]:
    return yen if side == "yen" else number


def _band(side: str, expected: float, low: float, high: float) -> str:
    write = _writer(side)
    return _("%(expected)s(%(low)s〜%(high)s)") % {
        "expected": write(round(expected)),
        "low": write(round(low)),
        "high": write(round(high)),
    }


def _per_day(side: str, projection: Projection) -> str:
    band = projection.pace
    if side == "yen":
        return _band(side, band.expected, band.low, band.high)
    return _("%(expected)s(%(low)s〜%(high)s)") % {
        "expected": f"{band.expected:,.1f}",
        "low": f"{band.low:,.1f}",
        "high": f"{band.high:,.1f}",
    }


def fill_text(projection: Projection) -> str:
    fill = projection.fill
    if projection.full:
        return _("到達済み")
    close = long_date(projection.closes)
    if fill.expected is None and fill.early is None:
        return _("締切(%(close)s)までに達しません") % {"close": close}
    never = _("締切までに達しません")
    return _("見込み %(expected)s(早い場合 %(early)s、遅い場合 %(late)s)") % {
        "expected": long_date(fill.expected) if fill.expected else never,
        "early": long_date(fill.early) if fill.early else never,
        "late": long_date(fill.late) if fill.late else never,
    }


def _label(rules: str, made: Forecast | None) -> str:
    if rules == "in-force":
        return _("適用中のルール")
    return _("候補: %(name)s") % {"name": made.rules.removesuffix(".yaml") if made else ""}


def _line(
    rules: str,
    side: str,
    made: Forecast | None,
    frame: FrameForecast | None,
    base: Projection | None,
) -> Line:
    label = _label(rules, made)
    if frame is None or made is None:
        absent = (
            _("%(day)s の時点では公表されていません") % {"day": long_date(made.last_day)}
            if made is not None and rules == "in-force"
            else _("この枠はありません")
        )
        return Line(rules, label, present=False, absent=absent)
    projection: Projection = getattr(frame, side)
    write = _writer(side)
    share = 100.0 * projection.used / projection.size if projection.size else 100.0
    close = projection.at_close
    difference = ""
    if rules == "candidate" and base is not None:
        change = round(close.expected - base.at_close.expected)
        difference = ("+" if change > 0 else "") + write(change)
    return Line(
        rules,
        label,
        present=True,
        used=_("%(used)s / %(size)s(%(share)s%%)")
        % {"used": write(projection.used), "size": write(projection.size), "share": f"{share:.2f}"},
        pace=_per_day(side, projection),
        close_day=long_date(projection.closes),
        at_close=_band(side, close.expected, close.low, close.high),
        fill=fill_text(projection),
        difference=difference,
    )


def _running(days: Mapping[date, int], first: date, last: date) -> list[tuple[date, int]]:
    total = sum(n for d, n in days.items() if d < first)
    out = []
    day = first
    while day <= last:
        total += days.get(day, 0)
        out.append((day, total))
        day += _ONE_DAY
    return out


def _recorded(
    history: DailyHistory, side: str, codes: Sequence[str], first: date, last: date
) -> list[tuple[date, int]]:
    if side == "persons":
        return _running(history.mykeys, first, last)
    merged: dict[date, int] = {}
    for code in codes:
        for day, n in history.yen.get(code, {}).items():
            merged[day] = merged.get(day, 0) + n
    return _running(merged, first, last)


def _sampled(points: Sequence[Point], last_day: date, keep: set[date]) -> list[Point]:
    return [p for p in points if (p.day - last_day).days % SAMPLE_DAYS == 0 or p.day in keep]


def _chart(
    history: DailyHistory,
    phase: str,
    side: str,
    projections: Mapping[str, Projection],
    codes: Sequence[str],
    last_day: date,
) -> Chart:
    opens = [f.opens for p in projections.values() for f in p.flows]
    first = min([*opens, last_day])
    end = max([last_day, *(p.closes for p in projections.values())])
    recorded = dict(_recorded(history, side, codes, first, last_day))
    days: list[Point] = []
    day = first
    while day <= end:
        projected: dict[str, tuple[float, float, float] | None] = {}
        for rules, projection in projections.items():
            if last_day <= day <= projection.closes or day == last_day:
                total = projection.at(day)
                projected[rules] = (total.expected, total.low, total.high)
            else:
                projected[rules] = None
        days.append(Point(day, recorded.get(day), projected))
        day += _ONE_DAY
    keep = {first, last_day, end, *(p.closes for p in projections.values())}
    points = _sampled(days, last_day, keep)
    title = _("%(frame)s の%(side)s: 累計と見通し") % {
        "frame": phase_name(phase),
        "side": _(SIDE_NAMES[side]),
    }
    slug = f"{phase}-{side}"
    svg = band_chart(
        slug,
        title,
        _describe(title, side, points, last_day),
        [(p.day, float(p.recorded)) for p in points if p.recorded is not None],
        [
            Projected(
                rules,
                [BandPoint(p.day, *band) for p in points if (band := p.projected.get(rules))],
            )
            for rules in projections
        ],
        show=compact,
        day_label=lambda d: f"{d.year}/{d.month}",
        limit=next(iter(projections.values())).size,  # the frame, as the rules in force size it
        empty=_("該当なし"),
    )
    return Chart(slug, title, svg, points, days)


def _describe(title: str, side: str, points: Sequence[Point], last_day: date) -> str:
    write = _writer(side)
    recorded = [p for p in points if p.recorded is not None]
    said = [title]
    if recorded:
        said.append(
            _("%(day)s までの記録 %(total)s")
            % {"day": long_date(last_day), "total": write(recorded[-1].recorded or 0)}
        )
    for rules in RULES:
        ends = [p for p in points if p.projected.get(rules)]
        if ends:
            expected, low, high = ends[-1].projected[rules] or (0.0, 0.0, 0.0)
            who = _("適用中のルール") if rules == "in-force" else _("候補")
            said.append(
                _("%(who)s: %(day)s に %(band)s の見込み")
                % {
                    "who": who,
                    "day": long_date(ends[-1].day),
                    "band": _band(side, expected, low, high),
                }
            )
    return _("、").join(said) + _(
        "(折れ線グラフ。実線は記録、破線は見通し、帯はその95%区間。数値は次の表にあります)"
    )


def compact(value: int) -> str:
    """An axis label short enough for the chart's margin: 1.2億 / 120M."""
    if current_locale() == "ja":
        for unit, name in ((10**12, "兆"), (10**8, "億"), (10**4, "万")):
            if abs(value) >= unit:
                return f"{value / unit:,.4g}{name}"
        return f"{value:,}"
    for unit, name in ((10**12, "T"), (10**9, "B"), (10**6, "M"), (10**3, "k")):
        if abs(value) >= unit:
            return f"{value / unit:,.4g}{name}"
    return f"{value:,}"


def shown(
    history: DailyHistory, pair: ForecastPair, codes_of: Callable[[str], Sequence[str]]
) -> list[Shown]:
    """Every frame either forecast has, in the rules in force's order, then the candidate's."""
    made = {"in-force": pair.in_force, "candidate": pair.candidate}
    frames: dict[str, dict[str, FrameForecast]] = {}
    for rules, forecast in made.items():
        for frame in forecast.frames if forecast else ():
            frames.setdefault(frame.frame.phase, {})[rules] = frame
    last_day = pair.in_force.last_day
    out = []
    for phase, by_rules in frames.items():
        any_frame = next(iter(by_rules.values()))
        lines: dict[str, list[Line]] = {}
        for side in SIDES:
            base = getattr(by_rules["in-force"], side) if "in-force" in by_rules else None
            lines[side] = [
                _line(rules, side, made[rules], by_rules.get(rules), base)
                for rules in RULES
                if made[rules] is not None
            ]
        charts = [
            _chart(
                history,
                phase,
                side,
                {rules: getattr(frame, side) for rules, frame in by_rules.items()},
                codes_of(phase),
                last_day,
            )
            for side in SIDES
        ]
        out.append(
            Shown(phase, phase_name(phase), long_date(any_frame.frame.announced), lines, charts)
        )
    return out


CSV_HEADERS: Final = (
    "frame",
    "side",
    "day",
    "recorded",
    "in_force_expected",
    "in_force_low",
    "in_force_high",
    "candidate_expected",
    "candidate_low",
    "candidate_high",
)


def _cells(band: tuple[float, float, float] | None) -> tuple[int | str, ...]:
    return ("", "", "") if band is None else tuple(round(v) for v in band)


def csv_rows(frames: Sequence[Shown]) -> list[tuple[int | str, ...]]:
    """A row per frame, side and day: the recorded total and each projection (blank where
    there is none)."""
    return [
        (
            frame.phase,
            chart.slug.removeprefix(frame.phase + "-"),
            point.day.isoformat(),
            "" if point.recorded is None else point.recorded,
            *_cells(point.projected.get("in-force")),
            *_cells(point.projected.get("candidate")),
        )
        for frame in frames
        for chart in frame.charts
        for point in chart.days
    ]


@dataclass(frozen=True)
class Checked:
    """One row of the page's backtest, as shown."""

    frame: str
    side: str
    horizon: str
    day: str
    predicted: str
    recorded: str
    error: str
    of_growth: str
    inside: str


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:+.1f}%"


def checked(done: Backtest) -> list[Checked]:
    return [
        Checked(
            frame=phase_name(check.phase),
            side=_(SHORT_SIDE_NAMES[check.side]),
            horizon=_("%(days)s日後") % {"days": check.horizon_days},
            day=long_date(check.day),
            predicted=_band(
                check.side, check.predicted.expected, check.predicted.low, check.predicted.high
            ),
            recorded=_writer(check.side)(check.actual),
            error=_percent(check.error_percent),
            of_growth=_percent(check.growth_error_percent),
            inside=_("はい") if check.inside else _("いいえ"),
        )
        for check in done.checks
    ]
