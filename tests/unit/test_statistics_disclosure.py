"""The open data's disclosure control, and the municipality codes' check digit, as tables."""

from __future__ import annotations

from datetime import date

import pytest

from mynapoint.domain.municipalities import is_well_formed
from mynapoint.domain.statistics import SMALL_CELL, Cell, protect, suppress
from mynapoint.rules.loader import RuleDataError
from mynapoint.rules.municipalities import load_municipalities, municipalities_from_text

DAY = date(2021, 7, 19)


def cell(service: str, value: int) -> Cell:
    return suppress(Cell(DAY, "applications", "phase1", service, None), value)


@pytest.mark.parametrize(
    ("value", "shown"), [(0, 0), (1, None), (SMALL_CELL - 1, None), (SMALL_CELL, SMALL_CELL)]
)
def test_a_count_from_1_to_9_is_suppressed_and_0_or_10_shown(value: int, shown: int | None) -> None:
    assert cell("paypay", value).value == shown


def test_points_are_judged_by_how_many_grants_they_sum() -> None:
    few = suppress(Cell(DAY, "points_granted", "", "", None), 50_000, contributors=3)
    many = suppress(Cell(DAY, "points_granted", "", "", None), 500, contributors=12)
    assert (few.value, few.suppressed) == (None, "primary")
    assert many.value == 500


@pytest.mark.parametrize(
    ("parts", "hidden", "total_is_shown"),
    [
        # one small part: the smallest other part is hidden too (secondary)
        ({"paypay": 40, "waon": 12, "suica": 3}, {"waon", "suica"}, True),
        # two small parts already: subtraction gives only their sum
        ({"paypay": 40, "waon": 2, "suica": 3}, {"waon", "suica"}, True),
        # nothing small: nothing hidden
        ({"paypay": 40, "waon": 12}, set(), True),
        # a small total hides itself and so protects its parts
        ({"paypay": 4, "waon": 3}, {"paypay", "waon"}, False),
    ],
)
def test_no_suppressed_part_can_be_recovered_from_the_total(
    parts: dict[str, int], hidden: set[str], *, total_is_shown: bool
) -> None:
    total = cell("total", sum(parts.values()))
    total, protected = protect(total, [cell(s, v) for s, v in parts.items()])
    assert {p.service for p in protected if p.value is None} == hidden
    assert (total.value is not None) == total_is_shown
    shown = [p.value for p in protected if p.value is not None]
    if total.value is not None:
        assert len(protected) - len(shown) != 1


@pytest.mark.parametrize(
    ("code", "is_valid"),
    [
        ("401331", True),
        ("401315", True),
        ("401307", True),
        ("401374", True),
        ("401332", False),
        ("40133", False),
        ("40133a", False),
    ],
)
def test_a_municipality_code_carries_its_check_digit(code: str, *, is_valid: bool) -> None:
    assert is_well_formed(code) is is_valid


def test_the_packaged_municipalities_are_fukuokas_wards() -> None:
    known = load_municipalities()
    assert known["401331"].name == "福岡市中央区"
    assert known.name_of("unknown") == "不明"
    assert known.name_of("unknown", english=True) == "unknown"


def test_a_wrong_check_digit_is_refused_naming_the_entry() -> None:
    text = 'municipalities:\n  - code: "401332"\n    name: x\n    name_en: x\n'
    with pytest.raises(RuleDataError, match="check digit"):
        municipalities_from_text(text)
