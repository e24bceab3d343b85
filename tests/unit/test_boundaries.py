"""Boundary tables: the minute before, at and after each edge, in JST and in UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from factories import jst, make_application, make_catalog, make_event, make_person, make_service
from mynapoint.domain.measures import Counts, EventKind, Measure, Rounding
from mynapoint.domain.points import Outcome, evaluate

CATALOG = make_catalog()


def utc(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def one_event(
    rules,
    at: datetime,
    *,
    as_of: date | None = None,
    card_applied_on: date = date(2020, 6, 1),
    applied_at: datetime | None = None,
) -> Outcome:
    event = make_event(event_id="x", amount=4000, at=at)
    application = make_application(applied_at=applied_at or jst(2020, 7, 1, 0, 0))
    return evaluate(
        make_person(card_applied_on=card_applied_on), [application], [event], rules, CATALOG, as_of
    )


def fate(outcome: Outcome) -> str:
    """'phase1' or 'phase2_spending' when the event earned, else the ignore reason."""
    if outcome.ignored:
        return outcome.ignored[0].reason.value
    return outcome.grants[0].measure.value


@pytest.mark.parametrize(
    ("at", "as_of", "expected"),
    [
        # Spending opens 2020-09-01 00:00 JST (R6, R10).
        (jst(2020, 8, 31, 23, 59), None, "before_program_start"),
        (jst(2020, 9, 1, 0, 0), None, "phase1"),
        (jst(2020, 9, 1, 0, 1), None, "phase1"),
        (utc(2020, 8, 31, 14, 59), None, "before_program_start"),
        (utc(2020, 8, 31, 15, 0), None, "phase1"),
        # Phase 1 ends with 2021-12-31 JST (R18); from 2022 the application carries into measure 1.
        (jst(2021, 12, 31, 23, 59), None, "phase1"),
        (jst(2022, 1, 1, 0, 0), None, "phase2_spending"),
        (utc(2021, 12, 31, 14, 59), None, "phase1"),
        (utc(2021, 12, 31, 15, 0), None, "phase2_spending"),
        # Phase 2 spending ends with 2023-09-30 JST.
        (jst(2023, 9, 30, 23, 59), None, "phase2_spending"),
        (jst(2023, 10, 1, 0, 0), None, "after_deadline"),
        (utc(2023, 9, 30, 14, 59), None, "phase2_spending"),
        (utc(2023, 9, 30, 15, 0), None, "after_deadline"),
        # As announced on 2021-03-25: the original end, 2021-03-31.
        (jst(2021, 3, 31, 23, 59), date(2021, 3, 25), "phase1"),
        (jst(2021, 4, 1, 0, 0), date(2021, 3, 25), "after_deadline"),
        # As announced on 2021-04-05 (the source page): the end is 2021-09-30.
        (jst(2021, 9, 30, 23, 59), date(2021, 4, 5), "phase1"),
        (jst(2021, 10, 1, 0, 0), date(2021, 4, 5), "after_deadline"),
        (jst(2022, 3, 1), date(2021, 4, 5), "after_deadline"),
    ],
)
def test_spending_window_edges(rules, at, as_of, expected):
    assert fate(one_event(rules, at, as_of=as_of)) == expected


@pytest.mark.parametrize(
    ("announcement", "event_at"),
    [
        (date(2021, 3, 26), jst(2021, 5, 1)),  # first phase-1 extension
        (date(2021, 8, 6), jst(2021, 11, 1)),  # second phase-1 extension
        (date(2021, 11, 19), jst(2022, 2, 1)),  # phase 2
        (date(2023, 2, 14), jst(2023, 4, 1)),  # phase 2 to 2023-05-31
        (date(2023, 3, 31), jst(2023, 7, 1)),  # phase 2 to 2023-09-30
    ],
)
def test_a_deadline_move_exists_from_its_announcement_day_and_not_the_day_before(
    rules, announcement, event_at
):
    day_before = announcement - timedelta(days=1)
    assert fate(one_event(rules, event_at, as_of=day_before)) == "after_deadline"
    assert fate(one_event(rules, event_at, as_of=announcement)) in {"phase1", "phase2_spending"}


def apply_once(
    rules,
    measure: Measure,
    applied_at: datetime,
    *,
    as_of: date | None = None,
    card_applied_on: date = date(2020, 6, 1),
    online: bool = False,
    issued_at: datetime | None = None,
) -> str:
    person = make_person(
        card_applied_on=card_applied_on, card_applied_online=online, certificate_issued_at=issued_at
    )
    outcome = evaluate(
        person,
        [make_application(measure=measure, applied_at=applied_at)],
        [],
        rules,
        CATALOG,
        as_of,
    )
    return outcome.rejected_applications[0].code.value if outcome.rejected_applications else "ok"


@pytest.mark.parametrize(
    ("measure", "at", "expected"),
    [
        (Measure.PHASE1, jst(2020, 6, 30, 23, 59), "application_window_closed"),
        (Measure.PHASE1, jst(2020, 7, 1, 0, 0), "ok"),
        (Measure.PHASE1, utc(2020, 6, 30, 15, 0), "ok"),
        (Measure.PHASE1, jst(2021, 12, 31, 23, 59), "ok"),
        (Measure.PHASE1, jst(2022, 1, 1, 0, 0), "application_window_closed"),
        (Measure.PHASE2_SPENDING, jst(2021, 12, 31, 23, 59), "application_window_closed"),
        (Measure.PHASE2_SPENDING, jst(2022, 1, 1, 0, 0), "ok"),
        (Measure.PHASE2_HEALTH_INSURANCE, jst(2022, 6, 29, 23, 59), "application_window_closed"),
        (Measure.PHASE2_HEALTH_INSURANCE, jst(2022, 6, 30, 0, 0), "ok"),
        (Measure.PHASE2_PUBLIC_FUNDS, utc(2022, 6, 29, 14, 59), "application_window_closed"),
        (Measure.PHASE2_PUBLIC_FUNDS, utc(2022, 6, 29, 15, 0), "ok"),
        (Measure.PHASE2_PUBLIC_FUNDS, jst(2023, 9, 30, 23, 59), "ok"),
        (Measure.PHASE2_PUBLIC_FUNDS, jst(2023, 10, 1, 0, 0), "application_window_closed"),
        (Measure.PHASE2_SPENDING, utc(2023, 9, 30, 15, 0), "application_window_closed"),
    ],
)
def test_application_window_edges(rules, measure, at, expected):
    card_day = date(2020, 6, 1) if measure is Measure.PHASE1 else date(2021, 12, 1)
    assert apply_once(rules, measure, at, card_applied_on=card_day) == expected


@pytest.mark.parametrize(
    ("card_applied_on", "as_of", "expected"),
    [
        # Phase 1's extended period: cards applied for by 2021-04-30 (R10).
        (date(2021, 4, 30), None, "phase1"),
        (date(2021, 5, 1), None, "not_eligible_card_date"),
        (date(2021, 5, 1), date(2021, 4, 5), "not_eligible_card_date"),
        # Before the extension the July event was simply after the deadline.
        (date(2021, 4, 30), date(2021, 3, 25), "after_deadline"),
    ],
)
def test_phase1_card_cut_off_day_and_the_day_after(rules, card_applied_on, as_of, expected):
    outcome = one_event(
        rules,
        jst(2021, 7, 1),
        as_of=as_of,
        card_applied_on=card_applied_on,
        applied_at=jst(2021, 6, 1),
    )
    assert fate(outcome) == expected


@pytest.mark.parametrize(
    ("card_applied_on", "online", "applied_at", "as_of", "expected"),
    [
        (date(2022, 9, 30), False, jst(2022, 9, 1), None, "ok"),
        (date(2022, 10, 1), False, jst(2022, 9, 25), date(2022, 9, 19), "not_eligible"),
        (date(2022, 10, 1), False, jst(2022, 10, 5), date(2022, 9, 20), "ok"),
        (date(2022, 12, 31), False, jst(2023, 1, 2), date(2022, 11, 28), "ok"),
        (date(2023, 1, 1), False, jst(2023, 1, 2), date(2022, 11, 28), "not_eligible"),
        (date(2023, 1, 1), False, jst(2023, 1, 2), date(2022, 11, 29), "ok"),
        (date(2023, 2, 28), False, jst(2023, 3, 10), None, "ok"),
        (date(2023, 3, 1), False, jst(2023, 3, 10), None, "not_eligible"),
        (date(2023, 3, 1), True, jst(2023, 3, 10), None, "ok"),
        (date(2023, 3, 2), True, jst(2023, 3, 10), None, "not_eligible"),
    ],
)
def test_phase2_card_cut_offs_as_announced(
    rules, card_applied_on, online, applied_at, as_of, expected
):
    result = apply_once(
        rules,
        Measure.PHASE2_HEALTH_INSURANCE,
        applied_at,
        as_of=as_of,
        card_applied_on=card_applied_on,
        online=online,
    )
    assert result == expected


@pytest.mark.parametrize(
    ("measure", "wait", "expected_before", "expected_at"),
    [
        (Measure.PHASE2_SPENDING, timedelta(hours=1), "waiting_period", "ok"),
        (Measure.PHASE2_HEALTH_INSURANCE, timedelta(hours=1), "waiting_period", "ok"),
        (Measure.PHASE2_PUBLIC_FUNDS, timedelta(hours=72), "waiting_period", "ok"),
    ],
)
def test_waiting_time_after_a_certificate_is_issued(
    rules, measure, wait, expected_before, expected_at
):
    issued = jst(2022, 8, 1, 10, 0)
    card_day = date(2022, 7, 1)
    before = apply_once(
        rules,
        measure,
        issued + wait - timedelta(minutes=1),
        card_applied_on=card_day,
        issued_at=issued,
    )
    at = apply_once(rules, measure, issued + wait, card_applied_on=card_day, issued_at=issued)
    assert (before, at) == (expected_before, expected_at)


def charges(rules, *amounts: int, rounding: Rounding = Rounding.CUMULATIVE) -> Outcome:
    catalog = make_catalog(make_service(code="charge_card", rounding=rounding))
    events = [
        make_event(event_id=f"c{i}", amount=amount, at=jst(2020, 10, 1 + i))
        for i, amount in enumerate(amounts)
    ]
    return evaluate(make_person(), [make_application()], events, rules, catalog)


@pytest.mark.parametrize(
    ("amounts", "rounding", "expected_points", "expected_ignored"),
    [
        ((19_996,), Rounding.CUMULATIVE, [4999], []),
        ((20_000,), Rounding.CUMULATIVE, [5000], []),
        ((20_001,), Rounding.CUMULATIVE, [5000], []),
        ((20_000, 1), Rounding.CUMULATIVE, [5000], ["cap_reached"]),
        ((19_999, 1), Rounding.CUMULATIVE, [4999, 1], []),
        ((19_999, 1), Rounding.PER_TRANSACTION, [4999, 0], []),
        ((19_999, 5), Rounding.PER_TRANSACTION, [4999, 1], []),
        ((19_999, 4, 1), Rounding.CUMULATIVE, [4999, 1], ["cap_reached"]),
        ((3, 1), Rounding.CUMULATIVE, [0, 1], []),
        ((3, 1), Rounding.PER_TRANSACTION, [0, 0], []),
    ],
)
def test_the_cap_reached_exactly_and_exceeded_by_one_yen(
    rules, amounts, rounding, expected_points, expected_ignored
):
    outcome = charges(rules, *amounts, rounding=rounding)
    assert [g.points for g in outcome.grants] == expected_points
    assert [i.reason.value for i in outcome.ignored] == expected_ignored
    assert outcome.total_points <= 5000


@pytest.mark.parametrize(
    ("died_on", "at", "expected"),
    [
        (date(2021, 6, 1), jst(2021, 5, 31, 23, 59), "phase1"),
        (date(2021, 6, 1), jst(2021, 6, 1, 0, 0), "holder_deceased"),
        (date(2021, 6, 1), utc(2021, 5, 31, 15, 0), "holder_deceased"),
    ],
)
def test_events_from_the_day_of_death_earn_nothing(rules, died_on, at, expected):
    event = make_event(event_id="x", at=at)
    outcome = evaluate(make_person(died_on=died_on), [make_application()], [event], rules, CATALOG)
    assert fate(outcome) == expected


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (jst(2021, 2, 28, 23, 59), "phase1"),
        (jst(2021, 3, 1, 0, 0), "service_closed"),
    ],
)
def test_events_after_a_service_closes_earn_nothing(rules, at, expected):
    catalog = make_catalog(make_service(code="charge_card", closes_at=jst(2021, 3, 1, 0, 0)))
    event = make_event(event_id="x", at=at)
    outcome = evaluate(make_person(), [make_application()], [event], rules, catalog)
    assert fate(outcome) == expected


@pytest.mark.parametrize(
    ("event_at", "expected"),
    [
        (jst(2020, 10, 1, 9, 59), "before_application"),
        (jst(2020, 10, 1, 10, 0), "phase1"),
        (jst(2020, 10, 1, 10, 1), "phase1"),
    ],
)
def test_an_event_at_exactly_the_application_instant_counts(rules, event_at, expected):
    outcome = one_event(rules, event_at, applied_at=jst(2020, 10, 1, 10, 0))
    assert fate(outcome) == expected


def test_a_pick_service_counts_only_the_picked_kind(rules):
    charge = make_event(event_id="c", kind=EventKind.CHARGE, at=jst(2020, 10, 1))
    purchase = make_event(event_id="p", kind=EventKind.PURCHASE, at=jst(2020, 10, 2))
    application = make_application(service_code="pick_card", counts=EventKind.PURCHASE)
    outcome = evaluate(
        make_person(),
        [application],
        [charge, purchase],
        rules,
        make_catalog(make_service(code="pick_card", counts=Counts.PICK)),
    )
    assert [(i.event_id, i.reason.value) for i in outcome.ignored] == [("c", "not_counted_kind")]
    assert [g.event_id for g in outcome.grants] == ["p"]
