"""The rules diff (issue 16, item 3): measures added, the order of the changes, versions matched
on the day they take effect, and what each packaged candidate changes."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import pytest

from mynapoint.domain.campaigns import BudgetFrame
from mynapoint.domain.measures import Measure, MeasureKind
from mynapoint.domain.rules_diff import RuleChange, rules_diff
from mynapoint.domain.versions import Version, Versioned
from mynapoint.rules.candidates import packaged_candidate, packaged_candidates
from rule_variants import FORCE, P1, P2H, P2P, P2S, jst, with_measure, without


def test_a_measure_added_says_what_it_grants_from_when_and_announced_when() -> None:
    changes = rules_diff(without(P2P), FORCE)

    assert changes == (
        RuleChange(
            P2P,
            "measures",
            "マイナポイント第2弾 施策3: 施策を追加: 7,500ポイント、申込 2022-06-30〜2023-09-30"
            "（2022-06-30から、2021-11-19発表）",
            "Mynapoint phase 2, measure 3: measure added: 7,500 points, applications 2022-06-30"
            " to 2023-09-30 (from 2022-06-30, announced 2021-11-19)",
            date(2022, 6, 30),
            date(2021, 11, 19),
        ),
    )


def test_a_spending_measure_added_says_its_rate_and_cap_group() -> None:
    (change,) = rules_diff(without(P2S), FORCE)

    assert change.ja.startswith(
        "マイナポイント第2弾 施策1: 施策を追加: 還元率 25%、上限グループ「spending」、"
        "申込 2022-01-01〜2023-09-30"
    )
    assert change.en.startswith(
        "Mynapoint phase 2, measure 1: measure added: rate 25 %, cap group 'spending', "
        "applications 2022-01-01 to 2023-09-30"
    )


def test_program_wide_changes_come_first_then_measures_in_the_rules_order() -> None:
    new = replace(
        with_measure(P1, rate_percent=20),
        person_total_cap=22500,
        measures={
            **with_measure(P1, rate_percent=20).measures,
            P2S: replace(FORCE.rule(P2S), rate_percent=20),
            P2H: replace(FORCE.rule(P2H), fixed_points=10000),
        },
    )

    changes = rules_diff(FORCE, new)

    assert [(c.measure, c.rule) for c in changes] == [
        (None, "person_total_cap"),
        (P1, "rate_percent"),
        (P2S, "rate_percent"),
        (P2H, "fixed_points"),
    ]


def test_a_measure_turned_from_fixed_to_spending_lists_what_it_gains() -> None:
    new = with_measure(
        P2H,
        kind=MeasureKind.SPENDING,
        fixed_points=0,
        rate_percent=25,
        cap_group="spending",
        spending_opens=jst(2022, 6, 30),
        spending_closes=FORCE.rule(P2S).spending_closes,
    )

    rules = [c.rule for c in rules_diff(FORCE, new)]

    assert rules == [
        "kind",
        "rate_percent",
        "fixed_points",
        "cap_group",
        "spending_opens",
        "spending_closes",
    ]
    assert (
        rules_diff(FORCE, new)[-1].en
        == "Mynapoint phase 2, measure 2: spending counts until none → 2023-09-30"
    )


@pytest.mark.parametrize(
    ("measure", "value", "effective", "announced"),
    [
        (P1, jst(2022, 4, 1), date(2022, 1, 1), date(2021, 12, 1)),
        (P2S, jst(2023, 12, 1), date(2023, 10, 1), date(2023, 8, 1)),
    ],
)
def test_a_gained_version_reversed_is_a_withdrawn_one(
    measure: Measure, value: datetime, effective: date, announced: date
) -> None:
    close = FORCE.rule(measure).applications_close
    new = with_measure(
        measure,
        applications_close=Versioned((*close.versions, Version(value, effective, announced))),
    )

    (gained,) = rules_diff(FORCE, new)
    (withdrawn,) = rules_diff(new, FORCE)

    assert (gained.effective, gained.announced) == (effective, announced)
    assert (withdrawn.effective, withdrawn.announced) == (effective, None)
    assert withdrawn.en.endswith(
        f"(from {effective:%Y-%m-%d}, withdraws the version announced {announced:%Y-%m-%d})"
    )


def test_frames_of_one_phase_are_matched_in_their_order() -> None:
    second = BudgetFrame("phase2", 100, 10, date(2022, 3, 22))
    new = replace(FORCE, budget_frames=(*FORCE.budget_frames, second))

    (change,) = rules_diff(FORCE, new)

    assert change.ja == "事業全体: 予算枠（第2弾）を追加: 100円、10人（2022-03-22発表）"
    assert change.announced == date(2022, 3, 22)


def test_each_packaged_candidate_differs_as_its_name_says() -> None:
    said = {
        name: [(c.measure, c.rule) for c in rules_diff(FORCE, packaged_candidate(name).rules)]
        for name in packaged_candidates()
    }

    assert said == {
        "cap-7500": [(None, "person_total_cap"), (None, "cap_groups.spending")],
        "health-insurance-10000": [(None, "person_total_cap"), (P2H, "fixed_points")],
        "no-card-cutoff": [(P1, "card_cutoff")],
        "phase1-extended-3-months": [(P1, "applications_close"), (P1, "spending_closes")],
        "rate-20": [(P1, "rate_percent"), (P2S, "rate_percent")],
    }  # fmt: skip
