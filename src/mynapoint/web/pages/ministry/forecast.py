"""/ministry/policy/forecast: each budget frame's forecast (issue 16, item 2) under the rules in
force and, when a packaged candidate is chosen, under it beside with what it changes; a chart
per frame and side, its numbers as a table, and every day of them as a CSV
(/ministry/policy/forecast.csv, same query). The model: services/policy_forecast.py."""

# No `from __future__ import annotations`: FastAPI reads the routes' `Annotated` parameters.

import csv
import io
from collections.abc import Callable
from typing import Annotated, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from mynapoint.bootstrap import Platform
from mynapoint.domain.calendar import to_jst
from mynapoint.domain.errors import MynapointError
from mynapoint.rules.candidates import IN_FORCE, packaged_candidates
from mynapoint.services.policy_forecast import (
    WINDOW_DAYS,
    Z_95,
    ForecastDayOutOfRange,
    read_history,
)
from mynapoint.services.policy_forecast_request import (
    MIN_WINDOW_DAYS,
    ForecastRequest,
    InvalidForecastDay,
    InvalidWindow,
    UnknownCandidateName,
    backtest_before,
    forecast_pair,
    forecast_request,
)
from mynapoint.services.staff import SignedInStaff
from mynapoint.services.statistics import StatisticsNotComputed
from mynapoint.web.dependencies import PlatformDep
from mynapoint.web.i18n import N_, _, long_date
from mynapoint.web.pages.console.access import NO_STORE, json_error, member_of, page
from mynapoint.web.pages.console.areas import MINISTRY_CONSOLE
from mynapoint.web.pages.ministry.forecast_figures import (
    CSV_HEADERS,
    FIGURE_ROWS,
    SIDE_NAMES,
    checked,
    csv_rows,
    shown,
)
from mynapoint.web.pages.ministry.overview import NOT_COMPUTED
from mynapoint.web.pages.opening_times import moment

PATH: Final = "/ministry/policy/forecast"
TEMPLATE: Final = "ministry/forecast.html"
Reader = Annotated[SignedInStaff, Depends(member_of(MINISTRY_CONSOLE, PATH))]

router = APIRouter(include_in_schema=False)

BAD_QUERY: Final = {
    UnknownCandidateName.code: N_("ルールの候補は一覧から選んでください(%(given)s はありません)。"),
    InvalidForecastDay.code: N_("基準日は 2021-06-01 の形(年-月-日)で入力してください。"),
    InvalidWindow.code: N_("速さを平均する日数は 1 以上の整数で入力してください(既定は 28)。"),
    ForecastDayOutOfRange.code: N_(
        "基準日 %(day)s の見通しは出せません。統計にある日(最終日 %(last_day)s まで)を"
        "指定してください。"
    ),
}
_REFUSED: Final = (UnknownCandidateName, InvalidForecastDay, InvalidWindow, ForecastDayOutOfRange)

Rules = Annotated[str | None, Query(max_length=80)]
AsOf = Annotated[str | None, Query(max_length=40)]
Window = Annotated[str | None, Query(max_length=10)]


def _explain(error: MynapointError) -> str:
    details = {key: str(value) for key, value in error.details.items()}
    return _(BAD_QUERY[error.code]) % {"given": "", "day": "", "last_day": "", **details}


def _query(rules: str | None, as_of: str | None, window: str | None) -> str:
    given = {
        key: value
        for key, value in (("rules", rules), ("as_of", as_of), ("window", window))
        if value
    }
    return "?" + urlencode(given) if given else ""


@router.get(PATH, response_class=HTMLResponse)
def forecast_page(
    request: Request,
    me: Reader,
    platform: PlatformDep,
    rules: Rules = None,
    as_of: AsOf = None,
    window: Window = None,
) -> HTMLResponse:
    del me
    context: dict[str, object] = {
        "page_title": N_("予算の見通し"),
        "candidates": packaged_candidates(),
        "in_force_name": IN_FORCE,
        "rules": rules or "",
        "as_of": as_of or "",
        "window": window or "",
        "default_window": WINDOW_DAYS,
        "min_window": MIN_WINDOW_DAYS,
        "z": Z_95,
        "side_names": SIDE_NAMES,
        "figure_rows": FIGURE_ROWS,
        "query": _query(rules, as_of, window),
        "error": "",
        "bad": "",
        "not_computed": "",
    }
    try:
        wanted = forecast_request(rules, as_of, window)
        history = read_history(platform.statistics)
        pair = forecast_pair(history, platform.rules, wanted)
    except _REFUSED as error:
        context |= {"error": _explain(error), "error_code": error.code, "bad": error.code}
        return page(request, MINISTRY_CONSOLE, TEMPLATE, context, 422)
    except StatisticsNotComputed as error:
        context |= {"not_computed": _(NOT_COMPUTED), "error_code": error.code}
        return page(request, MINISTRY_CONSOLE, TEMPLATE, context)
    made = pair.in_force
    backtest = backtest_before(history, platform.rules, made)
    context |= {
        "pair": pair,
        "frames": shown(history, pair, _phase_codes(platform, wanted)),
        "computed_at": moment(made.computed_at),
        "computed_at_iso": to_jst(made.computed_at).isoformat(),
        "last_day": long_date(made.last_day),
        "last_day_iso": made.last_day.isoformat(),
        "window_days": made.window_days,
        "candidate": pair.candidate,
        "changes": pair.changes,
        "backtest": backtest,
        "checks": [] if backtest is None else checked(backtest),
    }
    return page(request, MINISTRY_CONSOLE, TEMPLATE, context)


def _phase_codes(platform: Platform, wanted: ForecastRequest) -> Callable[[str], list[str]]:
    """The measures of a phase whose points fill its frame, under either set of rules."""
    rule_sets = [platform.rules] + ([] if wanted.candidate is None else [wanted.candidate.rules])

    def codes(phase: str) -> list[str]:
        return sorted(
            {
                m.measure.value
                for rules in rule_sets
                for m in rules.measures.values()
                if m.phase == phase
            }
        )

    return codes


@router.get(PATH + ".csv")
def forecast_csv(
    request: Request,
    me: Reader,
    platform: PlatformDep,
    rules: Rules = None,
    as_of: AsOf = None,
    window: Window = None,
) -> Response:
    del me, request
    try:
        wanted = forecast_request(rules, as_of, window)
        history = read_history(platform.statistics)
        pair = forecast_pair(history, platform.rules, wanted)
    except _REFUSED as error:
        return json_error(error.code, error.message, 422)
    except StatisticsNotComputed as error:
        return json_error(error.code, error.message, 503)
    stamp = to_jst(pair.in_force.computed_at).isoformat()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow((*CSV_HEADERS, "candidate", "computed_at"))
    name = "" if pair.candidate is None else pair.candidate.rules
    for row in csv_rows(shown(history, pair, _phase_codes(platform, wanted))):
        writer.writerow((*row, name, stamp))
    tail = "" if wanted.candidate is None else "-" + wanted.candidate.name.removesuffix(".yaml")
    filename = f"mynapoint-forecast-{pair.in_force.last_day.isoformat()}{tail}.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={**NO_STORE, "Content-Disposition": f'attachment; filename="{filename}"'},
    )
