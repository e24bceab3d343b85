"""The rules diff (issue 16, item 3): each kind of change reads as an exact Japanese and English
line with its measure, from which day it governs and when it was announced."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from mynapoint.domain.campaigns import CampaignRules, CardCutoff
from mynapoint.domain.measures import Measure, MeasureKind
from mynapoint.domain.rules_diff import RuleChange, rules_diff
from mynapoint.domain.versions import Version, Versioned
from mynapoint.rules.candidates import packaged_candidate, packaged_candidates
from rule_variants import (
    EXTENDED,
    FORCE,
    FRAME1,
    FRAME2,
    P1,
    P2H,
    P2P,
    P2S,
    PHASE1_CLOSE,
    close_with,
    cutoff_with,
    jst,
    with_measure,
    without,
)


def change(
    measure: Measure | None,
    rule: str,
    ja: str,
    en: str,
    effective: date | None = None,
    announced: date | None = None,
) -> RuleChange:
    return RuleChange(measure, rule, ja, en, effective, announced)


NOTE = FORCE.rule(P1).notes[0]
CASES: dict[str, tuple[CampaignRules, list[RuleChange]]] = {
    "rate": (
        with_measure(P1, rate_percent=20),
        [
            change(
                P1,
                "rate_percent",
                "マイナポイント第1弾: 還元率 25% → 20%",
                "Mynapoint phase 1: rate 25 % → 20 %",
            )
        ],
    ),
    "a version gained": (
        with_measure(P1, applications_close=EXTENDED),
        [
            change(
                P1,
                "applications_close",
                "マイナポイント第1弾: 申込期限 2021-12-31 → 2022-03-31"
                "（2022-01-01から、2021-12-01発表）",
                "Mynapoint phase 1: applications due 2021-12-31 → 2022-03-31"
                " (from 2022-01-01, announced 2021-12-01)",
                date(2022, 1, 1),
                date(2021, 12, 1),
            )
        ],
    ),
    "a version's value changed": (
        with_measure(
            P1, spending_closes=close_with(2, value=jst(2022, 4, 1), announced=date(2021, 9, 15))
        ),
        [
            change(
                P1,
                "spending_closes",
                "マイナポイント第1弾: 対象決済の期限 2021-12-31 → 2022-03-31"
                "（2021-10-01から、2021-09-15発表）",
                "Mynapoint phase 1: spending counts until 2021-12-31 → 2022-03-31"
                " (from 2021-10-01, announced 2021-09-15)",
                date(2021, 10, 1),
                date(2021, 9, 15),
            )
        ],
    ),
    "a version withdrawn": (
        with_measure(P1, applications_close=Versioned(PHASE1_CLOSE[:2])),
        [
            change(
                P1,
                "applications_close",
                "マイナポイント第1弾: 申込期限 2021-12-31 → 2021-09-30"
                "（2021-10-01から、2021-08-06発表の版を取り消し）",
                "Mynapoint phase 1: applications due 2021-12-31 → 2021-09-30"
                " (from 2021-10-01, withdraws the version announced 2021-08-06)",
                date(2021, 10, 1),
                None,
            )
        ],
    ),
    "a version announced on another day": (
        with_measure(P1, applications_close=close_with(2, announced=date(2021, 9, 1))),
        [
            change(
                P1,
                "applications_close",
                "マイナポイント第1弾: 申込期限 2021-12-31の発表日 2021-08-06 → 2021-09-01"
                "（2021-10-01から）",
                "Mynapoint phase 1: applications due 2021-12-31 announced 2021-08-06 → 2021-09-01"
                " (from 2021-10-01)",
                date(2021, 10, 1),
                date(2021, 9, 1),
            )
        ],
    ),
    "a version that repeats the value before it": (
        with_measure(
            P1,
            applications_close=Versioned(
                (*PHASE1_CLOSE, Version(jst(2022, 1, 1), date(2021, 12, 1), date(2021, 11, 1)))
            ),
        ),
        [
            change(
                P1,
                "applications_close",
                "マイナポイント第1弾: 申込期限 2021-12-31のまま（2021-12-01から、2021-11-01発表）",
                "Mynapoint phase 1: applications due stays 2021-12-31"
                " (from 2021-12-01, announced 2021-11-01)",
                date(2021, 12, 1),
                date(2021, 11, 1),
            )
        ],
    ),
    "a close that is not at midnight": (
        with_measure(P1, applications_close=close_with(2, value=jst(2021, 12, 31, 17))),
        [
            change(
                P1,
                "applications_close",
                "マイナポイント第1弾: 申込期限 2021-12-31 → 2021-12-31 17:00"
                "（2021-10-01から、2021-08-06発表）",
                "Mynapoint phase 1: applications due 2021-12-31 → 2021-12-31 17:00"
                " (from 2021-10-01, announced 2021-08-06)",
                date(2021, 10, 1),
                date(2021, 8, 6),
            )
        ],
    ),
    "the card cut-off dropped": (
        with_measure(P1, card_cutoff=cutoff_with(None)),
        [
            change(
                P1,
                "card_cutoff",
                "マイナポイント第1弾: 対象カードの申請期限 2021-04-30 → なし"
                "（2021-04-01から、2021-03-26発表）",
                "Mynapoint phase 1: card cut-off 2021-04-30 → none"
                " (from 2021-04-01, announced 2021-03-26)",
                date(2021, 4, 1),
                date(2021, 3, 26),
            )
        ],
    ),
    "a cut-off that relieves online applications": (
        with_measure(P1, card_cutoff=cutoff_with(CardCutoff(date(2021, 4, 30), date(2021, 5, 1)))),
        [
            change(
                P1,
                "card_cutoff",
                "マイナポイント第1弾: 対象カードの申請期限 2021-04-30 → "
                "2021-04-30（オンライン申請は2021-05-01）（2021-04-01から、2021-03-26発表）",
                "Mynapoint phase 1: card cut-off 2021-04-30 → 2021-04-30 (online applications"
                " 2021-05-01) (from 2021-04-01, announced 2021-03-26)",
                date(2021, 4, 1),
                date(2021, 3, 26),
            )
        ],
    ),
    "a cap group's cap": (
        replace(FORCE, cap_groups={"spending": 7500}),
        [
            change(
                None,
                "cap_groups.spending",
                "事業全体: 上限グループ「spending」の上限 5,000 → 7,500ポイント",
                "Program-wide: cap of group 'spending' 5,000 → 7,500 points",
            )
        ],
    ),
    "a cap group added": (
        replace(FORCE, cap_groups={"spending": 5000, "extra": 3000}),
        [
            change(
                None,
                "cap_groups.extra",
                "事業全体: 上限グループ「extra」を追加（上限 3,000ポイント）",
                "Program-wide: cap group 'extra' added (cap 3,000 points)",
            )
        ],
    ),
    "a cap group removed": (
        replace(FORCE, cap_groups={}),
        [
            change(
                None,
                "cap_groups.spending",
                "事業全体: 上限グループ「spending」（上限 5,000ポイント）を廃止",
                "Program-wide: cap group 'spending' (cap 5,000 points) removed",
            )
        ],
    ),
    "the person total cap": (
        replace(FORCE, person_total_cap=22500),
        [
            change(
                None,
                "person_total_cap",
                "事業全体: 1人あたりの上限合計 20,000 → 22,500ポイント",
                "Program-wide: total cap per person 20,000 → 22,500 points",
            )
        ],
    ),
    "fixed points": (
        with_measure(P2H, fixed_points=10000),
        [
            change(
                P2H,
                "fixed_points",
                "マイナポイント第2弾 施策2: 付与ポイント 7,500 → 10,000",
                "Mynapoint phase 2, measure 2: fixed grant 7,500 → 10,000 points",
            )
        ],
    ),
    "waiting time": (
        with_measure(P2P, waiting_after_issuance=timedelta(hours=24)),
        [
            change(
                P2P,
                "waiting_after_issuance_hours",
                "マイナポイント第2弾 施策3: カード発行後の待機時間 72時間 → 24時間",
                "Mynapoint phase 2, measure 3: waiting after card issuance 72 h → 24 h",
            )
        ],
    ),
    "waiting time in minutes": (
        with_measure(P2S, waiting_after_issuance=timedelta(minutes=90)),
        [
            change(
                P2S,
                "waiting_after_issuance_hours",
                "マイナポイント第2弾 施策1: カード発行後の待機時間 1時間 → 90分",
                "Mynapoint phase 2, measure 1: waiting after card issuance 1 h → 90 min",
            )
        ],
    ),
    "carries into nothing": (
        with_measure(P1, carries_into=None),
        [
            change(
                P1,
                "carries_into",
                "マイナポイント第1弾: 申込みの引き継ぎ先 マイナポイント第2弾 施策1 → なし",
                "Mynapoint phase 1: carries into Mynapoint phase 2, measure 1 → none",
            )
        ],
    ),
    "applications open later": (
        with_measure(P2H, applications_open=jst(2022, 7, 1, 9)),
        [
            change(
                P2H,
                "applications_open",
                "マイナポイント第2弾 施策2: 申込開始 2022-06-30 → 2022-07-01 09:00",
                "Mynapoint phase 2, measure 2: applications open 2022-06-30 → 2022-07-01 09:00",
            )
        ],
    ),
    "spending opens later": (
        with_measure(P1, spending_opens=jst(2020, 10, 1)),
        [
            change(
                P1,
                "spending_opens",
                "マイナポイント第1弾: 対象決済の開始 2020-09-01 → 2020-10-01",
                "Mynapoint phase 1: spending counts from 2020-09-01 → 2020-10-01",
            )
        ],
    ),
    "the measure announced on another day": (
        with_measure(P2P, announced=date(2022, 1, 10)),
        [
            change(
                P2P,
                "announced",
                "マイナポイント第2弾 施策3: 発表日 2021-11-19 → 2022-01-10",
                "Mynapoint phase 2, measure 3: announced 2021-11-19 → 2022-01-10",
                None,
                date(2022, 1, 10),
            )
        ],
    ),
    "a note": (
        with_measure(P1, notes=("a new note",)),
        [
            change(
                P1,
                "notes",
                f"マイナポイント第1弾: 注記を削除: {NOTE}",
                f"Mynapoint phase 1: note removed: {NOTE}",
            ),
            change(
                P1,
                "notes",
                "マイナポイント第1弾: 注記を追加: a new note",
                "Mynapoint phase 1: note added: a new note",
            ),
        ],
    ),
    "a budget frame's yen and persons": (
        replace(
            FORCE,
            budget_frames=(replace(FRAME1, yen=250_000_000_000, persons=50_000_000), FRAME2),
        ),
        [
            change(
                None,
                "budget_frames.yen",
                "事業全体: 予算枠（第1弾） 2,000億円 → 2,500億円（2019-12-05発表）",
                "Program-wide: budget frame (phase 1) ¥200,000,000,000 → ¥250,000,000,000"
                " (announced 2019-12-05)",
                None,
                date(2019, 12, 5),
            ),
            change(
                None,
                "budget_frames.persons",
                "事業全体: 予算枠（第1弾）の想定人数 4,000万 → 5,000万人（2019-12-05発表）",
                "Program-wide: budget frame (phase 1) sized for 40,000,000 → 50,000,000 persons"
                " (announced 2019-12-05)",
                None,
                date(2019, 12, 5),
            ),
        ],
    ),
    "a budget frame announced on another day": (
        replace(FORCE, budget_frames=(FRAME1, replace(FRAME2, announced=date(2022, 3, 22)))),
        [
            change(
                None,
                "budget_frames.announced",
                "事業全体: 予算枠（第2弾）の発表日 2021-11-19 → 2022-03-22",
                "Program-wide: budget frame (phase 2) announced 2021-11-19 → 2022-03-22",
                None,
                date(2022, 3, 22),
            )
        ],
    ),
    "a budget frame removed": (
        replace(FORCE, budget_frames=(FRAME1,)),
        [
            change(
                None,
                "budget_frames",
                "事業全体: 予算枠（第2弾）を廃止: 1兆8,134億円、9,500万人",
                "Program-wide: budget frame (phase 2) removed:"
                " ¥1,813,400,000,000, 95,000,000 persons",
            )
        ],
    ),
    "a measure removed": (
        without(P2P),
        [
            change(
                P2P,
                "measures",
                "マイナポイント第2弾 施策3: 施策を廃止",
                "Mynapoint phase 2, measure 3: measure removed",
            )
        ],
    ),
    "the kind and phase of a measure": (
        with_measure(P2H, kind=MeasureKind.SPENDING, phase="phase1"),
        [
            change(
                P2H,
                "kind",
                "マイナポイント第2弾 施策2: 種類 定額付与 → 決済還元",
                "Mynapoint phase 2, measure 2: kind fixed → spending",
            ),
            change(
                P2H,
                "phase",
                "マイナポイント第2弾 施策2: 区分 第2弾 → 第1弾",
                "Mynapoint phase 2, measure 2: belongs to phase 2 → phase 1",
            ),
        ],
    ),
    "a name": (
        with_measure(P1, name_ja="マイナポイント", name_en="Mynapoint"),
        [
            change(
                P1,
                "name_ja",
                "マイナポイント第1弾: 名称 マイナポイント第1弾 → マイナポイント",
                "Mynapoint phase 1: Japanese name マイナポイント第1弾 → マイナポイント",
            ),
            change(
                P1,
                "name_en",
                "マイナポイント第1弾: 英語名 Mynapoint phase 1 → Mynapoint",
                "Mynapoint phase 1: name Mynapoint phase 1 → Mynapoint",
            ),
        ],
    ),
}


@pytest.mark.parametrize(("new", "expected"), list(CASES.values()), ids=list(CASES))
def test_each_kind_of_change_reads_as_exact_japanese_and_english(
    new: CampaignRules, expected: list[RuleChange]
) -> None:
    assert rules_diff(FORCE, new) == tuple(expected)


RULE_SETS: list[tuple[str, CampaignRules]] = [("in-force", FORCE)] + [
    (name, packaged_candidate(name).rules) for name in packaged_candidates()
]
RULE_SETS += [(name, new) for name, (new, _) in CASES.items()]


@pytest.mark.parametrize("rules", [pytest.param(r, id=name) for name, r in RULE_SETS])
def test_rules_compared_with_themselves_have_no_difference(rules: CampaignRules) -> None:
    assert rules_diff(rules, rules) == ()


@pytest.mark.parametrize("rules", [pytest.param(r, id=name) for name, r in RULE_SETS[1:]])
def test_rules_that_differ_have_a_difference_both_ways(rules: CampaignRules) -> None:
    forward, backward = rules_diff(FORCE, rules), rules_diff(rules, FORCE)

    assert forward
    assert [(c.measure, c.rule) for c in backward] == [(c.measure, c.rule) for c in forward]
