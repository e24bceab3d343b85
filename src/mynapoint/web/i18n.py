"""Message catalogs: Japanese is the source language, English comes from `locales/en/*.po`.

Every text a page shows is written in Japanese inside `_()` (Python) or `{% trans %}` /
`_()` (templates) and translated through Babel's gettext catalogs. The locale of a request
is chosen once by the locale middleware (`?lang=en` or `?lang=ja` switches it and is
remembered in a cookie; Japanese otherwise) and kept in a context variable, so a function
anywhere below the page can call `_()` without passing the request around.

Each area of the site keeps its own catalog file (`common.po`, `citizen.po`, `staff.po`…):
they are merged at start-up, and `tests/unit/test_messages.py` checks that every message
the code and templates use has an English translation.
"""

from __future__ import annotations

import io
from contextvars import ContextVar
from datetime import date, datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import Final

from babel.dates import format_skeleton
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal, get_group_symbol
from babel.support import NullTranslations, Translations

from mynapoint.domain.calendar import to_jst

LOCALES: Final = ("ja", "en")
DEFAULT_LOCALE: Final = "ja"
LOCALE_COOKIE: Final = "mp_lang"
LOCALE_QUERY: Final = "lang"
CATALOGS = Path(__file__).parent / "locales"

_current: ContextVar[str] = ContextVar("mynapoint_locale", default=DEFAULT_LOCALE)


def pick_locale(query: str | None, cookie: str | None) -> str:
    """The query parameter wins (a click on the switch), then the remembered cookie, then ja."""
    for candidate in (query, cookie):
        if candidate in LOCALES:
            return candidate
    return DEFAULT_LOCALE


def current_locale() -> str:
    return _current.get()


def use_locale(locale: str) -> object:
    """Set the locale of this request; returns the token `reset_locale` takes back."""
    return _current.set(locale if locale in LOCALES else DEFAULT_LOCALE)


def reset_locale(token: object) -> None:
    _current.reset(token)  # type: ignore[arg-type]


@cache
def translations(locale: str) -> NullTranslations:
    """All catalogs of one locale merged; Japanese is the source text, so it has none."""
    merged = Translations()
    for po in sorted((CATALOGS / locale / "LC_MESSAGES").glob("*.po")):
        with po.open("rb") as source:
            catalog = read_po(source, locale=locale, domain=po.stem)
        compiled = io.BytesIO()
        write_mo(compiled, catalog)
        compiled.seek(0)
        merged.merge(Translations(compiled))
    return merged


def _(message: str) -> str:
    return translations(current_locale()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current_locale()).ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    return str(translations(current_locale()).pgettext(context, message))


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "mark, translate later"
    """Marks a module-level text for extraction; translate it with `_()` when shown."""
    return message


# Formatting in the reader's language, by Babel from CLDR's data, never by hand:
# 2021年9月30日(木) / Thu, Sep 30, 2021; 5,000円 / ¥5,000; 1,000ポイント / 1 point, 2 points.
DATE_SKELETON: Final = "yMMMEd"
MONTH_SKELETON: Final = "yMMMM"
TIME_SKELETON: Final = "Hm"


def long_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    day = to_jst(value).date() if isinstance(value, datetime) else value
    return _long_day(day, current_locale())


# The days a page shows are few and the same from one request to the next (the overview's
# tables show every day of the program: ~500 of them, each of Babel's calls ~30 µs).
@lru_cache(maxsize=4096)
def _long_day(day: date, locale: str) -> str:
    return str(format_skeleton(DATE_SKELETON, day, locale=locale))


def month_name(month: date) -> str:
    """2021年7月 / July 2021."""
    return str(format_skeleton(MONTH_SKELETON, month, locale=current_locale()))


def date_time(value: datetime | None) -> str:
    """A moment in JST with its date: 2021年7月19日(月) 10:00 / Mon, Jul 19, 2021 10:00."""
    if value is None:
        return ""
    local = to_jst(value)
    return f"{long_date(local.date())} {clock_time(local)}"


def clock_time(value: datetime) -> str:
    return str(format_skeleton(TIME_SKELETON, to_jst(value), locale=current_locale()))


def number(value: int) -> str:
    locale = current_locale()
    if type(value) is int and (group := integer_group_symbol(locale)) is not None:
        return f"{value:,}".replace(",", group)
    return str(format_decimal(value, locale=locale))


_GROUPING_PROBES: Final = (-1_234_567_890, 1_234, 999, 0, -5)


@cache
def integer_group_symbol(locale: str) -> str | None:
    """The locale's group separator if Babel writes its integers as Python's "," format
    does (threes from the first thousand on), checked against Babel itself; None for a
    locale that groups otherwise. `number` then skips Babel's ~30 µs a call: the overview
    writes thousands of numbers."""
    symbol = str(get_group_symbol(locale))
    agrees = all(
        format_decimal(probe, locale=locale) == f"{probe:,}".replace(",", symbol)
        for probe in _GROUPING_PROBES
    )
    return symbol if agrees else None


def yen(value: int) -> str:
    """5,000円 / ¥5,000: Japanese writes the unit after the amount (CLDR's name form)."""
    if current_locale() == "ja":
        return str(format_currency(value, "JPY", locale="ja", format_type="name"))
    return str(format_currency(value, "JPY", locale=current_locale()))


def points(value: int) -> str:
    """1,000ポイント / 1 point, 1,000 points."""
    return ngettext("%(num)sポイント", "%(num)sポイント", abs(value)) % {"num": number(value)}
