"""Payment accounts as the operator registers them (RULES.md R4, INTERFACES accounts)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from mynapoint.domain.errors import MynapointError

ACCOUNT_CODE_TRIES = 5  # 5 wrong security codes in a row lock the account (INTERFACES 423)


@dataclass(frozen=True)
class PaymentAccount:
    service_code: str
    payment_service_id: str
    operator_code: str
    holder_name: str
    security_code_hash: str
    registered_at: datetime
    wrong_codes: int = 0

    @property
    def is_locked(self) -> bool:
        return self.wrong_codes >= ACCOUNT_CODE_TRIES


def mask_holder_name(name: str) -> str:
    """`ヤマダ タロウ` -> `ヤマダ タ**`: the family name, then the given name's first character.

    Enough for a person to recognise their own account, not enough to learn a stranger's.
    """
    parts = name.replace("\u3000", " ").split()
    if len(parts) >= 2:
        family, given = parts[0], "".join(parts[1:])
        return f"{family} {given[0]}{'*' * (len(given) - 1)}"
    single = parts[0] if parts else ""
    shown = max(1, len(single) // 2)
    return single[:shown] + "*" * (len(single) - shown)


class AccountLocked(MynapointError):
    code = "account_locked"


class InvalidAccountCredentials(MynapointError):
    code = "invalid_account_credentials"


class AccountTaken(MynapointError):
    code = "account_taken"


class NotYourService(MynapointError):
    code = "not_your_service"
