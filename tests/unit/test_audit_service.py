"""The audit service on the in-memory unit of work: the shared contract, the log line, the timer."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest

from audit_contract import AuditContract, record_many
from audit_factories import AT, KEY, VERIFIER
from fakes import FakeDatabase, FakeUnitOfWork
from mynapoint.domain.audit import parse_signed_head
from mynapoint.logs import JsonFormatter
from mynapoint.services.audit import keep_publishing, publish_head
from mynapoint.services.clock import FixedClock

if TYPE_CHECKING:
    from collections.abc import Callable

# A bound on every wait, so that a broken timer fails the test instead of hanging it.
TIMEOUT_S = 5


async def wait_for(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(TIMEOUT_S):
        # The timer's work changes the condition in a worker thread: polled, not signalled.
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.001)


class TestAuditOnTheFake(AuditContract):
    @pytest.fixture
    def make_uow(self) -> Callable[[], FakeUnitOfWork]:
        database = FakeDatabase()
        return lambda: FakeUnitOfWork(database)


def test_a_published_head_is_written_to_the_structured_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    database = FakeDatabase()
    record_many(lambda: FakeUnitOfWork(database), 3)

    with caplog.at_level(logging.INFO, logger="mynapoint.audit"):
        head = publish_head(FakeUnitOfWork(database), AT, KEY)

    [line] = [json.loads(JsonFormatter().format(r)) for r in caplog.records]
    assert line["logger"] == "mynapoint.audit"
    assert line["audit_head"] == str(head.head)
    assert line["entry_count"] == 3
    assert line["head_hash"] == head.head.hash
    assert line["published_at"] == AT.isoformat()
    # The signed form in the log is checked with the public key alone.
    assert VERIFIER.is_genuine(parse_signed_head(line["signed_head"]))


def test_the_server_timer_publishes_at_start_and_again_when_a_day_has_passed() -> None:
    database = FakeDatabase()
    clock = FixedClock(AT)
    checks = 0

    def unit_of_work() -> FakeUnitOfWork:
        nonlocal checks
        checks += 1
        return FakeUnitOfWork(database)

    async def run() -> None:
        timer = asyncio.create_task(
            keep_publishing(
                unit_of_work, clock.now, lambda: KEY, check_every=timedelta(milliseconds=1)
            )
        )
        await wait_for(lambda: len(database.committed.audit_heads) == 1)
        # Checked several times within the day: nothing more is published.
        await wait_for(lambda: checks >= 5)
        assert len(database.committed.audit_heads) == 1
        clock.advance(timedelta(days=1))
        await wait_for(lambda: len(database.committed.audit_heads) == 2)
        timer.cancel()
        with pytest.raises(asyncio.CancelledError):
            await timer

    asyncio.run(run())

    published = [head.published_at for head in database.committed.audit_heads.values()]
    assert published == [AT, AT + timedelta(days=1)]


def test_the_server_timer_keeps_going_after_a_failure(caplog: pytest.LogCaptureFixture) -> None:
    database = FakeDatabase()
    attempts = 0

    def unit_of_work() -> FakeUnitOfWork:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise ConnectionError("the database is down")
        return FakeUnitOfWork(database)

    async def run() -> None:
        timer = asyncio.create_task(
            keep_publishing(
                unit_of_work, FixedClock(AT).now, lambda: KEY, check_every=timedelta(milliseconds=1)
            )
        )
        await wait_for(lambda: bool(database.committed.audit_heads))
        timer.cancel()
        with pytest.raises(asyncio.CancelledError):
            await timer

    with caplog.at_level(logging.INFO, logger="mynapoint.audit"):
        asyncio.run(run())

    assert "publishing the audit head failed" in caplog.text
    assert len(database.committed.audit_heads) == 1
