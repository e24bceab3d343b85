"""The table itself keeps a statement's approval one-way: the owner's own UPDATE cannot undo
a step, change what was frozen, or touch a paid row (migration 0017's trigger)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import update
from sqlalchemy.exc import DBAPIError

from ledger_factories import AT
from mynapoint.db.tables import settlement_approvals
from mynapoint.db.unit_of_work import SqlUnitOfWork
from mynapoint.domain.settlement_approvals import Approval, ApprovalState, StatementTotals

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

TOTALS = StatementTotals(2_500, 0, 2_500, events=1, persons=1)
LATER = AT + timedelta(days=1)


@pytest.fixture
def stored(migrated_engine: Engine) -> None:
    draft = Approval("2021-06", "paypay", ApprovalState.DRAFT, TOTALS, "mic-sato", AT)
    approved = Approval("2021-06", "rakuten_edy", ApprovalState.DRAFT, TOTALS, "mic-sato", AT)
    approved = approved.approve("mic-suzuki", LATER, TOTALS)
    paid = Approval("2021-05", "paypay", ApprovalState.DRAFT, TOTALS, "mic-sato", AT)
    paid = paid.approve("mic-suzuki", LATER, TOTALS).pay("mic-sato", LATER, "payment-x")
    uow = SqlUnitOfWork(migrated_engine)
    with uow:
        for approval in (draft, approved, paid):
            assert uow.settlements.add_approval(approval)
        uow.commit()


T = settlement_approvals.c


@pytest.mark.usefixtures("stored")
@pytest.mark.parametrize(
    ("where", "values"),
    [
        ((T.month == "2021-05"), {"amount_yen": 9_999}),
        ((T.month == "2021-05"), {"payment_file": "payment-y"}),
        ((T.operator_code == "rakuten_edy"), {"state": "draft"}),
        ((T.operator_code == "rakuten_edy"), {"approved_by": "mic-tanaka"}),
        ((T.month == "2021-06") & (T.operator_code == "paypay"), {"amount_yen": 1}),
        ((T.month == "2021-06") & (T.operator_code == "paypay"), {"state": "paid"}),
    ],
    ids=["paid-amount", "paid-file", "approved-back", "approved-by", "draft-amount", "skip"],
)
def test_the_owner_itself_cannot_undo_or_rewrite_a_step(
    migrated_engine: Engine, where: object, values: dict[str, object]
) -> None:
    statement = update(settlement_approvals).where(where).values(**values)  # type: ignore[arg-type]
    with pytest.raises(DBAPIError, match="never changes"), migrated_engine.begin() as connection:
        connection.execute(statement)


@pytest.mark.usefixtures("stored")
def test_the_preparer_cannot_be_the_approver_even_by_hand(migrated_engine: Engine) -> None:
    statement = (
        update(settlement_approvals)
        .where(T.month == "2021-06", T.operator_code == "paypay")
        .values(state="approved", approved_by="mic-sato", approved_at=LATER)
    )
    with pytest.raises(DBAPIError, match="four_eyes"), migrated_engine.begin() as connection:
        connection.execute(statement)
