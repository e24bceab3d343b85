"""One input policy for every string and instant that enters the platform.

The edge (the API, the pages, the event files, the command line) applies these checks before
anything reaches a service or a database: a NUL cannot be stored by PostgreSQL, a control or
format character makes two different strings look alike (a right-to-left override, a zero-width
space), and an instant far outside the program's life overflows the conversions to UTC or JST.
Each refusal has its own stable code.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime

from mynapoint.domain.calendar import JST
from mynapoint.domain.errors import MynapointError

# Unicode general categories no text of this platform carries: controls (NUL, ESC, newlines
# inside a field, …), format characters (zero-width spaces and joiners, bidirectional
# overrides, the BOM), lone surrogates (not encodable as UTF-8), private use, unassigned code
# points, and the line and paragraph separators.
FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
# Free text (a holder name, a reason) may contain ordinary spaces, not tabs or newlines;
# identifiers are stricter still (see identifier_problem).

# Every instant the platform accepts lies within these bounds: the program ran 2020-2023, and
# its records are kept for years after; nothing legitimate is outside. Half-open, in JST, the
# program's time zone, so that every day from 2000-01-01 to 2099-12-31 is whole inside.
EARLIEST_INSTANT = datetime(2000, 1, 1, tzinfo=JST)
LATEST_INSTANT = datetime(2100, 1, 1, tzinfo=JST)


class InvalidText(MynapointError):
    code = "invalid_text"


class InstantOutOfRange(MynapointError):
    code = "instant_out_of_range"


def _describe(char: str) -> str:
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X}" + (f" {name}" if name else "")


def text_problem(value: str) -> str | None:
    """Why `value` may not enter the platform as text, or None when it may."""
    for position, char in enumerate(value):
        if unicodedata.category(char) in FORBIDDEN_CATEGORIES:
            return (
                f"contains the invisible or control character {_describe(char)} "
                f"at position {position + 1}; send printable text only"
            )
    return None


def identifier_problem(value: str) -> str | None:
    """Why `value` may not be an identifier (an event id, an account id, a name to sign in
    with), or None. On top of the text rule: not blank, no spaces around it, and already in
    Unicode NFKC form, so two identifiers that look the same are the same (a full-width ＡＢ１
    is refused; send AB1)."""
    problem = text_problem(value)
    if problem is not None:
        return problem
    if not value.strip():
        return "is blank; send visible characters"
    if value != value.strip():
        return "has spaces before or after it; send it without them"
    normal = unicodedata.normalize("NFKC", value)
    if normal != value:
        return f"is not in its plain form; send {normal!r}"
    return None


def ascii_digits(value: str) -> bool:
    """True for 0-9 only: str.isdigit() also takes '²' and '８', which int() reads differently
    or not at all."""
    return value.isascii() and value.isdigit()


def instant_problem(value: datetime) -> str | None:
    """Why an aware `value` is not an instant the platform accepts, or None.

    A datetime of year 1 with a positive offset cannot even be converted to UTC
    (OverflowError), so a wall time far from the bounds (more than a year, far beyond any
    offset) is refused before the exact, converting comparison."""
    if value.tzinfo is None or value.utcoffset() is None:
        return "has no UTC offset; send e.g. 2021-05-09T12:00:00+09:00"
    wall = value.replace(tzinfo=None)
    if wall.year < EARLIEST_INSTANT.year - 1 or wall.year > LATEST_INSTANT.year:
        return _out_of_range(value)
    if not EARLIEST_INSTANT <= value < LATEST_INSTANT:
        return _out_of_range(value)
    return None


def _out_of_range(value: datetime) -> str:
    return (
        f"{value.isoformat()} is outside the instants this platform accepts; "
        f"send a time from {EARLIEST_INSTANT:%Y-%m-%d} up to before {LATEST_INSTANT:%Y-%m-%d} (JST)"
    )


def check_text(field: str, value: str) -> str:
    problem = text_problem(value)
    if problem is not None:
        raise InvalidText(f"{field} {problem}", field=field)
    return value


def check_identifier(field: str, value: str) -> str:
    problem = identifier_problem(value)
    if problem is not None:
        raise InvalidText(f"{field} {problem}", field=field)
    return value


def check_instant(field: str, value: datetime) -> datetime:
    problem = instant_problem(value)
    if problem is not None:
        raise InstantOutOfRange(f"{field}: {problem}", field=field)
    return value
