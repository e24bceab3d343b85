"""Invariants of the points engine, for random people, applications and events (Hypothesis)."""

from __future__ import annotations

import json
import random
from datetime import date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from factories import jst, make_catalog, make_service
from mynapoint.domain.applications import ApplicationRequest
from mynapoint.domain.events import SpendingEvent
from mynapoint.domain.measures import Counts, EventKind, IgnoreReason, Measure, Rounding
from mynapoint.domain.persons import PersonFacts
from mynapoint.domain.points import Outcome, evaluate
from mynapoint.rules.loader import load_campaigns
from mynapoint.services.simulate import outcome_document

RULES = load_campaigns()
CATALOG = make_catalog(
    make_service(code="charge_card"),
    make_service(code="purchase_card", counts=Counts.PURCHASE),
    make_service(code="pick_card", counts=Counts.PICK),
    make_service(code="per_txn_card", counts=Counts.PURCHASE, rounding=Rounding.PER_TRANSACTION),
    make_service(code="closing_card", closes_at=jst(2021, 6, 1, 0, 0)),
)
SPENDING = (Measure.PHASE1, Measure.PHASE2_SPENDING)
START = jst(2020, 6, 1, 0, 0)
SPAN_MINUTES = int((jst(2023, 12, 1, 0, 0) - START).total_seconds() // 60)


def instants() -> st.SearchStrategy[datetime]:
    # Minutes, so that edges such as 23:59 / 00:00 JST come up.
    return st.integers(0, SPAN_MINUTES).map(lambda m: START + timedelta(minutes=m))


@st.composite
def people(draw: st.DrawFn) -> PersonFacts:
    return PersonFacts(
        card_applied_on=draw(st.dates(date(2019, 1, 1), date(2023, 3, 5))),
        card_applied_online=draw(st.booleans()),
        died_on=draw(st.none() | st.dates(date(2020, 9, 1), date(2023, 12, 1))),
        certificate_issued_at=draw(st.none() | instants()),
    )


@st.composite
def applications(draw: st.DrawFn) -> list[ApplicationRequest]:
    out = []
    for index in range(draw(st.integers(0, 5))):
        measure = draw(st.sampled_from(list(Measure)))
        service = draw(st.sampled_from(sorted(CATALOG.services)))
        counts = None
        if measure in SPENDING and service == "pick_card":
            counts = draw(st.sampled_from([EventKind.CHARGE, EventKind.PURCHASE]))
        out.append(ApplicationRequest(index, measure, service, draw(instants()), counts))
    return out


@st.composite
def events(draw: st.DrawFn) -> list[SpendingEvent]:
    out: list[SpendingEvent] = []
    for number in range(draw(st.integers(0, 25))):
        event_id = f"e{number}"
        kind = draw(st.sampled_from(list(EventKind)))
        amount = draw(st.integers(1, 60_000))
        at = draw(instants())
        if kind is EventKind.REFUND:
            spent = [e.event_id for e in out if not e.is_refund]
            target = draw(st.sampled_from([*spent, "missing"])) if spent else "missing"
            out.append(SpendingEvent(event_id, kind, amount, at, target))
        else:
            out.append(SpendingEvent(event_id, kind, amount, at))
    return out


scenarios = st.tuples(
    people(), applications(), events(), st.none() | st.dates(date(2020, 1, 1), date(2024, 1, 1))
)


def run(person, apps, evs, as_of) -> Outcome:
    return evaluate(person, apps, evs, RULES, CATALOG, as_of)


def spending_points(outcome: Outcome) -> int:
    return sum(outcome.by_measure.get(m, 0) for m in SPENDING)


@given(scenarios)
def test_no_person_ever_gets_more_than_the_program_total(scenario):
    outcome = run(*scenario)
    assert 0 <= outcome.total_points <= RULES.person_total_cap


@given(scenarios)
def test_phase1_and_measure1_together_never_exceed_5000(scenario):
    assert spending_points(run(*scenario)) <= 5000


@given(scenarios)
def test_spending_points_never_exceed_25_percent_of_the_eligible_amount(scenario):
    _, _, evs, _ = scenario
    outcome = run(*scenario)
    not_counted = {i.event_id for i in outcome.ignored if i.reason is not IgnoreReason.CAP_REACHED}
    net = {e.event_id: e.amount for e in evs if not e.is_refund and e.event_id not in not_counted}
    for refund in evs:
        if refund.is_refund and refund.event_id not in not_counted and refund.refund_of in net:
            net[refund.refund_of] = max(0, net[refund.refund_of] - refund.amount)
    eligible = sum(net.values())
    assert spending_points(outcome) <= eligible * 25 // 100


@given(scenarios, st.randoms(use_true_random=False))
def test_the_order_events_arrive_in_changes_nothing(scenario, rng: random.Random):
    person, apps, evs, as_of = scenario
    shuffled = list(evs)
    rng.shuffle(shuffled)
    assert run(person, apps, shuffled, as_of) == run(person, apps, evs, as_of)


@given(scenarios)
def test_no_measure_ever_goes_negative_not_even_for_a_moment(scenario):
    outcome = run(*scenario)
    running: dict[Measure, int] = {}
    for grant in outcome.grants:
        running[grant.measure] = running.get(grant.measure, 0) + grant.points
        assert running[grant.measure] >= 0
    assert all(points >= 0 for points in outcome.by_measure.values())
    assert running == {m: p for m, p in outcome.by_measure.items() if m in running}


@given(scenarios)
def test_every_event_is_either_granted_or_ignored_with_a_reason(scenario):
    _, _, evs, _ = scenario
    outcome = run(*scenario)
    granted = {g.event_id for g in outcome.grants if g.event_id is not None}
    ignored = [i.event_id for i in outcome.ignored]
    assert len(ignored) == len(set(ignored))
    assert granted.isdisjoint(ignored)
    assert granted | set(ignored) == {e.event_id for e in evs}


@given(scenarios)
def test_one_application_per_person_per_measure(scenario):
    _, apps, _, _ = scenario
    outcome = run(*scenario)
    rejected = {r.index for r in outcome.rejected_applications}
    accepted = [a.measure for a in apps if a.index not in rejected]
    assert len(accepted) == len(set(accepted))
    assert not (Measure.PHASE1 in accepted and Measure.PHASE2_SPENDING in accepted)


@given(scenarios)
def test_the_same_scenario_gives_byte_identical_output(scenario):
    first = json.dumps(outcome_document(run(*scenario)), ensure_ascii=False, indent=2)
    second = json.dumps(outcome_document(run(*scenario)), ensure_ascii=False, indent=2)
    assert first == second


@given(scenarios)
def test_fixed_measures_grant_exactly_7500_or_nothing(scenario):
    outcome = run(*scenario)
    for measure in (Measure.PHASE2_HEALTH_INSURANCE, Measure.PHASE2_PUBLIC_FUNDS):
        assert outcome.by_measure.get(measure, 0) in {0, 7500}
