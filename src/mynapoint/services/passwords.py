"""Staff passwords: argon2id hashes.

A password is chosen by a person and may be long and guessable alike, so each guess against a
stolen hash must cost memory and time. The parameters are OWASP's minimum for argon2id
(19 MiB, 2 passes, 1 lane); a sign-in is rare, so tens of milliseconds per check are fine.
(Security codes are short and kept with a keyed HMAC instead: services/codes.py.)
"""

from __future__ import annotations

from argon2 import PasswordHasher as Argon2Hasher
from argon2.exceptions import InvalidHashError, VerificationError

TIME_COST = 2
MEMORY_COST_KIB = 19_456
PARALLELISM = 1


class PasswordHasher:
    def __init__(
        self,
        *,
        time_cost: int = TIME_COST,
        memory_cost_kib: int = MEMORY_COST_KIB,
        parallelism: int = PARALLELISM,
    ) -> None:
        self._hasher = Argon2Hasher(
            time_cost=time_cost, memory_cost=memory_cost_kib, parallelism=parallelism
        )
        # Checked against when there is no account, so that a missing account takes as long
        # to refuse as a wrong password and the timing does not tell which names exist.
        self._decoy = self._hasher.hash("decoy")

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        """True when `password` is the one hashed; False for any other or a damaged hash."""
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def verify_decoy(self, password: str) -> bool:
        """Spend the time of a real check, for an account that does not exist; always False."""
        self.verify(self._decoy, password)
        return False
