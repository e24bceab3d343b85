"""/me/applications/{id}: one application, and the completion page the commit redirects to.

The commit of the application form answers with a redirect here (post/redirect/get), so the
browser's Back and reload never send the form again. The page gives the application number
and what happens next: which charges or purchases count and until when, when the service
grants the points (its timing rule, with an example), where to see them, and the same-day
cancellation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, Response

from mynapoint.bootstrap import Platform
from mynapoint.domain.calendar import jst_date
from mynapoint.domain.ledger import StoredApplication
from mynapoint.domain.measures import MeasureKind
from mynapoint.services.applications import applications_of
from mynapoint.web.dependencies import PlatformDep
from mynapoint.web.i18n import _
from mynapoint.web.pages.citizen.application_form import COUNTS_LABELS, localized
from mynapoint.web.pages.citizen.session import NO_STORE, MaybeCitizen, to_login
from mynapoint.web.pages.citizen.standing import measure_name
from mynapoint.web.pages.services import TimingLine, timing_lines
from mynapoint.web.templating import templates

router = APIRouter(include_in_schema=False)

ApplicationId = Annotated[str, Path(min_length=1, max_length=32)]


@dataclass(frozen=True)
class NextSteps:
    """What happens after applying, from the measure's terms and the service's catalog entry."""

    spending: bool
    rate_percent: int
    counts_from: date  # the application's day: nothing before it counts (R6)
    counts_until: date | None  # the last day of spending that counts (R10, R12)
    cap: int
    timing: list[TimingLine]  # when the service grants points for what counts
    fixed_points: int
    fixed_grant_on: date | None  # a fixed grant's day (measures 2 and 3, R19)
    cancellable: bool  # today is the application's day (当日取消)


def next_steps(platform: Platform, application: StoredApplication) -> NextSteps:
    rules = platform.rules
    rule = rules.rule(application.measure)
    service = platform.catalog.get(application.service_code)
    today = jst_date(platform.clock.now())
    applied_on = jst_date(application.applied_at)
    terms = rule.terms_at(application.applied_at, None)
    spending_window = None if terms is None else terms.spending
    until = None
    if spending_window is not None:
        until = jst_date(spending_window.ends - timedelta(seconds=1))
    spending = rule.kind is MeasureKind.SPENDING
    counted = application.counts
    timing = [
        line
        for line in timing_lines(service, applied_on)
        if counted is None or line.kind == _(COUNTS_LABELS[counted])
    ]
    return NextSteps(
        spending=spending,
        rate_percent=rule.rate_percent,
        counts_from=applied_on,
        counts_until=until,
        cap=rules.cap_groups.get(rule.cap_group or "", 0),
        timing=timing if spending else [],
        fixed_points=rule.fixed_points,
        fixed_grant_on=None if spending else service.grant_on(None, applied_on),
        cancellable=application.is_active and applied_on == today,
    )


@router.get("/me/applications/{application_id}", response_class=HTMLResponse)
def application_page(
    request: Request, application_id: ApplicationId, platform: PlatformDep, me: MaybeCitizen
) -> Response:
    if me is None:
        return to_login(request)
    mine = {a.application_id: a for a in applications_of(platform.unit_of_work(), me.person)}
    application = mine.get(application_id)
    if application is None:  # another person's application is not theirs to know of
        raise HTTPException(status_code=404)
    service = platform.catalog.get(application.service_code)
    context: dict[str, Any] = {
        "application": application,
        "service_name": localized(service.name, service.name_en),
        "measure_name": measure_name(platform.rules, application.measure),
        "counts_label": _(COUNTS_LABELS[application.counts]) if application.counts else "",
        "next": next_steps(platform, application),
    }
    return templates.TemplateResponse(
        request, "citizen/application.html", context, headers=NO_STORE
    )
