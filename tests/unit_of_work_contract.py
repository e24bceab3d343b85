"""What every UnitOfWork must do, run against the database one and the in-memory fake.

A test class inherits `UnitOfWorkContract` (transactions, challenges, sessions,
MyKey IDs) with `ApplicationsContract` (persons, operator keys, accounts,
applications; applications_contract.py) and `LedgerContract` (events, grant
instructions, settlement; ledger_contract.py), and provides a `make_uow` fixture
returning a factory: each call gives a new unit of work on the same storage,
as each request gets its own.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, TypeVar

import pytest

from mynapoint.domain.auth import Challenge, Session
from mynapoint.domain.calendar import JST
from mynapoint.domain.mykey import MyKey
from mynapoint.domain.staff import Role, StaffAccount, StaffSession

if TYPE_CHECKING:
    from collections.abc import Callable

    from mynapoint.services.ports import UnitOfWork

    MakeUow = Callable[[], UnitOfWork]

NOW = datetime(2021, 7, 19, 10, 0, tzinfo=JST)
RACERS = 4
SECOND = timedelta(seconds=1)

T = TypeVar("T")


def make_challenge(
    challenge_id: str = "challenge-1", *, used_at: datetime | None = None
) -> Challenge:
    return Challenge(
        challenge_id=challenge_id,
        nonce=bytes(range(32)),
        expires_at=NOW + timedelta(minutes=5),
        used_at=used_at,
    )


def make_session(token_hash: str = "a" * 64, *, person: str = "person-1") -> Session:
    return Session(
        token_hash=token_hash,
        person=person,
        serial="1A2B3C",
        expires_at=NOW + timedelta(minutes=30),
    )


def make_mykey(mykey_id: str = "ABCD1234", *, person: str = "person-1") -> MyKey:
    return MyKey(mykey_id=mykey_id, person=person, created_at=NOW)


def race(action: Callable[[int], T], racers: int = RACERS) -> list[T]:
    """Run `action(0)`, `action(1)`, … in threads that start together."""
    start_together = threading.Barrier(racers)

    def run(number: int) -> T:
        start_together.wait()
        return action(number)

    with ThreadPoolExecutor(racers) as pool:
        return list(pool.map(run, range(racers)))


class UnitOfWorkContract:
    # --- transactions ------------------------------------------------------------

    def test_changes_without_commit_are_rolled_back(self, make_uow: MakeUow) -> None:
        with make_uow() as uow:
            uow.challenges.add(make_challenge())

        with make_uow() as uow:
            assert uow.challenges.get("challenge-1") is None

    def test_committed_changes_are_seen_by_the_next_unit_of_work(self, make_uow: MakeUow) -> None:
        with make_uow() as uow:
            uow.challenges.add(make_challenge())
            uow.commit()

        with make_uow() as uow:
            assert uow.challenges.get("challenge-1") == make_challenge()

    def test_an_error_in_the_block_rolls_back(self, make_uow: MakeUow) -> None:
        def add_then_fail() -> None:
            with make_uow() as uow:
                uow.challenges.add(make_challenge())
                raise LookupError

        with pytest.raises(LookupError):
            add_then_fail()

        with make_uow() as uow:
            assert uow.challenges.get("challenge-1") is None

    def test_an_autocommit_block_keeps_its_write_even_when_it_then_fails(
        self, make_uow: MakeUow
    ) -> None:
        def add_then_fail() -> None:
            uow = make_uow()
            with uow.autocommit():
                uow.challenges.add(make_challenge())
                raise LookupError

        with pytest.raises(LookupError):
            add_then_fail()

        uow = make_uow()
        with uow.reading():
            assert uow.challenges.get("challenge-1") == make_challenge()
        # The next block is an ordinary one again: without commit() nothing stays.
        with uow:
            uow.challenges.add(make_challenge("challenge-2"))
        with uow.reading():
            assert uow.challenges.get("challenge-2") is None

    def test_a_reading_block_sees_what_was_committed(self, make_uow: MakeUow) -> None:
        with make_uow() as uow:
            uow.challenges.add(make_challenge())
            uow.commit()

        uow = make_uow()
        with uow.reading():
            assert uow.challenges.get("challenge-1") == make_challenge()
        # The next block is an ordinary one again: it writes and commits.
        with uow:
            uow.challenges.add(make_challenge("challenge-2"))
            uow.commit()
        with uow.reading():
            assert uow.challenges.get("challenge-2") is not None

    def test_a_reading_block_refuses_to_commit(self, make_uow: MakeUow) -> None:
        uow = make_uow()
        with pytest.raises(RuntimeError, match="nothing to commit"), uow.reading():
            uow.commit()

    def test_a_block_reads_its_own_uncommitted_writes(self, make_uow: MakeUow) -> None:
        with make_uow() as uow:
            uow.mykeys.add(make_mykey())

            assert uow.mykeys.for_person("person-1") == make_mykey()
            assert uow.mykeys.count() == 1

    def test_the_same_unit_of_work_serves_blocks_one_after_the_other(
        self, make_uow: MakeUow
    ) -> None:
        uow = make_uow()
        with uow:
            uow.challenges.add(make_challenge())
            uow.commit()
        with uow:
            uow.challenges.add(make_challenge("challenge-2"))

        with uow:
            assert uow.challenges.get("challenge-1") is not None
            assert uow.challenges.get("challenge-2") is None

    def test_changes_after_commit_need_another_commit(self, make_uow: MakeUow) -> None:
        with make_uow() as uow:
            uow.challenges.add(make_challenge())
            uow.commit()
            uow.challenges.add(make_challenge("challenge-2"))

        with make_uow() as uow:
            assert uow.challenges.get("challenge-1") is not None
            assert uow.challenges.get("challenge-2") is None

    def test_repositories_refuse_work_outside_a_block(self, make_uow: MakeUow) -> None:
        uow = make_uow()

        with pytest.raises(RuntimeError, match="inside `with uow:`"):
            uow.mykeys.count()
        with pytest.raises(RuntimeError, match="inside `with uow:`"):
            uow.commit()

    def test_a_block_cannot_be_nested_in_itself(self, make_uow: MakeUow) -> None:
        uow = make_uow()
        with uow, pytest.raises(RuntimeError, match="already open"), uow:
            pass

    # --- challenges ----------------------------------------------------------------

    def test_a_challenge_reads_back_as_stored(self, make_uow: MakeUow) -> None:
        used = make_challenge(used_at=NOW + timedelta(seconds=3))
        with make_uow() as uow:
            uow.challenges.add(used)
            uow.commit()

        with make_uow() as uow:
            stored = uow.challenges.get(used.challenge_id)

        assert stored == used
        assert stored is not None
        assert isinstance(stored.nonce, bytes)

    def test_a_challenge_is_used_once(self, make_uow: MakeUow) -> None:
        with make_uow() as uow:
            uow.challenges.add(make_challenge())
            uow.commit()

        with make_uow() as uow:
            first = uow.challenges.use("challenge-1", NOW)
            uow.commit()
        with make_uow() as uow:
            second = uow.challenges.use("challenge-1", NOW + timedelta(seconds=1))
            uow.commit()

        assert (first, second) == (make_challenge(used_at=NOW), None)
        with make_uow() as uow:
            assert uow.challenges.get("challenge-1") == make_challenge(used_at=NOW)

    def test_an_unknown_challenge_cannot_be_used(self, make_uow: MakeUow) -> None:
        with make_uow() as uow:
            assert uow.challenges.use("never-issued", NOW) is None

    @pytest.mark.parametrize(
        ("after", "usable"),
        [(timedelta(minutes=5) - timedelta(microseconds=1), True), (timedelta(minutes=5), False)],
    )
    def test_a_challenge_is_usable_until_it_expires_and_an_expired_one_stays_unused(
        self, make_uow: MakeUow, after: timedelta, *, usable: bool
    ) -> None:
        with make_uow() as uow:
            uow.challenges.add(make_challenge())
            uow.commit()

        with make_uow() as uow:
            used = uow.challenges.use("challenge-1", NOW + after)
            uow.commit()

        assert (used is not None) is usable
        with make_uow() as uow:
            stored = uow.challenges.get("challenge-1")
        assert stored == make_challenge(used_at=NOW + after if usable else None)

    def test_of_logins_racing_for_a_challenge_exactly_one_wins(self, make_uow: MakeUow) -> None:
        with make_uow() as uow:
            uow.challenges.add(make_challenge())
            uow.commit()

        def use(number: int) -> bool:
            with make_uow() as uow:
                used = uow.challenges.use("challenge-1", NOW + timedelta(seconds=number))
                uow.commit()
                return used is not None

        assert sorted(race(use)) == [False] * (RACERS - 1) + [True]

    # --- sessions ------------------------------------------------------------------

    def test_a_session_reads_back_as_stored(self, make_uow: MakeUow) -> None:
        with make_uow() as uow:
            uow.sessions.add(make_session())
            uow.commit()

        with make_uow() as uow:
            assert uow.sessions.get("a" * 64) == make_session()
            assert uow.sessions.get("b" * 64) is None

    def test_ending_a_session_twice_keeps_the_first_end(self, make_uow: MakeUow) -> None:
        with make_uow() as uow:
            uow.sessions.add(make_session())
            uow.sessions.end("a" * 64, NOW)
            uow.sessions.end("a" * 64, NOW + timedelta(minutes=1))
            uow.sessions.end("unknown", NOW)
            uow.commit()

        with make_uow() as uow:
            stored = uow.sessions.get("a" * 64)

        assert stored is not None
        assert stored.ended_at == NOW
        assert stored.ended_at.astimezone(UTC) == datetime(2021, 7, 19, 1, 0, tzinfo=UTC)

    # --- MyKey IDs -----------------------------------------------------------------

    # --- what has expired is purged ---------------------------------------------

    def test_a_purge_deletes_challenges_expired_before_its_moment_used_or_not(
        self, make_uow: MakeUow
    ) -> None:
        expires = NOW + timedelta(minutes=5)  # make_challenge's
        with make_uow() as uow:
            uow.challenges.add(make_challenge("old"))
            uow.challenges.add(make_challenge("old-used", used_at=NOW))
            uow.challenges.add(replace(make_challenge("live"), expires_at=expires + SECOND))
            assert uow.challenges.purge(expires + SECOND) == 2
            assert uow.challenges.purge(expires + SECOND) == 0
            uow.commit()

        with make_uow() as uow:
            assert uow.challenges.get("old") is None
            assert uow.challenges.get("old-used") is None
            assert uow.challenges.get("live") is not None

    def test_a_purge_deletes_sessions_expired_or_ended_before_its_moment(
        self, make_uow: MakeUow
    ) -> None:
        expires = NOW + timedelta(minutes=30)  # make_session's
        with make_uow() as uow:
            uow.sessions.add(make_session("e" * 64))
            uow.sessions.add(replace(make_session("n" * 64), expires_at=expires + SECOND))
            uow.sessions.add(replace(make_session("d" * 64), expires_at=expires + SECOND))
            uow.sessions.end("d" * 64, NOW)
            assert uow.sessions.purge(expires + SECOND) == 2
            uow.commit()

        with make_uow() as uow:
            assert uow.sessions.get("e" * 64) is None  # expired
            assert uow.sessions.get("d" * 64) is None  # ended
            assert uow.sessions.get("n" * 64) is not None

    def test_a_purge_deletes_staff_sessions_expired_ended_or_idle(self, make_uow: MakeUow) -> None:
        before = NOW + timedelta(hours=9)
        idle_since = before - timedelta(minutes=30)
        with make_uow() as uow:
            uow.staff.add(StaffAccount("chuo-staff", Role.STAFF, "chuo", "$argon2id$", NOW))
            for token, last_seen, expires, ended in [
                ("expired", before, before - SECOND, None),
                ("ended", before, before + SECOND, before - SECOND),
                ("idle", idle_since - SECOND, before + SECOND, None),
                ("live", idle_since, before, None),
            ]:
                uow.staff_sessions.add(
                    StaffSession(token, "chuo-staff", NOW, last_seen, expires, ended)
                )
            assert uow.staff_sessions.purge(before, idle_since) == 3
            uow.commit()

        with make_uow() as uow:
            left = [t for t in ("expired", "ended", "idle", "live") if uow.staff_sessions.get(t)]
        assert left == ["live"]

    def test_console_accounts_keep_their_scope_and_can_be_disabled_and_enabled(
        self, make_uow: MakeUow
    ) -> None:
        accounts = [
            StaffAccount("fukuoka-admin", Role.CITY_ADMIN, None, "$argon2id$", NOW, city="fukuoka"),
            StaffAccount(
                "paypay-admin", Role.OPERATOR_ADMIN, None, "$argon2id$", NOW, operator="paypay"
            ),
            StaffAccount("mhlw-viewer", Role.MINISTRY_VIEWER, None, "$argon2id$", NOW),
        ]
        with make_uow() as uow:
            for account in accounts:
                assert uow.staff.add(account) is True
            uow.staff.set_disabled("mhlw-viewer", disabled=True, at=NOW)
            uow.commit()

        with make_uow() as uow:
            read = [uow.staff.get(account.name) for account in accounts]
        assert read[:2] == accounts[:2]
        assert read[2] is not None
        assert read[2].disabled is True

        with make_uow() as uow:
            uow.staff.set_disabled("mhlw-viewer", disabled=False, at=NOW + SECOND)
            uow.commit()
        with make_uow() as uow:
            assert uow.staff.get("mhlw-viewer") == accounts[2]

    def test_a_mykey_reads_back_by_person(self, make_uow: MakeUow) -> None:
        with make_uow() as uow:
            assert uow.mykeys.add(make_mykey()) is True
            uow.commit()

        with make_uow() as uow:
            assert uow.mykeys.for_person("person-1") == make_mykey()
            assert uow.mykeys.for_person("person-2") is None
            assert uow.mykeys.count() == 1

    def test_a_person_keeps_their_first_mykey(self, make_uow: MakeUow) -> None:
        with make_uow() as uow:
            uow.mykeys.add(make_mykey("ABCD1234"))
            uow.commit()

        with make_uow() as uow:
            added = uow.mykeys.add(make_mykey("WXYZ9876"))
            uow.commit()

        assert added is False
        with make_uow() as uow:
            assert uow.mykeys.for_person("person-1") == make_mykey("ABCD1234")
            assert uow.mykeys.count() == 1

    def test_a_taken_mykey_id_is_refused(self, make_uow: MakeUow) -> None:
        with make_uow() as uow:
            uow.mykeys.add(make_mykey("ABCD1234", person="person-1"))
            uow.commit()

        with make_uow() as uow:
            assert uow.mykeys.add(make_mykey("ABCD1234", person="person-2")) is False
            assert uow.mykeys.for_person("person-2") is None

    def test_a_refused_mykey_leaves_the_rest_of_the_block_to_commit(
        self, make_uow: MakeUow
    ) -> None:
        with make_uow() as uow:
            uow.mykeys.add(make_mykey("ABCD1234", person="person-1"))
            uow.commit()

        with make_uow() as uow:
            uow.challenges.add(make_challenge())
            assert uow.mykeys.add(make_mykey("ABCD1234", person="person-2")) is False
            assert uow.mykeys.add(make_mykey("EFGH5678", person="person-2")) is True
            uow.commit()

        with make_uow() as uow:
            assert uow.challenges.get("challenge-1") is not None
            assert uow.mykeys.for_person("person-2") == make_mykey("EFGH5678", person="person-2")
            assert uow.mykeys.count() == 2

    def test_of_requests_racing_to_create_a_persons_mykey_one_wins(self, make_uow: MakeUow) -> None:
        def create(number: int) -> bool:
            with make_uow() as uow:
                added = uow.mykeys.add(make_mykey(f"RACE000{number}"))
                uow.commit()
                return added

        results = race(create)

        assert sorted(results) == [False] * (RACERS - 1) + [True]
        with make_uow() as uow:
            assert uow.mykeys.count() == 1
            winner = uow.mykeys.for_person("person-1")
        assert winner is not None
        assert winner.mykey_id == f"RACE000{results.index(True)}"
