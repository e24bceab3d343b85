"""The in-memory unit of work obeys the same contract as the database one."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from applications_contract import ApplicationsContract
from fakes import FakeDatabase, FakeUnitOfWork
from ledger_contract import LedgerContract
from unit_of_work_contract import UnitOfWorkContract, make_mykey

if TYPE_CHECKING:
    from collections.abc import Callable


class TestFakeUnitOfWork(UnitOfWorkContract, ApplicationsContract, LedgerContract):
    @pytest.fixture
    def make_uow(self) -> Callable[[], FakeUnitOfWork]:
        database = FakeDatabase()
        return lambda: FakeUnitOfWork(database)


def test_the_fake_shows_what_was_committed_and_how_often() -> None:
    uow = FakeUnitOfWork()

    with uow:
        uow.mykeys.add(make_mykey())
        assert uow.committed.mykeys == {}
        uow.commit()

    assert uow.committed.mykeys == {"ABCD1234": make_mykey()}
    assert uow.commits == 1
