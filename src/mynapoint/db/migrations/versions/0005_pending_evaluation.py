"""Persons whose stored events wait for the points engine (intake in two phases).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 03:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pending_evaluations",
        sa.Column("marker_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("persons", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("marker_id", name=op.f("pk_pending_evaluations")),
    )


def downgrade() -> None:
    op.drop_table("pending_evaluations")
