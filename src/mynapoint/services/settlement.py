"""Monthly settlement: what the state reimburses each operator (1 point = 1 yen).

A grant belongs to the month of its grant date, or, when that month was
already closed, to the first open month after it. A month is provisional until
closed; a closed month never changes, and later corrections land in a later month.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from mynapoint.domain.calendar import jst_date
from mynapoint.domain.errors import MynapointError
from mynapoint.services.ledger import month_of
from mynapoint.services.ports import UnitOfWork

_MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")


class InvalidMonth(MynapointError):
    code = "invalid_request"


class MonthNotOver(MynapointError):
    code = "invalid_request"


@dataclass(frozen=True)
class ServiceStatement:
    service_code: str
    points_granted: int
    points_clawed_back: int
    net_points: int
    reimbursement_yen: int
    events: int
    persons: int


@dataclass(frozen=True)
class Statement:
    month: str
    status: str  # provisional | closed
    operator_code: str
    services: list[ServiceStatement]


def check_month(month: str) -> str:
    if not _MONTH.fullmatch(month):
        raise InvalidMonth(f"month '{month}' is not YYYY-MM, e.g. 2021-07", field="month")
    return month


def statements(uow: UnitOfWork, month: str) -> dict[str, Statement]:
    """Every operator's statement for the month (within the caller's `with uow`)."""
    check_month(month)
    status = "closed" if month in uow.settlements.closed_months() else "provisional"
    totals: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    events: dict[tuple[str, str], set[str]] = defaultdict(set)
    persons: dict[tuple[str, str], set[str]] = defaultdict(set)
    for grant in uow.grants.for_month(month):
        granted_clawed = totals[grant.operator_code][grant.service_code]
        if grant.points >= 0:
            granted_clawed[0] += grant.points
        else:
            granted_clawed[1] -= grant.points
        key = (grant.operator_code, grant.service_code)
        events[key].update(grant.event_ids)
        persons[key].add(grant.person)
    out: dict[str, Statement] = {}
    for operator_code, by_service in sorted(totals.items()):
        lines = [
            ServiceStatement(
                service_code=service_code,
                points_granted=granted,
                points_clawed_back=clawed,
                net_points=granted - clawed,
                reimbursement_yen=granted - clawed,
                events=len(events[operator_code, service_code]),
                persons=len(persons[operator_code, service_code]),
            )
            for service_code, (granted, clawed) in sorted(by_service.items())
        ]
        out[operator_code] = Statement(month, status, operator_code, lines)
    return out


def operator_statement(uow: UnitOfWork, operator_code: str, month: str) -> Statement:
    with uow:
        found = statements(uow, month)
    status = found[operator_code].status if operator_code in found else None
    if status is None:
        with uow:
            status = "closed" if month in uow.settlements.closed_months() else "provisional"
    return found.get(operator_code, Statement(month, status, operator_code, []))


def close_month(uow: UnitOfWork, month: str, now: datetime) -> dict[str, Statement]:
    """Close the month (once; again is a no-op) and return its statements."""
    check_month(month)
    if month >= month_of(jst_date(now)):
        raise MonthNotOver(
            f"month {month} is not over yet (platform today is {jst_date(now).isoformat()}); "
            "a month can be closed from the first day of the next month"
        )
    with uow:
        uow.settlements.close(month, now)
        found = statements(uow, month)
        uow.commit()
    return found
