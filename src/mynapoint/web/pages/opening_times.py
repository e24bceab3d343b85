"""Opening hours, open-now and month calendars in the reader's language.

The support-corner, help and top pages share these words. Japanese is written the way the
city's page writes it (午前8時45分から午後5時15分まで); every phrase goes through the
catalog, so the English pages read "8:45–17:15". Pure apart from the reader's locale: the
moment asked about is always a parameter.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from mynapoint.domain.calendar import to_jst
from mynapoint.domain.office_hours import (
    HOLIDAY,
    WEEKDAYS,
    DayHours,
    OfficeHours,
    OpeningDay,
)
from mynapoint.rules.corners import holiday_name_en
from mynapoint.web.api.support_corners import closed_on_holidays, schedule
from mynapoint.web.i18n import N_, _, current_locale, long_date, month_name, pgettext

_WORKING_WEEK = ("mon", "tue", "wed", "thu", "fri")

# Short weekday names: calendar headings and lists of days (月・水曜日 / Mon, Wed).
WEEKDAY_SHORT = {
    "mon": N_("月"),
    "tue": N_("火"),
    "wed": N_("水"),
    "thu": N_("木"),
    "fri": N_("金"),
    "sat": N_("土"),
    "sun": N_("日"),
}


def localized(ja: str, en: str) -> str:
    """Data written in both languages: the English when the reader reads English and it exists."""
    return en if current_locale() == "en" and en else ja


def lang_of(en: str) -> str:
    """The language `localized` picks for data with this English, for the lang attribute."""
    return "en" if current_locale() == "en" and en else "ja"


def time_of_day(value: time) -> str:
    """08:45 -> 午前8時45分 / 8:45; 12:00 -> 午後0時 / 12:00 (as the city's page writes)."""
    values = {
        "hour": value.hour % 12,
        "minute": value.minute,
        "hour24": value.hour,
        "minute02": f"{value.minute:02d}",
    }
    if value.hour < 12:
        text = _("午前{hour}時{minute}分") if value.minute else _("午前{hour}時")
    else:
        text = _("午後{hour}時{minute}分") if value.minute else _("午後{hour}時")
    return text.format(**values)


def moment(at: datetime) -> str:
    """2021年7月21日(水) 午後1時 / Wed, 21 Jul 2021 13:00."""
    local = to_jst(at)
    return _("{day} {time}").format(day=long_date(local.date()), time=time_of_day(local.time()))


def days_text(days: Iterable[str], *, long: bool = False) -> str:
    """['mon'..'fri'] -> 平日 (long: 月曜日から金曜日); ['sat', 'sun', 'holiday'] -> 土日祝."""
    chosen = set(days)
    weekdays = tuple(d for d in WEEKDAYS if d in chosen)
    holiday = HOLIDAY in chosen
    if weekdays == _WORKING_WEEK:
        text = _("月曜日から金曜日") if long else _("平日")
    elif weekdays == ("sat", "sun"):
        return _("土日祝") if holiday else _("土日")
    elif weekdays:
        names = pgettext("list", "・").join(_(WEEKDAY_SHORT[d]) for d in weekdays)
        text = _("{days}曜日").format(days=names)
    else:
        return _("祝日") if holiday else ""
    return _("{days}・祝日").format(days=text) if holiday else text


def span_text(opens: time, closes: time) -> str:
    return _("{opens}から{closes}まで").format(opens=time_of_day(opens), closes=time_of_day(closes))


def hours_text(hours: DayHours) -> str:
    return span_text(hours.opens, hours.closes)


def breaks_text(hours: DayHours) -> str:
    return pgettext("list", "、").join(span_text(b.opens, b.closes) for b in hours.breaks)


def weekly_lines(hours: OfficeHours, *, long: bool = False) -> list[str]:
    """One line per group of days: 月曜日から金曜日(祝休日を除く) 午前8時45分から午後5時15分まで."""
    except_holidays = _("(祝休日を除く)") if closed_on_holidays(hours) else ""
    lines = []
    for days, day_hours in schedule(hours):
        line = _("{days} {hours}").format(
            days=days_text(days, long=long) + except_holidays, hours=hours_text(day_hours)
        )
        if day_hours.breaks:
            line += _("({breaks}は休止)").format(breaks=breaks_text(day_hours))
        lines.append(line)
    return lines


def period_text(first: date, last: date) -> str:
    return _("{first}から{last}まで").format(first=long_date(first), last=long_date(last))


class State(StrEnum):
    OPEN = "open"
    CLOSED = "closed"  # closed now, opens again
    OVER = "over"  # never opens again


@dataclass(frozen=True)
class Status:
    state: State
    text: str  # 受付中 / 受付時間外 / 受付終了
    detail: str  # until when, or when it next opens
    closes_at: datetime | None
    next_open_at: datetime | None

    @property
    def is_open(self) -> bool:
        return self.state is State.OPEN


def status(hours: OfficeHours, at: datetime) -> Status:
    closes = hours.closes_at(at)
    if closes is not None:
        until = _("{time}まで").format(time=time_of_day(to_jst(closes).time()))
        return Status(State.OPEN, _("受付中"), until, closes, None)
    following = hours.next_open_at(at)
    if following is None:
        return Status(State.OVER, _("受付終了"), _("今後の受付はありません"), None, None)
    detail = _("次回 {at}から").format(at=moment(following))
    return Status(State.CLOSED, _("受付時間外"), detail, None, following)


# --- a month's calendar ---------------------------------------------------------------------


@dataclass(frozen=True)
class CalendarDay:
    day: date
    is_open: bool
    holiday_name: str | None  # in the reader's language (海の日 / Marine Day)
    is_today: bool
    hours: str  # the day's openings, or "" when closed
    holiday_lang: str = "ja"


def holiday_name(day: date, name_ja: str | None) -> tuple[str | None, str]:
    """A national holiday's name in the reader's language, and that language."""
    if name_ja is None:
        return None, "ja"
    english = holiday_name_en(day) or ""
    return localized(name_ja, english), lang_of(english)


@dataclass(frozen=True)
class MonthCalendar:
    month: date  # the first day of the month
    title: str  # 2021年7月 / July 2021
    weeks: list[list[CalendarDay | None]]  # Monday first; None pads outside the month
    open_days: int
    holidays: list[CalendarDay]  # the month's national holidays, in order
    previous: date | None  # the first day of the month before, if the period reaches it
    following: date | None


def first_of_month(day: date) -> date:
    return day.replace(day=1)


def _next_month(month: date) -> date:
    return (month + timedelta(days=32)).replace(day=1)


def _previous_month(month: date) -> date:
    return (month - timedelta(days=1)).replace(day=1)


def month_to_show(first_day: date, last_day: date, today: date, asked: date | None) -> date:
    """The asked month, else today's; always a month of the period [first_day, last_day]."""
    wanted = first_of_month(asked or today)
    return min(max(wanted, first_of_month(first_day)), first_of_month(last_day))


def month_title(month: date) -> str:
    return month_name(month)


def _calendar_day(opening: OpeningDay, today: date) -> CalendarDay:
    name, lang = holiday_name(opening.day, opening.holiday_name)
    return CalendarDay(
        day=opening.day,
        is_open=opening.is_open,
        holiday_name=name,
        holiday_lang=lang,
        is_today=opening.day == today,
        hours=pgettext("list", "、").join(
            span_text(to_jst(o.opens).time(), to_jst(o.closes).time()) for o in opening.openings
        ),
    )


def month_calendar(
    hours: OfficeHours, month: date, today: date, first_day: date, last_day: date
) -> MonthCalendar:
    start = first_of_month(month)
    end = _next_month(start) - timedelta(days=1)
    days = [_calendar_day(d, today) for d in hours.days(start, end)]
    cells: list[CalendarDay | None] = [None] * start.weekday() + list(days)
    cells += [None] * (-len(cells) % 7)
    previous = _previous_month(start)
    following = _next_month(start)
    return MonthCalendar(
        month=start,
        title=month_title(start),
        weeks=[cells[i : i + 7] for i in range(0, len(cells), 7)],
        open_days=sum(d.is_open for d in days),
        holidays=[d for d in days if d.holiday_name],
        previous=previous if previous >= first_of_month(first_day) else None,
        following=following if following <= last_day else None,
    )
