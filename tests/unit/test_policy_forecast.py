"""The budget forecast's model on synthetic series with known answers (services/policy_forecast.py):
a constant pace fills on an exact day, no spread gives no band, a candidate's later deadline adds
exactly pace × days, its rate scales the pace."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

import pytest

from mynapoint.domain.calendar import JST
from mynapoint.domain.campaigns import CampaignRules
from mynapoint.rules.candidates import candidate_from_text
from mynapoint.rules.loader import packaged_campaigns_text
from mynapoint.services.policy_forecast import (
    Z_95,
    Band,
    DailyHistory,
    ForecastDayOutOfRange,
    Series,
    forecast_from,
    pace,
    project,
)

OPEN = date(2020, 7, 1)
CLOSE = date(2021, 12, 31)
LAST_DAY = date(2021, 1, 10)


def steady(value: float, days: int = 28) -> list[float]:
    return [value] * days


@pytest.mark.parametrize(
    ("used", "per_day", "fills_on"),
    [
        (100, 30.0, date(2021, 2, 9)),  # 900 left at 30 a day: the 30th day from 01-11
        (101, 30.0, date(2021, 2, 9)),  # 899 left: still 30 days
        (99, 30.0, date(2021, 2, 10)),  # 901 left: one day more
        (999, 30.0, date(2021, 1, 11)),  # 1 left: the first projected day
    ],
)
def test_a_constant_pace_fills_the_frame_on_the_exact_day(
    used: int, per_day: float, fills_on: date
) -> None:
    projection = project(1000, used, LAST_DAY, [Series(steady(per_day), OPEN, CLOSE)])
    assert projection.starts == date(2021, 1, 11)
    assert projection.fill.expected == fills_on
    assert projection.fill.early == fills_on
    assert projection.fill.late == fills_on


def test_a_series_without_spread_has_no_band() -> None:
    projection = project(10**6, 0, LAST_DAY, [Series(steady(40.0), OPEN, CLOSE)])
    assert projection.pace == Band(40.0, 40.0, 40.0)
    days = (CLOSE - LAST_DAY).days
    assert projection.at_close == Band(40.0 * days, 40.0 * days, 40.0 * days)


def test_the_band_is_the_mean_plus_or_minus_1_96_standard_errors() -> None:
    found = pace([1.0, 2.0, 3.0, 4.0])
    spread = Z_95 * math.sqrt(5 / 3) / 2  # sd of 1..4 is sqrt(5/3); sqrt(4) = 2
    assert found.expected == pytest.approx(2.5)
    assert found.low == pytest.approx(2.5 - spread)
    assert found.high == pytest.approx(2.5 + spread)
    assert pace([]) == Band(0.0, 0.0, 0.0)
    assert pace([7.0]) == Band(7.0, 7.0, 7.0)
    assert pace([0.0, 0.0, 0.0, 30.0]).low == 0.0  # a count's pace does not go below 0


def test_the_frame_fills_early_at_the_high_pace_and_late_at_the_low_one() -> None:
    projection = project(1000, 0, LAST_DAY, [Series([10.0, 30.0] * 14, OPEN, CLOSE)])
    assert projection.pace.low < projection.pace.expected < projection.pace.high
    fill = projection.fill
    assert fill.early is not None
    assert fill.expected is not None
    assert fill.late is not None
    assert fill.early < fill.expected == date(2021, 3, 1) < fill.late  # 1000 / 20: the 50th day


def test_a_frame_that_the_pace_does_not_fill_before_the_close_has_no_fill_day() -> None:
    close = LAST_DAY + timedelta(days=10)
    projection = project(1000, 0, LAST_DAY, [Series(steady(99.0), OPEN, close)])
    assert projection.fill.expected is None
    assert projection.fill.late is None
    assert projection.at_close.expected == 990.0
    # A day after the close adds nothing.
    assert projection.at(close + timedelta(days=30)) == projection.at_close


def test_a_full_frame_says_so_and_has_no_fill_day() -> None:
    projection = project(1000, 1000, LAST_DAY, [Series(steady(5.0), OPEN, CLOSE)])
    assert projection.full
    assert projection.fill.expected is None


def test_series_add_up_each_over_its_own_days() -> None:
    short = Series(steady(10.0), OPEN, LAST_DAY + timedelta(days=5))
    later = Series(steady(2.0), LAST_DAY + timedelta(days=3), LAST_DAY + timedelta(days=20))
    projection = project(10**6, 50, LAST_DAY, [short, later])
    assert projection.at(LAST_DAY) == Band(50.0, 50.0, 50.0)
    assert projection.at(LAST_DAY + timedelta(days=5)).expected == 50 + 10 * 5 + 2 * 3
    assert projection.at_close.expected == 50 + 10 * 5 + 2 * 18
    assert projection.closes == LAST_DAY + timedelta(days=20)


def test_a_factor_scales_the_pace_and_its_band() -> None:
    projection = project(10**6, 0, LAST_DAY, [Series([10.0, 30.0] * 14, OPEN, CLOSE, 0.8)])
    plain = project(10**6, 0, LAST_DAY, [Series([10.0, 30.0] * 14, OPEN, CLOSE)])
    assert projection.pace.expected == pytest.approx(16.0)
    assert projection.pace.low == pytest.approx(plain.pace.low * 0.8)
    assert projection.pace.high == pytest.approx(plain.pace.high * 0.8)


# --- the forecast from the statistics' daily figures, with the packaged rules -------------------


def steady_history(last_day: date, mykeys: int = 10, yen: int = 1000) -> DailyHistory:
    """Every day from the program's opening: `mykeys` MyKey IDs, and `yen` phase-1 points a
    day from the spending opening."""
    days = [OPEN + timedelta(days=n) for n in range((last_day - OPEN).days + 1)]
    computed_at = datetime.combine(last_day + timedelta(days=1), datetime.min.time(), JST)
    return DailyHistory(
        computed_at=computed_at.replace(hour=10),
        mykeys=dict.fromkeys(days, mykeys),
        yen={"phase1": {day: yen for day in days if day >= date(2020, 9, 1)}},
    )


def test_in_force_the_windows_are_those_announced_by_the_forecast_s_day(
    rules: CampaignRules,
) -> None:
    before = forecast_from(steady_history(date(2021, 3, 1)), rules)
    after = forecast_from(steady_history(date(2021, 7, 18)), rules)
    # The first extension (to 2021-09-30) was announced on 2021-03-26.
    assert before.frames[0].yen.closes == date(2021, 3, 31)
    assert after.frames[0].yen.closes == date(2021, 9, 30)
    assert after.frames[0].persons.closes == date(2021, 9, 30)
    assert after.not_announced == ("phase2",)
    assert after.last_day == date(2021, 7, 18)
    frame = after.frames[0]
    assert frame.persons.used == 10 * ((date(2021, 7, 18) - OPEN).days + 1)
    assert frame.yen.used == 1000 * ((date(2021, 7, 18) - date(2020, 9, 1)).days + 1)
    assert frame.yen.pace == Band(1000.0, 1000.0, 1000.0)
    assert frame.yen.at_close.expected == frame.yen.used + 1000 * 74  # 07-19 .. 09-30


def test_a_candidate_with_a_deadline_three_months_later_adds_exactly_pace_times_the_days(
    rules: CampaignRules,
) -> None:
    history = steady_history(date(2021, 9, 1))  # the second extension (to 2021-12-31) known
    text = packaged_campaigns_text().replace(
        "value: 2022-01-01T00:00:00+09:00", "value: 2022-04-01T00:00:00+09:00"
    )
    candidate = candidate_from_text(text, "extended.yaml")
    in_force = forecast_from(history, rules)
    extended = forecast_from(history, rules, candidate=(candidate.name, candidate.rules))
    assert extended.rules == "extended.yaml"
    now, then = in_force.frames[0], extended.frames[0]
    assert (now.yen.closes, then.yen.closes) == (date(2021, 12, 31), date(2022, 3, 31))
    days = 31 + 28 + 31
    assert then.yen.at_close.expected - now.yen.at_close.expected == 1000 * days
    assert then.persons.at_close.expected - now.persons.at_close.expected == 10 * days
    assert then.yen.used == now.yen.used


def test_a_candidate_s_lower_rate_scales_the_spending_pace(rules: CampaignRules) -> None:
    history = steady_history(date(2021, 9, 1))
    # The measures sharing the spending cap share one rate: both change.
    text = packaged_campaigns_text().replace("rate_percent: 25", "rate_percent: 20")
    candidate = candidate_from_text(text, "rate-20.yaml")
    lower = forecast_from(history, rules, candidate=(candidate.name, candidate.rules))
    assert lower.frames[0].yen.pace == Band(800.0, 800.0, 800.0)
    assert lower.frames[0].persons.pace == Band(10.0, 10.0, 10.0)


def test_a_candidate_s_fixed_grant_scales_that_measure_s_pace(rules: CampaignRules) -> None:
    last_day = date(2022, 8, 31)
    history = DailyHistory(
        computed_at=datetime(2022, 9, 1, 10, tzinfo=JST),
        mykeys={},
        yen={"phase2_health_insurance": {last_day - timedelta(days=n): 7500 for n in range(28)}},
    )
    text = packaged_campaigns_text().replace(
        "fixed_points: 7500\n    # R11", "fixed_points: 5000\n    # R11"
    )
    candidate = candidate_from_text(text, "fixed-5000.yaml")
    in_force = forecast_from(history, rules)
    larger = forecast_from(history, rules, candidate=(candidate.name, candidate.rules))
    phase2 = next(f for f in larger.frames if f.frame.phase == "phase2")
    assert phase2.yen.pace.expected == pytest.approx(5000.0)
    assert [f.yen.pace.expected for f in in_force.frames if f.frame.phase == "phase2"] == [7500.0]


def test_the_pace_counts_no_day_before_the_series_opens(rules: CampaignRules) -> None:
    # Ten days after spending opened: the pace is over those ten, not 28 with 18 zeros.
    made = forecast_from(steady_history(date(2020, 9, 10)), rules)
    assert made.frames[0].yen.pace.expected == 1000.0


@pytest.mark.parametrize("day", [date(2021, 7, 19), date(2020, 6, 30)])
def test_a_forecast_from_a_day_the_statistics_do_not_hold_is_refused(
    rules: CampaignRules, day: date
) -> None:
    with pytest.raises(ForecastDayOutOfRange, match="2020-07-01 to 2021-07-18"):
        forecast_from(steady_history(date(2021, 7, 18)), rules, as_of=day)


@pytest.mark.parametrize(
    ("persons", "fills_on", "full"),
    [(4300, date(2021, 9, 3), False), (4280, None, True), (10**6, None, False)],
)
def test_a_candidate_s_smaller_frame_fills_on_the_day_the_pace_reaches_it(
    rules: CampaignRules, persons: int, fills_on: date | None, *, full: bool
) -> None:
    history = steady_history(date(2021, 9, 1))  # 10 MyKey IDs a day: 4,280 by 2021-09-01
    text = packaged_campaigns_text().replace("persons: 40000000", f"persons: {persons}")
    candidate = candidate_from_text(text, "small-frame.yaml")
    made = forecast_from(history, rules, candidate=(candidate.name, candidate.rules))
    frame = made.frames[0].persons
    assert frame.used == 4280
    assert frame.full is full
    assert frame.fill.expected == fills_on
