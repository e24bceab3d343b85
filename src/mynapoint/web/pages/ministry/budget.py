"""/ministry/budget: each budget frame of the rules (R17), how much of it is used (persons: the
MyKey ID reservations; yen: the points of its phase), and the day it fills at the recent pace
(services/budget.py), for the ministry's administrators and viewers."""

# No `from __future__ import annotations`: FastAPI reads the routes' `Annotated` parameters.

from dataclasses import dataclass
from typing import Annotated, Final

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from mynapoint.domain.calendar import to_jst
from mynapoint.services.budget import BudgetUse, FrameUse, Use, budget_use
from mynapoint.services.staff import SignedInStaff
from mynapoint.services.statistics import StatisticsNotComputed
from mynapoint.web.dependencies import PlatformDep
from mynapoint.web.i18n import N_, _, long_date, number, yen
from mynapoint.web.pages.console.access import member_of, page
from mynapoint.web.pages.console.areas import MINISTRY_CONSOLE
from mynapoint.web.pages.ministry.overview import NOT_COMPUTED
from mynapoint.web.pages.opening_times import moment

PATH: Final = "/ministry/budget"
Reader = Annotated[SignedInStaff, Depends(member_of(MINISTRY_CONSOLE, PATH))]

router = APIRouter(include_in_schema=False)

PHASE_NAMES: Final = {"phase1": N_("第1弾"), "phase2": N_("第2弾")}


@dataclass(frozen=True)
class Line:
    """One side of a frame as shown."""

    kind: str
    size: str
    used: str
    left: str
    percent: str
    per_day: str
    full_on: str


@dataclass(frozen=True)
class Shown:
    slug: str
    name: str
    status: str
    announced: str
    lines: tuple[Line, ...]


def _line(kind: str, use: Use, unit: str) -> Line:
    write = yen if unit == "yen" else number
    if use.reached:
        when = _("到達済み")
    elif use.full_on is None:
        when = _("この速さでは100年以内に到達しません")
    else:
        when = long_date(use.full_on)
    return Line(
        kind=kind,
        size=write(use.size),
        used=write(use.used),
        left=write(use.left),
        percent=f"{use.percent:.2f}%",
        per_day=write(round(use.per_day)) if unit == "yen" else f"{use.per_day:,.1f}",
        full_on=when,
    )


def _shown(use: FrameUse) -> Shown:
    if use.in_force:
        status = _("適用中(新しいマイキーIDの予約はこの枠で数えます)")
    elif use.announced:
        status = _("後の枠に替わりました")
    else:
        status = _("まだ公表されていません")
    phase = use.frame.phase
    return Shown(
        slug=phase,
        name=_(PHASE_NAMES[phase]) if phase in PHASE_NAMES else phase,
        status=status,
        announced=long_date(use.frame.announced),
        lines=(
            _line(_("人数(マイキーIDの予約)"), use.persons, "persons"),
            _line(_("金額(付与したポイント)"), use.yen, "yen"),
        ),
    )


@router.get(PATH, response_class=HTMLResponse)
def budget_page(request: Request, me: Reader, platform: PlatformDep) -> HTMLResponse:
    del me
    context: dict[str, object] = {"page_title": N_("予算の枠"), "not_computed": ""}
    try:
        use: BudgetUse = budget_use(platform.statistics, platform.rules)
    except StatisticsNotComputed as error:
        context |= {"not_computed": _(NOT_COMPUTED), "error_code": error.code}
        return page(request, MINISTRY_CONSOLE, "ministry/budget.html", context)
    context |= {
        "frames": [_shown(frame) for frame in use.frames],
        "as_of": moment(use.computed_at),
        "as_of_iso": to_jst(use.computed_at).isoformat(),
        "pace_days": use.pace_days,
        "pace_from": long_date(use.pace_from),
        "pace_to": long_date(use.pace_to),
    }
    return page(request, MINISTRY_CONSOLE, "ministry/budget.html", context)
