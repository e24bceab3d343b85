"""The top page: what the program gives, the three steps, the deadlines in force and what
changed when, the three cautions, the support corners in short, and who to call.

Every figure and date comes from the rule data as announced by platform today (the same
view as GET /api/v1/campaigns), the corners and contacts from the city's corner file.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from mynapoint.domain.calendar import jst_date
from mynapoint.domain.campaigns import CampaignRules
from mynapoint.domain.measures import MeasureKind
from mynapoint.web.api.campaigns import CampaignOut, campaign_out
from mynapoint.web.api.support_corners import CornersDep
from mynapoint.web.dependencies import CatalogDep, ClockDep, RulesDep
from mynapoint.web.pages.corners import city_view, not_at_corner
from mynapoint.web.pages.deadlines import current_spending, deadline_view, in_force_text
from mynapoint.web.pages.help import help_line_view
from mynapoint.web.pages.opening_times import moment
from mynapoint.web.templating import templates

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Offer:
    """25 % up to 5,000 yen, reached at 20,000 yen: from the spending measure's terms."""

    rate_percent: int
    cap: int

    @property
    def reached_at(self) -> int:
        return self.cap * 100 // self.rate_percent


def spending_offer(rules: CampaignRules, campaigns: list[CampaignOut]) -> Offer | None:
    """The rate and cap of the spending measures announced so far (they share one cap)."""
    for campaign in campaigns:
        if campaign.kind is MeasureKind.SPENDING and campaign.rate_percent:
            cap = rules.cap_groups.get(campaign.cap_group or "", campaign.cap)
            return Offer(rate_percent=campaign.rate_percent, cap=cap)
    return None


@router.get("/", response_class=HTMLResponse)
def home(
    request: Request,
    rules: RulesDep,
    catalog: CatalogDep,
    clock: ClockDep,
    corners: CornersDep,
) -> HTMLResponse:
    now = clock.now()
    today = jst_date(now)
    campaigns = [
        campaign_out(r, rules, today) for r in rules.measures.values() if r.is_announced(today)
    ]
    current = current_spending(campaigns, today)
    return templates.TemplateResponse(
        request,
        "home.html",
        {
            "today": today,
            "now_text": moment(now),
            "offer": spending_offer(rules, campaigns),
            "current": None if current is None else deadline_view(current),
            "in_force": None if current is None else in_force_text(current),
            "deadlines": [deadline_view(c) for c in campaigns],
            "service_count": len(list(catalog)),
            "cities": [city_view(city, now) for city in corners.cities],
            "not_at_corner": not_at_corner(catalog),
            "help_line": help_line_view(corners.help_line, now),
        },
    )
