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

from audit_factories import AT, KEY, OTHER_KEY, VERIFIER
from mynapoint.domain.audit import (
    GENESIS_HASH,
    AuditEntry,
    AuditSearch,
    ChainHead,
    ProblemKind,
    PublishedHead,
    SealedEntry,
    parse_signed_head,
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


def record_many(make_uow: MakeUow, count: int, *, first: int = 1) -> list[SealedEntry]:
    return [record_one(make_uow, number) for number in range(first, first + count)]


def stored(make_uow: MakeUow) -> list[SealedEntry]:
    with make_uow() as uow:
        return uow.audit.entries()


class AuditContract:
    def test_recorded_entries_form_one_chain_numbered_from_1(self, make_uow: MakeUow) -> None:
        recorded = record_many(make_uow, 20)

        report = verify(make_uow(), VERIFIER)

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
        assert verify(make_uow(), VERIFIER).ok

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
        report = verify(make_uow(), VERIFIER)

        assert report.ok
        assert report.head == ChainHead(0, GENESIS_HASH)
        assert report.checked_against is None

    def test_a_published_head_is_stored_and_verify_checks_against_it(
        self, make_uow: MakeUow
    ) -> None:
        record_many(make_uow, 5)
        head = publish_head(make_uow(), AT + timedelta(hours=1), KEY)
        record_many(make_uow, 2)

        report = verify(make_uow(), VERIFIER)

        assert head.head.count == 5
        assert report.ok
        assert report.signed
        assert report.checked_against == head.head
        assert report.published_at == AT + timedelta(hours=1)
        assert report.head.count == 7

    def test_verify_checks_against_a_given_head_instead_of_the_stored_one(
        self, make_uow: MakeUow
    ) -> None:
        record_many(make_uow, 5)
        publish_head(make_uow(), AT + timedelta(hours=1), KEY)
        wrong = ChainHead(3, "ab" * 32)

        report = verify(make_uow(), VERIFIER, wrong)

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
            publish_head(make_uow(), AT + timedelta(hours=1), KEY)

        assert [p.kind for p in broken.value.problems] == [ProblemKind.ALTERED]
        with make_uow() as uow:
            assert uow.audit.latest_head() is None

    def test_a_head_is_published_when_none_is_and_then_once_a_day(self, make_uow: MakeUow) -> None:
        record_many(make_uow, 2)
        first = publish_if_due(make_uow(), AT, KEY)
        record_many(make_uow, 1)

        assert first is not None
        assert first.head == ChainHead(2, stored(make_uow)[1].entry_hash)
        assert publish_if_due(make_uow(), AT + timedelta(hours=23, minutes=59), KEY) is None
        later = publish_if_due(make_uow(), AT + timedelta(days=1), KEY)
        assert later is not None
        assert later.head.count == 3
        with make_uow() as uow:
            latest = uow.audit.latest_head()
        assert latest == later
        assert latest.published_at == AT + timedelta(days=1)

    def test_servers_finding_a_head_due_at_once_publish_one(self, make_uow: MakeUow) -> None:
        record_many(make_uow, 2)

        published = race(lambda _: publish_if_due(make_uow(), AT, KEY))

        assert len([head for head in published if head is not None]) == 1
        with make_uow() as uow:
            assert len(uow.audit.heads()) == 1

    def test_the_day_is_measured_in_instants_whatever_the_time_zone(
        self, make_uow: MakeUow
    ) -> None:
        publish_if_due(make_uow(), AT, KEY)

        assert publish_if_due(make_uow(), (AT + timedelta(hours=12)).astimezone(UTC), KEY) is None

    def test_a_published_head_carries_a_signature_the_public_key_verifies(
        self, make_uow: MakeUow
    ) -> None:
        record_many(make_uow, 3)

        head = publish_head(make_uow(), AT + timedelta(hours=1), KEY)

        assert head.signature is not None
        assert VERIFIER.is_genuine(head)
        assert parse_signed_head(str(head)) == head
        assert not OTHER_KEY.verifier().is_genuine(head)

    def test_a_stored_head_rewritten_without_the_key_fails_verification(
        self, make_uow: MakeUow
    ) -> None:
        """Who can write the database but not read the key file re-links the chain and stores
        a head to match: unsigned, or with a signature copied or made with another key."""
        record_many(make_uow, 4)
        genuine = publish_head(make_uow(), AT + timedelta(hours=1), KEY)
        rewritten = ChainHead(4, "cd" * 32)
        forged = (
            PublishedHead(rewritten, AT + timedelta(hours=2)),
            replace(genuine, head=rewritten, published_at=AT + timedelta(hours=3)),
            OTHER_KEY.sign(rewritten, AT + timedelta(hours=4)),
        )
        with make_uow() as uow:
            for head in forged:
                uow.audit.add_head(head)
            uow.commit()

        report = verify(make_uow(), VERIFIER)

        assert [p.kind for p in report.problems] == [ProblemKind.HEAD_FORGED] * 3
        assert report.checked_against == genuine.head
        assert report.signed
        with pytest.raises(AuditChainBroken):
            publish_head(make_uow(), AT + timedelta(hours=5), KEY)

    def test_a_genuine_older_head_stored_again_last_does_not_hide_later_entries(
        self, make_uow: MakeUow
    ) -> None:
        record_many(make_uow, 2)
        older = publish_head(make_uow(), AT + timedelta(hours=1), KEY)
        record_many(make_uow, 2, first=3)
        newer = publish_head(make_uow(), AT + timedelta(hours=2), KEY)
        with make_uow() as uow:
            uow.audit.add_head(older)
            uow.commit()

        report = verify(make_uow(), VERIFIER)

        assert report.ok
        assert report.checked_against == newer.head

    def test_unsigned_heads_published_before_signing_began_are_not_reported(
        self, make_uow: MakeUow
    ) -> None:
        record_many(make_uow, 2)
        with make_uow() as uow:
            uow.audit.add_head(PublishedHead(ChainHead(0, GENESIS_HASH), AT))
            uow.commit()
        assert verify(make_uow(), VERIFIER).signed is False

        head = publish_head(make_uow(), AT + timedelta(hours=1), KEY)
        report = verify(make_uow(), VERIFIER)

        assert report.ok, report.problems
        assert report.checked_against == head.head

    def test_a_given_signed_head_is_checked_for_its_signature(self, make_uow: MakeUow) -> None:
        record_many(make_uow, 3)
        genuine = publish_head(make_uow(), AT + timedelta(hours=1), KEY)
        altered = replace(genuine, published_at=AT + timedelta(hours=2))

        assert verify(make_uow(), VERIFIER, genuine).signed
        report = verify(make_uow(), VERIFIER, altered)

        assert [p.kind for p in report.problems] == [ProblemKind.HEAD_FORGED]
        assert not report.signed

    def test_the_log_is_searched_by_action_actor_and_time_newest_first_in_pages(
        self, make_uow: MakeUow
    ) -> None:
        for number in range(1, 7):
            record_one(make_uow, number, actor="sato" if number % 2 else "tanaka")
        with make_uow() as uow:
            record(
                uow, now=AT + timedelta(minutes=7), actor="sato", role="admin", corner=None,
                action="staff_disabled", details={"name": "x"},
            )  # fmt: skip
            uow.commit()
        with make_uow() as uow:
            total, page = uow.audit.search(AuditSearch(), 0, 3)
            assert total == 7
            assert [sealed.seq for sealed in page] == [7, 6, 5]
            total, page = uow.audit.search(AuditSearch(), 6, 3)
            assert [sealed.seq for sealed in page] == [1]
            total, page = uow.audit.search(AuditSearch(actor="sato"), 0, 10)
            assert (total, [s.seq for s in page]) == (4, [7, 5, 3, 1])
            total, page = uow.audit.search(AuditSearch(action="staff_disabled"), 0, 10)
            assert [s.entry.actor for s in page] == ["sato"]
            since, before = AT + timedelta(minutes=2), AT + timedelta(minutes=4)
            total, page = uow.audit.search(AuditSearch(since=since, before=before), 0, 10)
            assert [s.seq for s in page] == [3, 2]  # since included, before not
            total, page = uow.audit.search(AuditSearch(actor="sato", since=since), 1, 1)
            assert (total, [s.seq for s in page]) == (3, [5])
            assert uow.audit.search(AuditSearch(actor="nobody"), 0, 10) == (0, [])
            assert uow.audit.actions() == ["linkage_committed", "staff_disabled"]

    def test_concurrent_records_form_one_chain(self, make_uow: MakeUow) -> None:
        racers = 4
        per_racer = 10

        def append(racer: int) -> None:
            for number in range(per_racer):
                record_one(make_uow, racer * per_racer + number + 1, actor=f"staff-{racer}")

        race(append, racers)

        report = verify(make_uow(), VERIFIER)
        assert report.ok, report.problems
        assert report.entries == racers * per_racer


def _next(entry: AuditEntry) -> AuditEntry:
    return replace(entry, seq=entry.seq + 1, action="forged")
