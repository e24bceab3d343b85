"""/ministry/overview: the program at a glance for the ministry's administrators and viewers.

Each figure is a chart drawn by the server (web/charts.py), then its numbers as a table and as a
CSV file (/ministry/overview/<figure>.csv), all read from the statistics' summary tables through
services/statistics.py (never the live tables) and stamped with the refresh they come from. A
date range (JST days, inclusive) narrows every figure but the grants pending at the operators,
which are the state as of the refresh.
"""

# No `from __future__ import annotations`: FastAPI reads the routes' `Annotated` parameters.

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from mynapoint.bootstrap import Platform
from mynapoint.domain.calendar import to_jst
from mynapoint.domain.measures import Channel, Measure
from mynapoint.domain.statistics import Dimension, Figure, Metric
from mynapoint.rules.municipalities import load_municipalities
from mynapoint.services.staff import SignedInStaff
from mynapoint.services.statistics import (
    InvalidDateRange,
    StatisticsNotComputed,
    as_of,
    breakdown,
    pending_grants,
    series,
    totals,
)
from mynapoint.web.charts import Bar, bar_chart, column_chart
from mynapoint.web.dependencies import PlatformDep
from mynapoint.web.i18n import N_, _, current_locale, long_date, number, points
from mynapoint.web.pages.console.access import (
    NO_STORE,
    corner_name,
    json_error,
    member_of,
    operator_name,
    page,
)
from mynapoint.web.pages.console.areas import MINISTRY_CONSOLE
from mynapoint.web.pages.open_data import MEASURE_NAMES
from mynapoint.web.pages.opening_times import moment

PATH: Final = "/ministry/overview"
Reader = Annotated[SignedInStaff, Depends(member_of(MINISTRY_CONSOLE, PATH))]

router = APIRouter(include_in_schema=False)

CHANNEL_NAMES: Final = {
    Channel.APP: N_("アプリ"),
    Channel.STORE: N_("店頭"),
    Channel.ONLINE: N_("ウェブ(オンライン)"),
    Channel.SUPPORT_CORNER: N_("窓口(支援コーナー)"),
}
BAD_DATE: Final = N_("期間の日付は 2021-07-19 の形(年-月-日)で入力してください。")
BAD_RANGE: Final = N_(
    "期間の開始日({start})が終了日({end})より後になっています。開始日を終了日以前にしてください。"
)
NOT_COMPUTED: Final = N_(
    "統計はまだ集計されていません。集計は数分ごとに自動で行われます"
    "(すぐに集計するには `mynapoint stats refresh`)。"
)


@dataclass(frozen=True)
class Period:
    start: date | None
    end: date | None


@dataclass(frozen=True)
class Chart:
    """One figure of the overview: its chart, its table, and its CSV (the same numbers)."""

    slug: str
    title: str
    svg: Markup
    headers: tuple[str, ...]  # the table's, translated; the first column names the row
    rows: Sequence[tuple[str, ...]]  # as shown
    csv_headers: tuple[str, ...]  # stable, English
    csv_rows: Sequence[tuple[str | int, ...]]
    note: str = ""


# --- reading the range ---------------------------------------------------------------------------


def parse_period(start: str | None, end: str | None) -> Period:
    """The range the form gave: blank is open-ended; a bad date or a start after the end is
    an `invalid_date_range` error."""

    def day(text: str | None, field: str) -> date | None:
        if text is None or not text.strip():
            return None
        try:
            return date.fromisoformat(text.strip())
        except ValueError:
            raise InvalidDateRange(
                f"'{text[:20]}' is not a date; give YYYY-MM-DD", field=field
            ) from None

    period = Period(day(start, "from"), day(end, "to"))
    if period.start is not None and period.end is not None and period.start > period.end:
        raise InvalidDateRange(
            f"the range starts on {period.start} after it ends on {period.end}; give from <= to",
            start=period.start.isoformat(),
            end=period.end.isoformat(),
        )
    return period


def explain(error: InvalidDateRange) -> str:
    if "start" in error.details:
        return _(BAD_RANGE).format(start=error.details["start"], end=error.details["end"])
    return _(BAD_DATE)


# --- names of the keys ---------------------------------------------------------------------------


def _measure(code: str) -> str:
    try:
        return _(MEASURE_NAMES[Measure(code)])
    except (ValueError, KeyError):
        return code


def _channel(code: str) -> str:
    try:
        return _(CHANNEL_NAMES[Channel(code)])
    except (ValueError, KeyError):
        return code


def _namer(platform: Platform, request: Request, dimension: Dimension) -> Callable[[str], str]:
    english = current_locale() == "en"
    if dimension is Dimension.MEASURE:
        return _measure
    if dimension is Dimension.CHANNEL:
        return _channel
    if dimension is Dimension.MUNICIPALITY:
        municipalities = load_municipalities()
        return lambda code: municipalities.name_of(code, english=english)
    if dimension is Dimension.CORNER:
        return corner_name
    if dimension is Dimension.OPERATOR:
        return lambda code: operator_name(request, code)

    def service(code: str) -> str:
        if code in platform.catalog:
            found = platform.catalog.get(code)
            return found.name_en if english and found.name_en else found.name
        return code

    return service


# --- the figures ---------------------------------------------------------------------------------

BREAKDOWNS: Final = {
    "applications-by-measure": (Dimension.MEASURE, N_("施策ごとの申込数")),
    "applications-by-service": (Dimension.SERVICE, N_("決済サービスごとの申込数")),
    "applications-by-channel": (Dimension.CHANNEL, N_("申込みの経路ごとの申込数")),
    "applications-by-municipality": (Dimension.MUNICIPALITY, N_("市区町村ごとの申込数")),
}


def _count_desc(title: str, bars: Sequence[Bar]) -> str:
    listed = _("、").join(f"{bar.label} {number(bar.value)}" for bar in bars[:8])
    return _("%(title)s: %(listed)s(棒グラフ。数値は次の表にあります)") % {
        "title": title,
        "listed": listed or _("なし"),
    }


def _breakdown_chart(
    slug: str,
    title: str,
    header: str,
    figures: Sequence[Figure],
    name: Callable[[str], str],
) -> Chart:
    ordered = sorted(figures, key=lambda figure: (-figure.count, figure.keys[0]))
    bars = [Bar(name(figure.keys[0]), figure.count) for figure in ordered]
    total = sum(figure.count for figure in ordered)
    return Chart(
        slug=slug,
        title=title,
        svg=bar_chart(slug, title, _count_desc(title, bars), bars, number, _("該当なし")),
        headers=(header, _("件数")),
        rows=[(bar.label, number(bar.value)) for bar in bars] + [(_("合計"), number(total))],
        csv_headers=("key", "name", "count"),
        csv_rows=[
            (figure.keys[0], bar.label, figure.count)
            for figure, bar in zip(ordered, bars, strict=True)
        ],
    )


def _filled(figures: Sequence[Figure]) -> list[tuple[date, Figure | None]]:
    """Every day from the first to the last with a figure (None on the days without)."""
    by_day = {figure.day: figure for figure in figures if figure.day is not None}
    if not by_day:
        return []
    first, last = min(by_day).toordinal(), max(by_day).toordinal()
    return [(date.fromordinal(o), by_day.get(date.fromordinal(o))) for o in range(first, last + 1)]


def _short_day(day: date) -> str:
    return f"{day.month}/{day.day}"


def _mykeys(platform: Platform, period: Period) -> Chart:
    days = _filled(series(platform.statistics, Metric.MYKEYS, (), period.start, period.end).figures)
    values = [(day, figure.count if figure else 0) for day, figure in days]
    title = _("マイキーIDの発行数(日別)")
    desc = _("%(title)s: %(days)s日間で合計%(total)s件(縦棒グラフ。数値は次の表にあります)") % {
        "title": title,
        "days": number(len(values)),
        "total": number(sum(value for _, value in values)),
    }
    return Chart(
        slug="mykeys",
        title=title,
        svg=column_chart("mykeys", title, desc, values, number, _short_day, _("該当なし")),
        headers=(_("日付"), _("発行数")),
        rows=[(long_date(day), number(value)) for day, value in values]
        + [(_("合計"), number(sum(value for _, value in values)))],
        csv_headers=("day", "mykey_ids"),
        csv_rows=[(day.isoformat(), value) for day, value in values],
    )


def _points(platform: Platform, period: Period) -> Chart:
    granted = series(platform.statistics, Metric.POINTS_GRANTED, (), period.start, period.end)
    clawed = series(platform.statistics, Metric.POINTS_CLAWED_BACK, (), period.start, period.end)
    back = {figure.day: figure.points for figure in clawed.figures}
    days = _filled([*granted.figures, *clawed.figures])
    given = {figure.day: figure.points for figure in granted.figures}
    values = [(day, given.get(day, 0), back.get(day, 0)) for day, _ in days]
    title = _("付与したポイントと取り消したポイント(付与日別)")
    total_given = sum(value for _, value, _ in values)
    total_back = sum(value for _, _, value in values)
    desc = _(
        "%(title)s: 付与 合計%(given)s、取消 合計%(back)s(縦棒グラフは付与したポイント。"
        "数値は次の表にあります)"
    ) % {"title": title, "given": points(total_given), "back": points(total_back)}
    return Chart(
        slug="points",
        title=title,
        svg=column_chart(
            "points",
            title,
            desc,
            [(day, value) for day, value, _ in values],
            number,
            _short_day,
            _("該当なし"),
        ),
        headers=(_("付与日"), _("付与したポイント"), _("取り消したポイント")),
        rows=[(long_date(day), number(value), number(taken)) for day, value, taken in values]
        + [(_("合計"), number(total_given), number(total_back))],
        csv_headers=("day", "points_granted", "points_clawed_back"),
        csv_rows=[(day.isoformat(), value, taken) for day, value, taken in values],
        note=_("取り消したポイントは、申込みの取消しなどで事業者から回収するポイントです。"),
    )


def _pending(platform: Platform, request: Request) -> Chart:
    pending = pending_grants(platform.statistics)
    title = _("決済事業者で付与待ちの指示(集計時点)")
    bars = [
        Bar(operator_name(request, row.operator_code), row.instructions)
        for row in pending.operators
    ]
    late = [
        _("%(name)s: %(late)s件が最大%(days)s日遅れ")
        % {"name": bar.label, "late": number(row.late), "days": number(row.days_late)}
        for bar, row in zip(bars, pending.operators, strict=True)
        if row.late
    ]
    desc = _count_desc(title, bars) + (_("。") + _("、").join(late) if late else "")
    return Chart(
        slug="pending-grants",
        title=title,
        svg=bar_chart("pending-grants", title, desc, bars, number, _("付与待ちはありません")),
        headers=(
            _("決済事業者"),
            _("指示の件数"),
            _("ポイント"),
            _("最も古い付与日"),
            _("付与日を過ぎた件数"),
            _("遅れ(日)"),
        ),
        rows=[
            (
                bar.label,
                number(row.instructions),
                number(row.points),
                long_date(row.oldest_due),
                number(row.late),
                number(row.days_late),
            )
            for bar, row in zip(bars, pending.operators, strict=True)
        ],
        csv_headers=(
            "operator",
            "name",
            "instructions",
            "points",
            "oldest_grant_on",
            "late_instructions",
            "days_late",
        ),
        csv_rows=[
            (
                row.operator_code,
                bar.label,
                row.instructions,
                row.points,
                row.oldest_due.isoformat(),
                row.late,
                row.days_late,
            )
            for bar, row in zip(bars, pending.operators, strict=True)
        ],
        note=_(
            "期間の指定にかかわらず、集計時点で事業者が付与を確認していない指示です。"
            "遅れは、付与日から集計日までの日数です。"
        ),
    )


def figure(platform: Platform, request: Request, slug: str, period: Period) -> Chart | None:
    """The figure called `slug` (None: no such figure)."""
    if slug == "mykeys":
        return _mykeys(platform, period)
    if slug == "points":
        return _points(platform, period)
    if slug == "pending-grants":
        return _pending(platform, request)
    if slug == "assisted-by-corner":
        found = breakdown(
            platform.statistics,
            Metric.ASSISTED_APPLICATIONS,
            (Dimension.CORNER,),
            period.start,
            period.end,
        )
        return _breakdown_chart(
            slug,
            _("支援コーナーごとの窓口での申込数"),
            _("支援コーナー"),
            found.figures,
            corner_name,
        )
    if slug in BREAKDOWNS:
        dimension, title = BREAKDOWNS[slug]
        found = breakdown(
            platform.statistics, Metric.APPLICATIONS, (dimension,), period.start, period.end
        )
        headers = {
            Dimension.MEASURE: _("施策"),
            Dimension.SERVICE: _("決済サービス"),
            Dimension.CHANNEL: _("経路"),
            Dimension.MUNICIPALITY: _("市区町村"),
        }
        return _breakdown_chart(
            slug, _(title), headers[dimension], found.figures, _namer(platform, request, dimension)
        )
    return None


SLUGS: Final = (
    "mykeys",
    "applications-by-measure",
    "applications-by-service",
    "applications-by-channel",
    "applications-by-municipality",
    "points",
    "pending-grants",
    "assisted-by-corner",
)

From = Annotated[str | None, Query(alias="from", max_length=40)]
To = Annotated[str | None, Query(alias="to", max_length=40)]


@router.get(PATH, response_class=HTMLResponse)
def overview_page(
    request: Request, me: Reader, platform: PlatformDep, start: From = None, end: To = None
) -> HTMLResponse:
    del me
    context: dict[str, object] = {
        "page_title": N_("概況"),
        "start": start or "",
        "end": end or "",
        "query": _query(start, end),
        "error": "",
        "not_computed": "",
    }
    try:
        period = parse_period(start, end)
        summary = totals(platform.statistics, period.start, period.end)
        charts = [figure(platform, request, slug, period) for slug in SLUGS]
    except InvalidDateRange as error:
        context |= {"error": explain(error), "error_code": error.code}
        return page(request, MINISTRY_CONSOLE, "ministry/overview.html", context, 422)
    except StatisticsNotComputed as error:
        context |= {"not_computed": _(NOT_COMPUTED), "error_code": error.code}
        return page(request, MINISTRY_CONSOLE, "ministry/overview.html", context)
    context |= {
        "summary": summary,
        "charts": charts,
        "as_of": moment(summary.computed_at),
        "as_of_iso": to_jst(summary.computed_at).isoformat(),
        "period": period,
    }
    return page(request, MINISTRY_CONSOLE, "ministry/overview.html", context)


def _query(start: str | None, end: str | None) -> str:
    given = {key: value for key, value in (("from", start), ("to", end)) if value}
    return "?" + urlencode(given) if given else ""


@router.get(PATH + "/{slug}.csv")
def overview_csv(
    slug: str,
    request: Request,
    me: Reader,
    platform: PlatformDep,
    start: From = None,
    end: To = None,
) -> Response:
    del me
    if slug not in SLUGS:
        return json_error(
            "unknown_figure", f"no figure '{slug[:40]}'; give one of " + ", ".join(SLUGS), 404
        )
    try:
        period = parse_period(start, end)
        chart = figure(platform, request, slug, period)
        stamp = to_jst(as_of(platform.statistics)).isoformat()
    except InvalidDateRange as error:
        return json_error(error.code, error.message, 422)
    except StatisticsNotComputed as error:
        return json_error(error.code, error.message, 503)
    assert chart is not None  # noqa: S101 - every slug of SLUGS makes a chart
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow((*chart.csv_headers, "as_of"))
    for row in chart.csv_rows:
        writer.writerow((*row, stamp))
    span = "-".join(day.isoformat() for day in (period.start, period.end) if day is not None)
    filename = f"mynapoint-{slug}{'-' + span if span else ''}.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={**NO_STORE, "Content-Disposition": f'attachment; filename="{filename}"'},
    )
