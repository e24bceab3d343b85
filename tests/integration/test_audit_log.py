"""The audit log on SQLite and PostgreSQL: rows changed behind the platform's back are found,
and appends from several connections at once still form one chain."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import delete, select, update

from audit_contract import AuditContract, record_many, record_one
from audit_factories import AT
from mynapoint.db.tables import audit_log
from mynapoint.db.unit_of_work import SqlUnitOfWork
from mynapoint.domain.audit import ProblemKind
from mynapoint.services.audit import publish_head, verify
from unit_of_work_contract import race

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy.engine import Engine
    from sqlalchemy.sql.expression import Executable

ENTRIES = 20


@pytest.fixture
def make_uow(migrated_engine: Engine) -> Callable[[], SqlUnitOfWork]:
    return lambda: SqlUnitOfWork(migrated_engine)


class TestAuditOnTheDatabase(AuditContract):
    """The shared contract, with `make_uow` above."""


@pytest.fixture
def published(make_uow: Callable[[], SqlUnitOfWork]) -> None:
    """20 entries and their head, published."""
    record_many(make_uow, ENTRIES)
    publish_head(make_uow(), AT + timedelta(hours=1))


def tamper(engine: Engine, statement: Executable) -> None:
    """Change rows with plain SQL, as someone with database access could."""
    with engine.begin() as connection:
        connection.execute(statement)


def problem_kinds(make_uow: Callable[[], SqlUnitOfWork]) -> list[tuple[ProblemKind, int]]:
    return [(p.kind, p.seq) for p in verify(make_uow()).problems]


@pytest.mark.usefixtures("published")
def test_twenty_recorded_entries_verify_against_their_published_head(
    make_uow: Callable[[], SqlUnitOfWork],
) -> None:
    report = verify(make_uow())

    assert report.ok, report.problems
    assert report.entries == ENTRIES
    assert report.checked_against == report.head


@pytest.mark.usefixtures("published")
def test_details_changed_with_sql_are_detected(
    migrated_engine: Engine, make_uow: Callable[[], SqlUnitOfWork]
) -> None:
    tamper(
        migrated_engine,
        update(audit_log)
        .where(audit_log.c.seq == 7)
        .values(details='{"number":7,"service_code":"rakuten_pay"}'),
    )

    assert problem_kinds(make_uow) == [(ProblemKind.ALTERED, 7)]


@pytest.mark.usefixtures("published")
@pytest.mark.parametrize(
    "values",
    [
        {"actor": "suzuki.ichiro"},
        {"mykey_id": "ZZZZ9999"},
        {"corner": None},
        {"at": AT + timedelta(days=1)},
        {"details": "not JSON"},
    ],
    ids=["actor", "mykey_id", "corner", "at", "unreadable_details"],
)
def test_any_column_changed_with_sql_is_detected(
    migrated_engine: Engine, make_uow: Callable[[], SqlUnitOfWork], values: dict[str, object]
) -> None:
    tamper(migrated_engine, update(audit_log).where(audit_log.c.seq == 12).values(**values))

    assert problem_kinds(make_uow) == [(ProblemKind.ALTERED, 12)]


@pytest.mark.usefixtures("published")
def test_a_row_deleted_with_sql_is_detected(
    migrated_engine: Engine, make_uow: Callable[[], SqlUnitOfWork]
) -> None:
    tamper(migrated_engine, delete(audit_log).where(audit_log.c.seq == 9))

    assert problem_kinds(make_uow) == [(ProblemKind.MISSING, 9)]


@pytest.mark.usefixtures("published")
def test_the_newest_rows_deleted_with_sql_are_detected_against_the_published_head(
    migrated_engine: Engine, make_uow: Callable[[], SqlUnitOfWork]
) -> None:
    tamper(migrated_engine, delete(audit_log).where(audit_log.c.seq > ENTRIES - 3))

    report = verify(make_uow())

    assert [(p.kind, p.seq) for p in report.problems] == [(ProblemKind.TRUNCATED, ENTRIES)]
    assert "entries 18–20 were removed" in report.problems[0].message


def test_the_newest_rows_deleted_before_any_head_was_published_go_unnoticed(
    migrated_engine: Engine, make_uow: Callable[[], SqlUnitOfWork]
) -> None:
    # The documented limit: without a published head a shorter chain is an intact chain.
    record_many(make_uow, ENTRIES)
    tamper(migrated_engine, delete(audit_log).where(audit_log.c.seq > ENTRIES - 3))

    assert verify(make_uow()).ok


@pytest.mark.usefixtures("published")
def test_after_truncation_new_entries_do_not_hide_it(
    migrated_engine: Engine, make_uow: Callable[[], SqlUnitOfWork]
) -> None:
    tamper(migrated_engine, delete(audit_log).where(audit_log.c.seq > ENTRIES - 3))
    record_many(make_uow, 5)

    assert problem_kinds(make_uow) == [(ProblemKind.HEAD_MISMATCH, ENTRIES)]


def test_two_threads_appending_fifty_entries_each_form_one_chain_of_a_hundred(
    migrated_engine: Engine,
) -> None:
    def append(racer: int) -> None:
        # Each unit of work is its own connection, as two server processes would have.
        for number in range(50):
            record_one(lambda: SqlUnitOfWork(migrated_engine), number + 1, actor=f"staff-{racer}")

    race(append, racers=2)

    report = verify(SqlUnitOfWork(migrated_engine))
    assert report.ok, report.problems
    assert report.entries == 100
    with migrated_engine.connect() as connection:
        actors = connection.execute(select(audit_log.c.actor)).scalars().all()
    assert actors.count("staff-0") == actors.count("staff-1") == 50
