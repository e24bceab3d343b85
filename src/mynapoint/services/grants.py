"""Grant instructions for operators: what to grant, to which account, on which day."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from mynapoint.domain.errors import MynapointError
from mynapoint.domain.ledger import GrantCounts, GrantInstruction
from mynapoint.services.ports import UnitOfWork

PAGE_SIZE = 500


class InvalidCursor(MynapointError):
    code = "invalid_request"


@dataclass(frozen=True)
class GrantPage:
    grants: list[GrantInstruction]
    next_cursor: str | None


def encode_cursor(grant_id: str) -> str:
    return base64.urlsafe_b64encode(grant_id.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    padded = cursor + "=" * (-len(cursor) % 4)
    try:
        grant_id = base64.b64decode(padded, altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        grant_id = ""
    if not grant_id.isalnum():
        raise InvalidCursor(
            "cursor is not one this API gave out; start again without it", field="cursor"
        )
    return grant_id


def pending_grants(
    uow: UnitOfWork,
    operator_code: str,
    due_by: date,
    service_code: str | None = None,
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
) -> GrantPage:
    after = decode_cursor(cursor) if cursor else None
    with uow:
        grants = uow.grants.pending(operator_code, due_by, service_code, after, limit + 1)
    more = len(grants) > limit
    grants = grants[:limit]
    return GrantPage(grants, encode_cursor(grants[-1].grant_id) if more and grants else None)


def acknowledge(
    uow: UnitOfWork, operator_code: str, grant_ids: Sequence[str], now: datetime
) -> int:
    """Mark instructions as carried out; an acknowledged instruction never changes again."""
    with uow:
        changed = uow.grants.acknowledge(operator_code, grant_ids, now)
        uow.commit()
    return changed


def grant_counts(uow: UnitOfWork, operator_code: str, today: date) -> GrantCounts:
    """The operator's instructions overdue, due today, upcoming and acknowledged."""
    with uow:
        return uow.grants.counts(operator_code, today)
