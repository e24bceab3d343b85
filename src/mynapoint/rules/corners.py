"""Support corners (マイナポイント・サポートコーナー) as data: one YAML file per city in corners/.

Loading is strict, like the campaign rules: an unknown key, a time of day that is not
"HH:MM" in quotes, a break outside the hours, a day named twice or a corner code used by two
cities is refused with a message naming the file, the key and the expected form.

The national holidays come from the `holidays` package (Japanese names) and are handed to
the pure office hours of the domain as a value (a read-only mapping of date to name).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from holidays.countries.japan import Japan

from mynapoint.domain.errors import MynapointError
from mynapoint.domain.office_hours import HOLIDAY, WEEKDAYS, DayHours, OfficeHours, Span
from mynapoint.rules.corner_schema import CityFileIn, HelpLineIn, HoursIn
from mynapoint.rules.loader import RuleDataError, validate
from mynapoint.rules.yaml_source import SourceError, parse_yaml

CORNERS_FOLDER = "corners"


# --- what the platform uses ------------------------------------------------------------------


@dataclass(frozen=True)
class SupportCorner:
    code: str
    name: str
    ward: str
    address: str
    city: str
    hours: OfficeHours
    # English for the English pages; empty where the city's data gives none.
    name_en: str = ""
    ward_en: str = ""
    address_en: str = ""


@dataclass(frozen=True)
class PhoneNumber:
    number: str
    note: str
    toll_free: bool
    note_en: str = ""

    @property
    def tel_uri(self) -> str:
        return "tel:" + self.number.replace("-", "")


@dataclass(frozen=True)
class HelpLine:
    name: str
    numbers: tuple[PhoneNumber, ...]
    hours: OfficeHours
    name_en: str = ""


@dataclass(frozen=True)
class CityContact:
    department: str
    address: str
    tel: str
    fax: str
    email: str
    department_en: str = ""
    address_en: str = ""


@dataclass(frozen=True)
class BringItem:
    item: str
    needed_for: str
    item_en: str = ""
    needed_for_en: str = ""


@dataclass(frozen=True)
class CityCorners:
    code: str
    name: str
    source: str
    updated_on: date
    first_day: date
    last_day: date
    hours: OfficeHours  # the city's usual hours; a corner may have its own
    corners: tuple[SupportCorner, ...]
    notes: tuple[str, ...]
    bring: tuple[BringItem, ...]
    contact: CityContact
    name_en: str = ""
    notes_en: tuple[str, ...] = ()  # one per note, "" where a note has no English
    source_en: str = ""


class UnknownCorner(MynapointError):
    code = "not_found"

    def __init__(self, corner_code: str) -> None:
        super().__init__(
            f"support corner '{corner_code}' does not exist; "
            "see GET /api/v1/support-corners for the codes",
            corner_code=corner_code,
        )


@dataclass(frozen=True)
class CornerDirectory:
    cities: tuple[CityCorners, ...]
    help_line: HelpLine

    def corners(self) -> tuple[SupportCorner, ...]:
        return tuple(corner for city in self.cities for corner in city.corners)

    def get(self, code: str) -> SupportCorner:
        for corner in self.corners():
            if corner.code == code:
                return corner
        raise UnknownCorner(code)


# --- building ------------------------------------------------------------------------------


class NationalHolidays(Mapping[date, str]):
    """Japan's national holidays by date, with Japanese names (振替休日 included).

    Filled for the given years up front, and for any other year on its first lookup, which
    an open-ended schedule (the help line) needs. Requests run in threads: a year is filled
    under a lock and marked filled only once all its days are in.
    """

    def __init__(self, years: Iterable[int]) -> None:
        self._lock = threading.Lock()
        self._years: set[int] = set()
        self._days: dict[date, str] = {}
        for year in sorted(set(years)):
            self._fill(year)

    def _fill(self, year: int) -> None:
        with self._lock:
            if year in self._years:
                return
            # Without language="ja" the names follow LANG (English under C.UTF-8).
            self._days.update(Japan(language="ja", years=year).items())
            self._years.add(year)

    def __getitem__(self, day: date) -> str:
        if day.year not in self._years:
            self._fill(day.year)
        return self._days[day]

    def __iter__(self) -> Iterator[date]:
        return iter(dict(self._days))  # the years filled so far

    def __len__(self) -> int:
        return len(self._days)


class EnglishHolidayNames:
    """The English name of a national holiday (the `holidays` package's en_US names), for
    the English pages: 海の日 is Marine Day. Filled a year at a time, like NationalHolidays."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._years: set[int] = set()
        self._days: dict[date, str] = {}

    def name(self, day: date) -> str | None:
        if day.year not in self._years:
            with self._lock:
                if day.year not in self._years:
                    self._days.update(Japan(language="en_US", years=day.year).items())
                    self._years.add(day.year)
        return self._days.get(day)


ENGLISH_HOLIDAY_NAMES = EnglishHolidayNames()


def holiday_name_en(day: date) -> str | None:
    """海の日 on 2021-07-22 -> Marine Day; None on a day that is no national holiday."""
    return ENGLISH_HOLIDAY_NAMES.name(day)


def _day_hours(entry: HoursIn) -> DayHours:
    return DayHours(entry.opens, entry.closes, tuple(Span(b.starts, b.ends) for b in entry.breaks))


def office_hours(
    entries: list[HoursIn],
    national: Mapping[date, str],
    first_day: date | None = None,
    last_day: date | None = None,
) -> OfficeHours:
    weekly: dict[int, DayHours] = {}
    on_holidays: DayHours | None = None
    for entry in entries:
        hours = _day_hours(entry)
        for day in entry.days:
            if day == HOLIDAY:
                on_holidays = hours
            else:
                weekly[WEEKDAYS.index(day)] = hours
    return OfficeHours(
        weekly=weekly,
        holidays=national,
        on_holidays=on_holidays,
        first_day=first_day,
        last_day=last_day,
    )


def _help_line(raw: HelpLineIn, national: Mapping[date, str]) -> HelpLine:
    return HelpLine(
        name=raw.name,
        numbers=tuple(PhoneNumber(n.number, n.note, n.toll_free, n.note_en) for n in raw.numbers),
        # The national line has no end of its own: it answers beyond any corner period.
        hours=office_hours(raw.hours, national),
        name_en=raw.name_en,
    )


def _city(raw: CityFileIn, national: Mapping[date, str]) -> CityCorners:
    first, last = raw.period.first_day, raw.period.last_day
    corners = tuple(
        SupportCorner(
            code=c.code,
            name=c.name,
            ward=c.ward,
            address=c.address,
            city=raw.city.code,
            hours=office_hours(c.hours or raw.hours, national, first, last),
            name_en=c.name_en,
            ward_en=c.ward_en,
            address_en=c.address_en,
        )
        for c in raw.corners
    )
    contact = raw.contact
    return CityCorners(
        code=raw.city.code,
        name=raw.city.name,
        source=raw.city.source,
        updated_on=raw.city.updated_on,
        first_day=first,
        last_day=last,
        hours=office_hours(raw.hours, national, first, last),
        corners=corners,
        notes=tuple(n.ja for n in raw.notes),
        notes_en=tuple(n.en for n in raw.notes),
        bring=tuple(BringItem(b.item, b.needed_for, b.item_en, b.needed_for_en) for b in raw.bring),
        contact=CityContact(
            contact.department,
            contact.address,
            contact.tel,
            contact.fax,
            contact.email,
            contact.department_en,
            contact.address_en,
        ),
        name_en=raw.city.name_en,
        source_en=raw.city.source_en,
    )


def _parse_file(text: str, source: str) -> CityFileIn:
    try:
        data = parse_yaml(text, source)
    except SourceError as exc:
        raise RuleDataError(str(exc)) from None
    return validate(CityFileIn, data, source)


def directory_from_texts(files: Mapping[str, str]) -> CornerDirectory:
    """Every city's file ({source name: YAML text}) into one directory of corners."""
    if not files:
        raise RuleDataError(
            f"{CORNERS_FOLDER}/: no corner files; add one per city, e.g. fukuoka.yaml"
        )
    parsed = {source: _parse_file(text, source) for source, text in sorted(files.items())}
    _check_across_files(parsed)
    years = {
        year
        for raw in parsed.values()
        for year in range(raw.period.first_day.year, raw.period.last_day.year + 1)
    }
    national = NationalHolidays(years)
    lines = [raw.help_line for raw in parsed.values() if raw.help_line is not None]
    return CornerDirectory(
        cities=tuple(_city(raw, national) for raw in parsed.values()),
        help_line=_help_line(lines[0], national),
    )


def _check_across_files(parsed: Mapping[str, CityFileIn]) -> None:
    owners: dict[str, tuple[str, int]] = {}
    cities: dict[str, str] = {}
    for source, raw in parsed.items():
        other = cities.setdefault(raw.city.code, source)
        if other != source:
            raise RuleDataError(
                f"{source}: city.code: '{raw.city.code}' is also the city of {other}; "
                "one file per city"
            )
        for index, corner in enumerate(raw.corners):
            owner, first_index = owners.setdefault(corner.code, (source, index))
            if owner != source:
                raise RuleDataError(
                    f"{source}: corners[{index}].code: '{corner.code}' is also a corner of "
                    f"{owner}; corner codes must be unique across cities"
                )
            if first_index != index:
                raise RuleDataError(
                    f"{source}: corners[{index}].code: '{corner.code}' is also the code of "
                    f"corners[{first_index}]; give each corner its own code"
                )
    lines = [(source, raw.help_line) for source, raw in parsed.items() if raw.help_line]
    if not lines:
        raise RuleDataError(
            f"{CORNERS_FOLDER}/: no file gives help_line; the national help line is public "
            "information every corner page shows (name, numbers, hours)"
        )
    first_source, first_line = lines[0]
    for source, line in lines[1:]:
        if line != first_line:
            raise RuleDataError(
                f"{source}: help_line: differs from the one in {first_source}; the national "
                "help line is one line: give the same values or leave it out"
            )


def _yaml_files(folder: Traversable) -> dict[str, str]:
    return {
        f"{CORNERS_FOLDER}/{entry.name}": entry.read_text(encoding="utf-8")
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.is_file() and entry.name.endswith((".yaml", ".yml"))
    }


@cache
def load_corner_directory(folder: Path | None = None) -> CornerDirectory:
    """Every city's support corners: the packaged corners/ folder unless a folder is given."""
    if folder is None:
        return directory_from_texts(
            _yaml_files(resources.files("mynapoint.rules").joinpath(CORNERS_FOLDER))
        )
    return directory_from_texts(_yaml_files(folder))
