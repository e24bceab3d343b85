"""The summary tables equal the live tables' figures, counted independently (statistics_world
oracle), after a full refresh and after incremental ones, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select, update

from ledger_factories import make_application
from mynapoint.db.statistics_store import SqlStatisticsStore
from mynapoint.db.tables import daily_statistics, platform_clock
from mynapoint.db.unit_of_work import SqlUnitOfWork
from mynapoint.domain.calendar import jst_date
from mynapoint.domain.statistics import DIMENSIONS, Metric
from mynapoint.services.statistics import (
    StatisticsNotComputed,
    pending_grants,
    refresh,
    series,
    totals,
)
from statistics_world import START, World, oracle

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine


def summarised(engine: Engine) -> tuple[Counter, Counter]:  # type: ignore[type-arg]
    """What the summary tables hold, keyed as the oracle keys it."""
    store = SqlStatisticsStore(engine)
    counts: Counter = Counter()  # type: ignore[type-arg]
    points: Counter = Counter()  # type: ignore[type-arg]
    for metric in Metric:
        for figure in store.figures(metric, DIMENSIONS[metric], per_day=True):
            assert figure.day is not None
            counts[str(metric), figure.day, figure.keys] += figure.count
            if figure.points:
                points[str(metric), figure.day, figure.keys] += figure.points
    return counts, points


def table_rows(engine: Engine) -> set[tuple[object, ...]]:
    with engine.connect() as connection:
        return {tuple(row) for row in connection.execute(select(daily_statistics))}


def assert_equals_oracle(engine: Engine) -> None:
    expected_counts, expected_points, expected_pending = oracle(engine)
    counts, points = summarised(engine)
    assert counts == expected_counts
    assert points == +expected_points
    store = SqlStatisticsStore(engine)
    assert {(o, d): (c, p) for o, d, c, p in store.pending()} == expected_pending


def build(engine: Engine, seed: int) -> tuple[World, list[str], list[str]]:
    world = World(engine, random.Random(seed))  # noqa: S311 - test data, not secrets
    world.add_staff()
    world.add_people(40, day=0)
    world.add_people(25, day=1)
    applied = world.apply_some(60, day=0) + world.apply_some(45, day=1)
    world.cancel_some(applied, 12, day=2)
    grants = world.grant_some(50, day=1, grant_days=range(4)) + world.grant_some(
        30, day=2, grant_days=range(2, 6)
    )
    world.acknowledge_some(grants, 25, day=3)
    world.assist_some(20, day=1)
    return world, applied, grants


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_full_refresh_equals_the_figures_counted_from_the_live_tables(
    migrated_engine: Engine, seed: int
) -> None:
    build(migrated_engine, seed)
    done = refresh(SqlStatisticsStore(migrated_engine), START + timedelta(days=4))
    assert done.full
    assert_equals_oracle(migrated_engine)


@pytest.mark.parametrize("seed", [4, 5])
def test_incremental_refreshes_equal_a_full_one_after_every_kind_of_change(
    migrated_engine: Engine, seed: int
) -> None:
    store = SqlStatisticsStore(migrated_engine)
    world, applied, grants = build(migrated_engine, seed)
    now = START + timedelta(days=4)
    refresh(store, now)
    # Later: new persons and applications (one a second before and one at a JST midnight),
    # cancellations of earlier applications, new grants for past grant days, clawbacks,
    # acknowledgements, assisted applications; each step refreshed incrementally.
    # Step k writes at instants of JST day 4 + k (some a second before its midnight, inside
    # the refresh's overlap) and is refreshed at the start of the next day.
    steps = [
        lambda day: world.add_people(10, day=day),
        lambda day: applied.extend(world.apply_some(30, day=day)),
        lambda day: world.cancel_some(applied, 10, day=day),
        lambda day: grants.extend(world.grant_some(25, day=day, grant_days=range(6))),
        lambda day: world.acknowledge_some(grants, 10, day=day),
        lambda day: world.assist_some(8, day=day),
        lambda day: applied.extend(world.apply_some(20, day=day)),
    ]
    for number, step in enumerate(steps):
        step(4 + number)
        now = START + timedelta(days=5 + number)
        done = refresh(store, now)
        assert not done.full
        assert_equals_oracle(migrated_engine)
    incremental = table_rows(migrated_engine)
    assert refresh(store, now + timedelta(minutes=1), full=True).full
    assert table_rows(migrated_engine) == incremental


def test_an_incremental_refresh_with_nothing_new_recomputes_little(
    migrated_engine: Engine,
) -> None:
    store = SqlStatisticsStore(migrated_engine)
    build(migrated_engine, 6)
    refresh(store, START + timedelta(days=30))
    # Everything was written more than REFRESH_OVERLAP before: no day to recompute.
    assert refresh(store, START + timedelta(days=30, minutes=5)).days == 0


def test_grants_stamped_long_before_they_commit_are_still_counted(
    migrated_engine: Engine,
) -> None:
    """An upload's evaluation stamps its instructions with the `now` of its start, and may
    commit them long after: a refresh meanwhile must not lose them."""
    store = SqlStatisticsStore(migrated_engine)
    world, _, _ = build(migrated_engine, 9)
    refresh(store, START + timedelta(days=30))
    world.grant_some(20, day=0, grant_days=range(3))  # created_at on day 0, committed now
    done = refresh(store, START + timedelta(days=30, minutes=5))
    assert not done.full
    assert_equals_oracle(migrated_engine)


def test_a_clock_set_anew_makes_the_next_refresh_full(migrated_engine: Engine) -> None:
    store = SqlStatisticsStore(migrated_engine)
    build(migrated_engine, 7)
    with migrated_engine.begin() as connection:
        connection.execute(
            platform_clock.insert().values(id=1, started_at=START, recorded_real_at=START)
        )
    refresh(store, START + timedelta(days=30))
    assert not refresh(store, START + timedelta(days=30, minutes=1)).full
    with migrated_engine.begin() as connection:
        connection.execute(update(platform_clock).values(started_at=START - timedelta(days=9)))
    assert refresh(store, START + timedelta(days=30, minutes=2)).full
    # A clock behind the last refresh: full too.
    assert refresh(store, START + timedelta(days=1)).full


def test_the_services_queries_equal_the_oracle_and_say_as_of_when(
    migrated_engine: Engine,
) -> None:
    store = SqlStatisticsStore(migrated_engine)
    with pytest.raises(StatisticsNotComputed):
        totals(store)
    build(migrated_engine, 8)
    now = START + timedelta(days=3, hours=2)
    refresh(store, now)
    counts, points, pending = oracle(migrated_engine)

    def total(metric: str, source: Counter, first: date | None = None) -> int:  # type: ignore[type-arg]
        return sum(
            v for (m, d, _), v in source.items() if m == metric and (first is None or d >= first)
        )

    summed = totals(store)
    assert summed.computed_at == now
    assert summed.mykeys == total("mykeys", counts)
    assert summed.applications == total("applications", counts)
    assert summed.cancellations == total("cancellations", counts)
    assert summed.points_granted == total("points_granted", points)
    assert summed.points_clawed_back == total("points_clawed_back", points)
    assert summed.assisted_applications == total("assisted_applications", counts)
    from_day = date(2021, 7, 20)
    assert totals(store, start=from_day).applications == total("applications", counts, from_day)
    daily = series(store, Metric.APPLICATIONS)
    assert {f.day: f.count for f in daily.figures} == {
        d: sum(v for (m, day, _), v in counts.items() if m == "applications" and day == d)
        for (m, d, _) in counts
        if m == "applications"
    }
    late = pending_grants(store)
    assert late.computed_at == now
    assert sum(o.instructions for o in late.operators) == sum(c for c, _ in pending.values())
    today = jst_date(now)  # 2021-07-22
    for operator in late.operators:
        rows = {d: c for (o, d), (c, _) in pending.items() if o == operator.operator_code}
        assert operator.oldest_due == min(rows)
        assert operator.late == sum(c for d, c in rows.items() if d < today)
        assert operator.days_late == max((today - min(rows)).days, 0)


def test_an_empty_program_has_zero_totals_and_nothing_pending(migrated_engine: Engine) -> None:
    store = SqlStatisticsStore(migrated_engine)
    refresh(store, START)
    summed = totals(store)
    assert (summed.mykeys, summed.applications, summed.points_granted) == (0, 0, 0)
    assert series(store, Metric.APPLICATIONS).figures == ()
    assert pending_grants(store).operators == ()


@pytest.mark.parametrize(
    ("applied_at", "day"),
    [
        (START - timedelta(seconds=1), date(2021, 7, 18)),  # 23:59:59 JST
        (START, date(2021, 7, 19)),  # 00:00:00 JST
        (START + timedelta(hours=23, minutes=59, seconds=59), date(2021, 7, 19)),
        (START + timedelta(days=1), date(2021, 7, 20)),
    ],
)
def test_an_application_counts_on_its_jst_day(
    migrated_engine: Engine, applied_at: datetime, day: date
) -> None:
    with SqlUnitOfWork(migrated_engine) as uow:
        uow.applications.add(make_application("app-1", applied_at=applied_at))
        uow.commit()
    store = SqlStatisticsStore(migrated_engine)
    refresh(store, START + timedelta(days=2))
    assert [(f.day, f.count) for f in series(store, Metric.APPLICATIONS).figures] == [(day, 1)]
