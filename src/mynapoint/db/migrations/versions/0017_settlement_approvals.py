"""Settlement approval (issue 15): each closed month's statement per operator goes
draft → approved (by a second person) → paid (in a payment file).

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


def downgrade() -> None:
    op.drop_index(op.f("ix_settlement_approvals_payment_file"), table_name="settlement_approvals")
    op.drop_table("settlement_approvals")
