"""Card login: challenges, sessions and the errors of a failed login (INTERFACES "Citizen")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from mynapoint.domain.errors import MynapointError

CHALLENGE_LIFETIME = timedelta(minutes=5)
SESSION_LIFETIME = timedelta(minutes=30)
NONCE_BYTES = 32


@dataclass(frozen=True)
class Challenge:
    challenge_id: str
    nonce: bytes
    expires_at: datetime
    used_at: datetime | None = None


@dataclass(frozen=True)
class Session:
    """A signed-in card holder. The token itself is never stored: only its hash."""

    token_hash: str
    person: str
    serial: str
    expires_at: datetime
    ended_at: datetime | None = None


class LoginFailed(MynapointError):
    """Every login failure is a 401 with its own stable code."""


class UnknownChallenge(LoginFailed):
    code = "unknown_challenge"


class ChallengeExpired(LoginFailed):
    code = "challenge_expired"


class ChallengeUsed(LoginFailed):
    code = "challenge_used"


class InvalidSignature(LoginFailed):
    code = "invalid_signature"


class UntrustedCertificate(LoginFailed):
    code = "untrusted_certificate"


class CertificateRevoked(LoginFailed):
    code = "certificate_revoked"


class CertificateExpired(LoginFailed):
    code = "certificate_expired"


class CertificateNotYetValid(LoginFailed):
    code = "certificate_not_yet_valid"


class NotAuthenticated(MynapointError):
    code = "not_authenticated"


class InvalidToken(MynapointError):
    code = "invalid_token"


class TokenExpired(MynapointError):
    code = "token_expired"


class CardLocked(MynapointError):
    """3 wrong PINs in a row: only the municipal office can reset the card."""

    code = "card_locked"


class WrongPin(MynapointError):
    code = "wrong_pin"

    def __init__(self, tries_left: int) -> None:
        if tries_left > 0:
            tries = "1 try" if tries_left == 1 else f"{tries_left} tries"
            message = f"wrong PIN; {tries} left before the card locks"
        else:
            message = "wrong PIN; the card is now locked until it is reset at a municipal office"
        super().__init__(message, tries_left=tries_left)
        self.tries_left = tries_left
