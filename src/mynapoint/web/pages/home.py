"""The top page: what the program is, the three steps, and the deadlines in force."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from mynapoint.domain.calendar import jst_date
from mynapoint.web.api.campaigns import campaign_out
from mynapoint.web.dependencies import CatalogDep, ClockDep, RulesDep

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent.parent / "templates")

WEEKDAYS_JA = "月火水木金土日"


def japanese_date(value: object) -> str:
    """2021-09-30 -> 2021年9月30日(木)."""
    from datetime import date  # noqa: PLC0415 - keeps the filter self-contained

    if not isinstance(value, date):
        return str(value)
    return f"{value.year}年{value.month}月{value.day}日({WEEKDAYS_JA[value.weekday()]})"


def yen(value: int) -> str:
    return f"{value:,}円"


templates.env.filters["jdate"] = japanese_date
templates.env.filters["yen"] = yen


@router.get("/", response_class=HTMLResponse)
def home(request: Request, rules: RulesDep, catalog: CatalogDep, clock: ClockDep) -> HTMLResponse:
    today = jst_date(clock.now())
    campaigns = [
        campaign_out(r, rules, today) for r in rules.measures.values() if r.is_announced(today)
    ]
    return templates.TemplateResponse(
        request,
        "home.html",
        {
            "today": today,
            "campaigns": campaigns,
            "services": list(catalog),
            "spending_cap": rules.cap_groups.get("spending", 0),
        },
    )
