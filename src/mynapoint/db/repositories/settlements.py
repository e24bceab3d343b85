from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from mynapoint.db.repositories.statements import Query, insert_skipping_conflicts, tuples
from mynapoint.db.tables import settlement_approvals, settlement_months
from mynapoint.domain.settlement_approvals import Approval, ApprovalState, StatementTotals

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from sqlalchemy.engine import Connection, Row


class SqlSettlementRepository:
    def __init__(self, connection: Callable[[], Connection]) -> None:
        self._connection = connection

    def closed_months(self) -> set[str]:
        # Every application and re-evaluation reads this: a statement built and compiled once.
        return {month for (month,) in tuples(self._connection(), _CLOSED_MONTHS)}

    def close(self, month: str, at: datetime) -> bool:
        """False if the month was closed already; its first closing time stays."""
        connection = self._connection()
        statement = insert_skipping_conflicts(connection, settlement_months).values(
            month=month, closed_at=at
        )
        return connection.execute(statement).rowcount == 1

    def approvals(self, month: str | None = None) -> list[Approval]:
        table = settlement_approvals
        query = select(table).order_by(table.c.month.desc(), table.c.operator_code)
        if month is not None:
            query = query.where(table.c.month == month)
        return [_approval(row) for row in self._connection().execute(query)]

    def in_payment_file(self, payment_file: str) -> list[Approval]:
        table = settlement_approvals
        query = (
            select(table)
            .where(table.c.payment_file == payment_file)
            .order_by(table.c.operator_code)
        )
        return [_approval(row) for row in self._connection().execute(query)]

    def add_approval(self, approval: Approval) -> bool:
        connection = self._connection()
        # The primary key decides between two preparations at once; the savepoint keeps the
        # rest of the unit of work usable on PostgreSQL.
        try:
            with connection.begin_nested():
                connection.execute(insert(settlement_approvals).values(**_values(approval)))
        except IntegrityError:
            return False
        return True

    def advance_approval(self, approval: Approval, previous: ApprovalState) -> bool:
        """Store the approval's new state if it is still `previous`; False if another
        step came first."""
        table = settlement_approvals
        values = _values(approval)
        statement = (
            update(table)
            .where(
                table.c.month == approval.month,
                table.c.operator_code == approval.operator_code,
                table.c.state == previous.value,
            )
            .values(
                state=values["state"],
                approved_by=values["approved_by"],
                approved_at=values["approved_at"],
                paid_by=values["paid_by"],
                paid_at=values["paid_at"],
                payment_file=values["payment_file"],
            )
        )
        return self._connection().execute(statement).rowcount == 1


def _values(approval: Approval) -> dict[str, Any]:
    totals = approval.totals
    return {
        "month": approval.month,
        "operator_code": approval.operator_code,
        "state": approval.state.value,
        "points_granted": totals.points_granted,
        "points_clawed_back": totals.points_clawed_back,
        "amount_yen": totals.amount_yen,
        "events": totals.events,
        "persons": totals.persons,
        "prepared_by": approval.prepared_by,
        "prepared_at": approval.prepared_at,
        "approved_by": approval.approved_by,
        "approved_at": approval.approved_at,
        "paid_by": approval.paid_by,
        "paid_at": approval.paid_at,
        "payment_file": approval.payment_file,
    }


def _approval(row: Row[Any]) -> Approval:
    return Approval(
        month=row.month,
        operator_code=row.operator_code,
        state=ApprovalState(row.state),
        totals=StatementTotals(
            points_granted=row.points_granted,
            points_clawed_back=row.points_clawed_back,
            amount_yen=row.amount_yen,
            events=row.events,
            persons=row.persons,
        ),
        prepared_by=row.prepared_by,
        prepared_at=row.prepared_at,
        approved_by=row.approved_by,
        approved_at=row.approved_at,
        paid_by=row.paid_by,
        paid_at=row.paid_at,
        payment_file=row.payment_file,
    )


_CLOSED_MONTHS = Query(select(settlement_months.c.month))
