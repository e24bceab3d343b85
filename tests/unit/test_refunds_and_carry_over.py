"""Refunds and clawbacks (R8), rounding (R7), and phase 1 carrying into measure 1 (R3, R11)."""

from __future__ import annotations

from datetime import date

import pytest

from factories import (
    jst,
    make_application,
    make_catalog,
    make_event,
    make_person,
    make_refund,
    make_service,
)
from mynapoint.domain.measures import Counts, EventKind, Measure, Rounding
from mynapoint.domain.points import Grant, evaluate
from mynapoint.domain.services import DaysAfter, Monthly

CATALOG = make_catalog()


def test_a_refund_larger_than_the_event_lowers_it_to_zero_and_no_further(rules):
    buy = make_event(event_id="buy", amount=4000, at=jst(2020, 10, 1))
    other = make_event(event_id="other", amount=4000, at=jst(2020, 10, 2))
    back = make_refund(buy, amount=9000, at=jst(2020, 10, 3), event_id="back")
    outcome = evaluate(make_person(), [make_application()], [buy, other, back], rules, CATALOG)
    assert [(g.event_id, g.points) for g in outcome.grants] == [
        ("buy", 1000),
        ("other", 1000),
        ("back", -1000),
    ]
    assert outcome.total_points == 1000


def test_a_refund_while_the_total_stays_above_the_cap_claws_back_nothing(rules):
    big = make_event(event_id="big", amount=50_000, at=jst(2020, 10, 1))
    back = make_refund(big, amount=20_000, at=jst(2020, 10, 5), event_id="back")
    outcome = evaluate(make_person(), [make_application()], [big, back], rules, CATALOG)
    assert [(g.event_id, g.points) for g in outcome.grants] == [("big", 5000), ("back", 0)]


def test_a_refund_of_an_event_past_the_cap_still_lowers_the_running_total(rules):
    first = make_event(event_id="first", amount=20_000, at=jst(2020, 10, 1))
    late = make_event(event_id="late", amount=8_000, at=jst(2020, 10, 2))
    back_first = make_refund(first, amount=20_000, at=jst(2020, 10, 3), event_id="back1")
    back_late = make_refund(late, amount=8_000, at=jst(2020, 10, 4), event_id="back2")
    outcome = evaluate(
        make_person(), [make_application()], [first, late, back_first, back_late], rules, CATALOG
    )
    assert [i.reason.value for i in outcome.ignored] == ["cap_reached"]
    assert [(g.event_id, g.points) for g in outcome.grants] == [
        ("first", 5000),
        ("back1", -3000),
        ("back2", -2000),
    ]
    assert outcome.total_points == 0


@pytest.mark.parametrize(
    ("refund_of", "reason"),
    [("nowhere", "unknown_original"), ("early", "refund_of_uncounted")],
)
def test_a_refund_of_an_unknown_or_uncounted_event_changes_nothing(rules, refund_of, reason):
    early = make_event(event_id="early", amount=4000, at=jst(2020, 8, 1))
    refund = make_event(
        event_id="r", kind=EventKind.REFUND, amount=100, at=jst(2020, 10, 1), refund_of=refund_of
    )
    outcome = evaluate(make_person(), [make_application()], [early, refund], rules, CATALOG)
    assert ("r", reason) in [(i.event_id, i.reason.value) for i in outcome.ignored]
    assert outcome.grants == ()


def test_a_refund_of_a_refund_is_an_unknown_original(rules):
    buy = make_event(event_id="buy", amount=4000, at=jst(2020, 10, 1))
    back = make_refund(buy, amount=1000, event_id="back")
    again = make_event(
        event_id="again", kind=EventKind.REFUND, amount=10, refund_of="back", at=jst(2020, 10, 9)
    )
    outcome = evaluate(make_person(), [make_application()], [buy, back, again], rules, CATALOG)
    assert [(i.event_id, i.reason.value) for i in outcome.ignored] == [
        ("again", "unknown_original")
    ]


def test_a_refund_dated_before_its_original_is_applied_after_it(rules):
    buy = make_event(event_id="buy", amount=8000, at=jst(2020, 10, 10))
    back = make_refund(buy, amount=4000, at=jst(2020, 10, 1), event_id="back")
    outcome = evaluate(make_person(), [make_application()], [back, buy], rules, CATALOG)
    assert [(g.event_id, g.points) for g in outcome.grants] == [("buy", 2000), ("back", -1000)]


def test_a_clawback_is_taken_from_the_most_recent_measure_first(rules):
    # 3,000 in phase 1, 2,000 more in 2022 under measure 1; a refund of the phase-1
    # purchase of 12,000 takes 2,000 from measure 1 first, then 1,000 from phase 1.
    buy = make_event(event_id="p1", amount=12_000, at=jst(2021, 6, 1))
    more = make_event(event_id="p2", amount=8_000, at=jst(2022, 2, 1))
    back = make_refund(buy, amount=12_000, at=jst(2022, 3, 1), event_id="back")
    outcome = evaluate(
        make_person(),
        [make_application(applied_at=jst(2021, 5, 1))],
        [buy, more, back],
        rules,
        CATALOG,
    )
    assert outcome.grants == (
        Grant("p1", 0, Measure.PHASE1, 3000, date(2021, 6, 1)),
        Grant("p2", 0, Measure.PHASE2_SPENDING, 2000, date(2022, 2, 1)),
        Grant("back", 0, Measure.PHASE2_SPENDING, -2000, date(2022, 3, 1)),
        Grant("back", 0, Measure.PHASE1, -1000, date(2022, 3, 1)),
    )
    assert dict(outcome.by_measure) == {Measure.PHASE1: 2000, Measure.PHASE2_SPENDING: 0}


def test_a_phase1_applicant_continues_to_5000_in_total_under_measure_1(rules):
    phase1 = make_event(event_id="a", amount=12_000, at=jst(2021, 6, 1))
    phase2 = make_event(event_id="b", amount=40_000, at=jst(2022, 2, 1))
    outcome = evaluate(
        make_person(),
        [make_application(applied_at=jst(2021, 5, 1))],
        [phase1, phase2],
        rules,
        CATALOG,
    )
    assert dict(outcome.by_measure) == {Measure.PHASE1: 3000, Measure.PHASE2_SPENDING: 2000}


def test_a_measure_1_application_on_top_of_phase1_is_already_applied(rules):
    apps = [
        make_application(applied_at=jst(2021, 5, 1)),
        make_application(
            index=1,
            measure=Measure.PHASE2_SPENDING,
            service_code="purchase_card",
            applied_at=jst(2022, 1, 5),
        ),
    ]
    outcome = evaluate(make_person(), apps, [], rules, CATALOG)
    assert [(r.index, r.code.value) for r in outcome.rejected_applications] == [
        (1, "already_applied")
    ]


def test_phase1_carries_the_pick_into_measure_1(rules):
    catalog = make_catalog(make_service(code="pick_card", counts=Counts.PICK))
    app = make_application(
        service_code="pick_card", counts=EventKind.PURCHASE, applied_at=jst(2021, 5, 1)
    )
    charge = make_event(event_id="c", kind=EventKind.CHARGE, amount=4000, at=jst(2022, 2, 1))
    purchase = make_event(event_id="p", kind=EventKind.PURCHASE, amount=4000, at=jst(2022, 2, 2))
    outcome = evaluate(make_person(), [app], [charge, purchase], rules, catalog)
    assert [(i.event_id, i.reason.value) for i in outcome.ignored] == [("c", "not_counted_kind")]
    assert [(g.event_id, g.measure) for g in outcome.grants] == [("p", Measure.PHASE2_SPENDING)]


def test_a_phase1_only_service_closes_for_phase1_applicants_in_2022(rules):
    catalog = make_catalog(make_service(code="charge_card", measures=frozenset({Measure.PHASE1})))
    event = make_event(event_id="x", at=jst(2022, 2, 1))
    outcome = evaluate(
        make_person(), [make_application(applied_at=jst(2021, 5, 1))], [event], rules, catalog
    )
    assert [i.reason.value for i in outcome.ignored] == ["service_closed"]


@pytest.mark.parametrize(
    ("rounding", "expected"),
    [(Rounding.CUMULATIVE, [1000, 1001, 1001]), (Rounding.PER_TRANSACTION, [1000, 1000, 1000])],
)
def test_cumulative_and_per_transaction_rounding(rules, rounding, expected):
    catalog = make_catalog(make_service(code="charge_card", rounding=rounding))
    evs = [make_event(event_id=f"e{i}", amount=4003, at=jst(2020, 10, 1 + i)) for i in range(3)]
    outcome = evaluate(make_person(), [make_application()], evs, rules, catalog)
    assert [g.points for g in outcome.grants] == expected


@pytest.mark.parametrize(
    ("timing", "event_day", "grant_on"),
    [
        (DaysAfter(30, from_next_day=True), jst(2020, 10, 5), date(2020, 11, 5)),
        (Monthly(28), jst(2021, 1, 31), date(2021, 2, 28)),
        (Monthly(28), jst(2021, 12, 15), date(2022, 1, 28)),
        (Monthly(31), jst(2021, 1, 10), date(2021, 2, 28)),
        (DaysAfter(30, from_next_day=True), jst(2020, 10, 5, 23, 59), date(2020, 11, 5)),
    ],
)
def test_grant_dates_follow_the_service_timing_rule(rules, timing, event_day, grant_on):
    catalog = make_catalog(make_service(code="charge_card", timing={EventKind.CHARGE: timing}))
    event = make_event(event_id="x", amount=4000, at=event_day)
    outcome = evaluate(make_person(), [make_application()], [event], rules, catalog)
    assert outcome.grants[0].grant_on == grant_on


def test_a_fixed_grant_is_dated_as_a_charge_at_the_application(rules):
    catalog = make_catalog(make_service(code="charge_card", timing={EventKind.CHARGE: Monthly(28)}))
    app = make_application(measure=Measure.PHASE2_PUBLIC_FUNDS, applied_at=jst(2022, 7, 5))
    outcome = evaluate(make_person(card_applied_on=date(2022, 1, 10)), [app], [], rules, catalog)
    assert outcome.grants == (Grant(None, 0, Measure.PHASE2_PUBLIC_FUNDS, 7500, date(2022, 8, 28)),)


def test_points_earned_before_death_are_still_granted(rules):
    before = make_event(event_id="before", amount=4000, at=jst(2021, 5, 31))
    after = make_event(event_id="after", amount=4000, at=jst(2021, 6, 2))
    outcome = evaluate(
        make_person(died_on=date(2021, 6, 1)), [make_application()], [before, after], rules, CATALOG
    )
    assert [(g.event_id, g.points) for g in outcome.grants] == [("before", 1000)]
    assert [(i.event_id, i.reason.value) for i in outcome.ignored] == [("after", "holder_deceased")]


def test_an_application_after_death_is_not_eligible(rules):
    app = make_application(applied_at=jst(2021, 6, 1, 9, 0))
    outcome = evaluate(make_person(died_on=date(2021, 6, 1)), [app], [], rules, CATALOG)
    assert [r.code.value for r in outcome.rejected_applications] == ["not_eligible"]
