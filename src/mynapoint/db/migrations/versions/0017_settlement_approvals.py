"""Settlement approval (issue 15): each closed month's statement per operator goes
draft → approved (by a second person) → paid (in a payment file).

A trigger keeps that true for the table's owner too: an UPDATE may only take a row one step
on (draft → approved → paid), never change what was frozen at preparation or approval, and
never touch a paid row.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 14:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

_REFUSAL = (
    "settlement_approvals: a statement goes draft -> approved -> paid, and what was "
    "prepared or approved never changes"
)
_FROZEN = (
    "month", "operator_code", "points_granted", "points_clawed_back", "amount_yen", "events",
    "persons", "prepared_by", "prepared_at",
)  # fmt: skip


def _refused(distinct: str) -> str:
    """The condition of a refused UPDATE; `distinct` is the dialect's null-safe "differs"."""
    frozen = " OR ".join(f"NEW.{c} {distinct} OLD.{c}" for c in _FROZEN)
    return (
        f"OLD.state = 'paid' OR {frozen} "
        "OR (OLD.state = 'draft' AND NEW.state <> 'approved') "
        "OR (OLD.state = 'approved' AND (NEW.state <> 'paid' "
        f"OR NEW.approved_by {distinct} OLD.approved_by "
        f"OR NEW.approved_at {distinct} OLD.approved_at))"
    )


def upgrade() -> None:
    op.create_table(
        "settlement_approvals",
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("operator_code", sa.String(40), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("points_granted", sa.BigInteger(), nullable=False),
        sa.Column("points_clawed_back", sa.BigInteger(), nullable=False),
        sa.Column("amount_yen", sa.BigInteger(), nullable=False),
        sa.Column("events", sa.BigInteger(), nullable=False),
        sa.Column("persons", sa.BigInteger(), nullable=False),
        sa.Column("prepared_by", sa.String(64), nullable=False),
        sa.Column("prepared_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_by", sa.String(64), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paid_by", sa.String(64), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("payment_file", sa.String(64), nullable=True),
        sa.CheckConstraint(
            "state IN ('draft', 'approved', 'paid')",
            name=op.f("ck_settlement_approvals_state_known"),
        ),
        sa.CheckConstraint(
            "approved_by IS NULL OR approved_by <> prepared_by",
            name=op.f("ck_settlement_approvals_four_eyes"),
        ),
        sa.PrimaryKeyConstraint("month", "operator_code", name=op.f("pk_settlement_approvals")),
    )
    op.create_index(
        op.f("ix_settlement_approvals_payment_file"),
        "settlement_approvals",
        ["payment_file"],
        unique=False,
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION refuse_settlement_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN IF {_refused('IS DISTINCT FROM')} THEN RAISE EXCEPTION '{_REFUSAL}' "
            "USING ERRCODE = 'insufficient_privilege'; END IF; RETURN NEW; END $$"
        )
        op.execute(
            "CREATE TRIGGER settlement_approvals_steps BEFORE UPDATE ON settlement_approvals "
            "FOR EACH ROW EXECUTE FUNCTION refuse_settlement_change()"
        )
        return
    op.execute(
        "CREATE TRIGGER settlement_approvals_steps BEFORE UPDATE ON settlement_approvals "
        f"WHEN {_refused('IS NOT')} BEGIN SELECT RAISE(ABORT, '{_REFUSAL}'); END"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER settlement_approvals_steps ON settlement_approvals")
        op.execute("DROP FUNCTION refuse_settlement_change()")
    else:
        op.execute("DROP TRIGGER settlement_approvals_steps")
    op.drop_index(op.f("ix_settlement_approvals_payment_file"), table_name="settlement_approvals")
    op.drop_table("settlement_approvals")
