"""services.ledger.queue_pending: every pending person in one evaluation job per chunk, the
markers left for the end job to clear (docs/JOBS.md)."""

from __future__ import annotations

from fakes import FakeUnitOfWork
from mynapoint.services.ledger import queue_pending


def test_every_pending_person_is_queued_once_in_chunks_and_the_markers_stay():
    uow = FakeUnitOfWork()
    with uow:
        first = uow.events.mark_pending(["p3", "p1", "p2"])
        second = uow.events.mark_pending(["p2", "p4", "p5"])
        uow.commit()
    with uow:
        markers, tickets = queue_pending(uow, chunk=2)
        uow.commit()

    assert markers == [first, second]
    assert uow.committed.queued == {
        1: ("evaluation", ["p1", "p2"]),
        2: ("evaluation", ["p3", "p4"]),
        3: ("evaluation", ["p5"]),
    }
    assert tickets == ["1", "2", "3"]
    with uow:
        # Cleared only once the evaluations are over: a person stays pending until evaluated.
        assert uow.events.pending_markers() == [first, second]


def test_nothing_pending_queues_nothing():
    uow = FakeUnitOfWork()
    with uow:
        assert queue_pending(uow) == ([], [])
        uow.commit()
    assert uow.committed.queued == {}


def test_what_a_rolled_back_unit_of_work_queued_is_not_queued():
    uow = FakeUnitOfWork()
    with uow:
        uow.events.mark_pending(["p1"])
        uow.commit()
    with uow:
        assert queue_pending(uow) == ([1], ["1"])
    assert uow.committed.queued == {}
