"""The simulated card authority: issuing, the PIN counter, renewal, reissue, revocation, facts."""

from __future__ import annotations

import contextlib
from dataclasses import replace
from datetime import date, datetime, timedelta
from functools import cache
from itertools import cycle

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from mynapoint.domain.auth import CardLocked, CertificateRevoked, WrongPin
from mynapoint.domain.calendar import JST
from mynapoint.domain.cards import certificate_not_after
from mynapoint.jpki.authority import (
    CertificateSuperseded,
    InvalidCardRequest,
    SimulatedCardAuthority,
    UnknownCertificate,
)
from mynapoint.jpki.card import CardFileError, InvalidPin, VirtualCard, unlock_key
from mynapoint.jpki.certificates import generate_key, new_serial
from mynapoint.jpki.memory import InMemoryAuthorityStore
from mynapoint.jpki.ports import CardAuthority
from mynapoint.jpki.verification import verify_signed_challenge

ISSUED_AT = datetime(2021, 4, 1, 10, 0, tzinfo=JST)
LOGIN_AT = datetime(2021, 7, 19, 10, 0, tzinfo=JST)
CHALLENGE = b"a random 32-byte login challenge"
PIN = "1234"
WRONG = "9999"


@cache
def keys() -> tuple[rsa.RSAPrivateKey, ...]:
    # RSA key generation takes ~33 ms: one small pool per test process, handed out in turn,
    # so the root and the first few cards of an authority all have different keys.
    return tuple(generate_key() for _ in range(8))


class Clock:
    def __init__(self, at: datetime = LOGIN_AT) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def make_authority(
    store: InMemoryAuthorityStore | None = None, clock: Clock | None = None
) -> SimulatedCardAuthority:
    return SimulatedCardAuthority(
        store or InMemoryAuthorityStore(),
        now=clock or Clock(),
        new_key=cycle(keys()).__next__,
    )


def issue(
    authority: SimulatedCardAuthority,
    *,
    pin: str = PIN,
    birth_date: date = date(1990, 6, 15),
    card_applied_on: date = date(2021, 2, 1),
    issued_at: datetime = ISSUED_AT,
    **options: object,
) -> VirtualCard:
    return authority.issue_card(
        pin,
        birth_date=birth_date,
        card_applied_on=card_applied_on,
        issued_at=issued_at,
        **options,  # type: ignore[arg-type]
    )


def log_in(authority: SimulatedCardAuthority, card: VirtualCard, pin: str = PIN) -> str:
    return verify_signed_challenge(
        card.certificate_pem,
        authority.sign_challenge(card, pin, CHALLENGE),
        CHALLENGE,
        authority.trust_anchors(),
        authority.revocation_list(),
        LOGIN_AT,
    )


def test_simulated_authority_is_a_card_authority():
    authority: CardAuthority = make_authority()
    assert authority.facts(new_serial()) is None


def test_an_issued_card_logs_in_and_the_authority_knows_its_facts():
    authority = make_authority()
    card = issue(
        authority, birth_date=date(2008, 2, 29), card_applied_on=date(2021, 1, 5), adult_ward=False
    )
    assert log_in(authority, card) == card.serial
    facts = authority.facts(card.serial)
    assert facts is not None
    assert facts.serial == card.serial
    assert facts.birth_date == date(2008, 2, 29)
    assert facts.card_applied_on == date(2021, 1, 5)
    assert not facts.card_applied_online
    assert facts.died_on is None
    assert facts.certificate_issued_at == ISSUED_AT
    assert facts.predecessor is None
    assert facts.revoked_at is None
    assert card.certificate.not_valid_after_utc == certificate_not_after(
        date(2008, 2, 29), ISSUED_AT
    )


def test_each_card_is_a_new_person_with_an_opaque_anchor():
    authority = make_authority()
    first = authority.facts(issue(authority).serial)
    second = authority.facts(issue(authority).serial)
    assert first is not None
    assert second is not None
    assert first.person != second.person
    assert len(first.person) == 32


def test_the_root_is_made_once_and_shared_through_the_store():
    store = InMemoryAuthorityStore()
    first = make_authority(store)
    card = issue(first)
    second = make_authority(store)
    assert second.trust_anchors() == first.trust_anchors()
    assert log_in(second, card) == card.serial


def test_a_card_cannot_be_issued_before_its_holder_is_born():
    with pytest.raises(InvalidCardRequest, match="on or before the issue date"):
        issue(make_authority(), birth_date=date(2021, 4, 2))


def test_a_card_is_not_issued_with_a_malformed_pin():
    with pytest.raises(InvalidPin):
        issue(make_authority(), pin="12345")


# --- the PIN counter -------------------------------------------------------------------


def test_three_wrong_pins_lock_the_card_until_it_is_reset():
    authority = make_authority()
    card = issue(authority)
    for tries_left in (2, 1, 0):
        with pytest.raises(WrongPin) as error:
            authority.sign_challenge(card, WRONG, CHALLENGE)
        assert error.value.tries_left == tries_left
    with pytest.raises(CardLocked) as locked:
        authority.sign_challenge(card, PIN, CHALLENGE)
    assert locked.value.code == "card_locked"
    authority.reset_pin(card.serial)
    assert log_in(authority, card) == card.serial


def test_a_locked_card_does_not_even_look_at_the_pin():
    store = InMemoryAuthorityStore()
    authority = make_authority(store)
    card = issue(authority)
    for _ in range(3):
        with pytest.raises(WrongPin):
            authority.sign_challenge(card, WRONG, CHALLENGE)
    for pin in (WRONG, PIN):
        with pytest.raises(CardLocked):
            authority.sign_challenge(card, pin, CHALLENGE)
    chip = store.card(_card_id(store, card))
    assert chip is not None
    assert chip.wrong_pins == 3


def test_a_right_pin_resets_the_count_of_wrong_ones():
    store = InMemoryAuthorityStore()
    authority = make_authority(store)
    card = issue(authority)
    for pin in (WRONG, WRONG, PIN, WRONG):
        with contextlib.suppress(WrongPin):
            authority.sign_challenge(card, pin, CHALLENGE)
    with pytest.raises(WrongPin) as error:
        authority.sign_challenge(card, WRONG, CHALLENGE)
    assert error.value.tries_left == 1
    assert log_in(authority, card) == card.serial


def test_a_malformed_pin_is_refused_without_counting():
    store = InMemoryAuthorityStore()
    authority = make_authority(store)
    card = issue(authority)
    for _ in range(5):
        with pytest.raises(InvalidPin):
            authority.sign_challenge(card, "12", CHALLENGE)
    chip = store.card(_card_id(store, card))
    assert chip is not None
    assert chip.wrong_pins == 0


def test_a_card_file_whose_certificate_is_not_the_issued_one_is_refused():
    authority = make_authority()
    mine, other = issue(authority), issue(authority)
    swapped = replace(mine, certificate_pem=other.certificate_pem)
    with pytest.raises(CardFileError, match="not the one issued"):
        authority.sign_challenge(swapped, PIN, CHALLENGE)


def test_a_card_file_whose_key_is_not_the_certificates_is_refused():
    authority = make_authority()
    mine, other = issue(authority), issue(authority)
    swapped = replace(mine, private_key_pem=other.private_key_pem)
    with pytest.raises(CardFileError, match="does not belong"):
        authority.sign_challenge(swapped, PIN, CHALLENGE)


def test_an_unknown_card_cannot_sign():
    authority = make_authority()
    stranger = issue(make_authority())
    with pytest.raises(UnknownCertificate, match=stranger.serial) as error:
        authority.sign_challenge(stranger, PIN, CHALLENGE)
    assert error.value.code == "not_found"


# --- renewal and reissue ---------------------------------------------------------------


def test_renewal_keeps_the_person_and_revokes_the_old_certificate():
    authority = make_authority()
    old = issue(authority)
    renewed_at = ISSUED_AT + timedelta(days=30)
    new = authority.renew(old, PIN, issued_at=renewed_at)
    old_facts, new_facts = authority.facts(old.serial), authority.facts(new.serial)
    assert old_facts is not None
    assert new_facts is not None
    assert new.serial != old.serial
    assert new_facts.person == old_facts.person
    assert new_facts.predecessor == old.serial
    assert new_facts.certificate_issued_at == renewed_at
    assert old_facts.revoked_at == renewed_at
    assert log_in(authority, new) == new.serial
    with pytest.raises(CertificateRevoked):
        log_in(authority, old)


def test_renewal_can_set_a_new_pin_after_the_old_one():
    authority = make_authority()
    old = issue(authority)
    new = authority.renew(old, "5678", old_pin=PIN, issued_at=ISSUED_AT + timedelta(days=1))
    assert unlock_key(new, "5678") is not None
    assert unlock_key(new, PIN) is None


def test_renewal_with_a_wrong_old_pin_counts_and_issues_nothing():
    store = InMemoryAuthorityStore()
    authority = make_authority(store)
    old = issue(authority)
    with pytest.raises(WrongPin) as error:
        authority.renew(old, "5678", old_pin=WRONG, issued_at=ISSUED_AT + timedelta(days=1))
    assert error.value.tries_left == 2
    old_facts = authority.facts(old.serial)
    assert old_facts is not None
    latest = store.latest_certificate(old_facts.person)
    assert latest is not None
    assert latest.serial == old.serial
    assert old_facts.revoked_at is None


def test_a_renewal_shares_the_cards_pin_counter():
    store = InMemoryAuthorityStore()
    authority = make_authority(store)
    old = issue(authority)
    new = authority.renew(old, PIN, issued_at=ISSUED_AT + timedelta(days=1))
    assert _card_id(store, new) == _card_id(store, old)
    for _ in range(3):
        with pytest.raises(WrongPin):
            authority.sign_challenge(new, WRONG, CHALLENGE)
    with pytest.raises(CardLocked):
        authority.sign_challenge(old, PIN, CHALLENGE)


def test_a_locked_card_cannot_be_renewed_until_reset():
    authority = make_authority()
    old = issue(authority)
    for _ in range(3):
        with pytest.raises(WrongPin):
            authority.sign_challenge(old, WRONG, CHALLENGE)
    with pytest.raises(CardLocked):
        authority.renew(old, PIN, issued_at=ISSUED_AT + timedelta(days=1))
    authority.reset_pin(old.serial)
    assert authority.renew(old, PIN, issued_at=ISSUED_AT + timedelta(days=1))


def test_reissue_gives_a_new_card_with_a_fresh_counter_for_the_same_person():
    store = InMemoryAuthorityStore()
    authority = make_authority(store)
    old = issue(authority)
    for _ in range(3):
        with pytest.raises(WrongPin):
            authority.sign_challenge(old, WRONG, CHALLENGE)
    reissued_at = ISSUED_AT + timedelta(days=60)
    new = authority.reissue(old, "2468", issued_at=reissued_at)
    old_facts, new_facts = authority.facts(old.serial), authority.facts(new.serial)
    assert old_facts is not None
    assert new_facts is not None
    assert new_facts.person == old_facts.person
    assert new_facts.predecessor == old.serial
    assert old_facts.revoked_at == reissued_at
    assert _card_id(store, new) != _card_id(store, old)
    assert log_in(authority, new, "2468") == new.serial
    with pytest.raises(CardLocked):
        authority.sign_challenge(old, PIN, CHALLENGE)


def test_a_lost_card_is_revoked_then_replaced():
    authority = make_authority()
    lost = issue(authority)
    authority.revoke(lost.serial, ISSUED_AT + timedelta(days=10))
    new = authority.reissue(lost, PIN, issued_at=ISSUED_AT + timedelta(days=20))
    lost_facts = authority.facts(lost.serial)
    assert lost_facts is not None
    assert lost_facts.revoked_at == ISSUED_AT + timedelta(days=10)  # the first revocation stands
    assert log_in(authority, new) == new.serial


def test_a_replaced_card_cannot_be_renewed_or_reissued_again():
    authority = make_authority()
    old = issue(authority)
    new = authority.renew(old, PIN, issued_at=ISSUED_AT + timedelta(days=1))
    with pytest.raises(CertificateSuperseded, match=new.serial):
        authority.renew(old, PIN, issued_at=ISSUED_AT + timedelta(days=2))
    with pytest.raises(CertificateSuperseded):
        authority.reissue(old, PIN, issued_at=ISSUED_AT + timedelta(days=2))


@pytest.mark.parametrize("days", [0, -1])
def test_a_successor_must_be_issued_after_the_certificate_it_replaces(days):
    authority = make_authority()
    old = issue(authority)
    at = ISSUED_AT + timedelta(days=days)
    with pytest.raises(InvalidCardRequest, match="must be issued after"):
        authority.renew(old, PIN, issued_at=at)
    with pytest.raises(InvalidCardRequest, match="must be issued after"):
        authority.reissue(old, PIN, issued_at=at)


def test_a_chain_of_renewals_keeps_one_person():
    authority = make_authority()
    card = first = issue(authority)
    for years in (5, 10, 15):
        card = authority.renew(card, PIN, issued_at=ISSUED_AT + timedelta(days=365 * years))
    first_facts, last_facts = authority.facts(first.serial), authority.facts(card.serial)
    assert first_facts is not None
    assert last_facts is not None
    assert first_facts.person == last_facts.person


# --- revocation, death, representatives ------------------------------------------------


def test_a_revoked_certificate_is_on_the_revocation_list_at_once():
    authority = make_authority()
    card = issue(authority)
    assert log_in(authority, card) == card.serial
    authority.revoke(card.serial, LOGIN_AT)
    crl = authority.revocation_list()
    entry = crl.get_revoked_certificate_by_serial_number(int(card.serial, 16))
    assert entry is not None
    assert entry.revocation_date_utc == LOGIN_AT
    with pytest.raises(CertificateRevoked):
        log_in(authority, card)


def test_the_revocation_list_is_rebuilt_only_on_change_or_after_a_minute():
    clock = Clock()
    authority = make_authority(clock=clock)
    card = issue(authority)
    crl = authority.revocation_list()
    clock.at += timedelta(seconds=59)
    assert authority.revocation_list() is crl
    authority.revoke(card.serial, clock.at)
    changed = authority.revocation_list()
    assert changed is not crl
    clock.at += timedelta(seconds=60)
    assert authority.revocation_list() is not changed


def test_revoking_an_unknown_serial_is_an_error():
    with pytest.raises(UnknownCertificate):
        make_authority().revoke(new_serial(), LOGIN_AT)


def test_a_death_is_recorded_for_the_person():
    authority = make_authority()
    card = issue(authority)
    renewed = authority.renew(card, PIN, issued_at=ISSUED_AT + timedelta(days=1))
    authority.record_death(renewed.serial, date(2021, 8, 1))
    for serial in (card.serial, renewed.serial):
        facts = authority.facts(serial)
        assert facts is not None
        assert facts.died_on == date(2021, 8, 1)


def test_a_legal_representative_is_linked_to_the_person_not_the_certificate():
    authority = make_authority()
    child = issue(authority, birth_date=date(2012, 5, 5))
    parent = issue(authority, representative_of=child.serial)
    stranger = issue(authority)
    child_facts = authority.facts(child.serial)
    parent_facts = authority.facts(parent.serial)
    stranger_facts = authority.facts(stranger.serial)
    assert child_facts is not None
    assert parent_facts is not None
    assert stranger_facts is not None
    assert authority.is_legal_representative(parent_facts.person, child_facts.person)
    assert not authority.is_legal_representative(child_facts.person, parent_facts.person)
    assert not authority.is_legal_representative(stranger_facts.person, child_facts.person)
    renewed = authority.renew(child, PIN, issued_at=ISSUED_AT + timedelta(days=1))
    renewed_facts = authority.facts(renewed.serial)
    assert renewed_facts is not None
    assert authority.is_legal_representative(parent_facts.person, renewed_facts.person)


def test_representing_an_unknown_serial_is_an_error():
    with pytest.raises(UnknownCertificate):
        issue(make_authority(), representative_of=new_serial())


def _card_id(store: InMemoryAuthorityStore, card: VirtualCard) -> str:
    record = store.certificate(card.serial)
    assert record is not None
    return record.card_id
