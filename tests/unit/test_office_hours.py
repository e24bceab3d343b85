"""Support-corner calendar (issue 5): Fukuoka's corners from their YAML and the holidays package,
and the pure office hours of the domain with holidays passed in by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from mynapoint.domain.calendar import JST
from mynapoint.domain.office_hours import DayHours, OfficeHours, Span
from mynapoint.rules.corners import SupportCorner, load_corner_directory

FIRST_DAY = date(2021, 4, 1)
LAST_DAY = date(2021, 9, 30)


def jst(month: int, day: int, hour: int, minute: int = 0, year: int = 2021) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=JST)


def corner(code: str) -> SupportCorner:
    return load_corner_directory().get(code)


def test_fukuoka_has_nine_corners():
    assert [c.code for c in load_corner_directory().corners()] == [
        "higashi",
        "hakata",
        "chuo",
        "minami",
        "jonan",
        "sawara",
        "sawara_irube",
        "nishi",
        "nishi_seibu",
    ]


@pytest.mark.parametrize("code", ["chuo", "sawara_irube", "nishi_seibu"])
def test_there_are_122_open_days_from_april_to_september_2021(code):
    days = corner(code).hours.days(FIRST_DAY, LAST_DAY)
    assert len(days) == 183
    assert sum(day.is_open for day in days) == 122


def test_no_day_outside_the_period_is_open():
    hours = corner("chuo").hours
    assert not any(d.is_open for d in hours.days(date(2021, 3, 1), date(2021, 3, 31)))
    assert not any(d.is_open for d in hours.days(date(2021, 10, 1), date(2021, 10, 31)))
    assert hours.day(FIRST_DAY).is_open  # a Thursday
    assert hours.day(LAST_DAY).is_open  # a Thursday


@pytest.mark.parametrize(
    ("day", "is_open", "holiday_name"),
    [
        (date(2021, 7, 19), True, None),  # the old 海の日 Monday: not a holiday in 2021
        (date(2021, 7, 21), True, None),
        (date(2021, 7, 22), False, "海の日"),  # moved for the Olympics
        (date(2021, 7, 23), False, "スポーツの日"),
        (date(2021, 7, 24), False, None),  # Saturday
        (date(2021, 7, 25), False, None),  # Sunday
        (date(2021, 7, 26), True, None),
        (date(2021, 8, 8), False, "山の日"),  # a Sunday
        (date(2021, 8, 9), False, "振替休日"),
        (date(2021, 8, 10), True, None),
        (date(2021, 8, 11), True, None),  # the usual 山の日 date: not a holiday in 2021
        (date(2021, 4, 29), False, "昭和の日"),
        (date(2021, 5, 3), False, "憲法記念日"),
        (date(2021, 9, 20), False, "敬老の日"),
        (date(2021, 9, 23), False, "秋分の日"),
    ],
)
def test_weekends_and_national_holidays_are_closed(day, is_open, holiday_name):
    opening_day = corner("chuo").hours.day(day)
    assert opening_day.is_open is is_open
    assert opening_day.holiday_name == holiday_name


@pytest.mark.parametrize(
    ("code", "at", "is_open"),
    [
        ("chuo", jst(7, 19, 8, 44), False),
        ("chuo", jst(7, 19, 8, 45), True),
        ("chuo", jst(7, 19, 12, 30), True),
        ("chuo", jst(7, 19, 17, 14), True),
        ("chuo", jst(7, 19, 17, 15), False),
        ("sawara_irube", jst(7, 19, 8, 44), False),
        ("sawara_irube", jst(7, 19, 8, 45), True),
        ("sawara_irube", jst(7, 19, 11, 59), True),
        ("sawara_irube", jst(7, 19, 12, 0), False),
        ("sawara_irube", jst(7, 19, 12, 30), False),
        ("sawara_irube", jst(7, 19, 12, 59), False),
        ("sawara_irube", jst(7, 19, 13, 0), True),
        ("sawara_irube", jst(7, 19, 17, 14), True),
        ("sawara_irube", jst(7, 19, 17, 15), False),
        ("chuo", jst(7, 22, 10), False),  # 海の日
        ("chuo", jst(7, 24, 10), False),  # Saturday
    ],
)
def test_open_from_845_until_1715_and_irube_closes_over_lunch(code, at, is_open):
    assert corner(code).hours.is_open_at(at) is is_open
    assert corner(code).hours.is_open_at(at.astimezone(UTC)) is is_open


@pytest.mark.parametrize(
    ("code", "at", "closes_at"),
    [
        ("chuo", jst(7, 19, 10), jst(7, 19, 17, 15)),
        ("sawara_irube", jst(7, 19, 10), jst(7, 19, 12)),
        ("sawara_irube", jst(7, 19, 13), jst(7, 19, 17, 15)),
        ("sawara_irube", jst(7, 19, 12, 30), None),
        ("chuo", jst(7, 19, 17, 15), None),
    ],
)
def test_closes_at_is_the_end_of_the_stretch_open_now(code, at, closes_at):
    assert corner(code).hours.closes_at(at) == closes_at
    assert corner(code).hours.closes_at(at.astimezone(UTC)) == closes_at


@pytest.mark.parametrize(
    ("code", "at", "next_open_at"),
    [
        # Wednesday evening before the 4-day Olympic weekend (Thu 7/22, Fri 7/23 holidays).
        ("chuo", jst(7, 21, 18), jst(7, 26, 8, 45)),
        ("chuo", jst(7, 22, 10), jst(7, 26, 8, 45)),
        # Friday evening before Sunday 山の日 and Monday 振替休日.
        ("chuo", jst(8, 6, 17, 15), jst(8, 10, 8, 45)),
        ("chuo", jst(7, 19, 8, 44), jst(7, 19, 8, 45)),
        ("chuo", jst(7, 19, 17, 15), jst(7, 20, 8, 45)),
        ("sawara_irube", jst(7, 19, 12), jst(7, 19, 13)),
        ("sawara_irube", jst(7, 19, 12, 30), jst(7, 19, 13)),
        # Before the period: the first morning.
        ("chuo", jst(3, 15, 10), jst(4, 1, 8, 45)),
        # Golden week: Thu 4/29 holiday, Fri 4/30 open, then 5/1-5/5 closed.
        ("chuo", jst(4, 30, 17, 15), jst(5, 6, 8, 45)),
        # The last day's close: never again.
        ("chuo", jst(9, 30, 17, 15), None),
        ("sawara_irube", jst(9, 30, 17, 15), None),
        ("chuo", jst(10, 1, 10), None),
    ],
)
def test_next_open_at_skips_weekends_and_holidays_and_ends_with_the_period(code, at, next_open_at):
    assert corner(code).hours.next_open_at(at) == next_open_at
    assert corner(code).hours.next_open_at(at.astimezone(UTC)) == next_open_at


def test_a_moment_given_in_utc_is_judged_on_its_jst_day():
    # 2021-07-25T23:50Z is Monday 7/26 08:50 JST: open, though it is Sunday in UTC.
    at = datetime(2021, 7, 25, 23, 50, tzinfo=UTC)
    hours = corner("chuo").hours
    assert hours.is_open_at(at)
    assert hours.closes_at(at) == jst(7, 26, 17, 15)
    # 2021-07-19T08:15Z is 17:15 JST: closed, though 08:15 looks like a morning.
    assert not hours.is_open_at(datetime(2021, 7, 19, 8, 15, tzinfo=UTC))


def test_a_moment_without_utc_offset_is_refused():
    with pytest.raises(ValueError, match="no UTC offset"):
        corner("chuo").hours.is_open_at(datetime(2021, 7, 19, 10))  # noqa: DTZ001 - on purpose


def test_calendar_days_carry_the_openings_as_jst_instants():
    day = corner("sawara_irube").hours.day(date(2021, 7, 19))
    assert [(o.opens, o.closes) for o in day.openings] == [
        (jst(7, 19, 8, 45), jst(7, 19, 12)),
        (jst(7, 19, 13), jst(7, 19, 17, 15)),
    ]


# --- the pure domain, holidays given by hand -------------------------------------------------

WEEKDAY_HOURS = DayHours(time(9, 30), time(20))
WEEKEND_HOURS = DayHours(time(9, 30), time(17, 30))
HOLIDAYS = {date(2021, 7, 22): "海の日", date(2021, 7, 23): "スポーツの日"}


def help_line_hours() -> OfficeHours:
    weekly = dict.fromkeys(range(5), WEEKDAY_HOURS) | {5: WEEKEND_HOURS, 6: WEEKEND_HOURS}
    return OfficeHours(weekly=weekly, holidays=HOLIDAYS, on_holidays=WEEKEND_HOURS)


@pytest.mark.parametrize(
    ("at", "is_open"),
    [
        (jst(7, 21, 9, 29), False),
        (jst(7, 21, 9, 30), True),
        (jst(7, 21, 19, 59), True),
        (jst(7, 21, 20, 0), False),
        (jst(7, 22, 17, 29), True),  # a holiday takes the weekend hours
        (jst(7, 22, 17, 30), False),
        (jst(7, 22, 19, 0), False),
        (jst(7, 24, 17, 29), True),  # Saturday
        (jst(7, 24, 17, 30), False),
    ],
)
def test_holidays_can_have_hours_of_their_own(at, is_open):
    assert help_line_hours().is_open_at(at) is is_open


def test_an_open_ended_schedule_opens_again_the_next_morning():
    hours = help_line_hours()
    assert hours.next_open_at(jst(7, 21, 20)) == jst(7, 22, 9, 30)
    assert hours.next_open_at(jst(12, 31, 23, 59, year=2030)) == jst(1, 1, 9, 30, year=2031)


def test_a_schedule_with_no_open_day_never_opens():
    assert OfficeHours(weekly={}).next_open_at(jst(7, 21, 10)) is None


def test_a_holiday_closes_the_day_unless_holidays_have_hours():
    hours = OfficeHours(weekly={3: WEEKDAY_HOURS}, holidays=HOLIDAYS)
    assert not hours.day(date(2021, 7, 22)).is_open  # a Thursday and 海の日
    assert hours.day(date(2021, 7, 29)).is_open
    assert hours.next_open_at(jst(7, 21, 10)) == jst(7, 29, 9, 30)


def test_days_lists_every_day_of_the_range_inclusive():
    days = help_line_hours().days(date(2021, 7, 21), date(2021, 7, 27))
    assert [d.day for d in days] == [date(2021, 7, 21) + timedelta(days=n) for n in range(7)]
    assert [d.holiday_name for d in days][1:3] == ["海の日", "スポーツの日"]
    assert help_line_hours().days(date(2021, 7, 21), date(2021, 7, 20)) == ()


@pytest.mark.parametrize(
    ("opens", "closes", "breaks"),
    [
        (time(17, 15), time(8, 45), ()),
        (time(8, 45), time(8, 45), ()),
        (time(8, 45), time(17, 15), (Span(time(8, 0), time(9, 0)),)),
        (time(8, 45), time(17, 15), (Span(time(12, 0), time(18, 0)),)),
        (time(8, 45), time(17, 15), (Span(time(8, 45), time(9, 0)),)),
        (
            time(8, 45),
            time(17, 15),
            (Span(time(12, 0), time(13, 0)), Span(time(12, 30), time(14, 0))),
        ),
    ],
)
def test_hours_and_breaks_that_do_not_fit_are_refused(opens, closes, breaks):
    with pytest.raises(ValueError, match=r"must close after|not inside the hours"):
        DayHours(opens, closes, breaks)


def test_a_period_that_ends_before_it_starts_is_refused():
    with pytest.raises(ValueError, match="before it starts"):
        OfficeHours(weekly={}, first_day=LAST_DAY, last_day=FIRST_DAY)
