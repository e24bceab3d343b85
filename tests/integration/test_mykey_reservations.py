"""R17: a full budget frame closes new reservations (MyKey IDs) only, exactly at the frame,
even under concurrent requests, and nothing counts the whole mykeys table to know it. The
places are counted in shards (db/repositories/mykeys.py): the sum never passes the frame, and
a reservation is refused only when the whole frame is taken, whatever the frames before."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.engine import Engine

from mynapoint.db.migrate import downgrade, upgrade
from mynapoint.db.tables import mykey_reservation_shards, mykeys
from mynapoint.db.unit_of_work import SqlUnitOfWork
from mynapoint.domain.calendar import JST
from mynapoint.domain.campaigns import BudgetFrame, CampaignRules
from mynapoint.domain.mykey import RESERVATION_SHARDS, shard_capacity
from mynapoint.services.mykey import BudgetFrameReached, ensure_mykey

NOW = datetime(2021, 7, 19, 10, 0, tzinfo=JST)


def framed(rules: CampaignRules, persons: int) -> CampaignRules:
    """The packaged rules with one frame of `persons` reservations, announced before NOW."""
    return replace(
        rules,
        budget_frames=(BudgetFrame("phase1", persons * 5_000, persons, date(2021, 1, 1)),),
    )


def reserved(engine: Engine) -> tuple[int, int]:
    """(the counter, the MyKey IDs stored)."""
    with engine.connect() as connection:
        counter = connection.execute(
            select(func.sum(mykey_reservation_shards.c.reserved))
        ).scalar_one()
        stored = connection.execute(select(func.count()).select_from(mykeys)).scalar_one()
    return counter, stored


def test_the_frame_closes_new_reservations_only(migrated_engine, rules):
    three = framed(rules, 3)
    made = [ensure_mykey(SqlUnitOfWork(migrated_engine), f"p{n}", NOW, three) for n in range(3)]
    assert all(result.created for result in made)

    with pytest.raises(BudgetFrameReached) as refused:
        ensure_mykey(SqlUnitOfWork(migrated_engine), "p3", NOW, three)
    assert refused.value.code == "budget_frame_reached"
    assert refused.value.details["frame"] == 3
    # Whoever reserved before the frame filled keeps their ID.
    again = ensure_mykey(SqlUnitOfWork(migrated_engine), "p1", NOW, three)
    assert (again.created, again.mykey) == (False, made[1].mykey)
    assert reserved(migrated_engine) == (3, 3)
    # A bigger frame (a later announcement) opens reservations again.
    assert ensure_mykey(SqlUnitOfWork(migrated_engine), "p3", NOW, framed(rules, 4)).created


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_concurrent_reservations_stop_exactly_at_the_frame(migrated_engine, rules):
    five = framed(rules, 5)
    start = threading.Barrier(12)
    outcomes: dict[str, str] = {}

    def reserve(person: str) -> None:
        start.wait()
        try:
            ensure_mykey(SqlUnitOfWork(migrated_engine), person, NOW, five)
        except BudgetFrameReached:
            outcomes[person] = "refused"
        else:
            outcomes[person] = "created"

    threads = [threading.Thread(target=reserve, args=(f"q{n}",)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes.values()).count("created") == 5
    assert reserved(migrated_engine) == (5, 5)


def test_the_migration_counts_the_ids_issued_before_it(engine):
    upgrade(engine, "0006")
    with engine.begin() as connection:
        connection.execute(
            insert(mykeys),
            [
                {"mykey_id": f"KEY{n:05d}", "person": f"old-{n}", "created_at": NOW}
                for n in range(4)
            ],
        )
    upgrade(engine)
    assert reserved(engine) == (4, 4)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_migration_spreads_the_single_counter_evenly_over_the_shards(engine):
    upgrade(engine, "0011")
    with engine.begin() as connection:
        connection.execute(text("UPDATE mykey_reservations SET reserved = 130"))
    upgrade(engine)
    with engine.connect() as connection:
        shards = dict(connection.execute(select(mykey_reservation_shards)).all())
    assert sorted(shards) == list(range(RESERVATION_SHARDS))
    assert shards == {k: shard_capacity(130, k) for k in range(RESERVATION_SHARDS)}
    downgrade(engine, "0011")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT reserved FROM mykey_reservations")).scalar() == 130


@given(frame=st.integers(0, 1_000), shard=st.integers(0, RESERVATION_SHARDS - 1))
def test_the_shards_share_a_frame_exactly(frame, shard):
    shares = [shard_capacity(frame, k) for k in range(RESERVATION_SHARDS)]
    assert sum(shares) == frame
    assert max(shares) - min(shares) <= 1
    assert shares[shard] in {frame // RESERVATION_SHARDS, frame // RESERVATION_SHARDS + 1}


FRAMES = st.one_of(st.none(), st.integers(0, 150))
# (the frame in force, how many reservations are asked for, whether their unit of work commits)
STEPS = st.lists(st.tuples(FRAMES, st.integers(0, 40), st.booleans()), min_size=1, max_size=8)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    start=st.lists(st.integers(0, 4), min_size=RESERVATION_SHARDS, max_size=RESERVATION_SHARDS),
    steps=STEPS,
)
def test_a_reservation_is_taken_exactly_when_fewer_than_the_frame_are_taken(
    migrated_engine, start, steps
):
    """Like one counter: taken iff the places taken are fewer than the frame of the moment, for
    any frames one after the other (smaller ones too) and any spread over the shards."""
    with migrated_engine.begin() as connection:
        for shard, places in enumerate(start):
            connection.execute(
                update(mykey_reservation_shards)
                .where(mykey_reservation_shards.c.shard == shard)
                .values(reserved=places)
            )
    taken = sum(start)
    for frame, asked, commits in steps:
        uow = SqlUnitOfWork(migrated_engine)
        with uow:
            expected = taken
            for _ in range(asked):
                assert uow.mykeys.reserve(frame) is (frame is None or expected < frame)
                expected = expected + 1 if frame is None or expected < frame else expected
            if commits:
                uow.commit()
                taken = expected
        assert reserved(migrated_engine)[0] == taken


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("shrunk", [False, True], ids=["frame", "smaller-frame"])
def test_many_concurrent_reservations_take_exactly_the_frame(migrated_engine, shrunk):
    """40 threads at once, each reserving until refused: exactly the frame is taken, also when
    the frame became smaller than the spread of the places already taken."""
    frame = 150
    if shrunk:
        # 3 places in each of the first 20 shards: 60 taken, 20 shards above a share of 150/64.
        with migrated_engine.begin() as connection:
            connection.execute(
                update(mykey_reservation_shards)
                .where(mykey_reservation_shards.c.shard < 20)
                .values(reserved=3)
            )
    before = reserved(migrated_engine)[0]
    start = threading.Barrier(40)
    taken: list[int] = []

    def reserve_until_refused() -> None:
        start.wait()
        mine = 0
        while True:
            uow = SqlUnitOfWork(migrated_engine)
            with uow:
                if not uow.mykeys.reserve(frame):
                    break
                uow.commit()
            mine += 1
        taken.append(mine)

    threads = [threading.Thread(target=reserve_until_refused) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(taken) == frame - before
    assert reserved(migrated_engine)[0] == frame
