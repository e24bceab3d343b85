"""Points-engine throughput: many people, each a realistic history, through `evaluate`.

Prints people/s and events/s. The engine is the hot path of batch intake: each
person's whole history is re-evaluated when new events arrive for them.
"""

from __future__ import annotations

import random
import time
from datetime import date, datetime, timedelta

from mynapoint.domain.applications import ApplicationRequest
from mynapoint.domain.calendar import JST
from mynapoint.domain.events import SpendingEvent
from mynapoint.domain.measures import EventKind, Measure
from mynapoint.domain.persons import PersonFacts
from mynapoint.domain.points import evaluate
from mynapoint.rules.loader import load_campaigns, load_catalog

PEOPLE = 20_000  # overridden by tests? no: fixed for comparable runs
EVENTS_PER_PERSON = 10


def history(
    rng: random.Random, person: int
) -> tuple[list[ApplicationRequest], list[SpendingEvent]]:
    applied = datetime(2020, 9, 1, tzinfo=JST) + timedelta(minutes=rng.randrange(400_000))
    apps = [ApplicationRequest(0, Measure.PHASE1, "waon", applied)]
    events = []
    for n in range(EVENTS_PER_PERSON):
        at = applied + timedelta(minutes=rng.randrange(-20_000, 600_000))
        events.append(
            SpendingEvent(f"p{person}e{n}", EventKind.CHARGE, rng.randrange(100, 9000), at)
        )
    refund_target = events[rng.randrange(len(events))]
    events.append(
        SpendingEvent(
            f"p{person}r",
            EventKind.REFUND,
            500,
            refund_target.at + timedelta(days=3),
            refund_target.event_id,
        )
    )
    return apps, events


def main() -> None:
    rules, catalog = load_campaigns(), load_catalog()
    rng = random.Random(20200901)
    person = PersonFacts(card_applied_on=date(2020, 6, 1))
    cases = [history(rng, p) for p in range(PEOPLE)]
    events = sum(len(evs) for _, evs in cases)
    started = time.perf_counter()
    points = 0
    for apps, evs in cases:
        points += evaluate(person, apps, evs, rules, catalog).total_points
    elapsed = time.perf_counter() - started
    print(f"engine: {PEOPLE:,} people, {events:,} events in {elapsed:.2f} s")
    print(f"engine: {PEOPLE / elapsed:,.0f} people/s, {events / elapsed:,.0f} events/s")
    print(f"engine: {points:,} points in all")


if __name__ == "__main__":
    main()
