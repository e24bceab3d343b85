"""Eight clients send one event_id at the same moment (issue 11; the race is PostgreSQL's).

Whatever the interleaving, the batch that stores the event accepts it and every other
learns whether it sent the same event (a duplicate) or another one under the same id
(event_id_conflict): the loser of the race compares content with the winner's row.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import pytest

from citizen_app import citizen_app
from ledger_setup import link_person
from mynapoint.domain.calendar import JST
from mynapoint.domain.measures import EventKind
from mynapoint.services.intake import EventRow, IntakeResult, ingest

NOW = datetime(2021, 8, 2, 10, 0, tzinfo=JST)
APPLIED = datetime(2021, 5, 10, 10, 0, tzinfo=JST)
CLIENTS = 8
TRIALS = 6


@pytest.fixture
def app(database_url, tmp_path):
    with citizen_app(database_url, tmp_path, at=NOW) as running:
        yield running


def race(app, rows: list[EventRow]) -> list[IntakeResult]:
    start = threading.Barrier(len(rows))

    def client(row: EventRow) -> IntakeResult:
        uow = app.platform.unit_of_work()
        start.wait()
        return ingest(uow, "paypay", [(0, row)], app.platform.rules, app.platform.catalog, NOW)

    with ThreadPoolExecutor(len(rows)) as pool:
        return list(pool.map(client, rows))


def charge(event_id: str, psid: str, amount: int) -> EventRow:
    return EventRow(
        event_id=event_id,
        service_code="paypay",
        payment_service_id=psid,
        kind=EventKind.CHARGE,
        amount=amount,
        occurred_at=datetime(2021, 6, 1, 12, 0, tzinfo=JST),
    )


def test_one_event_id_sent_with_eight_amounts_at_once_is_accepted_once_and_conflicts_seven_times(
    app,
):
    _, psid = link_person(app.platform.unit_of_work(), applied_at=APPLIED)
    for trial in range(TRIALS):
        rows = [charge(f"race-{trial}", psid, 1000 + n) for n in range(CLIENTS)]
        results = race(app, rows)
        assert sum(r.accepted for r in results) == 1
        assert sum(r.duplicates for r in results) == 0
        codes = [p.code for r in results for p in r.rejected]
        assert codes == ["event_id_conflict"] * (CLIENTS - 1)
        winner = next(row for row, r in zip(rows, results, strict=True) if r.accepted)
        uow = app.platform.unit_of_work()
        with uow:
            stored = uow.events.existing_hashes("paypay", [f"race-{trial}"])
        assert stored == {f"race-{trial}": winner.content_hash()}


def test_one_event_sent_eight_times_at_once_is_accepted_once_and_seven_duplicates(app):
    _, psid = link_person(app.platform.unit_of_work(), applied_at=APPLIED)
    for trial in range(TRIALS):
        results = race(app, [charge(f"same-{trial}", psid, 3000)] * CLIENTS)
        assert sum(r.accepted for r in results) == 1
        assert sum(r.duplicates for r in results) == CLIENTS - 1
        assert [p for r in results for p in r.rejected] == []
