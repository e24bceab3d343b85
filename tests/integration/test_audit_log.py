"""The audit log on SQLite and PostgreSQL: rows changed behind the platform's back are found,
and appends from several connections at once still form one chain."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.exc import DBAPIError

from audit_contract import AuditContract, record_many, record_one
from audit_factories import AT, KEY, VERIFIER
from audit_tamper import tamper
from mynapoint.db.tables import audit_heads, audit_log
from mynapoint.db.unit_of_work import SqlUnitOfWork
from mynapoint.domain.audit import ChainHead, ProblemKind, seal
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
    publish_head(make_uow(), AT + timedelta(hours=1), KEY)


def problem_kinds(make_uow: Callable[[], SqlUnitOfWork]) -> list[tuple[ProblemKind, int]]:
    return [(p.kind, p.seq) for p in verify(make_uow(), VERIFIER).problems]


@pytest.mark.usefixtures("published")
def test_twenty_recorded_entries_verify_against_their_published_head(
    make_uow: Callable[[], SqlUnitOfWork],
) -> None:
    report = verify(make_uow(), VERIFIER)

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

    report = verify(make_uow(), VERIFIER)

    assert [(p.kind, p.seq) for p in report.problems] == [(ProblemKind.TRUNCATED, ENTRIES)]
    assert "entries 18–20 were removed" in report.problems[0].message


def test_the_newest_rows_deleted_before_any_head_was_published_go_unnoticed(
    migrated_engine: Engine, make_uow: Callable[[], SqlUnitOfWork]
) -> None:
    # The documented limit: without a published head a shorter chain is an intact chain.
    record_many(make_uow, ENTRIES)
    tamper(migrated_engine, delete(audit_log).where(audit_log.c.seq > ENTRIES - 3))

    assert verify(make_uow(), VERIFIER).ok


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

    report = verify(SqlUnitOfWork(migrated_engine), VERIFIER)
    assert report.ok, report.problems
    assert report.entries == 100
    with migrated_engine.connect() as connection:
        actors = connection.execute(select(audit_log.c.actor)).scalars().all()
    assert actors.count("staff-0") == actors.count("staff-1") == 50


@pytest.mark.usefixtures("published")
@pytest.mark.parametrize(
    "statement",
    [
        update(audit_log).where(audit_log.c.seq == 3).values(actor="suzuki.ichiro"),
        delete(audit_log).where(audit_log.c.seq == ENTRIES),
        delete(audit_log),
        update(audit_heads).values(head_hash="cd" * 32),
        delete(audit_heads),
    ],
    ids=["update_entry", "delete_entry", "delete_log", "update_head", "delete_heads"],
)
def test_the_owner_itself_cannot_update_or_delete_audit_rows(
    migrated_engine: Engine, make_uow: Callable[[], SqlUnitOfWork], statement: Executable
) -> None:
    with pytest.raises(DBAPIError, match="append-only"), migrated_engine.begin() as connection:
        connection.execute(statement)

    assert verify(make_uow(), VERIFIER).ok


@pytest.mark.usefixtures("published")
@pytest.mark.parametrize("table", ["audit_log", "audit_heads"])
def test_the_owner_itself_cannot_truncate_audit_tables_on_postgresql(
    migrated_engine: Engine, table: str
) -> None:
    if migrated_engine.dialect.name != "postgresql":
        pytest.skip("TRUNCATE is PostgreSQL's; SQLite has only DELETE")
    with pytest.raises(DBAPIError, match="append-only"), migrated_engine.begin() as connection:
        connection.exec_driver_sql(f"TRUNCATE {table}")


@pytest.mark.usefixtures("published")
def test_a_chain_relinked_with_its_stored_head_rewritten_fails_verification(
    migrated_engine: Engine, make_uow: Callable[[], SqlUnitOfWork]
) -> None:
    """The owner drops the triggers, edits entry 12, recomputes every later hash and rewrites
    the stored head to match: the chain is intact, but the head's signature no longer is."""
    with make_uow() as uow:
        entries = uow.audit.entries()
    previous = entries[10].entry_hash
    statements = []
    for sealed in entries[11:]:
        content = sealed.entry
        if content.seq == 12:
            content = replace(content, actor="suzuki.ichiro")
        resealed = seal(content, previous)
        statements.append(
            update(audit_log)
            .where(audit_log.c.seq == content.seq)
            .values(
                actor=content.actor,
                previous_hash=resealed.previous_hash,
                entry_hash=resealed.entry_hash,
            )
        )
        previous = resealed.entry_hash
    statements.append(update(audit_heads).values(head_hash=previous))
    tamper(migrated_engine, *statements)

    report = verify(make_uow(), VERIFIER)

    assert [(p.kind, p.seq) for p in report.problems] == [(ProblemKind.HEAD_FORGED, ENTRIES)]
    assert not report.signed
    assert report.head == ChainHead(ENTRIES, previous)
