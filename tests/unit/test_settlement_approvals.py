"""Settlement approval: draft → approved (four eyes) → paid, and the payment file."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from fakes import FakeUnitOfWork
from ledger_factories import AT, OPERATOR, make_grant, make_line
from mynapoint.domain.errors import MynapointError
from mynapoint.domain.settlement_approvals import (
    Approval,
    ApprovalState,
    MonthNotClosed,
    NoStatement,
    NotPrepared,
    SamePerson,
    StatementTotals,
    TotalsChanged,
    WrongState,
    prepare,
)
from mynapoint.domain.staff import Role, StaffAccount
from mynapoint.services.settlement import statements
from mynapoint.services.settlement_approvals import (
    PAYMENT_COLUMNS,
    NotAllowed,
    NothingToDo,
    approve_statements,
    pay_statements,
    payment_file_named,
    prepare_statements,
    statement_rows,
    totals_of,
)

OTHER = "rakuten-corp"
TOTALS = StatementTotals(5_300, 1_000, 4_300, events=2, persons=2)
LATER = AT + timedelta(days=20)


def names(code: str) -> str:
    return {OPERATOR: "PayPay株式会社"}.get(code, code)


def draft(prepared_by: str = "mic-sato") -> Approval:
    return prepare("2021-07", OPERATOR, TOTALS, prepared_by, AT, None)


# --- the state machine, as a table --------------------------------------------------------

APPROVED = draft().approve("mic-suzuki", AT, TOTALS)
PAID = APPROVED.pay("mic-suzuki", AT, "payment-2021-07-x")
CHANGED = StatementTotals(5_300, 1_200, 4_100, events=3, persons=2)


@pytest.mark.parametrize(
    ("start", "step", "by", "totals", "outcome"),
    [
        (draft(), "approve", "mic-suzuki", TOTALS, ApprovalState.APPROVED),
        (draft(), "approve", "mic-sato", TOTALS, SamePerson),
        (draft(), "approve", "mic-suzuki", CHANGED, TotalsChanged),
        (draft(), "pay", "mic-suzuki", TOTALS, WrongState),
        (APPROVED, "approve", "mic-tanaka", TOTALS, WrongState),
        (APPROVED, "pay", "mic-sato", TOTALS, ApprovalState.PAID),
        (APPROVED, "prepare", "mic-sato", TOTALS, WrongState),
        (PAID, "approve", "mic-tanaka", TOTALS, WrongState),
        (PAID, "pay", "mic-tanaka", TOTALS, WrongState),
        (PAID, "prepare", "mic-tanaka", TOTALS, WrongState),
        (None, "prepare", "mic-sato", TOTALS, ApprovalState.DRAFT),
    ],
)
def test_each_state_allows_only_its_next_step(
    start: Approval | None,
    step: str,
    by: str,
    totals: StatementTotals,
    outcome: ApprovalState | type[MynapointError],
) -> None:
    def run() -> Approval:
        if step == "prepare":
            return prepare("2021-07", OPERATOR, totals, by, AT, start)
        assert start is not None
        if step == "approve":
            return start.approve(by, LATER, totals)
        return start.pay(by, LATER, "payment-2021-07-y")

    if isinstance(outcome, ApprovalState):
        done = run()
        assert done.state is outcome
        assert done.totals == totals
    else:
        with pytest.raises(outcome) as refused:
            run()
        assert refused.value.code in {"same_person", "totals_changed", "wrong_state"}


def test_the_preparer_is_refused_with_a_stable_code_and_a_message_that_says_why() -> None:
    with pytest.raises(SamePerson) as refused:
        draft().approve("mic-sato", LATER, TOTALS)
    assert refused.value.code == "same_person"
    assert "second ministry administrator" in refused.value.message


def test_an_approval_records_who_and_when_and_a_payment_its_file() -> None:
    assert (APPROVED.approved_by, APPROVED.approved_at) == ("mic-suzuki", AT)
    assert (PAID.paid_by, PAID.payment_file) == ("mic-suzuki", "payment-2021-07-x")
    assert PAID.prepared_by == "mic-sato"


# --- the service, on the in-memory unit of work -------------------------------------------


def admin(name: str, role: Role = Role.MINISTRY_ADMIN, *, disabled: bool = False) -> StaffAccount:
    return StaffAccount(name, role, None, "hash", AT, must_change_password=False, disabled=disabled)


@pytest.fixture
def uow() -> FakeUnitOfWork:
    uow = FakeUnitOfWork()
    e1, e2 = f"event:{OPERATOR}:e1", f"event:{OPERATOR}:e2"
    with uow:
        uow.grants.add_many(
            [
                make_grant("g1", lines=(make_line(e1), make_line(e2))),
                make_grant("g2", person="person-2", lines=(make_line(e1, points=-1_000),)),
                make_grant("g3", operator_code=OTHER, service_code="rakuten_pay"),
            ]
        )
        uow.settlements.close("2021-07", LATER)
        for account in (
            admin("mic-sato"),
            admin("mic-suzuki"),
            admin("mic-viewer", Role.MINISTRY_VIEWER),
            admin("mic-auditor", Role.AUDITOR),
            admin("mic-gone", disabled=True),
        ):
            uow.staff.add(account)
        uow.commit()
    return uow


def test_preparing_freezes_each_statements_totals(uow: FakeUnitOfWork) -> None:
    prepared = prepare_statements(uow, "2021-07", None, "mic-sato", LATER)

    assert [a.operator_code for a in prepared] == [OPERATOR, OTHER]
    assert prepared[0].totals == StatementTotals(5_000, 1_000, 4_000, events=2, persons=2)
    assert prepared[1].amount_yen == 2_500
    with pytest.raises(NothingToDo):
        prepare_statements(uow, "2021-07", None, "mic-sato", LATER)


def test_only_a_closed_months_statement_can_be_prepared(uow: FakeUnitOfWork) -> None:
    with pytest.raises(MonthNotClosed) as refused:
        prepare_statements(uow, "2021-08", None, "mic-sato", LATER)
    assert refused.value.code == "month_not_closed"
    with pytest.raises(NoStatement):
        prepare_statements(uow, "2021-07", "no-such-operator", "mic-sato", LATER)


@pytest.mark.parametrize("name", ["mic-viewer", "mic-auditor", "mic-gone", "nobody"])
def test_only_an_active_ministry_administrator_acts(uow: FakeUnitOfWork, name: str) -> None:
    with pytest.raises(NotAllowed) as refused:
        prepare_statements(uow, "2021-07", None, name, LATER)
    assert refused.value.code == "not_allowed"
    assert uow.committed.approvals == {}


def test_the_preparer_cannot_approve_and_nothing_changes(uow: FakeUnitOfWork) -> None:
    prepare_statements(uow, "2021-07", OPERATOR, "mic-sato", LATER)
    audit_before = len(uow.committed.audit_log)

    with pytest.raises(SamePerson):
        approve_statements(uow, "2021-07", OPERATOR, "mic-sato", LATER)

    assert uow.committed.approvals[("2021-07", OPERATOR)].state is ApprovalState.DRAFT
    assert len(uow.committed.audit_log) == audit_before
    with pytest.raises(NotPrepared):
        approve_statements(uow, "2021-07", OTHER, "mic-suzuki", LATER)


def test_the_whole_way_is_in_the_audit_log(uow: FakeUnitOfWork) -> None:
    prepare_statements(uow, "2021-07", None, "mic-sato", LATER)
    approve_statements(uow, "2021-07", None, "mic-suzuki", LATER)
    paid = pay_statements(uow, "2021-07", None, "mic-sato", LATER, names)

    actions = [
        (e.entry.action, e.entry.actor, e.entry.details["operator_code"])
        for e in sorted(uow.committed.audit_log.values(), key=lambda e: e.entry.seq)
    ]
    assert actions == [
        ("settlement_prepared", "mic-sato", OPERATOR),
        ("settlement_prepared", "mic-sato", OTHER),
        ("settlement_approved", "mic-suzuki", OPERATOR),
        ("settlement_approved", "mic-suzuki", OTHER),
        ("settlement_paid", "mic-sato", OPERATOR),
        ("settlement_paid", "mic-sato", OTHER),
    ]
    assert {a.state for a in uow.committed.approvals.values()} == {ApprovalState.PAID}
    assert {a.payment_file for a in uow.committed.approvals.values()} == {paid.name}


def test_the_payment_file_totals_equal_the_statements(uow: FakeUnitOfWork) -> None:
    prepare_statements(uow, "2021-07", None, "mic-sato", LATER)
    approve_statements(uow, "2021-07", None, "mic-suzuki", LATER)
    with pytest.raises(NothingToDo):
        pay_statements(uow, "2021-08", None, "mic-sato", LATER, names)

    paid = pay_statements(uow, "2021-07", None, "mic-sato", LATER, names)

    rows = list(csv.reader(io.StringIO(paid.csv)))
    assert tuple(rows[0]) == PAYMENT_COLUMNS
    assert rows[1] == [OPERATOR, "PayPay株式会社", "", "", "", "", "", "4000"]
    assert rows[2] == [OTHER, OTHER, "", "", "", "", "", "2500"]
    assert rows[3] == ["TOTAL", "2", "", "", "", "", "", "6500"]
    with uow:
        expected = {code: totals_of(s).amount_yen for code, s in statements(uow, "2021-07").items()}
    assert {row[0]: int(row[7]) for row in rows[1:-1]} == expected
    assert int(rows[-1][7]) == sum(expected.values()) == paid.total_yen
    assert payment_file_named(uow, paid.name, names).csv == paid.csv
    with pytest.raises(NothingToDo):
        pay_statements(uow, "2021-07", None, "mic-sato", LATER, names)


def test_a_month_whose_clawbacks_exceed_its_grants_is_owed_back_as_a_negative_line() -> None:
    """The operator repays that month (返還): its line is negative, the control total the net
    sum of the statements paid (docs/INTERFACES.md, the payment file)."""
    uow = FakeUnitOfWork()
    claw = f"event:{OTHER}:r1"
    with uow:
        uow.grants.add_many(
            [
                make_grant("g1"),
                make_grant(
                    "g2",
                    operator_code=OTHER,
                    service_code="rakuten_pay",
                    lines=(make_line(claw, points=-3_000),),
                ),
            ]
        )
        uow.settlements.close("2021-07", LATER)
        for name in ("mic-sato", "mic-suzuki"):
            uow.staff.add(admin(name))
        uow.commit()
    prepare_statements(uow, "2021-07", None, "mic-sato", LATER)
    approve_statements(uow, "2021-07", None, "mic-suzuki", LATER)

    paid = pay_statements(uow, "2021-07", None, "mic-sato", LATER, names)

    rows = list(csv.reader(io.StringIO(paid.csv)))
    with uow:
        expected = {code: totals_of(s).amount_yen for code, s in statements(uow, "2021-07").items()}
    assert expected[OTHER] == -3_000
    assert {row[0]: int(row[7]) for row in rows[1:-1]} == expected
    assert rows[-1][:2] == ["TOTAL", "2"]
    assert int(rows[-1][7]) == sum(expected.values()) == paid.total_yen


def test_an_approved_statement_stays_as_it_was_and_a_correction_lands_later(
    uow: FakeUnitOfWork,
) -> None:
    prepare_statements(uow, "2021-07", None, "mic-sato", LATER)
    approved = approve_statements(uow, "2021-07", OPERATOR, "mic-suzuki", LATER)
    # A clawback found after the month closed belongs to the first open month.
    with uow:
        uow.grants.add_many(
            [
                make_grant(
                    "g9",
                    settlement_month="2021-08",
                    lines=(make_line(f"event:{OPERATOR}:e1", points=-500),),
                )
            ]
        )
        uow.commit()

    july = {row.operator_code: row for row in statement_rows(uow, "2021-07")}
    august = {row.operator_code: row for row in statement_rows(uow, "2021-08")}
    assert july[OPERATOR].approval == approved[0]
    assert july[OPERATOR].totals.amount_yen == 4_000
    assert august[OPERATOR].state == "provisional"
    assert august[OPERATOR].totals.amount_yen == -500
    with pytest.raises(WrongState):
        approve_statements(uow, "2021-07", OPERATOR, "mic-sato", LATER)
