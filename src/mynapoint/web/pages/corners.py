"""/support-corners: where and when staff help people apply, open now or not, and who to call.

A finder: by ward and open-now (a GET form that works without JavaScript), each corner's
status at platform now with its next opening, a month's calendar of open days, what to
bring, and the payment services a corner cannot apply for, with the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from mynapoint.domain.calendar import jst_date
from mynapoint.domain.measures import Channel
from mynapoint.domain.services import Catalog, PaymentService
from mynapoint.rules.corners import CityCorners, SupportCorner
from mynapoint.web.api.support_corners import CornersDep, schedule
from mynapoint.web.dependencies import CatalogDep, ClockDep
from mynapoint.web.i18n import N_, _, pgettext
from mynapoint.web.pages.help import ContactView, contact_view, help_line_view
from mynapoint.web.pages.opening_times import (
    WEEKDAY_SHORT,
    MonthCalendar,
    Status,
    breaks_text,
    lang_of,
    localized,
    moment,
    month_calendar,
    month_to_show,
    period_text,
    status,
    weekly_lines,
)
from mynapoint.web.templating import templates

router = APIRouter(include_in_schema=False)

# Where else a service can be applied for, as the city's page words it.
CHANNEL_PLACES = {
    Channel.APP: N_("決済サービスアプリ"),
    Channel.STORE: N_("店頭"),
    Channel.ONLINE: N_("ご自身のスマートフォン・パソコン"),
    Channel.SUPPORT_CORNER: N_("マイナポイント・サポートコーナー"),
}

_MONTH = re.compile(r"(\d{4})-(\d{2})")


@dataclass(frozen=True)
class CornerRow:
    corner: SupportCorner
    name: str
    name_lang: str
    ward: str
    hours: str
    status: Status
    address: LocalText


@dataclass(frozen=True)
class LocalText:
    text: str
    lang: str


@dataclass(frozen=True)
class BringView:
    item: LocalText
    needed_for: LocalText


@dataclass(frozen=True)
class CityView:
    city: CityCorners
    name: str
    source: LocalText
    period: str
    days: list[str]
    exceptions: list[str]
    rows: list[CornerRow]  # every corner of the city, in the file's order
    notes: list[LocalText]
    bring: list[BringView]
    contact: ContactView
    calendar: MonthCalendar

    def rows_matching(self, chosen: CornerFilter) -> list[CornerRow]:
        return [r for r in self.rows if chosen.keeps(r)]

    @property
    def open_rows(self) -> list[CornerRow]:
        return [r for r in self.rows if r.status.is_open]

    @property
    def next_opening(self) -> datetime | None:
        """When the first corner opens next, if none is open now."""
        times = [r.status.next_open_at for r in self.rows if r.status.next_open_at is not None]
        return min(times) if times else None

    @property
    def next_opening_text(self) -> str:
        following = self.next_opening
        return "" if following is None else moment(following)


@dataclass(frozen=True)
class NotAtCorner:
    service: PaymentService
    name: str
    reason: str


@dataclass(frozen=True)
class Ward:
    value: str  # the ward's Japanese name, as the filter's query value
    label: str


@dataclass(frozen=True)
class CornerFilter:
    ward: str | None = None
    open_now: bool = False

    def keeps(self, row: CornerRow) -> bool:
        if self.ward is not None and row.corner.ward != self.ward:
            return False
        return not (self.open_now and not row.status.is_open)

    @property
    def is_set(self) -> bool:
        return self.ward is not None or self.open_now


def exceptions(city: CityCorners) -> list[str]:
    """Corners whose hours differ from the city's: 早良区入部出張所は午後0時から午後1時まで休止."""
    usual = schedule(city.hours)
    out: list[str] = []
    for corner in city.corners:
        own = schedule(corner.hours)
        if own == usual:
            continue
        name = localized(corner.name, corner.name_en)
        same_but_breaks = [(d, (h.opens, h.closes)) for d, h in own] == [
            (d, (h.opens, h.closes)) for d, h in usual
        ]
        if same_but_breaks:
            out.extend(
                _("{corner}は{breaks}休止").format(corner=name, breaks=breaks_text(h))
                for _days, h in own
                if h.breaks
            )
        else:
            hours = pgettext("list", "、").join(weekly_lines(corner.hours, long=True))
            out.append(_("{corner}は{hours}").format(corner=name, hours=hours))
    return out


def corner_row(corner: SupportCorner, at: datetime) -> CornerRow:
    return CornerRow(
        corner=corner,
        name=localized(corner.name, corner.name_en),
        name_lang=lang_of(corner.name_en),
        ward=localized(corner.ward, corner.ward_en),
        hours=pgettext("list", "、").join(weekly_lines(corner.hours, long=True)),
        status=status(corner.hours, at),
        address=LocalText(localized(corner.address, corner.address_en), lang_of(corner.address_en)),
    )


def city_view(city: CityCorners, at: datetime, month: date | None = None) -> CityView:
    today = jst_date(at)
    shown = month_to_show(city.first_day, city.last_day, today, month)
    notes_en = city.notes_en or ("",) * len(city.notes)
    return CityView(
        city=city,
        name=localized(city.name, city.name_en),
        source=LocalText(localized(city.source, city.source_en), lang_of(city.source_en)),
        period=period_text(city.first_day, city.last_day),
        days=weekly_lines(city.hours, long=True),
        exceptions=exceptions(city),
        rows=[corner_row(corner, at) for corner in city.corners],
        notes=[
            LocalText(localized(ja, en), lang_of(en))
            for ja, en in zip(city.notes, notes_en, strict=True)
        ],
        bring=[
            BringView(
                LocalText(localized(b.item, b.item_en), lang_of(b.item_en)),
                LocalText(
                    localized(b.needed_for, b.needed_for_en),
                    lang_of(b.needed_for_en),
                ),
            )
            for b in city.bring
        ],
        contact=contact_view(city),
        calendar=month_calendar(city.hours, shown, today, city.first_day, city.last_day),
    )


def wards(city: CityCorners) -> list[Ward]:
    seen: dict[str, Ward] = {}
    for corner in city.corners:
        seen.setdefault(corner.ward, Ward(corner.ward, localized(corner.ward, corner.ward_en)))
    return list(seen.values())


def not_at_corner(catalog: Catalog) -> list[NotAtCorner]:
    """Services whose channels lack support_corner, and where they can be applied for instead."""
    found = []
    for service in catalog:
        if Channel.SUPPORT_CORNER in service.channels:
            continue
        elsewhere = pgettext("alternatives", "・").join(
            _(CHANNEL_PLACES[c]) for c in Channel if c in service.channels
        )
        found.append(
            NotAtCorner(
                service,
                localized(service.name, service.name_en),
                _("{places}からのみ申込みができるため").format(places=elsewhere),
            )
        )
    return found


def parse_month(value: str | None) -> date | None:
    """'2021-08' -> 2021-08-01; anything else -> None (the page then shows today's month)."""
    found = _MONTH.fullmatch((value or "").strip())
    if found is None or not 1 <= int(found[2]) <= 12:
        return None
    return date(int(found[1]), int(found[2]), 1)


def month_url(month: date, chosen: CornerFilter) -> str:
    """The finder showing another month's calendar, with the same filter."""
    query = {"month": f"{month:%Y-%m}"}
    if chosen.ward is not None:
        query["ward"] = chosen.ward
    if chosen.open_now:
        query["open_now"] = "1"
    return f"/support-corners?{urlencode(query)}"


def corner_filter(ward: str | None, open_now: str | None, known: list[str]) -> CornerFilter:
    """The finder's form as sent; an unknown ward or an empty choice means "every ward"."""
    chosen = (ward or "").strip()
    return CornerFilter(
        ward=chosen if chosen in known else None,
        open_now=(open_now or "").strip() not in {"", "0", "false"},
    )


@router.get("/support-corners", response_class=HTMLResponse)
def support_corners_page(
    request: Request,
    corners: CornersDep,
    catalog: CatalogDep,
    clock: ClockDep,
    ward: Annotated[str | None, Query(max_length=40)] = None,
    open_now: Annotated[str | None, Query(max_length=10)] = None,
    month: Annotated[str | None, Query(max_length=10)] = None,
) -> HTMLResponse:
    now = clock.now()
    cities = [city_view(city, now, parse_month(month)) for city in corners.cities]
    ward_choices = [w for city in corners.cities for w in wards(city)]
    chosen = corner_filter(ward, open_now, [w.value for w in ward_choices])
    return templates.TemplateResponse(
        request,
        "corners.html",
        {
            "today": jst_date(now),
            "now_text": moment(now),
            "cities": cities,
            "wards": ward_choices,
            "chosen": chosen,
            "not_at_corner": not_at_corner(catalog),
            "help_line": help_line_view(corners.help_line, now),
            "weekday_short": WEEKDAY_SHORT,
            "month_url": month_url,
        },
    )
