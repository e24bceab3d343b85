"""The one input policy: which strings and instants may enter the platform."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mynapoint.domain.input_policy import (
    EARLIEST_INSTANT,
    LATEST_INSTANT,
    InstantOutOfRange,
    InvalidText,
    ascii_digits,
    check_identifier,
    check_instant,
    identifier_problem,
    instant_problem,
    text_problem,
)

JST = timezone(timedelta(hours=9))


@pytest.mark.parametrize(
    "value",
    [
        "\x00",
        "a\x00b",
        "tab\there",
        "line\nbreak",
        "\u202eevil",  # right-to-left override
        "a\u200bb",  # zero-width space
        "\ufeffbom",
        "\ud800",  # a lone surrogate
        "\u2028",  # line separator
        "\ue000",  # private use
    ],
)
def test_control_and_invisible_characters_are_refused_as_text(value: str) -> None:
    problem = text_problem(value)
    assert problem is not None
    assert "U+" in problem


@pytest.mark.parametrize("value", ["ヤマダ タロウ", "d1", "Ünïcödé ok", "", "  spaced  "])
def test_printable_text_is_accepted(value: str) -> None:
    assert text_problem(value) is None


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("   ", "blank"),
        (" e1", "spaces"),
        ("e1 ", "spaces"),
        ("ｅ１", "'e1'"),
        ("e\u200b1", "U+200B"),
    ],
)
def test_identifiers_that_look_like_others_are_refused(value: str, says: str) -> None:
    problem = identifier_problem(value)
    assert problem is not None
    assert says in problem


def test_check_identifier_raises_invalid_text_with_the_field() -> None:
    with pytest.raises(InvalidText) as caught:
        check_identifier("event_id", "e\u202e1")
    assert caught.value.code == "invalid_text"
    assert caught.value.details == {"field": "event_id"}
    assert caught.value.message.startswith("event_id ")


@pytest.mark.parametrize(
    ("value", "digits"),
    [("8000", "yes"), ("８０００", "no"), ("²", "no"), ("", "no"), ("-1", "no")],
)
def test_only_ascii_digits_are_digits(value: str, digits: str) -> None:
    assert ascii_digits(value) is (digits == "yes")


@pytest.mark.parametrize(
    "value",
    [
        datetime(1, 1, 1, tzinfo=JST),  # converting to UTC overflows
        datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-23))),
        EARLIEST_INSTANT - timedelta(microseconds=1),
        LATEST_INSTANT,
    ],
)
def test_instants_outside_the_bounds_are_refused_without_overflowing(value: datetime) -> None:
    problem = instant_problem(value)
    assert problem is not None
    assert "outside" in problem
    with pytest.raises(InstantOutOfRange):
        check_instant("occurred_at", value)


@pytest.mark.parametrize(
    "value",
    [
        EARLIEST_INSTANT,
        LATEST_INSTANT - timedelta(microseconds=1),
        datetime(2021, 7, 19, 10, tzinfo=JST),
    ],
)
def test_instants_within_the_bounds_are_accepted(value: datetime) -> None:
    assert instant_problem(value) is None


def test_a_naive_instant_is_refused() -> None:
    assert instant_problem(datetime(2021, 7, 19)) is not None  # noqa: DTZ001 - the point


@given(st.datetimes(timezones=st.timezones()))
def test_any_aware_instant_is_judged_without_an_exception(value: datetime) -> None:
    problem = instant_problem(value)
    if problem is None:
        assert EARLIEST_INSTANT <= value < LATEST_INSTANT


@given(st.text())
def test_any_text_is_judged_without_an_exception_and_accepted_text_encodes(value: str) -> None:
    if text_problem(value) is None:
        assert "\x00" not in value
        value.encode("utf-8")


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        (datetime(2000, 1, 1, tzinfo=JST), "yes"),  # the first day, at its JST midnight
        (datetime(1999, 12, 31, 23, 59, 59, tzinfo=JST), "no"),
        (datetime(1999, 12, 31, 15, tzinfo=UTC), "yes"),  # the same instant as the first
        (datetime(1999, 12, 31, 20, tzinfo=timezone(timedelta(hours=-5))), "yes"),
        (datetime(2099, 12, 31, 23, 59, 59, tzinfo=JST), "yes"),  # the last day, whole
        (datetime(2100, 1, 1, tzinfo=JST), "no"),
    ],
)
def test_the_bounds_are_whole_days_in_jst(value: datetime, accepted: str) -> None:
    assert (instant_problem(value) is None) is (accepted == "yes")
