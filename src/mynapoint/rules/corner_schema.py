"""The shape of a city's support-corner file (rules/corners/*.yaml), checked strictly.

Times of day are "HH:MM" text: unquoted, YAML 1.1 reads 8:45 as the number 525 (base-60
minutes), and the message says which time was meant.
"""

from __future__ import annotations

import re
from datetime import date, time
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    StrictBool,
    ValidationInfo,
    field_validator,
)

from mynapoint.domain.office_hours import DAY_NAMES
from mynapoint.rules.schema import Code, Day, Strict

_CLOCK = re.compile(r"(?P<hour>[01]\d|2[0-3]):(?P<minute>[0-5]\d)")
_PHONE = re.compile(r"0\d{1,4}-\d{1,4}-\d{3,4}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")

# The names of domain.office_hours.DAY_NAMES, as a Literal so a wrong name lists the right ones.
DayName = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun", "holiday"]


def _clock_time(value: object) -> object:
    if isinstance(value, bool):
        raise ValueError('not a time of day; write HH:MM in quotes, e.g. "08:45"')  # noqa: TRY004 - pydantic reports ValueError as a field error
    if isinstance(value, int):
        # YAML 1.1 reads an unquoted 8:45 as base-60 minutes (525): say which time it was.
        hint = f'"{value // 60:02d}:{value % 60:02d}"' if 0 <= value < 24 * 60 else '"08:45"'
        raise ValueError(  # noqa: TRY004 - pydantic reports ValueError as a field error
            f"a number, not a time of day (YAML reads an unquoted H:MM as minutes); "
            f"write it in quotes, e.g. {hint}"
        )
    if isinstance(value, str):
        found = _CLOCK.fullmatch(value.strip())
        if found is None:
            raise ValueError('not a time of day; write HH:MM in quotes, e.g. "08:45"')
        return time(int(found["hour"]), int(found["minute"]))
    return value


ClockTime = Annotated[time, BeforeValidator(_clock_time)]


def _matching(pattern: re.Pattern[str], example: str) -> AfterValidator:
    def check(value: str) -> str:
        if pattern.fullmatch(value) is None:
            raise ValueError(f"expected the form of e.g. {example}")
        return value

    return AfterValidator(check)


Phone = Annotated[str, _matching(_PHONE, "092-711-4105")]
Email = Annotated[str, _matching(_EMAIL, "ictpromotion.GAPB@city.fukuoka.lg.jp")]


def _unique(values: list[Any]) -> list[Any]:
    repeated = sorted({str(v) for v in values if values.count(v) > 1})
    if repeated:
        raise ValueError(f"{', '.join(repeated)} listed more than once")
    return values


class BreakIn(Strict):
    starts: ClockTime
    ends: ClockTime

    @field_validator("ends")
    @classmethod
    def _after_start(cls, ends: time, info: ValidationInfo) -> time:
        starts = info.data.get("starts")
        if starts is not None and ends <= starts:
            raise ValueError(f"the break ends at {ends:%H:%M}, not after it starts {starts:%H:%M}")
        return ends


class HoursIn(Strict):
    days: Annotated[list[DayName], Field(min_length=1), AfterValidator(_unique)]
    opens: ClockTime
    closes: ClockTime
    breaks: list[BreakIn] = []

    @field_validator("closes")
    @classmethod
    def _after_opening(cls, closes: time, info: ValidationInfo) -> time:
        opens = info.data.get("opens")
        if opens is not None and closes <= opens:
            raise ValueError(
                f"closes at {closes:%H:%M}, not after it opens at {opens:%H:%M}; "
                "hours end on the day they start"
            )
        return closes

    @field_validator("breaks")
    @classmethod
    def _inside_hours(cls, breaks: list[BreakIn], info: ValidationInfo) -> list[BreakIn]:
        opens, closes = info.data.get("opens"), info.data.get("closes")
        if opens is None or closes is None:
            return breaks
        edge = opens
        for pause in breaks:
            if not (edge < pause.starts and pause.ends < closes):
                raise ValueError(
                    f"the break {pause.starts:%H:%M}-{pause.ends:%H:%M} is not inside the hours "
                    f"{opens:%H:%M}-{closes:%H:%M} (after any break before it); a break starts "
                    "after opening and ends before closing, in order"
                )
            edge = pause.ends
        return breaks


def _each_day_once(entries: list[HoursIn]) -> list[HoursIn]:
    named = [day for entry in entries for day in entry.days]
    twice = sorted({d for d in named if named.count(d) > 1}, key=DAY_NAMES.index)
    if twice:
        raise ValueError(
            f"{', '.join(twice)} named in more than one entry; give each day one entry"
        )
    return entries


Hours = Annotated[list[HoursIn], Field(min_length=1), AfterValidator(_each_day_once)]


class CityIn(Strict):
    code: Code
    name: str
    name_en: str = ""  # English pages show the Japanese name when this is empty
    source: str
    source_en: str = ""
    updated_on: Day


class PeriodIn(Strict):
    first_day: Day
    last_day: Day

    @field_validator("last_day")
    @classmethod
    def _not_before_first(cls, last_day: date, info: ValidationInfo) -> date:
        first_day = info.data.get("first_day")
        if first_day is not None and last_day < first_day:
            raise ValueError(f"before first_day {first_day.isoformat()}")
        return last_day


class CornerIn(Strict):
    code: Code
    name: str
    name_en: str = ""
    ward: str
    ward_en: str = ""
    address: str
    address_en: str = ""
    # Replaces the city's hours for this corner (e.g. one closed over lunch).
    hours: Hours | None = None


class BringIn(Strict):
    item: str
    needed_for: str
    item_en: str = ""
    needed_for_en: str = ""


class TextIn(Strict):
    """A sentence of the city's page with its English, for the English pages."""

    ja: str
    en: str = ""


def _sentence(value: object) -> object:
    # A plain string is the Japanese sentence alone.
    return {"ja": value} if isinstance(value, str) else value


Sentence = Annotated[TextIn, BeforeValidator(_sentence)]


class PhoneIn(Strict):
    number: Phone
    note: str = ""
    note_en: str = ""
    toll_free: StrictBool


class HelpLineIn(Strict):
    name: str
    name_en: str = ""
    numbers: Annotated[list[PhoneIn], Field(min_length=1)]
    hours: Hours


class ContactIn(Strict):
    department: str
    department_en: str = ""
    address: str
    address_en: str = ""
    tel: Phone
    fax: Phone
    email: Email


class CityFileIn(Strict):
    city: CityIn
    period: PeriodIn
    hours: Hours
    corners: Annotated[list[CornerIn], Field(min_length=1)]
    # A note is the city's sentence as written, or {ja: …, en: …} with its English.
    notes: list[Sentence] = []
    bring: list[BringIn] = []
    help_line: HelpLineIn | None = None
    contact: ContactIn
