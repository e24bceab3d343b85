"""A counter of reserved MyKey IDs, checked against the budget frame in one statement.

The count starts at the MyKey IDs already issued.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 07:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mykey_reservations",
        sa.Column("id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("reserved", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_mykey_reservations_single_row")),
        sa.CheckConstraint(
            "reserved >= 0", name=op.f("ck_mykey_reservations_reserved_not_negative")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mykey_reservations")),
    )
    op.execute("INSERT INTO mykey_reservations (id, reserved) SELECT 1, count(*) FROM mykeys")


def downgrade() -> None:
    op.drop_table("mykey_reservations")
