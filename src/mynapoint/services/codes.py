"""Security codes (セキュリティコード): their formats, and their argon2id hashes.

A code is short (4 to 8 characters for most services), so a fast hash of it
would fall to a dictionary in seconds; argon2id makes each guess cost memory.
The parameters are OWASP's minimum for argon2id (19 MiB, 2 passes, 1 lane):
tens of millions of accounts are registered and checked, so each check must
stay around tens of milliseconds. Online guessing is stopped by the account
lock after 5 wrong codes, not by the hash.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from mynapoint.domain.errors import MynapointError
from mynapoint.domain.services import PaymentService

TIME_COST = 2
MEMORY_COST_KIB = 19_456
PARALLELISM = 1


class CodeHasher:
    def __init__(
        self,
        *,
        time_cost: int = TIME_COST,
        memory_cost_kib: int = MEMORY_COST_KIB,
        parallelism: int = PARALLELISM,
    ) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_cost_kib, parallelism=parallelism
        )
        # Checked against when there is no account, so that a missing account takes as long
        # to refuse as a wrong code and the timing does not tell which IDs exist.
        self._decoy = self._hasher.hash("decoy")

    def hash(self, code: str) -> str:
        return self._hasher.hash(code)

    def verify(self, code_hash: str, code: str) -> bool:
        """True when `code` is the one hashed; False for any other code or a damaged hash."""
        try:
            return self._hasher.verify(code_hash, code)
        except (VerificationError, InvalidHashError):
            return False

    def verify_decoy(self, code: str) -> bool:
        """Spend the time of a real check, for an account that does not exist; always False."""
        self.verify(self._decoy, code)
        return False


# A service with several security codes (a card's last 4 digits and its expiry, say) takes
# them as one string joined with this separator, in the catalog's order: "1234-0825".
CODE_SEPARATOR = "-"

# The column widths of stored accounts (db/tables.py payment_accounts).
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
