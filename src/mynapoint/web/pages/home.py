"""The top page: what the program is, the three steps, and the deadlines in force."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from mynapoint.domain.calendar import jst_date
from mynapoint.web.api.campaigns import campaign_out
from mynapoint.web.dependencies import CatalogDep, ClockDep, RulesDep
from mynapoint.web.templating import templates

router = APIRouter(include_in_schema=False)


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
