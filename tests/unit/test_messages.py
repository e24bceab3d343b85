"""Every text the pages show has an English translation (Japanese is the source)."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from babel.numbers import format_decimal

from mynapoint.domain.calendar import JST
from mynapoint.domain.services import DaysAfter
from mynapoint.web import i18n
from mynapoint.web.catalogs import missing, used_messages
from mynapoint.web.error_messages import message_for
from mynapoint.web.pages.services import timing_text


def test_the_pages_use_messages_at_all():
    assert "マイナポイント" in used_messages()


def test_every_message_has_an_english_translation():
    gaps = missing("en")
    assert gaps == {}, "run `make messages` and translate:\n" + "\n".join(
        f"{where[0]}: {msgid}" for msgid, where in gaps.items()
    )


def test_japanese_is_the_source_and_english_comes_from_the_catalog():
    token = i18n.use_locale("en")
    try:
        assert i18n._("マイナポイント") == "Mynapoint"
    finally:
        i18n.reset_locale(token)
    assert i18n._("マイナポイント") == "マイナポイント"


def test_dates_and_amounts_are_written_as_the_reader_expects():
    assert i18n.long_date(date(2021, 9, 30)) == "2021年9月30日(木)"
    assert i18n.yen(5000) == "5,000円"
    token = i18n.use_locale("en")
    try:
        assert i18n.long_date(date(2021, 9, 30)) == "Thu, Sep 30, 2021"
        assert i18n.yen(5000) == "¥5,000"
        assert i18n.yen(-250) == "-¥250"
    finally:
        i18n.reset_locale(token)


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        (
            "ja",
            {
                "date": "2021年9月30日(木)",
                "moment": "2021年7月19日(月) 10:05",
                "month": "2021年7月",
                "yen": "5,000円",
                "refund": "-250円",
                "one point": "1ポイント",
                "points": "2,000ポイント",
                "tries": "暗証番号が違います。あと1回間違えるとカードがロックされます。",
                "days": "1日後に付与",
            },
        ),
        (
            "en",
            {
                "date": "Thu, Sep 30, 2021",
                "moment": "Mon, Jul 19, 2021 10:05",
                "month": "July 2021",
                "yen": "¥5,000",
                "refund": "-¥250",
                "one point": "1 point",
                "points": "2,000 points",
                "tries": "The PIN is wrong. 1 more wrong try will lock the card.",
                "days": "granted 1 day later",
            },
        ),
    ],
)
def test_dates_amounts_and_counts_come_from_babel_in_both_languages(locale, expected):
    token = i18n.use_locale(locale)
    try:
        written = {
            "date": i18n.long_date(date(2021, 9, 30)),
            "moment": i18n.date_time(datetime(2021, 7, 19, 10, 5, tzinfo=JST)),
            "month": i18n.month_name(date(2021, 7, 1)),
            "yen": i18n.yen(5000),
            "refund": i18n.yen(-250),
            "one point": i18n.points(1),
            "points": i18n.points(2000),
            "tries": message_for("wrong_pin", {"tries_left": 1}),
            "days": timing_text(DaysAfter(days=1, from_next_day=False)),
        }
    finally:
        i18n.reset_locale(token)
    assert written == expected


NUMBERS = (0, 7, -5, 999, 1_000, -1_000, 1_234, 99_999, 123_456, -987_654_321, 10**15)


@pytest.mark.parametrize("locale", i18n.LOCALES)
def test_numbers_are_written_exactly_as_babel_writes_them(locale):
    token = i18n.use_locale(locale)
    try:
        written = [i18n.number(value) for value in NUMBERS]
    finally:
        i18n.reset_locale(token)
    assert written == [format_decimal(value, locale=locale) for value in NUMBERS]


def test_a_locale_that_groups_digits_otherwise_is_left_to_babel():
    # Hindi groups by hundreds, then by pairs (1,23,456): Python's threes would be wrong.
    assert format_decimal(123_456, locale="hi") == "1,23,456"
    assert i18n.integer_group_symbol("hi") is None
    assert i18n.integer_group_symbol("en") == ","


def test_long_dates_stay_in_the_reader_language_from_one_call_to_the_next():
    day = date(2021, 9, 30)
    first = i18n.long_date(day)
    token = i18n.use_locale("en")
    try:
        english = i18n.long_date(day)
    finally:
        i18n.reset_locale(token)
    assert (first, english, i18n.long_date(day)) == (
        "2021年9月30日(木)",
        "Thu, Sep 30, 2021",
        "2021年9月30日(木)",
    )
