"""Payment accounts as the operator registers them (RULES.md R4, INTERFACES accounts)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from mynapoint.domain.errors import MynapointError

# 5 wrong security codes in a row by one person lock that person out of the account for a
# while (INTERFACES 423); other persons are not affected, so nobody can lock out anyone else.
ACCOUNT_CODE_TRIES = 5
# A person's wrong codes for an account are forgotten a day after the last one.
CODE_TRIES_KEPT = timedelta(days=1)


@dataclass(frozen=True)
class PaymentAccount:
    service_code: str
    payment_service_id: str
    operator_code: str
    holder_name: str
    security_code_hash: str
    registered_at: datetime


@dataclass(frozen=True)
class CodeTries:
    """One person's wrong security codes for one account ID (known to the operator or not)."""

    wrong_codes: int
    last_wrong_at: datetime
    locked_until: datetime | None = None

    def is_locked_at(self, now: datetime) -> bool:
        return self.locked_until is not None and now < self.locked_until

    def seconds_locked(self, now: datetime) -> int:
        """Whole seconds until the lock ends (at least 1 while locked), else 0."""
        if self.locked_until is None or not self.is_locked_at(now):
            return 0
        return max(1, math.ceil((self.locked_until - now).total_seconds()))


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
