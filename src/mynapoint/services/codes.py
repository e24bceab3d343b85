"""Security codes (セキュリティコード): their formats, and how they are kept: a keyed HMAC.

A code is short (4 to 8 digits for most services): 10,000 candidates for a 4-digit code fall
to a dictionary in minutes whatever the hash, so a slow hash (argon2id, which this module used
until issue 13) protects little and costs every application tens of milliseconds of CPU. A
keyed HMAC-SHA256 with a secret the database does not hold (MYNAPOINT_CODE_KEY, a file like
the audit signing key) is both fast and stronger against a stolen database: without the key
file the stored values cannot be tested offline at all. Online guessing is stopped by the
account lock after 5 wrong codes, not by the hash.

Hashes stored before (argon2id, `$argon2…`) keep verifying; the check that accepts one
tells the caller to store the HMAC form instead (`needs_rehash`). Until an account's next
successful check its old hash takes as long as argon2 does.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
import threading
from typing import TYPE_CHECKING, Final

from argon2 import PasswordHasher as Argon2Hasher
from argon2.exceptions import InvalidHashError, VerificationError

from mynapoint.domain.errors import MynapointError
from mynapoint.domain.services import PaymentService

if TYPE_CHECKING:
    from pathlib import Path

# The stored form: `$hmac-sha256$v=1$` + base64url (no padding) of HMAC-SHA256(key, code).
HMAC_PREFIX: Final = "$hmac-sha256$v=1$"
ARGON2_PREFIX: Final = "$argon2"
CODE_KEY_BYTES: Final = 32
KEY_FILE_MODE: Final = 0o600


class CodeHasher:
    """Keyed HMAC-SHA256 of security codes; argon2id hashes stored earlier still verify."""

    def __init__(self, key: bytes) -> None:
        if len(key) < CODE_KEY_BYTES:
            raise ValueError(
                f"the security-code key has {len(key)} bytes; it needs at least {CODE_KEY_BYTES}"
            )
        self._key = key
        # Verifies the hashes of before the keyed HMAC (any argon2 parameters: they are in the
        # hash); never makes new ones.
        self._legacy = Argon2Hasher()
        # Checked against when there is no account: the same HMAC and comparison as for a
        # registered account, so a missing account takes as long to refuse as a wrong code
        # and the timing does not tell which IDs exist.
        self._decoy = self.hash(secrets.token_hex(8))

    def hash(self, code: str) -> str:
        digest = hmac.new(self._key, code.encode("utf-8"), hashlib.sha256).digest()
        return HMAC_PREFIX + base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")

    def verify(self, code_hash: str, code: str) -> bool:
        """True when `code` is the one hashed; False for any other code or a damaged hash."""
        if code_hash.startswith(ARGON2_PREFIX):
            try:
                return self._legacy.verify(code_hash, code)
            except (VerificationError, InvalidHashError):
                return False
        # Constant time: how far two values agree must not show in the time taken.
        return hmac.compare_digest(self.hash(code).encode("ascii"), code_hash.encode("ascii"))

    def needs_rehash(self, code_hash: str) -> bool:
        """True for a hash in an older form: store `hash(code)` after a successful check."""
        return not code_hash.startswith(HMAC_PREFIX)

    def verify_decoy(self, code: str) -> bool:
        """Spend the time of a real check, for an account that does not exist; always False."""
        self.verify(self._decoy, code)
        return False


class CodeKeyFile:
    """The secret of the HMAC in its file: read on first use, or generated and written then
    (0600), like the audit signing key (services/head_signing.py).

    Every process and every host serving one database must read the SAME file (copy it, or
    mount it from a secret store): a process with another key refuses every stored code.
    Losing it makes every stored code unverifiable until the operators register them again.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._key: bytes | None = None

    def key(self) -> bytes:
        with self._lock:
            if self._key is None:
                self._key = self._load_or_create()
            return self._key

    def _load_or_create(self) -> bytes:
        try:
            return self._load()
        except FileNotFoundError:
            pass
        self.path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_bytes(CODE_KEY_BYTES)
        try:
            # O_EXCL: of two processes starting at once, one writes the key and both use it.
            descriptor = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, KEY_FILE_MODE)
        except FileExistsError:
            return self._load()
        with os.fdopen(descriptor, "wb") as file:
            file.write(base64.b64encode(key) + b"\n")
        return key

    def _load(self) -> bytes:
        text = self.path.read_bytes().strip()
        try:
            key = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError(
                f"the security-code key {self.path} is not base64 (one line, "
                f"{CODE_KEY_BYTES} random bytes)"
            ) from None
        if len(key) < CODE_KEY_BYTES:
            raise ValueError(
                f"the security-code key {self.path} holds {len(key)} bytes; "
                f"expected at least {CODE_KEY_BYTES}"
            )
        return key


# A service with several security codes (a card's last 4 digits and its expiry, say) takes
# them as one string joined with this separator, in the catalog's order: "1234-0825".
CODE_SEPARATOR = "-"

# The column widths of stored accounts (db/tables/accounts.py payment_accounts).
PAYMENT_SERVICE_ID_MAX = 64
SECURITY_CODE_MAX = 64


class InvalidAccountInput(MynapointError):
    """A 決済サービスID or security code not in the service's format: nobody's account."""

    code = "invalid_request"

    def __init__(self, field: str, message: str, expected: str) -> None:
        super().__init__(
            message,
            fields=[{"field": field, "message": message, "type": "format"}],
            expected=expected,
        )


def joined_code_format(service: PaymentService) -> str:
    """How the security code(s) of `service` are written, with an example."""
    names = [f"{c.name_en} ({c.description_en or c.pattern})" for c in service.security_codes]
    example = CODE_SEPARATOR.join(c.example for c in service.security_codes)
    if len(names) == 1:
        return f"{names[0]}, e.g. {example}"
    return f"{' and '.join(names)}, joined with '{CODE_SEPARATOR}', e.g. {example}"


def check_account_input(
    service: PaymentService, payment_service_id: str, security_code: str
) -> None:
    """Refuse an ID or code that cannot belong to any account of the service (not counted
    toward the account lock: no registered account has such an ID or code)."""
    id_format = service.payment_service_id
    described = id_format.description_en or id_format.pattern
    expected_id = f"{id_format.name_en} ({described}), e.g. {id_format.example}"
    if len(payment_service_id) > PAYMENT_SERVICE_ID_MAX or not id_format.matches(
        payment_service_id
    ):
        raise InvalidAccountInput(
            "payment_service_id",
            f"payment_service_id '{payment_service_id[:PAYMENT_SERVICE_ID_MAX]}' is not a "
            f"{service.name_en} {id_format.name_en}; expected {expected_id}",
            expected_id,
        )
    expected_code = joined_code_format(service)
    parts = (
        security_code.split(CODE_SEPARATOR) if len(service.security_codes) > 1 else [security_code]
    )
    # The code itself is never echoed: it is a secret, even when mistyped.
    if (
        len(security_code) > SECURITY_CODE_MAX
        or len(parts) != len(service.security_codes)
        or not all(f.matches(p) for f, p in zip(service.security_codes, parts, strict=True))
    ):
        raise InvalidAccountInput(
            "security_code",
            f"security_code is not in the format of {service.name_en}; expected {expected_code}",
            expected_code,
        )
