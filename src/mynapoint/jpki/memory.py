"""An AuthorityStore in memory: for unit tests, and anything that needs no database."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import date, datetime

from mynapoint.jpki.ports import AuthorityKey, CardRecord, CertificateRecord, PersonRecord


class InMemoryAuthorityStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: AuthorityKey | None = None
        self._persons: dict[str, PersonRecord] = {}
        self._representatives: dict[str, list[str]] = {}
        self._cards: dict[str, CardRecord] = {}
        self._certificates: dict[str, CertificateRecord] = {}  # insertion order = issue order

    def authority_key(self) -> AuthorityKey | None:
        return self._key

    def save_authority_key(self, key: AuthorityKey) -> AuthorityKey:
        with self._lock:
            if self._key is None:
                self._key = key
            return self._key

    def add_person(self, person: PersonRecord) -> None:
        with self._lock:
            if person.anchor in self._persons:
                raise ValueError(f"person {person.anchor} exists already")
            self._persons[person.anchor] = person

    def person(self, anchor: str) -> PersonRecord | None:
        return self._persons.get(anchor)

    def record_death(self, anchor: str, died_on: date) -> None:
        with self._lock:
            self._persons[anchor] = replace(self._person(anchor), died_on=died_on)

    def add_representative(self, holder: str, representative: str) -> None:
        with self._lock:
            self._person(holder)
            self._person(representative)
            known = self._representatives.setdefault(holder, [])
            if representative not in known:
                known.append(representative)

    def representatives_of(self, holder: str) -> tuple[str, ...]:
        with self._lock:
            return tuple(self._representatives.get(holder, ()))

    def add_card(self, card: CardRecord) -> None:
        with self._lock:
            if card.card_id in self._cards:
                raise ValueError(f"card {card.card_id} exists already")
            self._person(card.person)
            self._cards[card.card_id] = card

    def card(self, card_id: str) -> CardRecord | None:
        return self._cards.get(card_id)

    def record_pin_attempt(self, card_id: str, *, correct: bool) -> CardRecord:
        with self._lock:
            card = self._card(card_id)
            if card.is_locked:
                return card
            card = replace(card, wrong_pins=0 if correct else card.wrong_pins + 1)
            self._cards[card_id] = card
            return card

    def reset_pins(self, card_id: str) -> None:
        with self._lock:
            self._cards[card_id] = replace(self._card(card_id), wrong_pins=0)

    def add_certificate(self, certificate: CertificateRecord) -> None:
        with self._lock:
            if certificate.serial in self._certificates:
                raise ValueError(f"certificate {certificate.serial} exists already")
            self._person(certificate.person)
            self._card(certificate.card_id)
            self._certificates[certificate.serial] = certificate

    def certificate(self, serial: str) -> CertificateRecord | None:
        return self._certificates.get(serial)

    def certificate_holder(self, serial: str) -> tuple[CertificateRecord, PersonRecord] | None:
        certificate = self._certificates.get(serial)
        if certificate is None:
            return None
        person = self.person(certificate.person)
        return None if person is None else (certificate, person)

    def latest_certificate(self, person: str) -> CertificateRecord | None:
        with self._lock:
            issued = [c for c in self._certificates.values() if c.person == person]
        # The latest issue time; among equal times, the one added last.
        return max(reversed(issued), key=lambda c: c.issued_at, default=None)

    def revoke(self, serial: str, at: datetime) -> None:
        with self._lock:
            certificate = self._certificates.get(serial)
            if certificate is None:
                raise KeyError(f"no certificate {serial}")
            if certificate.revoked_at is None:  # the first revocation stands
                self._certificates[serial] = replace(certificate, revoked_at=at)

    def revocations(self) -> tuple[tuple[str, datetime], ...]:
        with self._lock:
            return tuple(
                (c.serial, c.revoked_at)
                for c in self._certificates.values()
                if c.revoked_at is not None
            )

    def _person(self, anchor: str) -> PersonRecord:
        person = self._persons.get(anchor)
        if person is None:
            raise KeyError(f"no person {anchor}")
        return person

    def _card(self, card_id: str) -> CardRecord:
        card = self._cards.get(card_id)
        if card is None:
            raise KeyError(f"no card {card_id}")
        return card
