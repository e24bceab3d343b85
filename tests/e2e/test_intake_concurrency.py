"""Four clients of one operator post overlapping batches for the same people at once (PostgreSQL).

SQLite runs one writer at a time, so only PostgreSQL can race here. Each race
starts on a fresh schema with the same 20 people and the same events; every
client sends an overlapping share of the events (the same event ids reach
several clients) in its own batches and order. Afterwards no event is stored
twice, nobody holds more than the 5,000 cap, and the ledger is the one a
single client sending everything in order would have produced.
"""

from __future__ import annotations

import random
import secrets
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine

from ledger_setup import link_person
from mynapoint.bootstrap import Platform, build_platform
from mynapoint.config import Settings
from mynapoint.db.tables import grant_instructions
from mynapoint.domain.calendar import JST
from mynapoint.domain.measures import EventKind
from mynapoint.services.clock import FixedClock
from mynapoint.services.intake import EventRow, IntakeResult, ingest

pytestmark = pytest.mark.postgres

NOW = datetime(2021, 8, 2, 10, 0, tzinfo=JST)
APPLIED = datetime(2021, 5, 10, 10, 0, tzinfo=JST)
PERSONS = 20
CHARGES_PER_PERSON = 12
CLIENTS = 4
CAP = 5000

Ledger = dict[tuple[str, str, str], int]  # (person, source, measure) -> points


def person_ids() -> list[str]:
    return [f"racer-{number:02d}" for number in range(PERSONS)]


def payment_service_id(person_number: int) -> str:
    return f"{4_000_000_000_000_000 + person_number:016d}"


def make_events() -> list[EventRow]:
    """Charges of 2,000-9,000 yen after the application: 12 of them are well over 20,000."""
    draw = random.Random(20_000)  # noqa: S311 - test data, not secrets
    return [
        EventRow(
            event_id=f"race-{number:02d}-{charge:02d}",
            service_code="paypay",
            payment_service_id=payment_service_id(number),
            kind=EventKind.CHARGE,
            amount=draw.randint(2_000, 9_000),
            occurred_at=datetime(2021, 6, 1, 9, 0, tzinfo=JST)
            + timedelta(minutes=draw.randint(0, 60 * 24 * 50)),
        )
        for number in range(PERSONS)
        for charge in range(CHARGES_PER_PERSON)
    ]


EVENTS = make_events()


@pytest.fixture
def fresh_platform(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[[], Platform]]:
    """A platform on a new schema of this worker's PostgreSQL database, with the 20 people."""
    worker_engine: Engine = request.getfixturevalue("postgresql_worker_engine")
    platforms: list[Platform] = []

    def make() -> Platform:
        schema = f"race_{secrets.token_hex(6)}"
        with worker_engine.connect() as connection:
            connection.execute(text(f"CREATE SCHEMA {schema}"))
        url = worker_engine.url.update_query_dict({"options": f"-csearch_path={schema}"})
        settings = Settings(
            database_url=url.render_as_string(hide_password=False), var_dir=tmp_path
        )
        platform = build_platform(settings, clock=FixedClock(NOW))
        platforms.append(platform)
        for number, person in enumerate(person_ids()):
            link_person(
                platform.unit_of_work(),
                person=person,
                payment_service_id=payment_service_id(number),
                applied_at=APPLIED,
            )
        return platform

    yield make
    for platform in platforms:
        platform.engine.dispose()


def send(platform: Platform, batch: list[EventRow]) -> IntakeResult:
    return ingest(
        platform.unit_of_work(),
        "paypay",
        list(enumerate(batch)),
        platform.rules,
        platform.catalog,
        NOW,
    )


def ledger(platform: Platform) -> Ledger:
    uow = platform.unit_of_work()
    with uow:
        lines = uow.grants.lines_for_persons(person_ids())
    found: Ledger = defaultdict(int)
    for person, person_lines in lines.items():
        for source, measure, points in person_lines:
            found[person, source, measure] += points
    return {key: points for key, points in found.items() if points != 0}


def instructed_totals(platform: Platform) -> dict[str, int]:
    query = select(grant_instructions.c.person, func.sum(grant_instructions.c.points)).group_by(
        grant_instructions.c.person
    )
    with platform.engine.connect() as connection:
        return {person: int(points) for person, points in connection.execute(query)}


def client_shares(draw: random.Random) -> list[list[list[EventRow]]]:
    """Every event goes to one to four clients; each client shuffles and batches its share."""
    shares: list[list[EventRow]] = [[] for _ in range(CLIENTS)]
    for row in EVENTS:
        for client in draw.sample(range(CLIENTS), draw.randint(1, CLIENTS)):
            shares[client].append(row)
    batches = []
    for share in shares:
        draw.shuffle(share)
        client_batches = []
        start = 0
        while start < len(share):
            size = draw.randint(3, 40)
            client_batches.append(share[start : start + size])
            start += size
        batches.append(client_batches)
    return batches


def race(platform: Platform, shares: list[list[list[EventRow]]]) -> tuple[list[IntakeResult], int]:
    """Run the clients at once while a watcher reads the totals; (results, highest total seen)."""
    start = threading.Barrier(CLIENTS + 1)
    finished = threading.Event()

    def client(batches: list[list[EventRow]]) -> list[IntakeResult]:
        start.wait()
        return [send(platform, batch) for batch in batches]

    def watch() -> int:
        start.wait()
        highest = 0
        while not finished.is_set():
            highest = max([highest, *instructed_totals(platform).values()])
        return highest

    with ThreadPoolExecutor(CLIENTS + 1) as pool:
        watcher = pool.submit(watch)
        clients = [pool.submit(client, batches) for batches in shares]
        try:
            results = [result for future in clients for result in future.result()]
        finally:
            finished.set()
        return results, watcher.result()


def test_four_clients_racing_grant_what_one_client_alone_would(fresh_platform):
    serial = fresh_platform()
    alone = send(serial, EVENTS)
    assert (alone.accepted, alone.duplicates, alone.rejected) == (len(EVENTS), 0, [])
    expected = ledger(serial)
    assert instructed_totals(serial) == dict.fromkeys(person_ids(), CAP)
    serial.engine.dispose()

    for interleaving in range(3):
        platform = fresh_platform()
        shares = client_shares(random.Random(interleaving))  # noqa: S311 - test data
        results, highest_seen = race(platform, shares)

        sent = sum(len(batch) for client in shares for batch in client)
        assert sum(r.accepted for r in results) == len(EVENTS)
        assert sum(r.accepted + r.duplicates for r in results) == sent
        assert [p for r in results for p in r.rejected] == []
        uow = platform.unit_of_work()
        with uow:
            stored = [
                e.event_id
                for events in uow.events.for_persons(person_ids()).values()
                for e in events
            ]
        assert sorted(stored) == sorted(row.event_id for row in EVENTS)
        assert highest_seen <= CAP
        assert instructed_totals(platform) == dict.fromkeys(person_ids(), CAP)
        assert ledger(platform) == expected
        platform.engine.dispose()
