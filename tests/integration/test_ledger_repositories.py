"""What only a real database shows: row locks, concurrent batches, IN lists cut into chunks.

The behaviour both unit of work kinds share is in the contracts (ledger_contract.py,
applications_contract.py), races included.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select

from ledger_factories import (
    AT,
    OPERATOR,
    SERVICE,
    make_event,
    make_grant,
    make_line,
    make_snapshot,
)
from mynapoint.db.repositories.statements import IN_LIST_SIZES
from mynapoint.db.tables import platform_persons, spending_events
from mynapoint.db.unit_of_work import SqlUnitOfWork
from unit_of_work_contract import race

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

# How long a unit of work holding a lock waits to see whether another one got
# past it; long enough for a thread to reach its statement, short for the suite.
HOLD_S = 0.5
# A bound on every wait, so that a broken lock fails the test instead of hanging it.
TIMEOUT_S = 10

only_postgresql = pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)


@pytest.fixture
def small_in_lists(monkeypatch: pytest.MonkeyPatch) -> int:
    """IN lists of 3 values, so that a few rows already take several chunks."""
    for dialect in list(IN_LIST_SIZES):
        monkeypatch.setitem(IN_LIST_SIZES, dialect, 3)
    return 3


def save_persons(engine: Engine, persons: list[str]) -> None:
    with SqlUnitOfWork(engine) as uow:
        for person in persons:
            uow.persons.save(make_snapshot(person), AT)
        uow.commit()


def ledger_versions(engine: Engine) -> dict[str, int]:
    query = select(platform_persons.c.person, platform_persons.c.ledger_version)
    with engine.connect() as connection:
        return dict(connection.execute(query).all())


# --- locking persons ---------------------------------------------------------------


def test_a_lock_bumps_the_ledger_version_and_saving_keeps_it(migrated_engine: Engine) -> None:
    save_persons(migrated_engine, ["person-1", "person-2"])

    with SqlUnitOfWork(migrated_engine) as uow:
        uow.persons.lock(["person-1", "unknown"])
        uow.persons.lock(["person-1"])
        uow.persons.save(make_snapshot("person-1", died_on=AT.date()), AT + timedelta(days=1))
        uow.commit()

    assert ledger_versions(migrated_engine) == {"person-1": 2, "person-2": 0}


def test_saving_locked_bumps_the_ledger_version_as_saving_then_locking(
    migrated_engine: Engine,
) -> None:
    save_persons(migrated_engine, ["person-1"])

    with SqlUnitOfWork(migrated_engine) as uow:
        uow.persons.save_locked(make_snapshot("person-1"), AT)
        uow.persons.save_locked(make_snapshot("person-2"), AT)
        uow.commit()

    assert ledger_versions(migrated_engine) == {"person-1": 1, "person-2": 1}


def test_a_second_lock_on_a_person_waits_until_the_first_unit_of_work_ends(
    migrated_engine: Engine,
) -> None:
    save_persons(migrated_engine, ["person-1"])
    order: list[str] = []
    first_locked, second_started, second_locked = (threading.Event() for _ in range(3))

    def first() -> bool:
        with SqlUnitOfWork(migrated_engine) as uow:
            uow.persons.lock(["person-1"])
            first_locked.set()
            assert second_started.wait(TIMEOUT_S)
            # The other unit of work must not get the person while this one is open.
            held = not second_locked.wait(HOLD_S)
            order.append("first ends")
            uow.commit()
        return held

    def second() -> None:
        assert first_locked.wait(TIMEOUT_S)
        # Set before the block: on SQLite BEGIN IMMEDIATE itself is what waits.
        second_started.set()
        with SqlUnitOfWork(migrated_engine) as uow:
            uow.persons.lock(["person-1"])
            order.append("second locked")
            second_locked.set()
            uow.commit()

    with ThreadPoolExecutor(2) as pool:
        held = pool.submit(first)
        pool.submit(second).result(timeout=TIMEOUT_S)

    assert held.result() is True
    assert order == ["first ends", "second locked"]
    assert ledger_versions(migrated_engine) == {"person-1": 2}


@only_postgresql
def test_on_postgresql_a_lock_holds_only_its_own_persons(migrated_engine: Engine) -> None:
    save_persons(migrated_engine, ["person-1", "person-2"])
    first_locked, second_done = threading.Event(), threading.Event()

    def first() -> bool:
        with SqlUnitOfWork(migrated_engine) as uow:
            uow.persons.lock(["person-1"])
            first_locked.set()
            finished_meanwhile = second_done.wait(TIMEOUT_S)
            uow.commit()
        return finished_meanwhile

    def second() -> None:
        assert first_locked.wait(TIMEOUT_S)
        with SqlUnitOfWork(migrated_engine) as uow:
            uow.persons.lock(["person-2"])
            uow.commit()
        second_done.set()

    with ThreadPoolExecutor(2) as pool:
        other_person_went_ahead = pool.submit(first)
        pool.submit(second).result(timeout=TIMEOUT_S)

    assert other_person_went_ahead.result() is True


def test_batches_locking_the_same_persons_in_opposite_orders_do_not_deadlock(
    migrated_engine: Engine, small_in_lists: int
) -> None:
    persons = [f"person-{number:02d}" for number in range(4 * small_in_lists)]
    save_persons(migrated_engine, persons)
    rounds = 5

    def re_evaluate(number: int) -> None:
        # Chunked in the order given, half the batches would lock the last
        # persons first: PostgreSQL would then report a deadlock.
        batch = persons if number % 2 else persons[::-1]
        for _ in range(rounds):
            with SqlUnitOfWork(migrated_engine) as uow:
                uow.persons.lock(batch)
                uow.commit()

    race(re_evaluate, racers=4)

    assert ledger_versions(migrated_engine) == dict.fromkeys(persons, 4 * rounds)


# --- concurrent event batches ---------------------------------------------------------


def test_overlapping_batches_sent_together_store_each_event_once(migrated_engine: Engine) -> None:
    def send(number: int) -> int:
        # Batches 0-59, 20-79, 40-99, 60-119, each sorted by event_id as intake sends them.
        batch = [make_event(f"e{index:03d}") for index in range(number * 20, number * 20 + 60)]
        with SqlUnitOfWork(migrated_engine) as uow:
            inserted = uow.events.add_many(batch)
            uow.commit()
            return inserted

    inserted = race(send, racers=4)

    assert sum(inserted) == 120
    with migrated_engine.connect() as connection:
        stored = connection.execute(select(func.count()).select_from(spending_events)).scalar()
    assert stored == 120


def test_a_batch_repeating_stored_events_and_itself_inserts_each_once(
    migrated_engine: Engine,
) -> None:
    with SqlUnitOfWork(migrated_engine) as uow:
        assert uow.events.add_many([make_event(f"e{index}") for index in range(5)]) == 5
        uow.commit()

    repeated = [make_event(f"e{index % 8}", amount=1 + index) for index in range(24)]
    with SqlUnitOfWork(migrated_engine) as uow:
        assert uow.events.add_many(repeated) == 3
        uow.commit()

    with SqlUnitOfWork(migrated_engine) as uow:
        stored = uow.events.for_persons(["person-1"])["person-1"]
    assert [event.amount for event in stored] == [10_000] * 5 + [6, 7, 8]


# --- IN lists in chunks ----------------------------------------------------------------


def test_reads_by_many_keys_merge_their_chunks(
    migrated_engine: Engine, small_in_lists: int
) -> None:
    persons = [f"person-{number}" for number in range(3 * small_in_lists + 1)]
    asked = [*persons, "unknown", persons[0]]
    save_persons(migrated_engine, persons)
    events = [make_event(f"e-{person}", person=person) for person in persons]
    grants = [
        make_grant(f"g-{person}", person=person, lines=(make_line(f"event:e-{person}"),))
        for person in persons
    ]
    with SqlUnitOfWork(migrated_engine) as uow:
        uow.events.add_many(events)
        uow.grants.add_many(grants)
        for person in persons:
            uow.applications.link_account(SERVICE, f"id-{person}", person, AT)
        uow.persons.lock(asked)
        uow.commit()

    with SqlUnitOfWork(migrated_engine) as uow:
        assert set(uow.persons.get_many(asked)) == set(persons)
        assert uow.events.for_persons(asked) == {
            **{event.person: [event] for event in events},
            "unknown": [],
        }
        assert uow.events.existing_hashes(OPERATOR, [e.event_id for e in events]) == {
            event.event_id: event.content_hash for event in events
        }
        lines = uow.grants.lines_for_persons(asked)
        assert lines == {
            **{person: [(f"event:e-{person}", "phase1", 2_500)] for person in persons},
            "unknown": [],
        }
        linked = uow.applications.persons_for_accounts([(SERVICE, f"id-{p}") for p in asked])
        assert linked == {(SERVICE, f"id-{person}"): person for person in persons}
        acknowledged = uow.grants.acknowledge(OPERATOR, [g.grant_id for g in grants * 2], AT)
        assert acknowledged == len(grants)
    assert ledger_versions(migrated_engine) == dict.fromkeys(persons, 1)


def test_a_batch_larger_than_one_in_list_is_stored_and_found(migrated_engine: Engine) -> None:
    count = max(IN_LIST_SIZES.values()) + 1
    events = [make_event(f"e{index:06d}", person=f"person-{index % 7}") for index in range(count)]

    with SqlUnitOfWork(migrated_engine) as uow:
        assert uow.events.add_many(events) == count
        found = uow.events.existing_hashes(OPERATOR, [event.event_id for event in events])
        by_person = uow.events.for_persons([f"person-{number}" for number in range(7)])

    assert len(found) == count
    assert sum(len(stored) for stored in by_person.values()) == count
