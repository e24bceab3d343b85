"""The demo's generated history in a database (SQLite and PostgreSQL): `make run`'s seeding
writes it after the demo data, once, and the platform re-evaluating it writes nothing."""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select

from mynapoint.bootstrap import build_platform
from mynapoint.config import Settings
from mynapoint.db.tables import (
    applications,
    assisted_sessions,
    cardholders,
    grant_instructions,
    grant_lines,
    mykey_reservation_shards,
    mykeys,
    payment_accounts,
    platform_persons,
    spending_events,
)
from mynapoint.demo import (
    DEMO_ACCOUNTS,
    seed_demo_cards,
    seed_demo_history,
    seed_demo_operator,
    seed_demo_staff,
    seed_generated_history,
)
from mynapoint.domain.assist import EndReason
from mynapoint.domain.calendar import JST, jst_date
from mynapoint.domain.measures import Channel
from mynapoint.domain.staff import Role, StaffAccount
from mynapoint.domain.statistics import Dimension, Metric
from mynapoint.history.generate import generate, history_clerk
from mynapoint.history.shape import SHAPE
from mynapoint.history.story import Timeline
from mynapoint.history.writer import HistoryClash
from mynapoint.rules.municipalities import load_municipalities
from mynapoint.services.ledger import reevaluate
from mynapoint.services.settlement import statements
from mynapoint.services.statistics import totals

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from sqlalchemy import Table

    from mynapoint.bootstrap import Platform

DEMO_DAY = datetime(2021, 7, 19, 10, 0, tzinfo=JST)
SIZE = 150
COUNTER_SIZE = 600  # enough for a few counter applications (about 1.6 % of persons)


@pytest.fixture
def platform(database_url: str, tmp_path: Path) -> Iterator[Platform]:
    settings = Settings(
        database_url=database_url,
        var_dir=tmp_path,
        demo=True,
        clock_start=DEMO_DAY,
        demo_history_persons=SIZE,
        demo_history_seed=11,
    )
    platform = build_platform(settings)
    try:
        yield platform
    finally:
        platform.engine.dispose()


def _count(platform: Platform, table: Table) -> int:
    with platform.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def test_make_run_s_seeding_loads_the_history_once(platform: Platform) -> None:
    # As `mynapoint serve` seeds the demo: the demo data first, then the history.
    cards = seed_demo_cards(platform)
    seed_demo_operator(platform)
    seed_demo_history(platform, cards)
    seed_demo_staff(platform)
    demo_persons = _count(platform, platform_persons)
    demo_accounts = _count(platform, payment_accounts)
    loaded = seed_generated_history(platform)

    expected = list(generate(11, SIZE, Timeline(platform.rules, platform.catalog, DEMO_DAY)))
    assert loaded.written == SIZE
    for table in (platform_persons, mykeys, payment_accounts, applications, assisted_sessions,
                  spending_events, grant_instructions, grant_lines):  # fmt: skip
        rows = sum(len(p.rows[table.name]) for p in expected)
        assert rows > 0
        assert loaded.rows[table.name] == rows
    assert _count(platform, platform_persons) == demo_persons + SIZE
    assert _count(platform, payment_accounts) == demo_accounts + loaded.rows["payment_accounts"]
    assert _count(platform, cardholders) >= SIZE
    # The card authority records each generated person's issuing municipality (statistics
    # per ward/city).
    some = {p.person: p.municipality for p in expected[:50]}
    with platform.engine.connect() as connection:
        recorded = connection.execute(
            select(cardholders.c.anchor, cardholders.c.municipality).where(
                cardholders.c.anchor.in_(list(some))
            )
        ).all()
    assert dict(recorded) == some
    with platform.engine.connect() as connection:
        copied = connection.execute(
            select(platform_persons.c.person, platform_persons.c.municipality).where(
                platform_persons.c.person.in_(list(some))
            )
        ).all()
    assert dict(copied) == some  # the platform's own copy, which the statistics count by
    assert load_municipalities().keys() >= set(some.values())
    with platform.engine.connect() as connection:
        reserved = connection.execute(
            select(func.sum(mykey_reservation_shards.c.reserved))
        ).scalar_one()
    assert reserved == _count(platform, mykeys)

    # The demo cards' accounts are theirs still.
    uow = platform.unit_of_work()
    with uow:
        for account in DEMO_ACCOUNTS:
            assert uow.accounts.get(account.service_code, account.payment_service_id) is not None
        closed = uow.settlements.closed_months()
        assert "2021-05" in closed
        assert "2021-06" not in closed
        assert "2021-07" not in closed
        june = statements(uow, "2021-06")
        assert june
        assert {s.status for s in june.values()} == {"provisional"}
        may = statements(uow, "2021-05")
        assert {s.status for s in may.values()} == {"closed"}

    # Re-evaluating the generated persons writes nothing (rolled back either way).
    sample = random.Random(3).sample(  # noqa: S311 - a sample, no secret
        [p.person for p in expected], 60
    )
    with uow:
        written = reevaluate(uow, sample, platform.rules, platform.catalog, DEMO_DAY)
    assert written == []

    # Again (the next `make run`): nothing more; a larger size adds only the new persons.
    assert seed_generated_history(platform).written == 0
    assert _count(platform, platform_persons) == demo_persons + SIZE
    larger = platform.settings.model_copy(update={"demo_history_persons": SIZE + 20})
    object.__setattr__(platform, "settings", larger)
    assert seed_generated_history(platform).written == 20
    assert _count(platform, platform_persons) == demo_persons + SIZE + 20
    # The history is dated in the past: its seeding refreshes the statistics in full, so they
    # count every MyKey ID, the 20 just written too.
    assert totals(platform.statistics).mykeys == _count(platform, mykeys)


def _resize(platform: Platform, persons: int) -> None:
    resized = platform.settings.model_copy(update={"demo_history_persons": persons})
    object.__setattr__(platform, "settings", resized)


def test_the_corners_figures_count_the_history_s_counter_applications(
    platform: Platform,
) -> None:
    _resize(platform, COUNTER_SIZE)
    loaded = seed_generated_history(platform)
    timeline = Timeline(platform.rules, platform.catalog, DEMO_DAY)
    expected = list(generate(11, COUNTER_SIZE, timeline))
    # Counted straight from the applications written: each counter application at its
    # person's corner, on its JST day.
    corner_of = {p.person: p.corner for p in expected}
    with platform.engine.connect() as connection:
        rows = connection.execute(
            select(applications.c.person, applications.c.applied_at).where(
                applications.c.channel == Channel.SUPPORT_CORNER.value
            )
        ).all()
    counted = Counter((corner_of[person], jst_date(at)) for person, at in rows)
    assert sum(counted.values()) == loaded.rows["assisted_sessions"] >= 5
    # The ministry's figure of assisted applications per corner and day (seeding refreshed
    # the statistics in full) is that count.
    figures = platform.statistics.figures(
        Metric.ASSISTED_APPLICATIONS, (Dimension.CORNER,), per_day=True
    )
    assert Counter({(f.keys[0], f.day): f.count for f in figures}) == counted
    # Each corner's sessions were run by its history clerk: a counter account nobody has
    # the password of, added (and recorded in the corner's audit log) at platform now.
    corners = {corner for corner, _ in counted}
    uow = platform.unit_of_work()
    with uow:
        for corner in corners:
            clerk = uow.staff.get(history_clerk(corner))
            assert clerk is not None
            assert (clerk.role, clerk.corner) == (Role.STAFF, corner)
            assert clerk.must_change_password
            assert DEMO_DAY <= clerk.created_at < DEMO_DAY + timedelta(hours=1)
            sessions = uow.assisted.recent(corner, 1000)
            assert {s.staff for s in sessions} == {clerk.name}
            assert all(s.end_reason is EndReason.APPLIED and s.preview is None for s in sessions)
            added = [e for e in uow.audit.recent(corner, 100) if e.entry.action == "staff_added"]
            assert [e.entry.details["staff"] for e in added] == [clerk.name]
        assert uow.staff.get(history_clerk("sawara_irube")) is None  # no sessions there
    # A larger history adds its sessions and no second clerk.
    _resize(platform, 2 * COUNTER_SIZE)
    assert seed_generated_history(platform).rows["assisted_sessions"] > 0
    assert _count(platform, assisted_sessions) == sum(
        len(p.rows["assisted_sessions"]) for p in generate(11, 2 * COUNTER_SIZE, timeline)
    )
    with uow:
        assert sum(e.entry.action == "staff_added" for e in uow.audit.recent(None, 100)) == len(
            {s.corner for s in uow.assisted.recent(None, 1000)}
        )


def test_an_account_of_a_clerk_s_name_elsewhere_is_refused_clearly(platform: Platform) -> None:
    _resize(platform, COUNTER_SIZE)
    uow = platform.unit_of_work()
    with uow:
        for corner in {m.corner for m in SHAPE.municipalities if m.corner}:
            uow.staff.add(
                StaffAccount(
                    name=history_clerk(corner),
                    role=Role.STAFF,
                    corner="sawara_irube",
                    password_hash="$argon2id$not-a-real-hash",  # noqa: S106 - no sign-in
                    created_at=DEMO_DAY,
                )
            )
        uow.commit()
    with pytest.raises(HistoryClash, match=r"'history-[a-z]+' is not a counter account of"):
        seed_generated_history(platform)


def test_another_seed_on_the_same_database_is_refused_clearly(platform: Platform) -> None:
    seed_generated_history(platform)
    other = platform.settings.model_copy(update={"demo_history_seed": 12})
    object.__setattr__(platform, "settings", other)
    with pytest.raises(HistoryClash, match="another generated history"):
        seed_generated_history(platform)


def test_no_persons_is_no_history_at_all(platform: Platform) -> None:
    none = platform.settings.model_copy(update={"demo_history_persons": 0})
    object.__setattr__(platform, "settings", none)
    loaded = seed_generated_history(platform)
    assert (loaded.written, loaded.closed_months) == (0, ())
    assert _count(platform, platform_persons) == 0
    uow = platform.unit_of_work()
    with uow:
        assert uow.settlements.closed_months() == set()
