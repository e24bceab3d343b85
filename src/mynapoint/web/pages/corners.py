"""/support-corners: where and when staff help people apply, open now or not, and who to call."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from mynapoint.domain.calendar import jst_date, to_jst
from mynapoint.domain.measures import Channel
from mynapoint.domain.office_hours import OfficeHours
from mynapoint.domain.services import Catalog, PaymentService
from mynapoint.rules.corners import CityCorners, HelpLine, SupportCorner
from mynapoint.web.api.support_corners import (
    CornersDep,
    breaks_ja,
    closed_on_holidays,
    days_ja,
    hours_ja,
    schedule,
    time_ja,
)
from mynapoint.web.dependencies import CatalogDep, ClockDep
from mynapoint.web.i18n import long_date as japanese_date
from mynapoint.web.templating import templates

router = APIRouter(include_in_schema=False)

# Where else a service can be applied for, as the city's page words it.
_CHANNEL_JA = {
    Channel.APP: "決済サービスアプリ",
    Channel.STORE: "店頭",
    Channel.ONLINE: "ご自身のスマートフォン・パソコン",
}


@dataclass(frozen=True)
class Status:
    is_open: bool
    text: str  # 受付中 / 受付時間外 / 終了
    detail: str  # until when, or when it next opens


@dataclass(frozen=True)
class CornerRow:
    corner: SupportCorner
    hours: str
    status: Status


@dataclass(frozen=True)
class CityView:
    city: CityCorners
    period: str
    days: list[str]
    exceptions: list[str]
    rows: list[CornerRow]


@dataclass(frozen=True)
class NotAtCorner:
    service: PaymentService
    reason: str


def moment_ja(at: datetime) -> str:
    local = to_jst(at)
    return f"{japanese_date(local.date())} {time_ja(local.time())}"


def status(hours: OfficeHours, at: datetime) -> Status:
    closes = hours.closes_at(at)
    if closes is not None:
        return Status(is_open=True, text="受付中", detail=f"{time_ja(to_jst(closes).time())}まで")
    following = hours.next_open_at(at)
    if following is None:
        return Status(is_open=False, text="受付終了", detail="今後の受付はありません")
    return Status(is_open=False, text="受付時間外", detail=f"次回 {moment_ja(following)}から")


def hours_text(hours: OfficeHours) -> list[str]:
    """月曜日から金曜日(祝休日を除く) 午前8時45分から午後5時15分まで(…は休止), one line per row."""
    holidays = "(祝休日を除く)" if closed_on_holidays(hours) else ""
    lines = []
    for days, day_hours in schedule(hours):
        line = f"{days_ja(days, long=True)}{holidays} {hours_ja(day_hours)}"
        if day_hours.breaks:
            line += f"({breaks_ja(day_hours)}は休止)"
        lines.append(line)
    return lines


def exceptions(city: CityCorners) -> list[str]:
    """Corners whose hours differ from the city's: 早良区入部出張所は午後0時から午後1時まで休止."""
    usual = schedule(city.hours)
    out: list[str] = []
    for corner in city.corners:
        own = schedule(corner.hours)
        if own == usual:
            continue
        same_but_breaks = [(d, (h.opens, h.closes)) for d, h in own] == [
            (d, (h.opens, h.closes)) for d, h in usual
        ]
        if same_but_breaks:
            out.extend(f"{corner.name}は{breaks_ja(h)}休止" for _, h in own if h.breaks)
        else:
            out.append(f"{corner.name}は{'、'.join(hours_text(corner.hours))}")
    return out


def city_view(city: CityCorners, at: datetime) -> CityView:
    return CityView(
        city=city,
        period=f"{japanese_date(city.first_day)}から{japanese_date(city.last_day)}まで",
        days=hours_text(city.hours),
        exceptions=exceptions(city),
        rows=[
            CornerRow(corner, "、".join(hours_text(corner.hours)), status(corner.hours, at))
            for corner in city.corners
        ],
    )


def not_at_corner(catalog: Catalog) -> list[NotAtCorner]:
    """Services whose channels lack support_corner, and where they can be applied for instead."""
    found = []
    for service in catalog:
        if Channel.SUPPORT_CORNER in service.channels:
            continue
        elsewhere = "・".join(_CHANNEL_JA[c] for c in Channel if c in service.channels)
        found.append(NotAtCorner(service, f"{elsewhere}からのみ申込みができるため"))
    return found


def help_line_view(line: HelpLine, at: datetime) -> tuple[list[str], Status]:
    rows = [f"{days_ja(days)} {hours_ja(h)}" for days, h in schedule(line.hours)]
    return rows, status(line.hours, at)


@router.get("/support-corners", response_class=HTMLResponse)
def support_corners_page(
    request: Request, corners: CornersDep, catalog: CatalogDep, clock: ClockDep
) -> HTMLResponse:
    now = clock.now()
    help_rows, help_status = help_line_view(corners.help_line, now)
    return templates.TemplateResponse(
        request,
        "corners.html",
        {
            "today": jst_date(now),
            "now_text": moment_ja(now),
            "cities": [city_view(city, now) for city in corners.cities],
            "not_at_corner": not_at_corner(catalog),
            "help_line": corners.help_line,
            "help_rows": help_rows,
            "help_status": help_status,
        },
    )
