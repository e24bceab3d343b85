"""/open-data: the program's daily counts for everyone, as a page and as CSV and JSON files.

Read from the statistics' summary tables (services/statistics.py open_data): complete JST days
only, no personal data (no person, anchor, MyKey ID, account or name is in them: only counts
per day, measure and payment service, and points per day), and small cells suppressed, also
where a total minus the other cells would reveal one (domain/statistics.py)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from mynapoint.domain.calendar import to_jst
from mynapoint.domain.measures import Measure
from mynapoint.domain.statistics import SMALL_CELL, Cell
from mynapoint.services.statistics import TOTAL, OpenData, StatisticsNotComputed, open_data
from mynapoint.web.dependencies import PlatformDep
from mynapoint.web.i18n import N_, _, long_date, number
from mynapoint.web.pages.opening_times import moment
from mynapoint.web.templating import templates

router = APIRouter(include_in_schema=False)

# The figures change at each refresh (every few minutes): caches may keep them that long.
CACHE = "public, max-age=300"
COLUMNS = ("day", "metric", "measure", "service", "value", "suppressed", "as_of")
RECENT_DAYS = 14

MEASURE_NAMES = {
    Measure.PHASE1: N_("第1弾(チャージ・お買い物)"),
    Measure.PHASE2_SPENDING: N_("第2弾(チャージ・お買い物)"),
    Measure.PHASE2_HEALTH_INSURANCE: N_("第2弾(健康保険証としての利用申込み)"),
    Measure.PHASE2_PUBLIC_FUNDS: N_("第2弾(公金受取口座の登録)"),
}


def _figures(platform: PlatformDep) -> OpenData | None:
    try:
        return open_data(platform.statistics)
    except StatisticsNotComputed:
        return None


OpenDataDep = Annotated[OpenData | None, Depends(_figures)]


@dataclass(frozen=True)
class DayRow:
    day: str
    day_iso: str
    mykeys: str
    applications: list[str]  # per measure, in `measures` order
    points: str


def _shown(cell: Cell | None) -> str:
    if cell is None:
        return "0"
    return number(cell.value) if cell.value is not None else "—"


def day_rows(data: OpenData, measures: list[str]) -> list[DayRow]:
    by_key = {(cell.day, cell.metric, cell.measure, cell.service): cell for cell in data.cells}
    return [
        DayRow(
            day=long_date(day),
            day_iso=day.isoformat(),
            mykeys=_shown(by_key.get((day, "mykey_ids", "", ""))),
            applications=[
                _shown(by_key.get((day, "applications", measure, TOTAL))) for measure in measures
            ],
            points=_shown(by_key.get((day, "points_granted", "", ""))),
        )
        for day in data.days[-RECENT_DAYS:][::-1]
    ]


@router.get("/open-data", response_class=HTMLResponse)
def open_data_page(request: Request, data: OpenDataDep) -> HTMLResponse:
    measures = sorted({cell.measure for cell in data.cells if cell.measure}) if data else []
    response = templates.TemplateResponse(
        request,
        "open_data.html",
        {
            "data": data,
            "as_of": moment(data.computed_at) if data else None,
            "as_of_iso": to_jst(data.computed_at).isoformat() if data else None,
            "threshold": SMALL_CELL,
            "measures": [(m, _(MEASURE_NAMES.get(Measure(m), m))) for m in measures],
            "rows": day_rows(data, measures) if data else [],
        },
    )
    response.headers["Cache-Control"] = CACHE
    return response


def _not_computed() -> JSONResponse:
    error = StatisticsNotComputed(
        "the statistics have not been computed yet; try again in a few minutes"
    )
    return JSONResponse(
        {"error": {"code": error.code, "message": error.message, "details": {}}},
        status_code=503,
        headers={"Retry-After": "300", "Cache-Control": "no-store"},
    )


def _value(cell: Cell) -> int | None:
    return cell.value


def _row(cell: Cell, as_of: str) -> dict[str, Any]:
    return {
        "day": cell.day.isoformat(),
        "metric": cell.metric,
        "measure": cell.measure,
        "service": cell.service,
        "value": _value(cell),
        "suppressed": cell.suppressed,
        "as_of": as_of,
    }


@router.get("/open-data/daily.csv")
def daily_csv(data: OpenDataDep) -> Response:
    if data is None:
        return _not_computed()
    as_of = to_jst(data.computed_at).isoformat()
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for cell in data.cells:
        row = _row(cell, as_of)
        writer.writerow({**row, "value": "" if row["value"] is None else row["value"]})
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Cache-Control": CACHE,
            "Content-Disposition": 'inline; filename="mynapoint-daily.csv"',
        },
    )


@router.get("/open-data/daily.json")
def daily_json(data: OpenDataDep) -> JSONResponse:
    if data is None:
        return _not_computed()
    as_of = to_jst(data.computed_at).isoformat()
    return JSONResponse(
        {
            "as_of": as_of,
            "small_cell_threshold": data.threshold,
            "first_day": data.days[0].isoformat() if data.days else None,
            "last_day": data.days[-1].isoformat() if data.days else None,
            "rows": [
                {key: value for key, value in _row(cell, as_of).items() if key != "as_of"}
                for cell in data.cells
            ],
        },
        headers={"Cache-Control": CACHE},
    )
