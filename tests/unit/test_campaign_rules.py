"""The packaged campaign rules say what docs/RULES.md §3 says, and a broken rule file is refused."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from importlib import resources
from zoneinfo import ZoneInfo

import pytest

from mynapoint.domain.campaigns import CardCutoff, MeasureRule
from mynapoint.domain.measures import Measure, MeasureKind
from mynapoint.rules.loader import campaigns_from_text, load_campaigns
from mynapoint.rules.yaml_source import SourceError

JST = ZoneInfo("Asia/Tokyo")
PACKAGED = resources.files("mynapoint.rules").joinpath("campaigns.yaml").read_text(encoding="utf-8")
PHASE2 = (
    Measure.PHASE2_SPENDING,
    Measure.PHASE2_HEALTH_INSURANCE,
    Measure.PHASE2_PUBLIC_FUNDS,
)


def jst(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=JST)


def rule(measure: Measure) -> MeasureRule:
    return load_campaigns().rule(measure)


def with_change(old: str, new: str) -> str:
    """The packaged text with one precise fragment replaced; the fragment must occur once."""
    assert PACKAGED.count(old) == 1, f"fragment not found exactly once: {old!r}"
    changed = PACKAGED.replace(old, new)
    assert changed != PACKAGED
    return changed


# --- what the packaged file says -------------------------------------------------------


def test_the_packaged_rules_load_with_all_four_measures():
    rules = load_campaigns()

    assert list(rules.measures) == [
        Measure.PHASE1,
        Measure.PHASE2_SPENDING,
        Measure.PHASE2_HEALTH_INSURANCE,
        Measure.PHASE2_PUBLIC_FUNDS,
    ]


def test_the_program_caps_spending_at_5000_and_a_person_at_20000():
    rules = load_campaigns()

    assert rules.cap_groups == {"spending": 5000}
    assert rules.person_total_cap == 20000
    assert rule(Measure.PHASE1).cap_group == "spending"
    assert rule(Measure.PHASE2_SPENDING).cap_group == "spending"
    assert rule(Measure.PHASE1).rate_percent == 25
    assert rule(Measure.PHASE2_SPENDING).rate_percent == 25


@pytest.mark.parametrize(
    ("measure", "fixed_points"),
    [
        (Measure.PHASE2_HEALTH_INSURANCE, 7500),
        (Measure.PHASE2_PUBLIC_FUNDS, 7500),
    ],
)
def test_measures_2_and_3_are_fixed_grants_of_7500_opening_2022_06_30(measure, fixed_points):
    measure_rule = rule(measure)

    assert measure_rule.kind is MeasureKind.FIXED
    assert measure_rule.fixed_points == fixed_points
    assert measure_rule.applications_open == jst(2022, 6, 30)


def test_phase1_spending_counts_from_2020_09_01_and_applications_open_2020_07_01():
    phase1 = rule(Measure.PHASE1)

    assert phase1.applications_open == jst(2020, 7, 1)
    assert phase1.spending_opens == jst(2020, 9, 1)


def test_phase1_end_has_three_versions_as_exclusive_closes_in_jst():
    phase1 = rule(Measure.PHASE1)
    assert phase1.spending_closes is not None

    for versioned in (phase1.applications_close, phase1.spending_closes):
        assert [v.value for v in versioned.versions] == [
            jst(2021, 4, 1),  # due 2021-03-31
            jst(2021, 10, 1),  # extended to 2021-09-30
            jst(2022, 1, 1),  # extended to 2021-12-31
        ]
        assert [v.effective for v in versioned.versions] == [
            date(2020, 7, 1),
            date(2021, 4, 1),
            date(2021, 10, 1),
        ]
        # The original end was known before the program started; the extensions on their days.
        assert versioned.versions[0].announced < date(2020, 7, 1)
        assert [v.announced for v in versioned.versions[1:]] == [
            date(2021, 3, 26),
            date(2021, 8, 6),
        ]


def test_phase1_extensions_are_only_for_cards_applied_for_by_2021_04_30():
    cutoffs = rule(Measure.PHASE1).card_cutoff.versions

    assert [(v.value, v.effective, v.announced) for v in cutoffs[1:]] == [
        (CardCutoff(date(2021, 4, 30)), date(2021, 4, 1), date(2021, 3, 26)),
    ]
    assert cutoffs[0].value is None


@pytest.mark.parametrize("measure", PHASE2)
def test_phase2_deadline_moves_are_announced_2021_11_19_2023_02_14_and_2023_03_31(measure):
    closes = rule(measure).applications_close.versions

    assert [(v.value, v.announced) for v in closes] == [
        (jst(2023, 3, 1), date(2021, 11, 19)),  # due 2023-02-28
        (jst(2023, 6, 1), date(2023, 2, 14)),  # moved to 2023-05-31
        (jst(2023, 10, 1), date(2023, 3, 31)),  # moved to 2023-09-30, final
    ]


def test_phase2_spending_ends_with_the_point_applications():
    measure_1 = rule(Measure.PHASE2_SPENDING)
    assert measure_1.spending_closes is not None

    assert measure_1.spending_opens == jst(2022, 1, 1)
    assert measure_1.spending_closes.versions == measure_1.applications_close.versions


@pytest.mark.parametrize("measure", PHASE2)
def test_phase2_card_cutoffs_move_twice_with_the_online_relief_of_2023_03_01(measure):
    cutoffs = rule(measure).card_cutoff.versions

    assert [(v.value, v.announced) for v in cutoffs] == [
        (CardCutoff(date(2022, 9, 30)), date(2021, 11, 19)),
        (CardCutoff(date(2022, 12, 31)), date(2022, 9, 20)),
        (CardCutoff(date(2023, 2, 28), applied_online_by=date(2023, 3, 1)), date(2022, 11, 29)),
    ]


@pytest.mark.parametrize(
    ("measure", "hours"),
    [
        (Measure.PHASE2_SPENDING, 1),
        (Measure.PHASE2_HEALTH_INSURANCE, 1),
        (Measure.PHASE2_PUBLIC_FUNDS, 72),
    ],
)
def test_phase2_measures_wait_after_certificate_issuance(measure, hours):
    assert rule(measure).waiting_after_issuance == timedelta(hours=hours)


@pytest.mark.parametrize(
    ("as_of", "spending_ends"),
    [
        (date(2021, 3, 25), jst(2021, 4, 1)),  # the day before the first extension was announced
        (date(2021, 3, 26), jst(2021, 10, 1)),
        (date(2021, 4, 5), jst(2021, 10, 1)),  # the source page's day
        (date(2021, 8, 5), jst(2021, 10, 1)),
        (date(2021, 8, 6), jst(2022, 1, 1)),
        (None, jst(2022, 1, 1)),
    ],
)
def test_phase1_spending_end_seen_in_late_2021_depends_on_what_was_announced(as_of, spending_ends):
    terms = rule(Measure.PHASE1).terms_at(jst(2021, 12, 31, 23, 59), as_of)

    assert terms is not None
    assert terms.spending is not None
    assert terms.spending.ends == spending_ends


@pytest.mark.parametrize(
    ("as_of", "announced"),
    [
        (date(2021, 11, 18), False),
        (date(2021, 11, 19), True),
        (None, True),
    ],
)
def test_phase2_exists_only_from_its_announcement(as_of, announced):
    terms = rule(Measure.PHASE2_SPENDING).terms_at(jst(2022, 1, 15), as_of)

    assert (terms is not None) is announced


# --- strictness: a broken rule file is refused, naming the file and the key ------------------

_PUBLIC_FUNDS_BLOCK = PACKAGED[PACKAGED.index("  phase2_public_funds:\n") :]

BROKEN = [
    pytest.param(
        "    phase: phase1\n    name_ja:",
        "    phase: phase1\n    colour: blue\n    name_ja:",
        ["measures.phase1.colour", "unknown key"],
        id="unknown key",
    ),
    pytest.param(
        "effective: 2022-10-01",
        "effective: 2022-01-01",
        ["measures.phase2_spending.card_cutoff", "overlap", "2022-01-01"],
        id="two versions effective the same day",
    ),
    pytest.param(
        "effective: 2022-10-01",
        "effective: 2021-12-01",
        ["measures.phase2_spending.card_cutoff", "overlap", "2021-12-01"],
        id="a version effective before the one above it",
    ),
    pytest.param(
        "effective: 2023-06-01",
        "effective: 2023-03-01",
        ["measures.phase2_spending.applications_close", "overlap"],
        id="deadline versions effective the same day",
    ),
    pytest.param(
        "spending_opens: 2020-09-01T00:00:00+09:00",
        "spending_opens: 2022-02-01T00:00:00+09:00",
        ["measures.phase1", "spending_closes", "is not after spending_opens"],
        id="spending window that ends before it starts",
    ),
    pytest.param(
        "applications_open: 2022-01-01T00:00:00+09:00",
        "applications_open: 2023-12-01T00:00:00+09:00",
        ["measures.phase2_spending", "applications_close", "is not after applications_open"],
        id="application window that ends before it starts",
    ),
    pytest.param(
        "{applied_by: 2023-02-28, applied_online_by: 2023-03-01}",
        "{applied_by: 2023-02-28, applied_online_by: 2023-02-01}",
        ["measures.phase2_spending.card_cutoff[2].value", "applied_online_by"],
        id="online relief before the card deadline",
    ),
    pytest.param(
        "applications_open: 2020-07-01T00:00:00+09:00",
        "applications_open: 2020-07-01T00:00:00",
        ["measures.phase1.applications_open", "no UTC offset", "+09:00"],
        id="timestamp without UTC offset",
    ),
    pytest.param(
        "applications_open: 2020-07-01T00:00:00+09:00",
        "applications_open: 2020-07-01 00:00",
        ["measures.phase1.applications_open", "'2020-07-01 00:00' has no UTC offset", "+09:00"],
        id="timestamp with a space and without UTC offset",
    ),
    pytest.param(
        "announced: 2022-09-20",
        "announced: 20220920",
        ["measures.phase2_spending.card_cutoff[1].announced", "20220920 is a number"],
        id="date written as a number",
    ),
    pytest.param(
        "applications_open: 2020-07-01T00:00:00+09:00",
        "applications_open: 1593529200",
        ["measures.phase1.applications_open", "1593529200 is a number"],
        id="timestamp written as epoch seconds",
    ),
    pytest.param(
        "    waiting_after_issuance_hours: 72    # R13",
        "    waiting_after_issuance_hours: 72\n    waiting_after_issuance_hours: 1",
        ["waiting_after_issuance_hours", "appears twice", "line "],
        id="duplicated key",
    ),
    pytest.param(
        "    cap_group: spending\n    # R10",
        "    cap_group: shopping\n    # R10",
        ["measures.phase1.cap_group", "'shopping'", "program.cap_groups"],
        id="cap group that does not exist",
    ),
    pytest.param(
        _PUBLIC_FUNDS_BLOCK,
        "",
        ["measures", "missing phase2_public_funds"],
        id="measure missing",
    ),
    pytest.param(
        "person_total_cap: 20000",
        "person_total_cap: 10000",
        ["program.person_total_cap", "20000"],
        id="caps above the person total",
    ),
    pytest.param(
        "    waiting_after_issuance_hours: 72    # R13",
        "    waiting_after_issuance_hours: -72",
        ["measures.phase2_public_funds.waiting_after_issuance_hours"],
        id="negative waiting time",
    ),
]


@pytest.mark.parametrize(("old", "new", "fragments"), BROKEN)
def test_a_broken_rule_file_is_refused_naming_the_file_and_the_key(old, new, fragments):
    with pytest.raises(SourceError) as refused:
        campaigns_from_text(with_change(old, new))

    message = str(refused.value)
    assert "campaigns.yaml" in message
    for fragment in fragments:
        assert fragment in message


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        pytest.param("[]", "expected a mapping", id="a list"),
        pytest.param("", "expected a mapping", id="empty"),
        pytest.param("program: [\n", "not valid YAML", id="not YAML"),
    ],
)
def test_a_rule_file_that_is_not_a_mapping_is_refused(text, fragment):
    with pytest.raises(SourceError) as refused:
        campaigns_from_text(text)

    assert str(refused.value).startswith("campaigns.yaml")
    assert fragment in str(refused.value)
