"""What the audit log does on every unit of work kind: the database one and the in-memory fake.

A test class inherits `AuditContract` and provides `make_uow`, a factory of units of
work on one storage. Tampering with rows directly is database-only; it is in
tests/integration/test_audit_log.py.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, timedelta
from typing import TYPE_CHECKING

import pytest

from audit_factories import AT
from mynapoint.domain.audit import (
    GENESIS_HASH,
    AuditEntry,
    ChainHead,
    ProblemKind,
    PublishedHead,
    SealedEntry,
)
from mynapoint.services.audit import (
    AuditChainBroken,
    publish_head,
    publish_if_due,
    record,
    verify,
)
from unit_of_work_contract import race

if TYPE_CHECKING:
    from collections.abc import Callable

    from mynapoint.services.ports import UnitOfWork

    MakeUow = Callable[[], UnitOfWork]


def record_one(
    make_uow: MakeUow,
    number: int = 1,
    *,
    actor: str = "tanaka.hanako",
    role: str = "staff",
    corner: str | None = "chuo",
    mykey_id: str | None = "ABCD1234",
    details: dict[str, object] | None = None,
) -> SealedEntry:
    with make_uow() as uow:
        sealed = record(
            uow,
            now=AT + timedelta(minutes=number),
            actor=actor,
            role=role,
            corner=corner,
            action="linkage_committed",
            mykey_id=mykey_id,
            details={"number": number, "service_code": "paypay"} if details is None else details,
        )
        uow.commit()
    return sealed


def record_many(make_uow: MakeUow, count: int) -> list[SealedEntry]:
    return [record_one(make_uow, number) for number in range(1, count + 1)]


def stored(make_uow: MakeUow) -> list[SealedEntry]:
    with make_uow() as uow:
        return uow.audit.entries()


class AuditContract:
    def test_recorded_entries_form_one_chain_numbered_from_1(self, make_uow: MakeUow) -> None:
        recorded = record_many(make_uow, 20)

        report = verify(make_uow())

        assert report.ok, report.problems
        assert report.entries == 20
        assert report.head == ChainHead(20, recorded[-1].entry_hash)
        assert [s.seq for s in stored(make_uow)] == list(range(1, 21))
        assert recorded[0].previous_hash == GENESIS_HASH

    def test_an_entry_reads_back_exactly_as_it_was_recorded(self, make_uow: MakeUow) -> None:
        first = record_one(make_uow, 1, details={"holder": "ヤマダ タ*ウ", "n": [1, 2.5, None]})
        second = record_one(make_uow, 2, corner=None, mykey_id=None, role="admin", details={})

        assert stored(make_uow) == [first, second]
        assert stored(make_uow)[0].entry.at == AT + timedelta(minutes=1)

    def test_an_entry_not_committed_is_rolled_back_and_its_number_used_again(
        self, make_uow: MakeUow
    ) -> None:
        record_one(make_uow, 1)
        with make_uow() as uow:
            record(uow, now=AT, actor="a", role="staff", corner="chuo", action="dropped")

        second = record_one(make_uow, 2)

        assert second.seq == 2
        assert verify(make_uow()).ok

    def test_several_entries_in_one_unit_of_work_chain_to_each_other(
        self, make_uow: MakeUow
    ) -> None:
        with make_uow() as uow:
            first = record(uow, now=AT, actor="a", role="staff", corner="chuo", action="one")
            second = record(uow, now=AT, actor="a", role="staff", corner="chuo", action="two")
            uow.commit()

        assert (first.seq, second.seq) == (1, 2)
        assert second.previous_hash == first.entry_hash

    def test_an_empty_log_verifies_with_the_genesis_head(self, make_uow: MakeUow) -> None:
        report = verify(make_uow())

        assert report.ok
        assert report.head == ChainHead(0, GENESIS_HASH)
        assert report.checked_against is None

    def test_a_published_head_is_stored_and_verify_checks_against_it(
        self, make_uow: MakeUow
    ) -> None:
        record_many(make_uow, 5)
        head = publish_head(make_uow(), AT + timedelta(hours=1))
        record_many(make_uow, 2)

        report = verify(make_uow())

        assert head.count == 5
        assert report.ok
        assert report.checked_against == head
        assert report.published_at == AT + timedelta(hours=1)
        assert report.head.count == 7

    def test_verify_checks_against_a_given_head_instead_of_the_stored_one(
        self, make_uow: MakeUow
    ) -> None:
        record_many(make_uow, 5)
        publish_head(make_uow(), AT + timedelta(hours=1))
        wrong = ChainHead(3, "ab" * 32)

        report = verify(make_uow(), wrong)

        assert report.checked_against == wrong
        assert report.published_at is None
        assert [p.kind for p in report.problems] == [ProblemKind.HEAD_MISMATCH]

    def test_the_latest_head_is_the_one_published_last(self, make_uow: MakeUow) -> None:
        older = PublishedHead(ChainHead(0, GENESIS_HASH), AT)
        newer = PublishedHead(ChainHead(0, GENESIS_HASH), AT + timedelta(days=1))
        with make_uow() as uow:
            uow.audit.add_head(newer)
            uow.audit.add_head(older)
            uow.commit()

        with make_uow() as uow:
            latest = uow.audit.latest_head()

        assert latest is not None
        assert latest.published_at == newer.published_at

    def test_no_head_is_published_over_a_broken_chain(self, make_uow: MakeUow) -> None:
        recorded = record_many(make_uow, 3)
        with make_uow() as uow:
            uow.audit.add(
                SealedEntry(
                    _next(recorded[-1].entry),
                    previous_hash=recorded[-1].entry_hash,
                    entry_hash="f" * 64,
                )
            )
            uow.commit()

        with pytest.raises(AuditChainBroken) as broken:
            publish_head(make_uow(), AT + timedelta(hours=1))

        assert [p.kind for p in broken.value.problems] == [ProblemKind.ALTERED]
        with make_uow() as uow:
            assert uow.audit.latest_head() is None

    def test_a_head_is_published_when_none_is_and_then_once_a_day(self, make_uow: MakeUow) -> None:
        record_many(make_uow, 2)
        first = publish_if_due(make_uow(), AT)
        record_many(make_uow, 1)

        assert first == ChainHead(2, stored(make_uow)[1].entry_hash)
        assert publish_if_due(make_uow(), AT + timedelta(hours=23, minutes=59)) is None
        later = publish_if_due(make_uow(), AT + timedelta(days=1))
        assert later is not None
        assert later.count == 3
        with make_uow() as uow:
            latest = uow.audit.latest_head()
        assert latest == PublishedHead(later, AT + timedelta(days=1))

    def test_the_day_is_measured_in_instants_whatever_the_time_zone(
        self, make_uow: MakeUow
    ) -> None:
        publish_if_due(make_uow(), AT)

        assert publish_if_due(make_uow(), (AT + timedelta(hours=12)).astimezone(UTC)) is None

    def test_concurrent_records_form_one_chain(self, make_uow: MakeUow) -> None:
        racers = 4
        per_racer = 10

        def append(racer: int) -> None:
            for number in range(per_racer):
                record_one(make_uow, racer * per_racer + number + 1, actor=f"staff-{racer}")

        race(append, racers)

        report = verify(make_uow())
        assert report.ok, report.problems
        assert report.entries == racers * per_racer


def _next(entry: AuditEntry) -> AuditEntry:
    return replace(entry, seq=entry.seq + 1, action="forged")
