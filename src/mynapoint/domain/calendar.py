"""Time in JST: every date rule of the program is evaluated in Asia/Tokyo (RULES.md R18)."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

JST = ZoneInfo("Asia/Tokyo")


def jst_date(at: datetime) -> date:
    """The JST calendar day of an aware instant."""
    return to_jst(at).date()


def to_jst(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{at.isoformat()} has no UTC offset")
    return at.astimezone(JST)


def start_of_jst_day(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=JST)


def as_utc(at: datetime) -> datetime:
    return to_jst(at).astimezone(UTC)


def add_months(day: date, months: int, on_day: int) -> date:
    """`on_day` of the month `months` after `day`'s month; clamped to the month's last day."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(on_day, last))


def days_after(day: date, days: int) -> date:
    return day + timedelta(days=days)
