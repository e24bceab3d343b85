"""What the card-authentication layer needs from storage, and what the platform asks J-LIS.

`AuthorityStore` is the simulated card authority's own storage (persons,
cards with their PIN retry counters, certificates, revocations); `db/`
implements it. `CardAuthority` is the port through which the platform talks to
the card authority (公的個人認証 / J-LIS); the simulated authority implements
it, and a real J-LIS adapter would replace it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from cryptography import x509

from mynapoint.domain.cards import PIN_TRIES, CardFacts


@dataclass(frozen=True)
class AuthorityKey:
    """The simulated authority's root CA: certificate and (unencrypted, demo-only) key, PEM."""

    certificate_pem: bytes
    private_key_pem: bytes
    created_at: datetime


@dataclass(frozen=True)
class PersonRecord:
    anchor: str  # opaque and random; never derived from a My Number
    birth_date: date
    card_applied_on: date
    card_applied_online: bool = False
    died_on: date | None = None
    adult_ward: bool = False
    # The issuing city or ward, a JIS local government code (domain/municipalities.py).
    municipality: str | None = None


@dataclass(frozen=True)
class CardRecord:
    """A physical card. Its PIN retry counter lives here, as on a chip, not in the card file."""

    card_id: str
    person: str
    issued_at: datetime
    wrong_pins: int = 0  # consecutive wrong PINs

    @property
    def is_locked(self) -> bool:
        return self.wrong_pins >= PIN_TRIES

    @property
    def tries_left(self) -> int:
        return max(0, PIN_TRIES - self.wrong_pins)


@dataclass(frozen=True)
class CertificateRecord:
    serial: str  # uppercase hex
    person: str
    card_id: str
    certificate_pem: str
    issued_at: datetime
    not_after: datetime
    predecessor: str | None = None  # the serial this one renewed or replaced
    revoked_at: datetime | None = None


class AuthorityStore(Protocol):
    def authority_key(self) -> AuthorityKey | None: ...

    def save_authority_key(self, key: AuthorityKey) -> AuthorityKey:
        """Store the root key unless one exists; return the one stored (first writer wins)."""
        ...

    def add_person(self, person: PersonRecord) -> None: ...

    def person(self, anchor: str) -> PersonRecord | None: ...

    def record_death(self, anchor: str, died_on: date) -> None: ...

    def add_representative(self, holder: str, representative: str) -> None: ...

    def representatives_of(self, holder: str) -> tuple[str, ...]: ...

    def add_card(self, card: CardRecord) -> None: ...

    def card(self, card_id: str) -> CardRecord | None: ...

    def record_pin_attempt(self, card_id: str, *, correct: bool) -> CardRecord:
        """Atomically count a PIN entry: a wrong one adds 1, a right one resets to 0.

        Once the card is locked (3 wrong in a row) nothing changes it but reset_pins.
        """
        ...

    def reset_pins(self, card_id: str) -> None: ...

    def add_certificate(self, certificate: CertificateRecord) -> None: ...

    def certificate(self, serial: str) -> CertificateRecord | None: ...

    def certificate_holder(self, serial: str) -> tuple[CertificateRecord, PersonRecord] | None:
        """The certificate and the person it was issued to, read together (every card login
        and application asks for both)."""
        ...

    def latest_certificate(self, person: str) -> CertificateRecord | None: ...

    def revoke(self, serial: str, at: datetime) -> None: ...

    def revocations(self) -> tuple[tuple[str, datetime], ...]: ...


class CardAuthority(Protocol):
    """The platform's view of J-LIS: trust anchors, revocations, and facts by serial."""

    def trust_anchors(self) -> Sequence[x509.Certificate]: ...

    def revocation_list(self) -> x509.CertificateRevocationList: ...

    def facts(self, serial: str) -> CardFacts | None: ...

    def is_legal_representative(self, representative: str, holder: str) -> bool: ...
