"""Card login (INTERFACES "Citizen (card login)"): challenge, signed response, session token."""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from mynapoint.domain.auth import (
    CHALLENGE_LIFETIME,
    NONCE_BYTES,
    SESSION_LIFETIME,
    Challenge,
    ChallengeExpired,
    ChallengeUsed,
    InvalidSignature,
    InvalidToken,
    NotAuthenticated,
    Session,
    TokenExpired,
    UnknownChallenge,
    UntrustedCertificate,
)
from mynapoint.domain.cards import CardFacts
from mynapoint.jpki.card import VirtualCard
from mynapoint.jpki.ports import CardAuthority
from mynapoint.jpki.revocation import CachedRevocationList
from mynapoint.jpki.verification import verify_signed_challenge
from mynapoint.services.ports import UnitOfWork


@dataclass(frozen=True)
class IssuedSession:
    token: str  # shown once to the client; only its hash is stored
    session: Session


def token_hash(token: str) -> str:
    # Tokens are 256 random bits, so a plain SHA-256 suffices; passwords use argon2
    # (services/passwords.py), security codes a keyed HMAC (services/codes.py).
    return hashlib.sha256(token.encode()).hexdigest()


def create_challenge(uow: UnitOfWork, now: datetime) -> Challenge:
    challenge = Challenge(
        challenge_id=secrets.token_urlsafe(16),
        nonce=secrets.token_bytes(NONCE_BYTES),
        expires_at=now + CHALLENGE_LIFETIME,
    )
    # One INSERT: committed by itself, without a transaction's round trips around it.
    with uow.autocommit():
        uow.challenges.add(challenge)
    return challenge


class CardReader(Protocol):
    """A card reader: the chip signs after its PIN, counting wrong ones."""

    def sign_challenge(self, card: VirtualCard, pin: str, challenge: bytes) -> bytes: ...


@dataclass(frozen=True)
class SignedChallenge:
    """What a JPKI client returns to the platform: a challenge, the card's certificate and
    the card's signature over the challenge."""

    challenge_id: str
    certificate_pem: str = field(repr=False)
    signature_b64: str = field(repr=False)


def sign_fresh_challenge(
    uow: UnitOfWork, reader: CardReader, card: VirtualCard, pin: str, now: datetime
) -> SignedChallenge:
    """A new single-use challenge (stored), signed by the card after its PIN, as a reader
    at a counter or the simulated one of the demo does it.

    Raises InvalidPin (not 4 digits; not counted), WrongPin (counted), CardLocked.
    """
    challenge = create_challenge(uow, now)
    signature = reader.sign_challenge(card, pin, challenge.nonce)
    return SignedChallenge(
        challenge.challenge_id, card.certificate_pem, base64.b64encode(signature).decode("ascii")
    )


def decode_signature(signature_b64: str) -> bytes:
    try:
        return base64.b64decode(signature_b64, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidSignature(
            "the signature is not base64; send the card's signature over the challenge nonce, "
            "base64-encoded",
            field="signature",
        ) from None


def use_challenge(uow: UnitOfWork, challenge_id: str, now: datetime) -> Challenge:
    """Take a challenge for one login attempt; it is spent even if the attempt then fails."""
    # One statement checks, marks and reads it (committed by itself); only a challenge it
    # refused is read again, to say why.
    with uow.autocommit():
        challenge = uow.challenges.use(challenge_id, now)
        if challenge is None:
            raise _refused_challenge(uow.challenges.get(challenge_id), challenge_id, now)
    return challenge


def _refused_challenge(
    challenge: Challenge | None, challenge_id: str, now: datetime
) -> UnknownChallenge | ChallengeUsed | ChallengeExpired:
    if challenge is None:
        return UnknownChallenge(
            "no such challenge; ask for one with POST /api/v1/auth/challenges",
            challenge_id=challenge_id,
        )
    if challenge.used_at is None and now >= challenge.expires_at:
        return ChallengeExpired(
            f"the challenge expired at {challenge.expires_at.isoformat()}; ask for a new one"
        )
    # Used already, perhaps by a login that raced this one for it.
    return ChallengeUsed("this challenge was used already; ask for a new one")


def verify_card_response(
    authority: CardAuthority,
    revocations: CachedRevocationList,
    challenge: Challenge,
    certificate_pem: str,
    signature_b64: str,
    now: datetime,
) -> CardFacts:
    """Check the signature, the chain to the trust anchors, validity at `now` and revocation."""
    signature = decode_signature(signature_b64)
    serial = verify_signed_challenge(
        certificate_pem,
        signature,
        challenge.nonce,
        authority.trust_anchors(),
        revocations.current(),
        now,
    )
    facts = authority.facts(serial)
    if facts is None:
        raise UntrustedCertificate(
            f"the card authority does not know certificate {serial}", serial=serial
        )
    return facts


def log_in(
    uow: UnitOfWork,
    authority: CardAuthority,
    revocations: CachedRevocationList,
    challenge_id: str,
    certificate_pem: str,
    signature_b64: str,
    now: datetime,
) -> IssuedSession:
    challenge = use_challenge(uow, challenge_id, now)
    facts = verify_card_response(
        authority, revocations, challenge, certificate_pem, signature_b64, now
    )
    token = secrets.token_urlsafe(32)
    session = Session(
        token_hash=token_hash(token),
        person=facts.person,
        serial=facts.serial,
        expires_at=now + SESSION_LIFETIME,
    )
    # One INSERT: committed by itself, without a transaction's round trips around it.
    with uow.autocommit():
        uow.sessions.add(session)
    return IssuedSession(token, session)


def authenticate(uow: UnitOfWork, token: str | None, now: datetime) -> Session:
    # One indexed read (the hash is the primary key), outside any transaction.
    with uow.reading():
        return session_of(uow, token, now)


def session_of(uow: UnitOfWork, token: str | None, now: datetime) -> Session:
    """The valid session of `token`, read in the caller's open block (see `authenticate`)."""
    if not token:
        raise NotAuthenticated(
            "sign in first: send Authorization: Bearer <token> from POST /api/v1/auth/sessions"
        )
    session = uow.sessions.get(token_hash(token))
    if session is None or session.ended_at is not None:
        raise InvalidToken("the session token is not valid; sign in again")
    if now >= session.expires_at:
        raise TokenExpired(
            f"the session expired at {session.expires_at.isoformat()}; sign in again"
        )
    return session


def log_out(uow: UnitOfWork, session: Session, now: datetime) -> None:
    with uow:
        uow.sessions.end(session.token_hash, now)
        uow.commit()
