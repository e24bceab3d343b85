"""R17: a full budget frame closes new reservations (MyKey IDs) only, exactly at the frame,
even under concurrent requests, and nothing counts the whole mykeys table to know it."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import date, datetime

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.engine import Engine

from mynapoint.db.migrate import upgrade
from mynapoint.db.tables import mykey_reservations, mykeys
from mynapoint.db.unit_of_work import SqlUnitOfWork
from mynapoint.domain.calendar import JST
from mynapoint.domain.campaigns import BudgetFrame, CampaignRules
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
        counter = connection.execute(select(mykey_reservations.c.reserved)).scalar_one()
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
