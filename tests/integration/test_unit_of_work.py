"""The unit of work on SQLite and PostgreSQL; the contract itself is in unit_of_work_contract.py."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from sqlalchemy.exc import StatementError

from applications_contract import ApplicationsContract
from ledger_contract import LedgerContract
from mynapoint.db.engine import ReadOnlyViolation
from mynapoint.db.unit_of_work import SqlUnitOfWork
from unit_of_work_contract import NOW, UnitOfWorkContract, make_challenge

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy.engine import Engine


class TestSqlUnitOfWork(UnitOfWorkContract, ApplicationsContract, LedgerContract):
    @pytest.fixture
    def make_uow(self, migrated_engine: Engine) -> Callable[[], SqlUnitOfWork]:
        return lambda: SqlUnitOfWork(migrated_engine)


def test_a_finished_block_returns_its_connection_to_the_pool(migrated_engine: Engine) -> None:
    uow = SqlUnitOfWork(migrated_engine)
    checked_out_before = migrated_engine.pool.checkedout()

    with uow:
        uow.challenges.add(make_challenge())
        uow.commit()
    with pytest.raises(StatementError, match="no UTC offset"), uow:
        uow.challenges.use("challenge-1", NOW.replace(tzinfo=None))

    assert migrated_engine.pool.checkedout() == checked_out_before


def test_a_write_in_a_reading_block_is_refused_and_nothing_is_written(
    migrated_engine: Engine,
) -> None:
    # Without a transaction a write would commit by itself: it is never sent.
    uow = SqlUnitOfWork(migrated_engine)
    with pytest.raises(ReadOnlyViolation, match="INSERT"), uow.reading():
        uow.challenges.add(make_challenge())

    with uow:
        assert uow.challenges.get("challenge-1") is None


def test_a_reading_block_returns_its_connection_to_the_pool(migrated_engine: Engine) -> None:
    uow = SqlUnitOfWork(migrated_engine)
    checked_out_before = migrated_engine.pool.checkedout()

    with uow.reading():
        assert uow.challenges.get("challenge-1") is None

    assert migrated_engine.pool.checkedout() == checked_out_before
