"""Approving a month's statement of one operator before the state pays it (issue 15).

draft (prepared: who, when, the totals frozen as prepared) → approved (who, when: never the
preparer) → paid (who, when, the payment file it went out in). Only a closed month's
statement is prepared, so its totals cannot change; approval still checks that they did not.
An approved or paid statement never changes: a correction lands in a later month.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from mynapoint.domain.errors import MynapointError


class ApprovalState(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    PAID = "paid"


# The one step from each state, and the state it leads to.
NEXT_STEP = {
    ApprovalState.DRAFT: ("approve", ApprovalState.APPROVED),
    ApprovalState.APPROVED: ("pay", ApprovalState.PAID),
}


class MonthNotClosed(MynapointError):
    code = "month_not_closed"

    def __init__(self, month: str) -> None:
        super().__init__(
            f"month {month} is not closed; close it first with `mynapoint settle --month "
            f"{month}`: only a closed month's statement can be prepared",
            month=month,
        )


class NoStatement(MynapointError):
    code = "no_statement"

    def __init__(self, month: str, operator_code: str) -> None:
        super().__init__(
            f"operator '{operator_code}' has no statement for {month}: no grant instruction "
            "of that operator belongs to the month",
            month=month,
            operator_code=operator_code,
        )


class NotPrepared(MynapointError):
    code = "not_prepared"

    def __init__(self, month: str, operator_code: str) -> None:
        super().__init__(
            f"the {month} statement of '{operator_code}' has not been prepared; "
            "prepare it first (`mynapoint settlement prepare`)",
            month=month,
            operator_code=operator_code,
        )


class WrongState(MynapointError):
    code = "wrong_state"

    def __init__(self, approval: Approval, step: str) -> None:
        needed = {
            "prepare": "not yet prepared",
            "approve": "a draft",
            "pay": "approved",
        }[step]
        super().__init__(
            f"the {approval.month} statement of '{approval.operator_code}' is "
            f"{approval.state} already; to {step} it, it must be {needed}. An approved or "
            "paid statement never changes: a correction lands in a later month",
            month=approval.month,
            operator_code=approval.operator_code,
            state=str(approval.state),
            step=step,
        )


class SamePerson(MynapointError):
    code = "same_person"

    def __init__(self, approval: Approval, name: str) -> None:
        super().__init__(
            f"'{name}' prepared the {approval.month} statement of '{approval.operator_code}' "
            "and cannot approve it too: a second ministry administrator must approve it",
            month=approval.month,
            operator_code=approval.operator_code,
            staff=name,
        )


class TotalsChanged(MynapointError):
    code = "totals_changed"

    def __init__(self, approval: Approval, now_yen: int) -> None:
        super().__init__(
            f"the {approval.month} statement of '{approval.operator_code}' was prepared at "
            f"{approval.amount_yen:,} yen and is now {now_yen:,} yen; the month changed "
            "after it was prepared, so it is not approved",
            month=approval.month,
            operator_code=approval.operator_code,
            prepared_yen=approval.amount_yen,
            now_yen=now_yen,
        )


@dataclass(frozen=True)
class StatementTotals:
    """A statement's totals over its services (1 point = 1 yen)."""

    points_granted: int
    points_clawed_back: int
    amount_yen: int  # net: granted - clawed back
    events: int
    persons: int


@dataclass(frozen=True)
class Approval:
    month: str
    operator_code: str
    state: ApprovalState
    totals: StatementTotals  # frozen when prepared
    prepared_by: str
    prepared_at: datetime
    approved_by: str | None = None
    approved_at: datetime | None = None
    paid_by: str | None = None
    paid_at: datetime | None = None
    payment_file: str | None = None

    @property
    def amount_yen(self) -> int:
        return self.totals.amount_yen

    def approve(self, name: str, at: datetime, current: StatementTotals) -> Approval:
        if self.state is not ApprovalState.DRAFT:
            raise WrongState(self, "approve")
        if name == self.prepared_by:
            raise SamePerson(self, name)
        if current != self.totals:
            raise TotalsChanged(self, current.amount_yen)
        return replace(self, state=ApprovalState.APPROVED, approved_by=name, approved_at=at)

    def pay(self, name: str, at: datetime, payment_file: str) -> Approval:
        if self.state is not ApprovalState.APPROVED:
            raise WrongState(self, "pay")
        return replace(
            self, state=ApprovalState.PAID, paid_by=name, paid_at=at, payment_file=payment_file
        )


def prepare(
    month: str,
    operator_code: str,
    totals: StatementTotals,
    name: str,
    at: datetime,
    existing: Approval | None,
) -> Approval:
    if existing is not None:
        raise WrongState(existing, "prepare")
    return Approval(month, operator_code, ApprovalState.DRAFT, totals, name, at)
