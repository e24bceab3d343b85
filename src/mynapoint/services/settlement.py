"""Monthly settlement: what the state reimburses each operator (1 point = 1 yen).

A grant belongs to the month of its grant date, or, when that month was
already closed, to the first open month after it. A month is provisional until
closed; a closed month never changes, and later corrections land in a later month.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

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
    # Added up by the database: a month of a national platform is millions of instructions,
    # too many to read into objects (issue 14, `make bench-scale`).
    by_operator: dict[str, list[ServiceStatement]] = defaultdict(list)
    for totals in sorted(
        uow.grants.month_totals(month), key=lambda t: (t.operator_code, t.service_code)
    ):
        by_operator[totals.operator_code].append(
            ServiceStatement(
                service_code=totals.service_code,
                points_granted=totals.granted,
                points_clawed_back=totals.clawed_back,
                net_points=totals.granted - totals.clawed_back,
                reimbursement_yen=totals.granted - totals.clawed_back,
                events=totals.events,
                persons=totals.persons,
            )
        )
    return {
        operator_code: Statement(month, status, operator_code, lines)
        for operator_code, lines in by_operator.items()
    }


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


def statement_months(uow: UnitOfWork, first: date | None, today: date) -> list[tuple[str, str]]:
    """(month, provisional | closed) from the month of `first` (the campaign's start; the
    earliest closed month if earlier) to today's month, the newest first."""
    with uow:
        closed = uow.settlements.closed_months()
    start = min([month_of(first or today), *closed])
    year, month = int(start[:4]), int(start[5:])
    months: list[str] = []
    while (current := f"{year:04d}-{month:02d}") <= month_of(today):
        months.append(current)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return [(m, "closed" if m in closed else "provisional") for m in reversed(months)]
