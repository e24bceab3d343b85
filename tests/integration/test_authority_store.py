from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, TypeVar

import pytest
from sqlalchemy.exc import IntegrityError

from mynapoint.db.authority_store import SqlAuthorityStore
from mynapoint.domain.calendar import JST
from mynapoint.domain.cards import PIN_TRIES
from mynapoint.jpki.ports import AuthorityKey, CardRecord, CertificateRecord, PersonRecord

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy.engine import Engine

T = TypeVar("T")

ISSUED_AT = datetime(2021, 3, 1, 9, 30, tzinfo=JST)
CONCURRENT_ATTEMPTS = 8


@pytest.fixture
def store(migrated_engine: Engine) -> SqlAuthorityStore:
    return SqlAuthorityStore(migrated_engine)


def make_key(name: str = "first") -> AuthorityKey:
    return AuthorityKey(
        certificate_pem=_pem("CERTIFICATE", name).encode(),
        private_key_pem=_pem("PRIVATE KEY", name).encode(),
        created_at=ISSUED_AT,
    )


def _pem(label: str, body: str) -> str:
    return f"-----BEGIN {label}-----\n{body}\n-----END {label}-----\n"


def make_person_record(
    anchor: str = "anchor-1",
    *,
    birth_date: date = date(1980, 2, 29),
    card_applied_on: date = date(2021, 1, 15),
    card_applied_online: bool = False,
    died_on: date | None = None,
    adult_ward: bool = False,
) -> PersonRecord:
    return PersonRecord(
        anchor=anchor,
        birth_date=birth_date,
        card_applied_on=card_applied_on,
        card_applied_online=card_applied_online,
        died_on=died_on,
        adult_ward=adult_ward,
    )


def make_card_record(
    card_id: str = "card-1", *, person: str = "anchor-1", wrong_pins: int = 0
) -> CardRecord:
    return CardRecord(card_id=card_id, person=person, issued_at=ISSUED_AT, wrong_pins=wrong_pins)


def make_certificate_record(
    serial: str = "0A1B",
    *,
    person: str = "anchor-1",
    card_id: str = "card-1",
    issued_at: datetime = ISSUED_AT,
    predecessor: str | None = None,
    revoked_at: datetime | None = None,
) -> CertificateRecord:
    return CertificateRecord(
        serial=serial,
        person=person,
        card_id=card_id,
        certificate_pem=_pem("CERTIFICATE", serial),
        issued_at=issued_at,
        not_after=datetime(2026, 2, 28, 23, 59, 59, tzinfo=JST),
        predecessor=predecessor,
        revoked_at=revoked_at,
    )


def with_card(store: SqlAuthorityStore, card_id: str = "card-1") -> SqlAuthorityStore:
    store.add_person(make_person_record())
    store.add_card(make_card_record(card_id))
    return store


def race(action: Callable[[int], T], racers: int) -> list[T]:
    start_together = threading.Barrier(racers)

    def run(number: int) -> T:
        start_together.wait()
        return action(number)

    with ThreadPoolExecutor(racers) as pool:
        return list(pool.map(run, range(racers)))


# --- the root key ------------------------------------------------------------------


def test_a_new_authority_has_no_key(store: SqlAuthorityStore) -> None:
    assert store.authority_key() is None


def test_the_saved_key_reads_back(store: SqlAuthorityStore) -> None:
    assert store.save_authority_key(make_key()) == make_key()
    assert store.authority_key() == make_key()


def test_the_first_saved_key_is_kept(store: SqlAuthorityStore) -> None:
    store.save_authority_key(make_key("first"))

    assert store.save_authority_key(make_key("second")) == make_key("first")
    assert store.authority_key() == make_key("first")


def test_processes_saving_keys_together_all_get_the_same_one(store: SqlAuthorityStore) -> None:
    kept = race(lambda number: store.save_authority_key(make_key(f"key-{number}")), racers=4)

    assert len(set(kept)) == 1
    assert store.authority_key() == kept[0]


# --- persons -------------------------------------------------------------------------


def test_a_person_reads_back_as_stored(store: SqlAuthorityStore) -> None:
    person = make_person_record(card_applied_online=True, died_on=date(2021, 9, 1), adult_ward=True)

    store.add_person(person)

    assert store.person("anchor-1") == person
    assert store.person("anchor-2") is None


def test_a_person_cannot_be_added_twice(store: SqlAuthorityStore) -> None:
    store.add_person(make_person_record())

    with pytest.raises(IntegrityError):
        store.add_person(make_person_record(birth_date=date(1990, 1, 1)))


def test_a_death_is_recorded(store: SqlAuthorityStore) -> None:
    store.add_person(make_person_record())

    store.record_death("anchor-1", date(2021, 10, 2))

    assert store.person("anchor-1") == make_person_record(died_on=date(2021, 10, 2))


def test_the_death_of_an_unknown_person_is_an_error(store: SqlAuthorityStore) -> None:
    with pytest.raises(LookupError, match="no cardholder with anchor 'nobody'"):
        store.record_death("nobody", date(2021, 10, 2))


def test_representatives_are_listed_once_each(store: SqlAuthorityStore) -> None:
    for anchor in ("child", "mother", "father"):
        store.add_person(make_person_record(anchor))

    store.add_representative("child", "mother")
    store.add_representative("child", "father")
    store.add_representative("child", "mother")

    assert store.representatives_of("child") == ("father", "mother")
    assert store.representatives_of("mother") == ()


def test_nobody_represents_themselves(store: SqlAuthorityStore) -> None:
    store.add_person(make_person_record())

    with pytest.raises(IntegrityError):
        store.add_representative("anchor-1", "anchor-1")


def test_a_representative_must_be_a_known_person(store: SqlAuthorityStore) -> None:
    store.add_person(make_person_record())

    with pytest.raises(IntegrityError):
        store.add_representative("anchor-1", "stranger")


# --- cards and PINs ------------------------------------------------------------------


def test_a_card_reads_back_as_stored(store: SqlAuthorityStore) -> None:
    with_card(store)

    assert store.card("card-1") == make_card_record()
    assert store.card("card-2") is None


def test_a_card_belongs_to_a_known_person(store: SqlAuthorityStore) -> None:
    with pytest.raises(IntegrityError):
        store.add_card(make_card_record(person="nobody"))


def test_a_card_cannot_count_more_wrong_pins_than_the_chip(store: SqlAuthorityStore) -> None:
    store.add_person(make_person_record())

    with pytest.raises(IntegrityError):
        store.add_card(make_card_record(wrong_pins=PIN_TRIES + 1))


def test_each_wrong_pin_costs_a_try(store: SqlAuthorityStore) -> None:
    with_card(store)

    tries_left = [store.record_pin_attempt("card-1", correct=False).tries_left for _ in range(3)]

    assert tries_left == [2, 1, 0]


def test_a_right_pin_forgives_earlier_wrong_ones(store: SqlAuthorityStore) -> None:
    with_card(store)
    store.record_pin_attempt("card-1", correct=False)
    store.record_pin_attempt("card-1", correct=False)

    card = store.record_pin_attempt("card-1", correct=True)

    assert card.wrong_pins == 0
    assert store.record_pin_attempt("card-1", correct=False).wrong_pins == 1


def test_a_right_pin_does_not_unlock_a_locked_card(store: SqlAuthorityStore) -> None:
    with_card(store)
    for _ in range(PIN_TRIES):
        store.record_pin_attempt("card-1", correct=False)

    card = store.record_pin_attempt("card-1", correct=True)

    assert card.wrong_pins == PIN_TRIES
    assert card.is_locked


def test_wrong_pins_on_a_locked_card_count_no_further(store: SqlAuthorityStore) -> None:
    with_card(store)
    for _ in range(PIN_TRIES + 2):
        card = store.record_pin_attempt("card-1", correct=False)

    assert card.wrong_pins == PIN_TRIES


def test_a_reset_unlocks_the_card(store: SqlAuthorityStore) -> None:
    with_card(store)
    for _ in range(PIN_TRIES):
        store.record_pin_attempt("card-1", correct=False)

    store.reset_pins("card-1")

    assert store.card("card-1") == make_card_record(wrong_pins=0)
    assert store.record_pin_attempt("card-1", correct=True).wrong_pins == 0


def test_pins_of_an_unknown_card_are_an_error(store: SqlAuthorityStore) -> None:
    with pytest.raises(LookupError, match="no card 'card-9'"):
        store.record_pin_attempt("card-9", correct=True)
    with pytest.raises(LookupError, match="no card 'card-9'"):
        store.reset_pins("card-9")


def test_wrong_pins_entered_at_once_lock_the_card_at_exactly_three(
    store: SqlAuthorityStore,
) -> None:
    with_card(store)

    seen = race(
        lambda _: store.record_pin_attempt("card-1", correct=False).wrong_pins,
        racers=CONCURRENT_ATTEMPTS,
    )

    # Counted one after the other: each attempt saw the count its own entry made.
    assert sorted(seen) == [1, 2] + [PIN_TRIES] * (CONCURRENT_ATTEMPTS - 2)
    card = store.card("card-1")
    assert card is not None
    assert card.wrong_pins == PIN_TRIES


# --- certificates and revocation -------------------------------------------------------


def test_a_certificate_reads_back_as_stored_in_utc(store: SqlAuthorityStore) -> None:
    with_card(store)
    store.add_certificate(make_certificate_record("0A1B"))
    renewed = make_certificate_record(
        "0C2D", issued_at=ISSUED_AT + timedelta(days=400), predecessor="0A1B"
    )

    store.add_certificate(renewed)

    stored = store.certificate("0C2D")
    assert stored == renewed
    assert stored is not None
    assert stored.issued_at.tzinfo is UTC
    assert store.certificate("FFFF") is None


def test_a_certificate_and_its_holder_read_back_together(store: SqlAuthorityStore) -> None:
    with_card(store)
    certificate = make_certificate_record("0A1B", revoked_at=ISSUED_AT + timedelta(days=3))
    store.add_certificate(certificate)

    assert store.certificate_holder("0A1B") == (certificate, make_person_record())
    assert store.certificate_holder("FFFF") is None


def test_a_predecessor_must_be_a_known_serial(store: SqlAuthorityStore) -> None:
    with_card(store)

    with pytest.raises(IntegrityError):
        store.add_certificate(make_certificate_record("0C2D", predecessor="0A1B"))


def test_the_latest_certificate_is_the_last_issued(store: SqlAuthorityStore) -> None:
    with_card(store)
    store.add_card(make_card_record("card-2"))
    later = make_certificate_record(
        "0C2D", card_id="card-2", issued_at=ISSUED_AT + timedelta(days=1)
    )
    # Stored out of order, so the answer cannot come from insertion order.
    store.add_certificate(later)
    store.add_certificate(make_certificate_record("FFFF"))

    assert store.latest_certificate("anchor-1") == later
    assert store.latest_certificate("anchor-2") is None


def test_revocations_list_each_revoked_certificate(store: SqlAuthorityStore) -> None:
    with_card(store)
    for serial in ("0A", "0B", "0C"):
        store.add_certificate(make_certificate_record(serial))
    revoked_at = datetime(2021, 8, 1, 12, 0, tzinfo=JST)

    store.revoke("0C", revoked_at)
    store.revoke("0A", revoked_at + timedelta(hours=1))

    assert store.revocations() == (("0C", revoked_at), ("0A", revoked_at + timedelta(hours=1)))
    revoked = store.certificate("0C")
    assert revoked is not None
    assert revoked.revoked_at == revoked_at


def test_revoking_twice_keeps_the_first_time(store: SqlAuthorityStore) -> None:
    with_card(store)
    store.add_certificate(make_certificate_record("0A"))
    revoked_at = datetime(2021, 8, 1, 12, 0, tzinfo=JST)

    store.revoke("0A", revoked_at)
    store.revoke("0A", revoked_at + timedelta(days=1))

    assert store.revocations() == (("0A", revoked_at),)


def test_revoking_an_unknown_serial_is_an_error(store: SqlAuthorityStore) -> None:
    with pytest.raises(LookupError, match="no certificate with serial 'FFFF'"):
        store.revoke("FFFF", ISSUED_AT)
