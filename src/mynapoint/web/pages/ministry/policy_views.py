"""What the policy lab's result page shows of a replay's document (services/policy_replay.py
`replay_document`): the totals with their margins, a chart and a table per breakdown, the
rows of the CSV, and the rules diff beside them. Names of measures, services and
municipalities as the overview writes them."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from markupsafe import Markup

from mynapoint.bootstrap import Platform
from mynapoint.domain.measures import Measure
from mynapoint.domain.replay_tally import AGE, MEASURE, POINT_TOP, POINTS, SERVICE, WARD
from mynapoint.domain.rules_diff import RuleChange
from mynapoint.rules.municipalities import load_municipalities
from mynapoint.web.charts import Pair, paired_bar_chart
from mynapoint.web.i18n import N_, _, current_locale, long_date, number
from mynapoint.web.pages.open_data import MEASURE_NAMES

ACTUAL: Final = N_("実績")
CANDIDATE: Final = N_("候補")
# The breakdowns the page draws, in its order, with their titles and first column's header.
FIGURES: Final = (
    (POINTS, N_("一人あたりのポイントの分布"), N_("ポイント")),
    (MEASURE, N_("施策ごと"), N_("施策")),
    (SERVICE, N_("決済サービスごと"), N_("決済サービス")),
    (AGE, N_("年齢層ごと"), N_("年齢層")),
    (WARD, N_("市区町村ごと"), N_("市区町村")),
)
CSV_HEADERS: Final = (
    "breakdown",
    "key",
    "name",
    "persons",
    "actual_points",
    "candidate_points",
    "difference",
    "actual_persons",
    "candidate_persons",
)


@dataclass(frozen=True)
class Total:
    label: str
    actual: str
    candidate: str
    difference: str


@dataclass(frozen=True)
class Figure:
    slug: str
    title: str
    svg: Markup
    headers: tuple[str, ...]
    rows: Sequence[tuple[str, ...]]


@dataclass(frozen=True)
class Change:
    text: str
    effective: str
    announced: str


def _estimate(found: Mapping[str, int], signed: bool = False) -> str:
    value = found["value"]
    shown = f"{value:+,}" if signed else number(value)
    return shown + (f" ± {number(found['margin'])}" if found["margin"] else "")


def totals(document: Mapping[str, Any]) -> list[Total]:
    e = document["estimates"]
    return [
        Total(
            _("ポイント(円)"),
            _estimate(e["actual_points"]),
            _estimate(e["candidate_points"]),
            _estimate(e["difference"], signed=True),
        ),
        Total(
            _("ポイントを得た人"),
            _estimate(e["actual_reached"]),
            _estimate(e["candidate_reached"]),
            f"{e['candidate_reached']['value'] - e['actual_reached']['value']:+,}",
        ),
    ]


def _points_band(key: str) -> str:
    if key == "0":
        return _("0ポイント")
    if key.endswith("+"):
        return _("%(points)sポイント以上") % {"points": number(POINT_TOP)}
    low, high = (int(part) for part in key.split("-"))
    return _("%(low)s〜%(high)sポイント") % {"low": number(low), "high": number(high)}


def _age_band(key: str) -> str:
    if key.endswith("+"):
        return _("%(age)s歳以上") % {"age": key.rstrip("+")}
    low, high = key.split("-")
    return _("%(low)s〜%(high)s歳") % {"low": low, "high": high}


def measure_name(code: str) -> str:
    try:
        return _(MEASURE_NAMES[Measure(code)])
    except (ValueError, KeyError):
        return code


def namer(platform: Platform, dimension: str) -> Callable[[str], str]:
    english = current_locale() == "en"
    if dimension == POINTS:
        return _points_band
    if dimension == AGE:
        return _age_band
    if dimension == MEASURE:
        return measure_name
    if dimension == WARD:
        municipalities = load_municipalities()
        return lambda code: municipalities.name_of(code, english=english)

    def service(code: str) -> str:
        if code in platform.catalog:
            found = platform.catalog.get(code)
            return found.name_en if english and found.name_en else found.name
        return _("申込みなし") if code == "none" else code

    return service


def figures(platform: Platform, document: Mapping[str, Any]) -> list[Figure]:
    series = (_(ACTUAL), _(CANDIDATE))
    shown: list[Figure] = []
    for dimension, title_ja, header_ja in FIGURES:
        rows = document["breakdowns"].get(dimension, [])
        name = namer(platform, dimension)
        title = _(title_ja)
        persons_only = dimension == POINTS
        headers: tuple[str, ...]
        if persons_only:
            pairs = [
                Pair(name(r["key"]), r["actual_persons"], r["candidate_persons"]) for r in rows
            ]
            headers = (_(header_ja), _("実績の人数"), _("候補の人数"), _("差"))
            unit = _("人")
        else:
            pairs = [Pair(name(r["key"]), r["actual_points"], r["candidate_points"]) for r in rows]
            headers = (_(header_ja), _("人数"), _("実績(円)"), _("候補(円)"), _("差(円)"))
            unit = _("円")
        listed = _("、").join(
            f"{pair.label} {number(pair.first)}→{number(pair.second)}" for pair in pairs[:8]
        )
        desc = _(
            "%(title)s、実績と候補(%(unit)s): %(listed)s(棒グラフ。数値は次の表にあります)"
        ) % {
            "title": title,
            "unit": unit,
            "listed": listed or _("なし"),
        }
        slug = f"replay-{dimension}"
        svg = paired_bar_chart(slug, title, desc, pairs, series, number, _("該当なし"))
        table: list[tuple[str, ...]] = []
        for row, pair in zip(rows, pairs, strict=True):
            difference = f"{pair.second - pair.first:+,}"
            if persons_only:
                table.append((pair.label, number(pair.first), number(pair.second), difference))
            else:
                cells = (number(row["persons"]), number(pair.first), number(pair.second))
                table.append((pair.label, *cells, difference))
        shown.append(Figure(slug, title, svg, headers, table))
    return shown


def csv_rows(platform: Platform, document: Mapping[str, Any]) -> list[tuple[str | int, ...]]:
    """Every breakdown's rows (the persons at a cap too), one line per row."""
    out: list[tuple[str | int, ...]] = []
    for dimension, rows in document["breakdowns"].items():
        name = namer(platform, dimension) if dimension != "at_cap" else (lambda key: key)
        for row in rows:
            actual, candidate = row["actual_points"], row["candidate_points"]
            out.append(
                (
                    dimension,
                    row["key"],
                    name(row["key"]),
                    row["persons"],
                    actual,
                    candidate,
                    candidate - actual,
                    row["actual_persons"],
                    row["candidate_persons"],
                )
            )
    return out


def at_cap(document: Mapping[str, Any]) -> tuple[str, str] | None:
    rows = document["breakdowns"].get("at_cap", [])
    if not rows:
        return None
    return number(rows[0]["actual_persons"]), number(rows[0]["candidate_persons"])


def changes(found: Sequence[RuleChange]) -> list[Change]:
    english = current_locale() == "en"
    return [
        Change(
            change.en if english else change.ja,
            long_date(change.effective) if change.effective else "",
            long_date(change.announced) if change.announced else "",
        )
        for change in found
    ]
