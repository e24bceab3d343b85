"""/me: the person's points (services/points.py, as GET /api/v1/me), grants and applications,
and the same-day cancellation of an application (services/applications.py `cancel`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mynapoint.bootstrap import Platform
from mynapoint.domain.auth import Session
from mynapoint.domain.calendar import jst_date
from mynapoint.domain.campaigns import CampaignRules
from mynapoint.domain.errors import MynapointError
from mynapoint.domain.ledger import StoredApplication
from mynapoint.domain.measures import Measure, MeasureKind
from mynapoint.services.applications import applications_of, cancel
from mynapoint.services.points import GrantSummary, PointsSummary, overview_of
from mynapoint.web.csrf import check_csrf
from mynapoint.web.dependencies import ClockDep, PlatformDep
from mynapoint.web.error_messages import message_for
from mynapoint.web.errors import STATUS_BY_CODE
from mynapoint.web.i18n import N_, _
from mynapoint.web.pages.citizen.application_form import COUNTS_LABELS, localized
from mynapoint.web.pages.citizen.forms import FORM, FieldErrors
from mynapoint.web.pages.citizen.session import NO_STORE, MaybeCitizen, to_login
from mynapoint.web.pages.citizen.standing import measure_name, signed_in_standing
from mynapoint.web.templating import templates

router = APIRouter(include_in_schema=False)

ApplicationId = Annotated[str, Path(min_length=1, max_length=32)]

GRANT_STATUS = {
    "granted": N_("付与済み"),
    "scheduled": N_("付与予定"),
    "clawed_back": N_("回収済み(返品・取消しによる)"),
    "clawback_scheduled": N_("回収予定(返品・取消しによる)"),
}


@dataclass(frozen=True)
class MeasureLine:
    name: str
    points: int
    cap: int
    remaining: int
    shared: bool  # the cap is shared with another measure (R2)


@dataclass(frozen=True)
class GrantLine:
    grant_on: date
    measure: str
    points: int
    status: str


@dataclass(frozen=True)
class ApplicationLine:
    application: StoredApplication
    service_name: str
    measure: str
    counts: str
    active: bool
    cancellable: bool  # today is its day (JST): 当日取消
    field_id: str


def measure_lines(
    rules: CampaignRules, points: PointsSummary, applied: set[Measure]
) -> list[MeasureLine]:
    """Per measure the person has applied for or earned in: points, cap and what is left."""
    lines = []
    for measure in Measure:
        if measure not in applied and measure not in points.by_measure:
            continue
        rule = rules.rule(measure)
        if rule.kind is MeasureKind.FIXED:
            cap = rule.fixed_points
            so_far = points.by_measure.get(measure, 0)
            shared = False
        else:
            group = rule.cap_group
            cap = rules.cap_groups.get(group, 0) if group else 0
            members = [r.measure for r in rules.spending_measures() if r.cap_group == group]
            so_far = sum(points.by_measure.get(m, 0) for m in members)
            shared = len(members) > 1
        lines.append(
            MeasureLine(
                measure_name(rules, measure),
                points.by_measure.get(measure, 0),
                cap,
                max(cap - so_far, 0),
                shared,
            )
        )
    return lines


def grant_line(rules: CampaignRules, grant: GrantSummary) -> GrantLine:
    status = grant.status
    if grant.points < 0:
        status = "clawed_back" if grant.status == "granted" else "clawback_scheduled"
    return GrantLine(
        grant.grant_on, measure_name(rules, grant.measure), grant.points, _(GRANT_STATUS[status])
    )


def _me_page(
    request: Request,
    platform: Platform,
    me: Session,
    *,
    notice: str | None = None,
    errors: FieldErrors | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    today = jst_date(platform.clock.now())
    overview = overview_of(platform.unit_of_work(), me.person, today)
    mykey, applications, points = overview.mykey, overview.applications, overview.points
    standing = signed_in_standing(platform, me)
    lines = []
    for a in reversed(applications):
        service = platform.catalog.services.get(a.service_code)
        lines.append(
            ApplicationLine(
                application=a,
                service_name=localized(service.name, service.name_en)
                if service
                else a.service_code,
                measure=measure_name(platform.rules, a.measure),
                counts=_(COUNTS_LABELS[a.counts]) if a.counts in COUNTS_LABELS else "",
                active=a.is_active,
                cancellable=a.is_active and jst_date(a.applied_at) == today,
                field_id=f"application-{a.application_id}",
            )
        )
    context: dict[str, Any] = {
        "mykey": mykey,
        "points": points,
        "measures": measure_lines(
            platform.rules, points, {a.measure for a in applications if a.is_active}
        ),
        "grants": [grant_line(platform.rules, g) for g in points.grants],
        "applications": lines,
        "person_cap": platform.rules.person_total_cap,
        "standing": None if standing is None else standing.without_applied(),
        "notice": notice,
        "errors": errors or {},
    }
    return templates.TemplateResponse(
        request, "citizen/me.html", context, status_code=status_code, headers=NO_STORE
    )


def _notice(platform: Platform, me: Session, cancelled: str | None) -> str | None:
    """The line that says what the cancellation did (after its redirect to this page); an
    application's own page (applications.py) says what applying did."""
    if not cancelled:
        return None
    mine = {a.application_id for a in applications_of(platform.unit_of_work(), me.person)}
    if cancelled in mine:
        return _("申込みを取り消しました。決済サービスIDは、再び申込みに使えます。")
    return None


@router.get("/me", response_class=HTMLResponse)
def my_page(
    request: Request,
    platform: PlatformDep,
    me: MaybeCitizen,
    cancelled: Annotated[str | None, Query(max_length=32)] = None,
) -> Response:
    if me is None:
        return to_login(request)
    notice = _notice(platform, me, cancelled)
    return _me_page(request, platform, me, notice=notice)


@router.get("/me/applications/{application_id}/cancel")
def back_to_my_page(request: Request, application_id: ApplicationId) -> Response:
    """A GET of the cancellation's address (the language switch on its answer) cancels
    nothing: it shows my page."""
    del application_id
    query = f"?{request.url.query}" if request.url.query else ""
    return RedirectResponse(f"/me{query}", status_code=303)


@router.post("/me/applications/{application_id}/cancel", dependencies=[Depends(check_csrf)])
def cancel_application(
    request: Request,
    application_id: ApplicationId,
    platform: PlatformDep,
    clock: ClockDep,
    me: MaybeCitizen,
) -> Response:
    if me is None:
        return to_login(request)
    try:
        cancel(
            platform.unit_of_work(),
            platform.rules,
            platform.catalog,
            me.person,
            application_id,
            clock.now(),
        )
    except MynapointError as exc:
        # Next to the application it is about; an unknown one has no row to stand beside.
        field = FORM if exc.code == "not_found" else f"application-{application_id}"
        errors = {field: message_for(exc.code, exc.details)}
        return _me_page(
            request, platform, me, errors=errors, status_code=STATUS_BY_CODE.get(exc.code, 409)
        )
    return RedirectResponse(f"/me?cancelled={application_id}", status_code=303)
