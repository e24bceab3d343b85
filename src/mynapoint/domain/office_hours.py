"""When a counter or a help line takes people: opening period, weekly hours with breaks, holidays.

Pure: the national holidays come in as a value (date -> name) and "now" is always a
parameter. Hours are JST wall-clock times; every instant is compared in JST, so a moment
given in UTC gets the same answer as the same moment given in JST (RULES.md R18).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from mynapoint.domain.calendar import JST, to_jst

# Monday first, as date.weekday() counts; "holiday" stands for any national holiday.
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HOLIDAY = "holiday"
DAY_NAMES = (*WEEKDAYS, HOLIDAY)

# An open-ended schedule that opens on some day of the week opens again within a year: no run
# of national holidays is anywhere near that long, so the search for the next opening stops there.
_LONGEST_SEARCH = timedelta(days=366)


@dataclass(frozen=True)
class Span:
    """Half-open [opens, closes) on one day, in JST wall-clock time."""

    opens: time
    closes: time

    def __post_init__(self) -> None:
        if not self.opens < self.closes:
            raise ValueError(
                f"a span that opens at {self.opens:%H:%M} must close after it, "
                f"not at {self.closes:%H:%M}"
            )


@dataclass(frozen=True)
class DayHours:
    """The hours of one kind of day: open from `opens` to `closes`, closed during each break."""

    opens: time
    closes: time
    breaks: tuple[Span, ...] = ()

    def __post_init__(self) -> None:
        Span(self.opens, self.closes)  # opens before closes
        edge = self.opens
        for pause in self.breaks:
            # A break at an edge would be shorter hours: write those instead.
            if not (edge < pause.opens and pause.closes < self.closes):
                raise ValueError(
                    f"break {pause.opens:%H:%M}-{pause.closes:%H:%M} is not inside the hours "
                    f"{self.opens:%H:%M}-{self.closes:%H:%M} after the break before it; "
                    "a break starts after opening, ends before closing, and breaks are in order"
                )
            edge = pause.closes

    def spans(self) -> tuple[Span, ...]:
        out: list[Span] = []
        start = self.opens
        for pause in self.breaks:
            out.append(Span(start, pause.opens))
            start = pause.closes
        out.append(Span(start, self.closes))
        return tuple(out)


@dataclass(frozen=True)
class Opening:
    """One stretch of open time on a calendar day, as aware JST instants: [opens, closes)."""

    opens: datetime
    closes: datetime

    def contains(self, at: datetime) -> bool:
        return self.opens <= at < self.closes


@dataclass(frozen=True)
class OpeningDay:
    day: date
    openings: tuple[Opening, ...]
    holiday_name: str | None

    @property
    def is_open(self) -> bool:
        return bool(self.openings)


@dataclass(frozen=True)
class OfficeHours:
    """Weekly hours inside an opening period (inclusive days; None: no bound on that side).

    On a national holiday `on_holidays` applies instead of the weekday's hours; None closes
    the day. A day of the week missing from `weekly` is closed.
    """

    weekly: Mapping[int, DayHours]
    holidays: Mapping[date, str] = field(default_factory=dict, repr=False)
    on_holidays: DayHours | None = None
    first_day: date | None = None
    last_day: date | None = None

    def __post_init__(self) -> None:
        unknown = sorted(set(self.weekly) - set(range(7)))
        if unknown:
            raise ValueError(f"weekdays are 0 (Monday) to 6 (Sunday), not {unknown}")
        if (
            self.first_day is not None
            and self.last_day is not None
            and self.last_day < self.first_day
        ):
            raise ValueError(
                f"the period ends {self.last_day.isoformat()}, "
                f"before it starts {self.first_day.isoformat()}"
            )

    def in_period(self, day: date) -> bool:
        return (self.first_day is None or self.first_day <= day) and (
            self.last_day is None or day <= self.last_day
        )

    def hours_on(self, day: date) -> DayHours | None:
        """The hours that apply on a calendar day, or None when it is closed all day."""
        if not self.in_period(day):
            return None
        if self.holidays.get(day) is not None:
            return self.on_holidays
        return self.weekly.get(day.weekday())

    def day(self, day: date) -> OpeningDay:
        hours = self.hours_on(day)
        openings = (
            ()
            if hours is None
            else tuple(
                Opening(datetime.combine(day, s.opens, JST), datetime.combine(day, s.closes, JST))
                for s in hours.spans()
            )
        )
        return OpeningDay(day, openings, self.holidays.get(day))

    def days(self, first: date, last: date) -> tuple[OpeningDay, ...]:
        """Every calendar day from `first` to `last`, both included."""
        count = (last - first).days + 1
        return tuple(self.day(first + timedelta(days=n)) for n in range(max(count, 0)))

    def opening_at(self, at: datetime) -> Opening | None:
        local = to_jst(at)
        return next((o for o in self.day(local.date()).openings if o.contains(local)), None)

    def is_open_at(self, at: datetime) -> bool:
        return self.opening_at(at) is not None

    def closes_at(self, at: datetime) -> datetime | None:
        """When the stretch open at `at` ends; None when closed at `at`."""
        opening = self.opening_at(at)
        return None if opening is None else opening.closes

    def next_open_at(self, at: datetime) -> datetime | None:
        """The next moment after `at` at which a stretch opens; None if it never opens again."""
        local = to_jst(at)
        if not self.weekly and self.on_holidays is None:
            return None
        day = local.date()
        if self.first_day is not None:
            day = max(day, self.first_day)
        last = self.last_day if self.last_day is not None else day + _LONGEST_SEARCH
        while day <= last:
            for opening in self.day(day).openings:
                if opening.opens > local:
                    return opening.opens
            day += timedelta(days=1)
        return None
