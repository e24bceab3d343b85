"""GET /api/v1/support-corners, a corner's calendar, and the national help line: open or not.

Public. Every answer is about a moment (`at`, default platform now) or a range of JST days;
instants are written in JST (+09:00) whatever offset the question used.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import cache
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from mynapoint.domain.calendar import to_jst
from mynapoint.domain.errors import MynapointError
from mynapoint.domain.input_policy import check_instant
from mynapoint.domain.office_hours import DAY_NAMES, HOLIDAY, WEEKDAYS, DayHours, OfficeHours
from mynapoint.rules.corners import CornerDirectory, HelpLine, SupportCorner, load_corner_directory
from mynapoint.services.clock import Clock
from mynapoint.web.dependencies import ClockDep
from mynapoint.web.errors import responses
from mynapoint.web.inputs import Day, Identifier

router = APIRouter(prefix="/api/v1", tags=["public"])

MOST_DAYS = 366
AT_EXAMPLE = "2021-07-19T10:00:00+09:00"

_WEEKDAYS_JA = {
    "mon": "月",
    "tue": "火",
    "wed": "水",
    "thu": "木",
    "fri": "金",
    "sat": "土",
    "sun": "日",
}
_WORKING_WEEK = ("mon", "tue", "wed", "thu", "fri")


@cache
def get_corner_directory() -> CornerDirectory:
    return load_corner_directory()


CornersDep = Annotated[CornerDirectory, Depends(get_corner_directory)]


class InvalidQuery(MynapointError):
    code = "invalid_request"


def parse_moment(value: str, name: str) -> dt.datetime:
    """An ISO timestamp with its UTC offset, or InvalidQuery naming the expected form."""
    text = value.strip()
    # An unencoded "+09:00" in a query string arrives as " 09:00".
    if len(text) > 6 and text[-6] == " " and text[-3] == ":":
        text = text[:-6] + "+" + text[-5:]
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise InvalidQuery(
            f"{name} '{value}' is not a timestamp; send e.g. {AT_EXAMPLE}", field=name
        ) from None
    if moment.utcoffset() is None:
        raise InvalidQuery(
            f"{name} '{value}' has no UTC offset; send e.g. {AT_EXAMPLE}", field=name
        )
    # Year 1 or 9999 would overflow the conversions to JST and the opening-hours arithmetic.
    return check_instant(name, moment)


def moment_or_now(value: str | None, clock: Clock) -> dt.datetime:
    return clock.now() if value is None else parse_moment(value, "at")


# --- Japanese wording, shared with the page and the command line -----------------------------


def time_ja(value: dt.time) -> str:
    """08:45 -> 午前8時45分, 12:00 -> 午後0時, 17:15 -> 午後5時15分 (as the city's page writes)."""
    half, hour = ("午前", value.hour) if value.hour < 12 else ("午後", value.hour - 12)
    return f"{half}{hour}時" + (f"{value.minute}分" if value.minute else "")


def days_ja(days: Iterable[str], *, long: bool = False) -> str:
    """['mon'..'fri'] -> 平日 (long: 月曜日から金曜日); ['sat', 'sun', 'holiday'] -> 土日祝."""
    chosen = set(days)
    weekdays = [d for d in WEEKDAYS if d in chosen]
    if tuple(weekdays) == _WORKING_WEEK:
        text = "月曜日から金曜日" if long else "平日"
    elif weekdays == ["sat", "sun"]:
        text = "土日"
    elif weekdays:
        text = "・".join(_WEEKDAYS_JA[d] for d in weekdays) + "曜日"
    else:
        text = ""
    if HOLIDAY in chosen:
        text = "土日祝" if text == "土日" else (f"{text}・祝日" if text else "祝日")
    return text


def hours_ja(hours: DayHours) -> str:
    return f"{time_ja(hours.opens)}から{time_ja(hours.closes)}まで"


def breaks_ja(hours: DayHours) -> str:
    return "、".join(f"{time_ja(b.opens)}から{time_ja(b.closes)}まで" for b in hours.breaks)


def schedule(hours: OfficeHours) -> list[tuple[list[str], DayHours]]:
    """The weekly hours grouped by day: days sharing the same hours form one row, in order."""
    rows: dict[DayHours, list[str]] = {}
    for index, name in enumerate(DAY_NAMES):
        day_hours = hours.on_holidays if name == HOLIDAY else hours.weekly.get(index)
        if day_hours is not None:
            rows.setdefault(day_hours, []).append(name)
    return [(days, day_hours) for day_hours, days in rows.items()]


def closed_on_holidays(hours: OfficeHours) -> bool:
    return hours.on_holidays is None


# --- shapes --------------------------------------------------------------------------------


class SupportCornerOut(BaseModel):
    code: str
    name: str
    ward: str
    address: str
    open: bool = Field(description="open at the moment asked about")
    closes_at: dt.datetime | None = Field(description="when open: when this stretch ends")
    next_open_at: dt.datetime | None = Field(
        description="when closed: when it next opens (null if never again)"
    )


class SupportCornersOut(BaseModel):
    at: dt.datetime = Field(description="the moment asked about, in JST")
    support_corners: list[SupportCornerOut]


class BreakOut(BaseModel):
    starts: str = Field(examples=["12:00"])
    ends: str = Field(examples=["13:00"])


class WeeklyHoursOut(BaseModel):
    days: list[str] = Field(description="mon … sun, and holiday for national holidays")
    label_ja: str
    opens: str = Field(examples=["08:45"])
    closes: str = Field(examples=["17:15"])
    breaks: list[BreakOut]


class OpeningOut(BaseModel):
    opens: dt.datetime
    closes: dt.datetime


class CalendarDayOut(BaseModel):
    date: dt.date
    open: bool
    hours: list[OpeningOut]
    holiday_name: str | None


class CalendarOut(BaseModel):
    code: str
    name: str
    first_day: dt.date = Field(description="the first day of the corner's opening period")
    last_day: dt.date = Field(description="the last day of the corner's opening period")
    weekly_hours: list[WeeklyHoursOut] = Field(
        description="days not listed are closed; so are national holidays unless listed"
    )
    days: list[CalendarDayOut]


class PhoneNumberOut(BaseModel):
    number: str
    note: str
    toll_free: bool


class HelpLineOut(BaseModel):
    name: str
    at: dt.datetime
    open: bool
    closes_at: dt.datetime | None
    next_open_at: dt.datetime | None
    numbers: list[PhoneNumberOut]
    hours: list[WeeklyHoursOut]


def _jst(value: dt.datetime | None) -> dt.datetime | None:
    return None if value is None else to_jst(value)


def corner_out(corner: SupportCorner, at: dt.datetime) -> SupportCornerOut:
    is_open = corner.hours.is_open_at(at)
    return SupportCornerOut(
        code=corner.code,
        name=corner.name,
        ward=corner.ward,
        address=corner.address,
        open=is_open,
        closes_at=_jst(corner.hours.closes_at(at)) if is_open else None,
        next_open_at=None if is_open else _jst(corner.hours.next_open_at(at)),
    )


def support_corners_out(directory: CornerDirectory, at: dt.datetime) -> SupportCornersOut:
    return SupportCornersOut(
        at=to_jst(at), support_corners=[corner_out(c, at) for c in directory.corners()]
    )


def weekly_hours_out(hours: OfficeHours) -> list[WeeklyHoursOut]:
    return [
        WeeklyHoursOut(
            days=days,
            label_ja=days_ja(days),
            opens=f"{day_hours.opens:%H:%M}",
            closes=f"{day_hours.closes:%H:%M}",
            breaks=[
                BreakOut(starts=f"{b.opens:%H:%M}", ends=f"{b.closes:%H:%M}")
                for b in day_hours.breaks
            ],
        )
        for days, day_hours in schedule(hours)
    ]


def calendar_out(corner: SupportCorner, first: dt.date, last: dt.date) -> CalendarOut:
    hours = corner.hours
    assert hours.first_day is not None  # noqa: S101 - a corner's file always gives its period
    assert hours.last_day is not None  # noqa: S101
    return CalendarOut(
        code=corner.code,
        name=corner.name,
        first_day=hours.first_day,
        last_day=hours.last_day,
        weekly_hours=weekly_hours_out(hours),
        days=[
            CalendarDayOut(
                date=day.day,
                open=day.is_open,
                hours=[OpeningOut(opens=o.opens, closes=o.closes) for o in day.openings],
                holiday_name=day.holiday_name,
            )
            for day in hours.days(first, last)
        ],
    )


def help_line_out(line: HelpLine, at: dt.datetime) -> HelpLineOut:
    is_open = line.hours.is_open_at(at)
    return HelpLineOut(
        name=line.name,
        at=to_jst(at),
        open=is_open,
        closes_at=_jst(line.hours.closes_at(at)) if is_open else None,
        next_open_at=None if is_open else _jst(line.hours.next_open_at(at)),
        numbers=[
            PhoneNumberOut(number=n.number, note=n.note, toll_free=n.toll_free)
            for n in line.numbers
        ],
        hours=weekly_hours_out(line.hours),
    )


# --- routes --------------------------------------------------------------------------------

AtQuery = Annotated[
    str | None,
    Query(
        description="an instant with its UTC offset (default: platform now)",
        examples=[AT_EXAMPLE],
    ),
]


@router.get("/support-corners", responses=responses())
def list_support_corners(
    corners: CornersDep, clock: ClockDep, at: AtQuery = None
) -> SupportCornersOut:
    """Every support corner, open or closed at `at`, with when it closes or next opens."""
    return support_corners_out(corners, moment_or_now(at, clock))


@router.get("/support-corners/{code}/calendar", responses=responses("not_found"))
def support_corner_calendar(
    corners: CornersDep,
    code: Annotated[Identifier, Path(max_length=40, examples=["sawara_irube"])],
    first: Annotated[Day, Query(alias="from", description="the first day (JST), e.g. 2021-07-19")],
    last: Annotated[
        Day,
        Query(alias="to", description=f"the last day, included; at most {MOST_DAYS} days in all"),
    ],
) -> CalendarOut:
    """A corner's opening hours day by day, with the names of national holidays."""
    corner = corners.get(code)
    if last < first:
        raise InvalidQuery(
            f"to {last.isoformat()} is before from {first.isoformat()}; send a to on or after from",
            field="to",
        )
    count = (last - first).days + 1
    if count > MOST_DAYS:
        raise InvalidQuery(
            f"from {first.isoformat()} to {last.isoformat()} is {count} days; "
            f"ask for at most {MOST_DAYS} days at a time",
            field="to",
            most_days=MOST_DAYS,
        )
    return calendar_out(corner, first, last)


@router.get("/help-line", responses=responses())
def help_line(corners: CornersDep, clock: ClockDep, at: AtQuery = None) -> HelpLineOut:
    """The national help line (マイナンバー総合フリーダイヤル): its numbers, hours, open or not."""
    return help_line_out(corners.help_line, moment_or_now(at, clock))
