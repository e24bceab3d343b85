"""The points the operator API grants equal what `mynapoint simulate` computes (both DBs),
through the API batch and, on PostgreSQL, through uploaded files on the job queue.

Each Hypothesis example is one new person on the same running app: a random
card, one spending application, random charges, purchases and refunds sent as
random batches in random order (some batches twice). The instructions the
platform then holds for that person must add up, per measure and per event, to
the outcome of `simulate` for a scenario file with the same facts.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from citizen_app import CitizenApp, citizen_app
from ledger_setup import link_person, operator_key
from mynapoint.domain.calendar import JST
from mynapoint.domain.measures import EventKind, Measure
from mynapoint.domain.points import Outcome
from mynapoint.ingest.event_rows import CSV_HEADER
from mynapoint.ingest.scenario import scenario_from_text
from mynapoint.services.simulate import simulate

# Platform time: after every event drawn below, so none is "occurred_in_future".
NOW = datetime(2023, 12, 1, 10, 0, tzinfo=JST)
EVENTS_FROM = datetime(2020, 8, 1, 0, 0, tzinfo=JST)
EVENTS_UNTIL = datetime(2023, 10, 31, 23, 59, tzinfo=JST)

# Each example (Hypothesis replays some while shrinking) gets its own person and event ids.
_examples = itertools.count()


class PayPay:
    """The running app and PayPay's operator key.

    Hypothesis prints the arguments of a failing example: this one stays short.
    """

    def __init__(self, app: CitizenApp) -> None:
        self.app = app
        key = operator_key(app.platform.unit_of_work(), "paypay", app.platform.catalog, NOW)
        self._headers = {"Authorization": f"Bearer {key}"}

    def __repr__(self) -> str:
        return "PayPay()"

    def post_events(self, rows: list[dict[str, object]]) -> dict[str, Any]:
        response = self.app.client.post(
            "/api/v1/operator/events", json={"events": rows}, headers=self._headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture
def paypay(database_url, tmp_path):
    with citizen_app(database_url, tmp_path, at=NOW) as running:
        yield PayPay(running)


@dataclass(frozen=True)
class Event:
    event_id: str
    kind: EventKind
    amount: int
    at: datetime
    refund_of: str | None = None
    sent_in_utc: bool = False  # the operator writes occurred_at with +00:00 instead of +09:00


@dataclass(frozen=True)
class Story:
    """One person's facts, application and events, and how the operator sends the events."""

    card_applied_on: date
    died_on: date | None
    certificate_age: timedelta  # how long before applying the certificate was issued
    measure: Measure
    counts: EventKind
    applied_at: datetime
    events: tuple[Event, ...]
    sends: tuple[tuple[int, ...], ...]  # batches of indexes into events, in sending order

    @property
    def certificate_issued_at(self) -> datetime:
        return self.applied_at - self.certificate_age


def minutes_between(start: datetime, end: datetime) -> st.SearchStrategy[datetime]:
    # Whole minutes in JST, so that edges such as 23:59 / 00:00 come up. Drawn as calendar
    # fields (not minutes from `start`, which Hypothesis would keep close to `start`).
    naive = st.datetimes(start.replace(tzinfo=None), end.replace(tzinfo=None))
    return naive.map(lambda at: at.replace(second=0, microsecond=0, tzinfo=JST))


@st.composite
def events(draw: st.DrawFn, applied_at: datetime) -> tuple[Event, ...]:
    out: list[Event] = []
    # Half the events near the application, where the rules have the most to decide.
    instants = minutes_between(EVENTS_FROM, EVENTS_UNTIL) | minutes_between(
        applied_at - timedelta(days=20), applied_at + timedelta(days=90)
    )
    for number in range(draw(st.integers(0, 25))):
        kind = draw(st.sampled_from(list(EventKind)))
        amount = draw(st.integers(1, 60_000))
        if kind is not EventKind.REFUND:
            out.append(Event(f"e{number}", kind, amount, draw(instants), None, draw(st.booleans())))
            continue
        spent = [e.event_id for e in out if e.kind is not EventKind.REFUND]
        # Some refunds name an event the operator never sends.
        original = draw(st.sampled_from([*spent, f"gone{number}"]))
        at = draw(instants)
        if original in spent and draw(st.booleans()):
            # Half the refunds come after their original; the others at any time.
            earliest = next(e.at for e in out if e.event_id == original)
            at = draw(minutes_between(earliest, max(earliest, EVENTS_UNTIL)))
        out.append(Event(f"e{number}", kind, amount, at, original, draw(st.booleans())))
    return tuple(out)


def rarely(strategy: st.SearchStrategy[date]) -> st.SearchStrategy[date | None]:
    """None four times in five."""
    return st.integers(0, 4).flatmap(lambda n: strategy if n == 0 else st.none())


@st.composite
def sends(draw: st.DrawFn, count: int) -> tuple[tuple[int, ...], ...]:
    order = draw(st.permutations(range(count)))
    cuts = sorted(set(draw(st.lists(st.integers(1, max(1, count - 1)), max_size=4))))
    bounds = [0, *(c for c in cuts if c < count), count]
    batches = [tuple(order[a:b]) for a, b in itertools.pairwise(bounds) if b > a]
    again = draw(st.lists(st.sampled_from(batches), max_size=2)) if batches else []
    return tuple(draw(st.permutations([*batches, *again])))


@st.composite
def stories(draw: st.DrawFn) -> Story:
    measure = draw(st.sampled_from([Measure.PHASE1, Measure.PHASE2_SPENDING]))
    if measure is Measure.PHASE1:
        applied_at = draw(
            minutes_between(
                datetime(2020, 9, 1, 0, 0, tzinfo=JST), datetime(2021, 9, 30, 23, 59, tzinfo=JST)
            )
        )
    else:
        applied_at = draw(
            minutes_between(
                datetime(2022, 1, 1, 0, 0, tzinfo=JST), datetime(2022, 12, 31, 23, 59, tzinfo=JST)
            )
        )
    drawn = draw(events(applied_at))
    # Mostly a card that phase 1 and phase 2 both admit; any day now and then.
    cards = st.dates(date(2019, 1, 1), date(2021, 4, 30)) | st.dates(
        date(2019, 1, 1), date(2023, 3, 31)
    )
    return Story(
        card_applied_on=draw(cards),
        died_on=draw(rarely(st.dates(date(2020, 9, 1), date(2023, 11, 30)))),
        # Phase 2 applications wait an hour after the certificate's issuance (R13).
        certificate_age=draw(
            st.sampled_from([timedelta(0), timedelta(minutes=59), timedelta(days=30)])
        ),
        measure=measure,
        counts=draw(st.sampled_from([EventKind.CHARGE, EventKind.PURCHASE])),
        applied_at=applied_at,
        events=drawn,
        sends=draw(sends(len(drawn))),
    )


def set_up_person(app: CitizenApp, story: Story, person: str) -> str:
    """The person and application through the repositories; returns the payment service id."""
    _, psid = link_person(
        app.platform.unit_of_work(),
        person=person,
        measure=story.measure,
        counts=story.counts,
        applied_at=story.applied_at,
        card_applied_on=story.card_applied_on,
        died_on=story.died_on,
    )
    uow = app.platform.unit_of_work()
    with uow:
        snapshot = uow.persons.get(person)
        assert snapshot is not None
        uow.persons.save(
            dataclasses.replace(snapshot, certificate_issued_at=story.certificate_issued_at),
            story.applied_at,
        )
        uow.commit()
    return psid


def event_body(event: Event, psid: str, prefix: str) -> dict[str, object]:
    body: dict[str, object] = {
        "event_id": prefix + event.event_id,
        "service_code": "paypay",
        "payment_service_id": psid,
        "kind": event.kind.value,
        "amount": event.amount,
        "occurred_at": (event.at.astimezone(UTC) if event.sent_in_utc else event.at).isoformat(),
    }
    if event.refund_of is not None:
        body["refund_of"] = prefix + event.refund_of
    return body


def scenario_document(story: Story) -> str:
    """The scenario file a user would give `mynapoint simulate` for the same person."""
    return json.dumps(
        {
            "person": {
                "card_applied_on": story.card_applied_on.isoformat(),
                "birth_date": "1980-04-01",
                "died_on": story.died_on.isoformat() if story.died_on else None,
                "certificate_issued_at": story.certificate_issued_at.isoformat(),
            },
            "applications": [
                {
                    "measure": story.measure.value,
                    "service": "paypay",
                    "counts": story.counts.value,
                    "applied_at": story.applied_at.isoformat(),
                }
            ],
            "events": [
                {"id": e.event_id, "kind": e.kind.value, "amount": e.amount, "at": e.at.isoformat()}
                | ({"refund_of": e.refund_of} if e.refund_of else {})
                for e in story.events
            ],
        }
    )


def without_zeros(sums: Mapping[Hashable, int]) -> dict[Hashable, int]:
    return {key: points for key, points in sums.items() if points != 0}


def simulated(app: CitizenApp, story: Story) -> Outcome:
    platform = app.platform
    scenario = scenario_from_text(
        scenario_document(story), "scenario.json", platform.rules, platform.catalog
    )
    return simulate(scenario, platform.rules, platform.catalog)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(story=stories())
def test_the_api_grants_what_simulate_computes(paypay, story):
    app = paypay.app
    example = next(_examples)
    person = f"person-{example}"
    prefix = f"x{example}-"
    psid = set_up_person(app, story, person)

    duplicates = 0
    for batch in story.sends:
        rows = [event_body(story.events[i], psid, prefix) for i in batch]
        result = paypay.post_events(rows)
        assert result["rejected"] == []
        duplicates += result["duplicates"]
    assert duplicates == sum(len(batch) for batch in story.sends) - len(story.events)

    assert_grants_match_simulate(app, story, person, prefix)


def assert_grants_match_simulate(app: CitizenApp, story: Story, person: str, prefix: str) -> None:
    uow = app.platform.unit_of_work()
    with uow:
        instructions = uow.grants.for_person(person)
    by_measure: dict[Measure, int] = defaultdict(int)
    by_event: dict[tuple[str | None, Measure], int] = defaultdict(int)
    for instruction in instructions:
        by_measure[instruction.measure] += instruction.points
        assert sum(line.points for line in instruction.lines) == instruction.points
        for line in instruction.lines:
            event_id = line.event_id
            by_event[event_id.removeprefix(prefix) if event_id else None, line.measure] += (
                line.points
            )

    outcome = simulated(app, story)
    expected_by_event: dict[tuple[str | None, Measure], int] = defaultdict(int)
    for grant in outcome.grants:
        expected_by_event[grant.event_id, grant.measure] += grant.points
    assert without_zeros(by_measure) == without_zeros(outcome.by_measure)
    assert without_zeros(by_event) == without_zeros(expected_by_event)


class QueuedPayPay(PayPay):
    """PayPay sending its batches as uploaded files, on an app that only queues them, with a
    `mynapoint worker` process loading and evaluating them (docs/JOBS.md), in parts when a
    file is more than a few lines."""

    def upload_events(self, rows: list[dict[str, object]]) -> dict[str, Any]:
        lines = [",".join(CSV_HEADER)] + [
            ",".join(str(row.get(name) or "") for name in CSV_HEADER) for row in rows
        ]
        response = self.app.client.post(
            "/api/v1/operator/events/files",
            headers=self._headers,
            files={"file": ("events.csv", "\n".join(lines).encode(), "text/csv")},
        )
        assert response.status_code == 202, response.text
        path = f"/api/v1/operator/events/files/{response.json()['job_id']}"
        deadline = time.monotonic() + QUEUE_PATIENCE_SECONDS
        while True:
            job: dict[str, Any] = self.app.client.get(path, headers=self._headers).json()
            if job["status"] in {"done", "failed"} or time.monotonic() > deadline:
                return job
            time.sleep(0.02)


# How long a worker may take with one small file on a busy machine: a limit for a stuck test.
QUEUE_PATIENCE_SECONDS = 120


@pytest.fixture
def queued_paypay(database_url, tmp_path):
    worker_env = os.environ | {
        "MYNAPOINT_DATABASE_URL": database_url,
        "MYNAPOINT_VAR_DIR": str(tmp_path),
        "MYNAPOINT_CLOCK_START": NOW.isoformat(),
        "MYNAPOINT_INPROCESS_WORKER": "false",
        # Files of more than a few lines are loaded in parts (when their ids are distinct),
        # side by side: the parts must grant what one load does.
        "MYNAPOINT_UPLOAD_RANGE_BYTES": "256",
    }
    with citizen_app(database_url, tmp_path, at=NOW, inprocess_worker=False) as running:
        worker = subprocess.Popen(
            [sys.executable, "-m", "mynapoint.cli", "worker"],
            env=worker_env,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            yield QueuedPayPay(running)
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=60)


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(story=stories())
def test_files_through_the_job_queue_grant_what_simulate_computes(queued_paypay, story):
    app = queued_paypay.app
    example = next(_examples)
    person = f"queued-{example}"
    prefix = f"q{example}-"
    psid = set_up_person(app, story, person)

    duplicates = 0
    for batch in story.sends:
        rows = [event_body(story.events[i], psid, prefix) for i in batch]
        job = queued_paypay.upload_events(rows)
        assert (job["status"], job["rejected_lines"]) == ("done", [])
        assert job["accepted"] + job["duplicates"] == len(rows)
        duplicates += job["duplicates"]
    assert duplicates == sum(len(batch) for batch in story.sends) - len(story.events)

    assert_grants_match_simulate(app, story, person, prefix)
