"""The policy lab's tally (domain/replay_tally.py): bands, counting, merging, JSON."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mynapoint.domain.replay_tally import (
    ALL,
    AT_CAP,
    MEASURE,
    POINTS,
    WARD,
    PersonPoints,
    Tally,
    age_band,
    merged,
    points_band,
    points_bands,
)


@pytest.mark.parametrize(
    ("points", "band"),
    [(-500, "0"), (0, "0"), (1, "1-2499"), (2_499, "1-2499"), (2_500, "2500-4999"),
     (5_000, "5000-7499"), (19_999, "17500-19999"), (20_000, "20000+"), (25_000, "20000+")],
)  # fmt: skip
def test_points_fall_in_bands_of_2500(points: int, band: str) -> None:
    assert points_band(points) == band
    assert band in points_bands()


@pytest.mark.parametrize(
    ("born", "band"),
    [(date(2012, 1, 1), "0-14"), (date(2005, 9, 2), "15-19"), (date(2005, 9, 1), "20-29"),
     (date(1966, 9, 2), "50-59"), (date(1930, 1, 1), "80+")],
)  # fmt: skip
def test_ages_fall_in_bands_on_the_reference_day(born: date, band: str) -> None:
    assert age_band(born, date(2025, 9, 1)) == band


def person(actual: dict[str, int], candidate: dict[str, int], ward: str = "401331") -> PersonPoints:
    return PersonPoints(
        actual,
        candidate,
        service="paypay",
        age="30-39",
        ward=ward,
        actual_at_cap=False,
        candidate_at_cap=sum(candidate.values()) >= 5000,
    )


def test_a_person_counts_in_every_breakdown() -> None:
    tally = Tally()
    tally.count(person({"phase1": 5_000}, {"phase1": 4_000, "phase2_health_insurance": 7_500}))
    tally.count(person({}, {}))
    total = tally.line(ALL, ALL)
    assert (total.persons, total.actual_points, total.candidate_points) == (2, 5_000, 11_500)
    assert (total.actual_persons, total.candidate_persons) == (1, 1)
    assert tally.line(MEASURE, "phase1").candidate_points == 4_000
    assert tally.line(MEASURE, "phase2_health_insurance").actual_points == 0
    assert tally.line(WARD, "401331").persons == 2
    assert tally.line(POINTS, "0").actual_persons == 1
    assert tally.line(POINTS, "5000-7499").actual_persons == 1
    assert tally.line(POINTS, "10000-12499").candidate_persons == 1
    assert (tally.line(AT_CAP, ALL).persons, tally.line(AT_CAP, ALL).candidate_persons) == (2, 1)
    assert tally.squares == [5_000**2, 11_500**2, 6_500**2]
    assert [key for key, _ in tally.rows(POINTS)] == list(points_bands())


points_st = st.dictionaries(st.sampled_from(["phase1", "phase2_spending"]), st.integers(1, 20_000))
persons_st = st.lists(st.tuples(points_st, points_st, st.sampled_from(["a", "b"])), max_size=30)


@given(persons_st, st.integers(0, 30))
def test_tallies_of_parts_merge_into_the_tally_of_the_whole(people, cut) -> None:
    whole, first, second = Tally(), Tally(), Tally()
    for index, (actual, candidate, ward) in enumerate(people):
        whole.count(person(actual, candidate, ward))
        (first if index < cut else second).count(person(actual, candidate, ward))
    assert merged([first, second]).to_json() == whole.to_json()
    assert Tally.from_json(whole.to_json()).to_json() == whole.to_json()
