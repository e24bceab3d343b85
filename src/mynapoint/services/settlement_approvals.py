"""Settlement approval with four eyes, and the payment file (issue 15).

A closed month's statement of an operator is prepared (its totals frozen), approved by a
second ministry administrator, then paid: paying writes the approved statements of the
month into one payment file (the CSV for the ministry's bank transfer) and marks them
`paid` in the same transaction, so a statement is in exactly one payment file. The file
can be produced again at any time from the stored records (`payment_file`): they never
change. Every step is recorded in the audit log.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from mynapoint.domain.errors import MynapointError
from mynapoint.domain.settlement_approvals import (
    Approval,
    ApprovalState,
    MonthNotClosed,
    NoStatement,
    NotPrepared,
    StatementTotals,
    WrongState,
    prepare,
)
from mynapoint.domain.staff import Role, StaffAccount
from mynapoint.services.audit import record
from mynapoint.services.ports import UnitOfWork
from mynapoint.services.settlement import Statement, check_month, statements

# Who prepares, approves and pays; ministry_viewer and auditor only read.
ACTING_ROLE: Final = Role.MINISTRY_ADMIN

# The payment file's columns (docs/INTERFACES.md "The payment file"). The catalog holds no
# bank details: the bank columns are left empty for the ministry to fill from its payee
# register, matched on operator_code.
PAYMENT_COLUMNS: Final = (
    "operator_code",
    "operator_name",
    "bank_code",
    "branch_code",
    "account_type",
    "account_number",
    "account_holder",
    "amount_yen",
)
TOTAL_MARK: Final = "TOTAL"


class NotAllowed(MynapointError):
    code = "not_allowed"

    def __init__(self, name: str, why: str) -> None:
        super().__init__(
            f"'{name}' {why}; settlement statements are prepared, approved and paid by "
            "ministry administrators (role ministry_admin)",
            staff=name,
        )


class NothingToDo(MynapointError):
    code = "nothing_to_do"

    def __init__(self, month: str, step: str, needed: str) -> None:
        super().__init__(
            f"no statement of {month} is {needed}, so there is nothing to {step}",
            month=month,
            step=step,
        )


class StepRaced(MynapointError):
    code = "conflict"

    def __init__(self, approval: Approval) -> None:
        super().__init__(
            f"the {approval.month} statement of '{approval.operator_code}' changed state "
            "while this step ran; reload and try again",
            month=approval.month,
            operator_code=approval.operator_code,
        )


class UnknownPaymentFile(MynapointError):
    code = "not_found"

    def __init__(self, payment_file: str) -> None:
        super().__init__(f"no payment file '{payment_file}'", payment_file=payment_file)


@dataclass(frozen=True)
class PaymentFile:
    name: str  # e.g. payment-2021-07-20210805T100000
    month: str
    approvals: tuple[Approval, ...]
    csv: str

    @property
    def total_yen(self) -> int:
        return sum(approval.amount_yen for approval in self.approvals)


@dataclass(frozen=True)
class StatementRow:
    """One operator's statement of a month as the settlement page shows it."""

    month: str
    operator_code: str
    month_closed: bool
    totals: StatementTotals  # the statement's now (the frozen ones once prepared)
    approval: Approval | None

    @property
    def state(self) -> str:
        if self.approval is not None:
            return str(self.approval.state)
        return "unprepared" if self.month_closed else "provisional"


def totals_of(statement: Statement) -> StatementTotals:
    services = statement.services
    return StatementTotals(
        points_granted=sum(s.points_granted for s in services),
        points_clawed_back=sum(s.points_clawed_back for s in services),
        amount_yen=sum(s.reimbursement_yen for s in services),
        events=sum(s.events for s in services),
        persons=sum(s.persons for s in services),
    )


def prepare_statements(
    uow: UnitOfWork, month: str, operator_code: str | None, name: str, now: datetime
) -> list[Approval]:
    """Prepare the month's statement of the operator (of every operator not yet prepared
    when None): a draft with its totals frozen."""
    check_month(month)
    with uow:
        actor = _acting(uow, name)
        if month not in uow.settlements.closed_months():
            raise MonthNotClosed(month)
        found = statements(uow, month)
        existing = {a.operator_code: a for a in uow.settlements.approvals(month)}
        if operator_code is not None:
            if operator_code not in found:
                raise NoStatement(month, operator_code)
            chosen = [operator_code]
        else:
            chosen = sorted(code for code in found if code not in existing)
            if not chosen:
                raise NothingToDo(month, "prepare", "left unprepared")
        prepared = []
        for code in chosen:
            draft = prepare(month, code, totals_of(found[code]), name, now, existing.get(code))
            if not uow.settlements.add_approval(draft):
                raise StepRaced(draft)
            _record(uow, now, actor, "settlement_prepared", draft)
            prepared.append(draft)
        uow.commit()
    return prepared


def approve_statements(
    uow: UnitOfWork, month: str, operator_code: str | None, name: str, now: datetime
) -> list[Approval]:
    """Approve the operator's draft (every draft of the month when None); never by the
    person who prepared it (SamePerson), and only while its totals are as prepared."""
    check_month(month)
    with uow:
        actor = _acting(uow, name)
        found = statements(uow, month)
        drafts = _in_state(uow, month, operator_code, ApprovalState.DRAFT, "approve")
        approved = []
        for draft in drafts:
            current = found.get(draft.operator_code)
            now_totals = totals_of(current) if current is not None else _zero()
            done = draft.approve(name, now, now_totals)
            _advance(uow, done, ApprovalState.DRAFT)
            _record(uow, now, actor, "settlement_approved", done)
            approved.append(done)
        uow.commit()
    return approved


def pay_statements(
    uow: UnitOfWork,
    month: str,
    operator_code: str | None,
    name: str,
    now: datetime,
    operator_names: Callable[[str], str],
) -> PaymentFile:
    """Put the month's approved statements (the operator's only, when given) into a new
    payment file and mark them paid; the file, to be sent to the bank."""
    check_month(month)
    payment_file = f"payment-{month}-{now:%Y%m%dT%H%M%S}"
    with uow:
        actor = _acting(uow, name)
        approved = _in_state(uow, month, operator_code, ApprovalState.APPROVED, "pay")
        paid = []
        for approval in approved:
            done = approval.pay(name, now, payment_file)
            _advance(uow, done, ApprovalState.APPROVED)
            _record(uow, now, actor, "settlement_paid", done)
            paid.append(done)
        uow.commit()
    return _payment_file(payment_file, month, paid, operator_names)


def payment_file_named(
    uow: UnitOfWork, payment_file: str, operator_names: Callable[[str], str]
) -> PaymentFile:
    """A payment file again, from the paid statements that went out in it."""
    with uow.reading():
        paid = uow.settlements.in_payment_file(payment_file)
    if not paid:
        raise UnknownPaymentFile(payment_file)
    return _payment_file(payment_file, paid[0].month, paid, operator_names)


def statement_rows(uow: UnitOfWork, month: str) -> list[StatementRow]:
    """Every operator's statement of the month with its approval, by operator code."""
    check_month(month)
    with uow.reading():
        closed = month in uow.settlements.closed_months()
        found = statements(uow, month)
        approvals = {a.operator_code: a for a in uow.settlements.approvals(month)}
    rows = []
    for code in sorted(set(found) | set(approvals)):
        approval = approvals.get(code)
        totals = approval.totals if approval is not None else totals_of(found[code])
        rows.append(StatementRow(month, code, closed, totals, approval))
    return rows


def payment_files(uow: UnitOfWork, month: str) -> list[str]:
    """The names of the month's payment files, oldest first."""
    check_month(month)
    with uow.reading():
        approvals = uow.settlements.approvals(month)
    return sorted({a.payment_file for a in approvals if a.payment_file is not None})


def _acting(uow: UnitOfWork, name: str) -> StaffAccount:
    account = uow.staff.get(name)
    if account is None:
        raise NotAllowed(name, "is no staff account")
    if account.disabled:
        raise NotAllowed(name, "is disabled")
    if account.role is not ACTING_ROLE:
        raise NotAllowed(name, f"has the role {account.role.value}")
    return account


def _in_state(
    uow: UnitOfWork, month: str, operator_code: str | None, state: ApprovalState, step: str
) -> list[Approval]:
    approvals = uow.settlements.approvals(month)
    if operator_code is None:
        chosen = [a for a in approvals if a.state is state]
        if not chosen:
            raise NothingToDo(month, step, str(state))
        return chosen
    for approval in approvals:
        if approval.operator_code == operator_code:
            if approval.state is not state:
                raise WrongState(approval, step)
            return [approval]
    raise NotPrepared(month, operator_code)


def _advance(uow: UnitOfWork, approval: Approval, previous: ApprovalState) -> None:
    if not uow.settlements.advance_approval(approval, previous):
        raise StepRaced(approval)


def _record(
    uow: UnitOfWork, now: datetime, actor: StaffAccount, action: str, approval: Approval
) -> None:
    details: dict[str, object] = {
        "month": approval.month,
        "operator_code": approval.operator_code,
        "amount_yen": approval.amount_yen,
        "state": str(approval.state),
    }
    if approval.payment_file is not None:
        details["payment_file"] = approval.payment_file
    record(
        uow,
        now=now,
        actor=actor.name,
        role=actor.role.value,
        corner=None,
        action=action,
        details=details,
    )


def _zero() -> StatementTotals:
    return StatementTotals(0, 0, 0, 0, 0)


def _payment_file(
    name: str,
    month: str,
    approvals: list[Approval],
    operator_names: Callable[[str], str],
) -> PaymentFile:
    ordered = tuple(sorted(approvals, key=lambda a: a.operator_code))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(PAYMENT_COLUMNS)
    for approval in ordered:
        code = approval.operator_code
        writer.writerow([code, operator_names(code), "", "", "", "", "", approval.amount_yen])
    total = sum(approval.amount_yen for approval in ordered)
    writer.writerow([TOTAL_MARK, len(ordered), "", "", "", "", "", total])
    return PaymentFile(name, month, ordered, out.getvalue())


def catalog_names(names: Mapping[str, str]) -> Callable[[str], str]:
    """An operator's name from a code → name mapping, the code itself when unknown."""
    return lambda code: names.get(code, code)
