"""What the person, operator key, account and application repositories must do, on the
database unit of work and the in-memory fake alike (see unit_of_work_contract.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import TYPE_CHECKING

import pytest

from ledger_factories import (
    ACCOUNT_ID,
    AT,
    SERVICE,
    make_account,
    make_application,
    make_operator_key,
    make_snapshot,
)
from mynapoint.domain.accounts import ACCOUNT_CODE_TRIES, CODE_TRIES_KEPT, CodeTries
from mynapoint.domain.measures import Channel, Measure
from unit_of_work_contract import RACERS, race

if TYPE_CHECKING:
    from unit_of_work_contract import MakeUow

CODE_RACERS = 8
ACCOUNT = (SERVICE, ACCOUNT_ID)
LOCK = timedelta(hours=1)
LOCKED = AT + timedelta(minutes=15)  # the end of a lock begun at AT


class ApplicationsContract:
    # --- persons -----------------------------------------------------------------

    def test_a_person_snapshot_reads_back_as_stored(self, make_uow: MakeUow) -> None:
        snapshot = make_snapshot(
            card_applied_online=True,
            died_on=date(2021, 9, 1),
            adult_ward=True,
            municipality="401331",
        )
        with make_uow() as uow:
            uow.persons.save(snapshot, AT)
            uow.commit()

        with make_uow() as uow:
            assert uow.persons.get("person-1") == snapshot
            assert uow.persons.get("person-2") is None

    def test_saving_a_person_again_refreshes_their_facts(self, make_uow: MakeUow) -> None:
        refreshed = make_snapshot(
            died_on=date(2021, 10, 2),
            certificate_issued_at=AT + timedelta(days=30),
            municipality="401323",  # moved to another ward
        )
        with make_uow() as uow:
            uow.persons.save(make_snapshot(municipality="401331"), AT)
            uow.commit()
        with make_uow() as uow:
            uow.persons.save(refreshed, AT + timedelta(days=30))
            uow.commit()

        with make_uow() as uow:
            assert uow.persons.get("person-1") == refreshed

    def test_saving_and_locking_a_person_inserts_then_refreshes_their_facts(
        self, make_uow: MakeUow
    ) -> None:
        refreshed = make_snapshot(
            died_on=date(2021, 10, 2),
            certificate_issued_at=AT + timedelta(days=30),
            municipality="401323",
        )
        with make_uow() as uow:
            uow.persons.save_locked(make_snapshot(), AT)
            uow.commit()
        with make_uow() as uow:
            assert uow.persons.get("person-1") == make_snapshot()
            uow.persons.save_locked(refreshed, AT + timedelta(days=30))
            uow.commit()

        with make_uow() as uow:
            assert uow.persons.get("person-1") == refreshed

    def test_persons_are_read_many_at_once_leaving_out_unknown_ones(
        self, make_uow: MakeUow
    ) -> None:
        with make_uow() as uow:
            uow.persons.save(make_snapshot("person-1"), AT)
            uow.persons.save(make_snapshot("person-2"), AT)
            uow.commit()

        with make_uow() as uow:
            found = uow.persons.get_many(["person-2", "unknown", "person-1", "person-2"])

        assert found == {
            "person-1": make_snapshot("person-1"),
            "person-2": make_snapshot("person-2"),
        }

    def test_locking_persons_changes_none_of_their_facts(self, make_uow: MakeUow) -> None:
        with make_uow() as uow:
            uow.persons.save(make_snapshot("person-1"), AT)
            uow.persons.save(make_snapshot("person-2"), AT)
            uow.commit()

        with make_uow() as uow:
            uow.persons.lock(["person-2", "unknown", "person-1", "person-2"])
            uow.persons.lock([])
            uow.commit()

        with make_uow() as uow:
            assert uow.persons.get_many(["person-1", "person-2", "unknown"]) == {
                "person-1": make_snapshot("person-1"),
                "person-2": make_snapshot("person-2"),
            }

    # --- operator keys -------------------------------------------------------------

    def test_an_operator_key_reads_back_as_stored(self, make_uow: MakeUow) -> None:
        revoked = make_operator_key("key-2", revoked_at=AT + timedelta(days=1))
        with make_uow() as uow:
            uow.operator_keys.add(make_operator_key("key-1"))
            uow.operator_keys.add(revoked)
            uow.commit()

        with make_uow() as uow:
            assert uow.operator_keys.get("key-1") == make_operator_key("key-1")
            assert uow.operator_keys.get("key-2") == revoked
            assert uow.operator_keys.get("key-3") is None

    def test_an_operators_keys_are_listed_newest_first_and_revoked_at_a_time(
        self, make_uow: MakeUow
    ) -> None:
        older = make_operator_key("key-1")
        newer = make_operator_key("key-2", created_at=AT + timedelta(hours=1))
        other = make_operator_key("key-3", operator_code="rakuten")
        with make_uow() as uow:
            for key in (older, newer, other):
                uow.operator_keys.add(key)
            uow.commit()
        with make_uow() as uow:
            uow.operator_keys.set_revoked_at("key-1", AT + timedelta(days=7))
            uow.commit()

        with make_uow() as uow:
            listed = uow.operator_keys.of_operator(older.operator_code)
            assert listed == [newer, replace(older, revoked_at=AT + timedelta(days=7))]
            assert uow.operator_keys.of_operator("rakuten") == [other]
            assert uow.operator_keys.of_operator("nobody") == []

    # --- payment accounts ------------------------------------------------------------

    def test_an_operators_accounts_are_counted_per_service(self, make_uow: MakeUow) -> None:
        with make_uow() as uow:
            uow.accounts.save(make_account("1111000011110001"), AT)
            uow.accounts.save(make_account("1111000011110002"), AT)
            uow.accounts.save(make_account("1111000011110003", service_code="waon"), AT)
            other = make_account("1111000011110004", service_code="nanaco", operator_code="x")
            uow.accounts.save(other, AT)
            uow.commit()

        with make_uow() as uow:
            own = uow.accounts.count_by_service(make_account().operator_code)
            assert own == {make_account().service_code: 2, "waon": 1}
            assert uow.accounts.count_by_service("x") == {"nanaco": 1}
            assert uow.accounts.count_by_service("nobody") == {}

    def test_a_new_account_reads_back_as_registered(self, make_uow: MakeUow) -> None:
        with make_uow() as uow:
            assert uow.accounts.save(make_account(), AT) is True
            uow.commit()

        with make_uow() as uow:
            assert uow.accounts.get(SERVICE, ACCOUNT_ID) == make_account()
            assert uow.accounts.get(SERVICE, "6543210987654321") is None
            assert uow.accounts.get("rakuten-pay", ACCOUNT_ID) is None

    def test_a_replaced_account_keeps_its_registration_and_forgets_every_persons_tries(
        self, make_uow: MakeUow
    ) -> None:
        later = AT + timedelta(days=3)
        replacement = make_account(
            holder_name="ヤマダ ハナコ", security_code_hash="new-hash", registered_at=later
        )
        with make_uow() as uow:
            uow.accounts.save(make_account(), AT)
            for person in ("person-1", "person-2"):
                for _ in range(ACCOUNT_CODE_TRIES):
                    uow.accounts.record_wrong_code(person, *ACCOUNT, at=AT, lock_until=LOCKED)
            uow.commit()

        with make_uow() as uow:
            assert uow.accounts.save(replacement, later) is False
            uow.commit()

        with make_uow() as uow:
            stored = uow.accounts.get(*ACCOUNT)
            assert uow.accounts.code_tries("person-1", *ACCOUNT) is None
            assert uow.accounts.code_tries("person-2", *ACCOUNT) is None
        assert stored == make_account(holder_name="ヤマダ ハナコ", security_code_hash="new-hash")

    def test_a_code_hash_is_replaced_only_while_the_account_still_holds_the_old_one(
        self, make_uow: MakeUow
    ) -> None:
        with make_uow() as uow:
            uow.accounts.save(make_account(security_code_hash="$argon2id$old"), AT)
            uow.commit()

        with make_uow() as uow:
            assert uow.accounts.replace_code_hash(*ACCOUNT, "$argon2id$other", "x") is False
            assert uow.accounts.replace_code_hash(*ACCOUNT, "$argon2id$old", "$hmac$new") is True
            assert uow.accounts.replace_code_hash(SERVICE, "6543210987654321", "a", "b") is False
            uow.commit()

        with make_uow() as uow:
            stored = uow.accounts.get(*ACCOUNT)
        assert stored == make_account(security_code_hash="$hmac$new")

    @pytest.mark.parametrize("wrong", [1, ACCOUNT_CODE_TRIES - 1, ACCOUNT_CODE_TRIES])
    def test_wrong_codes_count_up_to_the_lock_for_the_person_who_typed_them(
        self, make_uow: MakeUow, wrong: int
    ) -> None:
        with make_uow() as uow:
            for minute in range(wrong):
                at = AT + timedelta(minutes=minute)
                counted = uow.accounts.record_wrong_code(
                    "person-1", *ACCOUNT, at=at, lock_until=LOCKED
                )
            uow.commit()

        last = AT + timedelta(minutes=wrong - 1)
        locked_until = LOCKED if wrong == ACCOUNT_CODE_TRIES else None
        assert counted == CodeTries(wrong, last, locked_until)
        assert counted.is_locked_at(last) is (wrong == ACCOUNT_CODE_TRIES)
        with make_uow() as uow:
            assert uow.accounts.code_tries("person-1", *ACCOUNT) == counted
            assert uow.accounts.code_tries("person-2", *ACCOUNT) is None
            assert uow.accounts.code_tries("person-1", SERVICE, "6543210987654321") is None

    def test_an_id_nobody_registered_is_counted_like_any_other(self, make_uow: MakeUow) -> None:
        with make_uow() as uow:
            counted = uow.accounts.record_wrong_code(
                "person-1", SERVICE, "6543210987654321", at=AT, lock_until=LOCKED
            )
            uow.commit()
        assert counted == CodeTries(1, AT)

    def test_a_live_lock_stays_as_it_is_and_an_ended_one_counts_from_one_again(
        self, make_uow: MakeUow
    ) -> None:
        with make_uow() as uow:
            for _ in range(ACCOUNT_CODE_TRIES):
                uow.accounts.record_wrong_code("person-1", *ACCOUNT, at=AT, lock_until=LOCKED)
            during = uow.accounts.record_wrong_code(
                "person-1",
                *ACCOUNT,
                at=LOCKED - timedelta(seconds=1),
                lock_until=LOCKED + timedelta(hours=1),
            )
            uow.accounts.forget_code_tries("person-1", *ACCOUNT, LOCKED - timedelta(seconds=1))
            still = uow.accounts.code_tries("person-1", *ACCOUNT)
            after = uow.accounts.record_wrong_code(
                "person-1", *ACCOUNT, at=LOCKED, lock_until=LOCKED + timedelta(hours=1)
            )
            uow.commit()

        assert during == still == CodeTries(ACCOUNT_CODE_TRIES, AT, LOCKED)
        assert after == CodeTries(1, LOCKED)

    def test_tries_older_than_a_day_count_from_one_again(self, make_uow: MakeUow) -> None:
        with make_uow() as uow:
            for _ in range(ACCOUNT_CODE_TRIES - 1):
                uow.accounts.record_wrong_code("person-1", *ACCOUNT, at=AT, lock_until=LOCKED)
            a_day_later = AT + CODE_TRIES_KEPT
            counted = uow.accounts.record_wrong_code(
                "person-1", *ACCOUNT, at=a_day_later, lock_until=a_day_later + LOCK
            )
            uow.commit()
        assert counted == CodeTries(1, a_day_later)

    def test_a_right_code_forgets_the_persons_tries_and_nobody_elses(
        self, make_uow: MakeUow
    ) -> None:
        with make_uow() as uow:
            for person in ("person-1", "person-2"):
                uow.accounts.record_wrong_code(person, *ACCOUNT, at=AT, lock_until=LOCKED)
            uow.accounts.forget_code_tries("person-1", *ACCOUNT, AT)
            uow.commit()

        with make_uow() as uow:
            assert uow.accounts.code_tries("person-1", *ACCOUNT) is None
            assert uow.accounts.code_tries("person-2", *ACCOUNT) == CodeTries(1, AT)

    def test_unlocking_forgets_every_persons_tries_for_the_account_only(
        self, make_uow: MakeUow
    ) -> None:
        other = (SERVICE, "6543210987654321")
        with make_uow() as uow:
            uow.accounts.save(make_account(), AT)
            for person in ("person-1", "person-2"):
                for _ in range(ACCOUNT_CODE_TRIES):
                    uow.accounts.record_wrong_code(person, *ACCOUNT, at=AT, lock_until=LOCKED)
            uow.accounts.record_wrong_code("person-1", *other, at=AT, lock_until=LOCKED)
            assert uow.accounts.unlock(*ACCOUNT) == 2
            assert uow.accounts.unlock(*ACCOUNT) == 0
            uow.commit()

        with make_uow() as uow:
            assert uow.accounts.code_tries("person-1", *ACCOUNT) is None
            assert uow.accounts.code_tries("person-2", *ACCOUNT) is None
            assert uow.accounts.code_tries("person-1", *other) == CodeTries(1, AT)

    def test_a_purge_deletes_ended_locks_and_day_old_tries_and_keeps_the_rest(
        self, make_uow: MakeUow
    ) -> None:
        now = AT + CODE_TRIES_KEPT
        with make_uow() as uow:
            for _ in range(ACCOUNT_CODE_TRIES):  # locked until LOCKED: ended by now
                uow.accounts.record_wrong_code("ended", *ACCOUNT, at=AT, lock_until=LOCKED)
            uow.accounts.record_wrong_code("day-old", *ACCOUNT, at=AT, lock_until=LOCKED)
            uow.accounts.record_wrong_code(
                "recent", *ACCOUNT, at=now - timedelta(seconds=1), lock_until=now
            )
            for _ in range(ACCOUNT_CODE_TRIES):  # locked for an hour from now
                uow.accounts.record_wrong_code("locked", *ACCOUNT, at=now, lock_until=now + LOCK)
            assert uow.accounts.purge_code_tries(now) == 2
            uow.commit()

        with make_uow() as uow:
            left = {
                person: uow.accounts.code_tries(person, *ACCOUNT)
                for person in ("ended", "day-old", "recent", "locked")
            }
        assert left["ended"] is None
        assert left["day-old"] is None
        assert left["recent"] == CodeTries(1, now - timedelta(seconds=1))
        assert left["locked"] == CodeTries(ACCOUNT_CODE_TRIES, now, now + LOCK)

    def test_concurrent_wrong_codes_stop_exactly_at_the_lock(self, make_uow: MakeUow) -> None:
        with make_uow() as uow:
            uow.accounts.save(make_account(), AT)
            uow.commit()

        def guess_wrong(_: int) -> int:
            with make_uow() as uow:
                counted = uow.accounts.record_wrong_code(
                    "person-1", *ACCOUNT, at=AT, lock_until=LOCKED
                )
                uow.commit()
                return counted.wrong_codes

        seen = race(guess_wrong, racers=CODE_RACERS)

        # Each attempt saw its own count: none was lost and none went past the lock.
        locked_out = CODE_RACERS - ACCOUNT_CODE_TRIES + 1
        assert sorted(seen) == [*range(1, ACCOUNT_CODE_TRIES), *[ACCOUNT_CODE_TRIES] * locked_out]
        with make_uow() as uow:
            assert uow.accounts.code_tries("person-1", *ACCOUNT) == CodeTries(
                ACCOUNT_CODE_TRIES, AT, LOCKED
            )

    # --- applications ----------------------------------------------------------------

    def test_an_application_reads_back_as_stored(self, make_uow: MakeUow) -> None:
        represented = make_application(
            "app-2",
            measure=Measure.PHASE2_HEALTH_INSURANCE,
            counts=None,
            channel=Channel.SUPPORT_CORNER,
            representative="person-9",
        )
        with make_uow() as uow:
            assert uow.applications.add(make_application()) is True
            assert uow.applications.add(represented) is True
            uow.commit()

        with make_uow() as uow:
            assert uow.applications.get("app-1") == make_application()
            assert uow.applications.get("app-2") == represented
            assert uow.applications.get("app-3") is None

    def test_a_second_active_application_for_the_measure_is_refused(
        self, make_uow: MakeUow
    ) -> None:
        with make_uow() as uow:
            uow.applications.add(make_application("app-1"))
            uow.commit()

        with make_uow() as uow:
            assert uow.applications.add(make_application("app-2", service_code="rakuten")) is False
            uow.commit()

        with make_uow() as uow:
            assert uow.applications.for_person("person-1") == [make_application("app-1")]

    def test_an_application_id_is_stored_once(self, make_uow: MakeUow) -> None:
        with make_uow() as uow:
            uow.applications.add(make_application("app-1"))
            assert uow.applications.add(make_application("app-1", person="person-2")) is False
            assert uow.applications.for_person("person-2") == []

    def test_applications_for_other_measures_or_persons_are_accepted(
        self, make_uow: MakeUow
    ) -> None:
        with make_uow() as uow:
            assert uow.applications.add(make_application("app-1")) is True
            assert uow.applications.add(
                make_application("app-2", measure=Measure.PHASE2_PUBLIC_FUNDS, counts=None)
            )
            assert uow.applications.add(make_application("app-3", person="person-2")) is True

    def test_a_refused_application_leaves_the_rest_of_the_block_to_commit(
        self, make_uow: MakeUow
    ) -> None:
        with make_uow() as uow:
            uow.applications.add(make_application("app-1"))
            uow.commit()

        with make_uow() as uow:
            uow.persons.save(make_snapshot(), AT)
            assert uow.applications.add(make_application("app-2")) is False
            assert uow.applications.add(make_application("app-3", person="person-2")) is True
            uow.commit()

        with make_uow() as uow:
            assert uow.persons.get("person-1") == make_snapshot()
            assert uow.applications.get("app-3") == make_application("app-3", person="person-2")

    def test_a_cancelled_application_frees_its_measure(self, make_uow: MakeUow) -> None:
        cancelled_at = AT + timedelta(hours=2)
        with make_uow() as uow:
            uow.applications.add(make_application("app-1"))
            uow.applications.cancel("app-1", cancelled_at)
            assert uow.applications.add(
                make_application("app-2", applied_at=AT + timedelta(hours=3))
            )
            uow.commit()

        with make_uow() as uow:
            first = uow.applications.get("app-1")
        assert first == make_application("app-1", cancelled_at=cancelled_at)
        assert first is not None
        assert not first.is_active

    def test_cancelling_twice_keeps_the_first_time_and_an_unknown_id_is_no_error(
        self, make_uow: MakeUow
    ) -> None:
        with make_uow() as uow:
            uow.applications.add(make_application("app-1"))
            uow.applications.cancel("app-1", AT + timedelta(hours=1))
            uow.applications.cancel("app-1", AT + timedelta(hours=2))
            uow.applications.cancel("never-applied", AT)
            uow.commit()

        with make_uow() as uow:
            assert uow.applications.get("app-1") == make_application(
                "app-1", cancelled_at=AT + timedelta(hours=1)
            )

    def test_a_cancelled_application_can_be_stored_beside_an_active_one(
        self, make_uow: MakeUow
    ) -> None:
        with make_uow() as uow:
            assert uow.applications.add(make_application("app-1"))
            assert uow.applications.add(make_application("app-2", cancelled_at=AT))

    def test_applications_come_oldest_first_cancelled_ones_included(
        self, make_uow: MakeUow
    ) -> None:
        early = make_application("app-b", applied_at=AT, cancelled_at=AT + timedelta(minutes=5))
        later = make_application("app-a", applied_at=AT + timedelta(days=1))
        other = make_application("app-c", person="person-2")
        with make_uow() as uow:
            for application in (later, other, early):
                uow.applications.add(application)
            uow.commit()

        with make_uow() as uow:
            assert uow.applications.for_person("person-1") == [early, later]
            assert uow.applications.for_persons(["person-1", "person-2", "person-3"]) == {
                "person-1": [early, later],
                "person-2": [other],
                "person-3": [],
            }
            assert uow.applications.for_persons([]) == {}

    def test_of_concurrent_applications_for_one_measure_exactly_one_is_stored(
        self, make_uow: MakeUow
    ) -> None:
        def apply(number: int) -> bool:
            with make_uow() as uow:
                added = uow.applications.add(make_application(f"app-{number}"))
                uow.commit()
                return added

        results = race(apply)

        assert sorted(results) == [False] * (RACERS - 1) + [True]
        with make_uow() as uow:
            assert uow.applications.for_person("person-1") == [
                make_application(f"app-{results.index(True)}")
            ]

    # --- account links (R4) ------------------------------------------------------------

    def test_the_first_person_to_link_an_account_keeps_it(self, make_uow: MakeUow) -> None:
        with make_uow() as uow:
            assert uow.applications.link_account(SERVICE, ACCOUNT_ID, "person-1", AT) == "person-1"
            uow.commit()

        with make_uow() as uow:
            assert uow.applications.link_account(SERVICE, ACCOUNT_ID, "person-2", AT) == "person-1"
            assert uow.applications.link_account(SERVICE, ACCOUNT_ID, "person-1", AT) == "person-1"
            uow.commit()

        with make_uow() as uow:
            assert uow.applications.person_for_account(SERVICE, ACCOUNT_ID) == "person-1"
            assert uow.applications.person_for_account("rakuten", ACCOUNT_ID) is None

    def test_only_the_linked_person_can_unlink_an_account(self, make_uow: MakeUow) -> None:
        with make_uow() as uow:
            uow.applications.link_account(SERVICE, ACCOUNT_ID, "person-1", AT)
            uow.applications.unlink_account(SERVICE, ACCOUNT_ID, "person-2")
            assert uow.applications.person_for_account(SERVICE, ACCOUNT_ID) == "person-1"

            uow.applications.unlink_account(SERVICE, ACCOUNT_ID, "person-1")
            assert uow.applications.person_for_account(SERVICE, ACCOUNT_ID) is None
            uow.applications.unlink_account(SERVICE, ACCOUNT_ID, "person-1")

            assert uow.applications.link_account(SERVICE, ACCOUNT_ID, "person-2", AT) == "person-2"

    def test_linked_persons_are_read_for_many_accounts_at_once(self, make_uow: MakeUow) -> None:
        with make_uow() as uow:
            uow.applications.link_account(SERVICE, "0001", "person-1", AT)
            uow.applications.link_account(SERVICE, "0002", "person-2", AT)
            uow.applications.link_account("rakuten", "0001", "person-3", AT)
            uow.commit()

        with make_uow() as uow:
            linked = uow.applications.persons_for_accounts(
                [(SERVICE, "0001"), ("rakuten", "0001"), (SERVICE, "0003"), (SERVICE, "0002")]
            )
            assert uow.applications.persons_for_accounts([]) == {}

        assert linked == {
            (SERVICE, "0001"): "person-1",
            (SERVICE, "0002"): "person-2",
            ("rakuten", "0001"): "person-3",
        }

    def test_persons_linking_one_account_concurrently_all_see_the_same_winner(
        self, make_uow: MakeUow
    ) -> None:
        def link(number: int) -> str:
            with make_uow() as uow:
                linked = uow.applications.link_account(SERVICE, ACCOUNT_ID, f"person-{number}", AT)
                uow.commit()
                return linked

        winners = race(link)

        assert len(set(winners)) == 1
        assert winners[0] in {f"person-{number}" for number in range(RACERS)}
        with make_uow() as uow:
            assert uow.applications.person_for_account(SERVICE, ACCOUNT_ID) == winners[0]
