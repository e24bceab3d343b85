"""The simulated card authority (J-LIS stand-in): root CA, cards, PIN counters, revocations.

It implements the platform's CardAuthority port, and the operations a municipal office
and a card holder perform (issue, renew, reissue, revoke, record a death, reset the PIN,
sign with the card) for the command line, demos and tests. Its state lives in an
AuthorityStore: the database in production, InMemoryAuthorityStore in unit tests.

A person is an opaque random anchor; every certificate the person is ever issued is
linked to it (RULES.md §4), so renewing or replacing a card never makes a new person.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from mynapoint.domain.auth import CardLocked, WrongPin
from mynapoint.domain.calendar import jst_date
from mynapoint.domain.cards import PIN_TRIES, CardFacts, certificate_not_after
from mynapoint.domain.errors import MynapointError
from mynapoint.domain.municipalities import is_well_formed
from mynapoint.jpki.card import CardFileError, VirtualCard, sign, unlock_key, validate_pin
from mynapoint.jpki.certificates import (
    build_crl,
    certificate_pem,
    generate_key,
    generate_root,
    issue_user_certificate,
    load_certificate,
    new_serial,
    root_certificate,
)
from mynapoint.jpki.ports import (
    AuthorityKey,
    AuthorityStore,
    CardRecord,
    CertificateRecord,
    PersonRecord,
)

CRL_REBUILD_AFTER = timedelta(seconds=60)


class UnknownCertificate(MynapointError):
    code = "not_found"

    def __init__(self, serial: str) -> None:
        super().__init__(
            f"the card authority has issued no certificate with serial {serial}", serial=serial
        )
        self.serial = serial


class CertificateSuperseded(MynapointError):
    code = "certificate_superseded"

    def __init__(self, serial: str, latest: str) -> None:
        super().__init__(
            f"certificate {serial} was replaced by {latest}; use the card file of {latest}",
            serial=serial,
            latest=latest,
        )


class InvalidCardRequest(MynapointError):
    code = "invalid_request"


@dataclass(frozen=True)
class _BuiltCrl:
    revocations: tuple[tuple[str, datetime], ...]
    built_at: datetime
    crl: x509.CertificateRevocationList


def _utc_now() -> datetime:
    return datetime.now(UTC)


class SimulatedCardAuthority:
    """Implements CardAuthority; `now` is the platform clock, `new_key` makes card and root keys."""

    def __init__(
        self,
        store: AuthorityStore,
        *,
        now: Callable[[], datetime] = _utc_now,
        new_key: Callable[[], rsa.RSAPrivateKey] = generate_key,
    ) -> None:
        self._store = store
        self._now = now
        self._new_key = new_key
        self._lock = threading.RLock()
        self._root: AuthorityKey | None = None
        self._crl: _BuiltCrl | None = None

    # --- CardAuthority: what the platform asks -------------------------------------------

    def trust_anchors(self) -> tuple[x509.Certificate, ...]:
        return (root_certificate(self._authority_key()),)

    def revocation_list(self) -> x509.CertificateRevocationList:
        """A CRL of every revocation so far; rebuilt when one is added or after 60 s."""
        with self._lock:
            revocations = tuple(sorted(self._store.revocations()))
            now = self._now()
            built = self._crl
            if (
                built is None
                or built.revocations != revocations
                or not timedelta(0) <= now - built.built_at < CRL_REBUILD_AFTER
            ):
                built = _BuiltCrl(
                    revocations, now, build_crl(self._authority_key(), revocations, now)
                )
                self._crl = built
            return built.crl

    def facts(self, serial: str) -> CardFacts | None:
        found = self._store.certificate_holder(serial)
        if found is None:
            return None
        certificate, person = found
        return CardFacts(
            serial=certificate.serial,
            person=person.anchor,
            card_applied_on=person.card_applied_on,
            card_applied_online=person.card_applied_online,
            birth_date=person.birth_date,
            died_on=person.died_on,
            adult_ward=person.adult_ward,
            certificate_issued_at=certificate.issued_at,
            predecessor=certificate.predecessor,
            revoked_at=certificate.revoked_at,
            municipality=person.municipality,
        )

    def is_legal_representative(self, representative: str, holder: str) -> bool:
        """Both are person anchors (CardFacts.person), not serials: the tie is between persons."""
        return representative in self._store.representatives_of(holder)

    # --- the municipal office ------------------------------------------------------------

    def issue_card(
        self,
        pin: str,
        *,
        birth_date: date,
        card_applied_on: date,
        issued_at: datetime,
        card_applied_online: bool = False,
        representative_of: str | None = None,
        adult_ward: bool = False,
        municipality: str | None = None,
        key: rsa.RSAPrivateKey | None = None,
    ) -> VirtualCard:
        """Register a new person and give them a card with a new certificate.

        `representative_of` is a certificate SERIAL of the person this one legally represents.
        """
        validate_pin(pin)
        if birth_date > jst_date(issued_at):
            raise InvalidCardRequest(
                f"a card issued on {jst_date(issued_at)} cannot belong to someone born on "
                f"{birth_date}; give a birth date on or before the issue date",
                birth_date=birth_date.isoformat(),
            )
        if municipality is not None and not is_well_formed(municipality):
            raise InvalidCardRequest(
                f"municipality '{municipality}' is not a local government code; give six "
                "digits whose last is the check digit, e.g. 401331",
                municipality=municipality,
            )
        holder = None
        if representative_of is not None:
            represented = self._certificate(representative_of)
            holder = represented.person
        person = PersonRecord(
            anchor=secrets.token_hex(16),  # random: never derived from a My Number
            birth_date=birth_date,
            card_applied_on=card_applied_on,
            card_applied_online=card_applied_online,
            adult_ward=adult_ward,
            municipality=municipality,
        )
        self._store.add_person(person)
        if holder is not None:
            self._store.add_representative(holder, person.anchor)
        chip = self._new_chip(person.anchor, issued_at)
        return self._issue(person, chip.card_id, pin, issued_at, predecessor=None, key=key)

    def renew(
        self,
        card: VirtualCard,
        pin: str,
        *,
        issued_at: datetime,
        old_pin: str | None = None,
        key: rsa.RSAPrivateKey | None = None,
    ) -> VirtualCard:
        """A new key and certificate on the same card (same PIN counter); `pin` is the new PIN.

        The holder proves possession with the old PIN (`old_pin`, by default the same as
        `pin`), under the card's counter rules. The old certificate is revoked at `issued_at`:
        a renewed chip holds only the new one.
        """
        validate_pin(pin)
        old = self._current(card, issued_at)
        self._unlock(card, old, pin if old_pin is None else old_pin)
        person = self._person(old.person)
        renewed = self._issue(person, old.card_id, pin, issued_at, predecessor=old.serial, key=key)
        self._store.revoke(old.serial, issued_at)
        return renewed

    def reissue(
        self,
        card: VirtualCard,
        pin: str,
        *,
        issued_at: datetime,
        key: rsa.RSAPrivateKey | None = None,
    ) -> VirtualCard:
        """A new card (fresh PIN counter) for the same person, e.g. after a loss; `pin` is its PIN.

        No PIN of the old card is asked: a lost card cannot be presented, and a locked one is
        a reason to replace it. The holder proves who they are at the office; here the old
        card file names the person. The old certificate is revoked at `issued_at`.
        """
        validate_pin(pin)
        old = self._current(card, issued_at)
        person = self._person(old.person)
        chip = self._new_chip(person.anchor, issued_at)
        replaced = self._issue(
            person, chip.card_id, pin, issued_at, predecessor=old.serial, key=key
        )
        self._store.revoke(old.serial, issued_at)
        return replaced

    def revoke(self, serial: str, at: datetime) -> None:
        """Put the certificate on the CRL; revoking it again keeps the first time."""
        self._certificate(serial)
        self._store.revoke(serial, at)

    def has_successor(self, serial: str) -> bool:
        """Whether a newer certificate (renewal or reissue) replaced this one."""
        latest = self._store.latest_certificate(self._certificate(serial).person)
        return latest is not None and latest.serial != serial

    def record_death(self, serial: str, died_on: date) -> None:
        """Record the holder's death. The certificate is not revoked: the platform asks facts()."""
        self._store.record_death(self._certificate(serial).person, died_on)

    def reset_pin(self, serial: str) -> None:
        """Unlock the card that holds this certificate (done at a municipal office)."""
        self._store.reset_pins(self._certificate(serial).card_id)

    # --- the card itself -----------------------------------------------------------------

    def sign_challenge(self, card: VirtualCard, pin: str, challenge: bytes) -> bytes:
        """Sign as the chip would: only after the PIN, counting wrong ones on the card.

        Raises CardLocked (before looking at the PIN) or WrongPin(tries_left); a malformed PIN
        raises InvalidPin and is not counted, as a card reader would not send it.
        """
        return sign(self._unlock(card, self._certificate_of(card), pin), challenge)

    # --- internals -----------------------------------------------------------------------

    def _authority_key(self) -> AuthorityKey:
        with self._lock:
            if self._root is None:
                stored = self._store.authority_key()
                if stored is None:
                    # First writer wins: another process may have saved its root meanwhile.
                    stored = self._store.save_authority_key(
                        generate_root(self._now(), self._new_key())
                    )
                self._root = stored
            return self._root

    def _new_chip(self, person: str, issued_at: datetime) -> CardRecord:
        chip = CardRecord(card_id=secrets.token_hex(16), person=person, issued_at=issued_at)
        self._store.add_card(chip)
        return chip

    def _issue(
        self,
        person: PersonRecord,
        card_id: str,
        pin: str,
        issued_at: datetime,
        *,
        predecessor: str | None,
        key: rsa.RSAPrivateKey | None,
    ) -> VirtualCard:
        key = key or self._new_key()
        serial = new_serial()
        not_after = certificate_not_after(person.birth_date, issued_at)
        certificate = issue_user_certificate(
            self._authority_key(), key.public_key(), serial, issued_at, not_after
        )
        self._store.add_certificate(
            CertificateRecord(
                serial=serial,
                person=person.anchor,
                card_id=card_id,
                certificate_pem=certificate_pem(certificate),
                issued_at=issued_at,
                not_after=not_after,
                predecessor=predecessor,
            )
        )
        return VirtualCard.seal(certificate, key, pin)

    def _unlock(self, card: VirtualCard, record: CertificateRecord, pin: str) -> rsa.RSAPrivateKey:
        validate_pin(pin)
        chip = self._store.card(record.card_id)
        if chip is None:
            raise UnknownCertificate(record.serial)
        if chip.is_locked:
            raise _locked(record.serial)
        key = unlock_key(card, pin)
        if key is None:
            raise WrongPin(self._store.record_pin_attempt(chip.card_id, correct=False).tries_left)
        if self._store.record_pin_attempt(chip.card_id, correct=True).is_locked:
            # Wrong PINs raced this right one and locked the card first: the lock wins.
            raise _locked(record.serial)
        if key.public_key() != card.certificate.public_key():
            raise CardFileError(
                f"the key in the card file does not belong to certificate {record.serial}"
            )
        return key

    def _certificate(self, serial: str) -> CertificateRecord:
        record = self._store.certificate(serial)
        if record is None:
            raise UnknownCertificate(serial)
        return record

    def _certificate_of(self, card: VirtualCard) -> CertificateRecord:
        record = self._certificate(card.serial)
        if load_certificate(record.certificate_pem) != card.certificate:
            raise CardFileError(
                f"the card file's certificate is not the one issued under serial {card.serial}",
                serial=card.serial,
            )
        return record

    def _current(self, card: VirtualCard, successor_issued_at: datetime) -> CertificateRecord:
        """The card's certificate, refusing one already replaced (two live certificates)."""
        record = self._certificate_of(card)
        if successor_issued_at <= record.issued_at:
            # Strictly later, so that "the person's latest certificate" is never a tie.
            raise InvalidCardRequest(
                f"certificate {record.serial} was issued at {record.issued_at.isoformat()}; "
                "its successor must be issued after that",
                serial=record.serial,
            )
        latest = self._store.latest_certificate(record.person)
        if latest is not None and latest.serial != record.serial:
            raise CertificateSuperseded(record.serial, latest.serial)
        return record

    def _person(self, anchor: str) -> PersonRecord:
        person = self._store.person(anchor)
        if person is None:
            raise MynapointError(f"the card authority has no person {anchor}")
        return person


def _locked(serial: str) -> CardLocked:
    return CardLocked(
        f"the card is locked after {PIN_TRIES} wrong PINs in a row; "
        "it must be reset at a municipal office (mynapoint card reset-pin)",
        serial=serial,
    )
