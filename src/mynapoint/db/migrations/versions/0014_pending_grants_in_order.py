"""An operator's pending grant instructions in grant_id order (issue 14): a partial index on
(operator_code, grant_id) of the instructions not yet acknowledged, so that each page of
`GET /api/v1/operator/grants` reads its own rows instead of walking the primary key past
every instruction acknowledged before it (4.8 s for the first page at 10⁶ persons, growing
with the table; bench/RESULTS.md `make bench-scale`).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_PENDING = sa.text("acknowledged_at IS NULL")


def upgrade() -> None:
    op.create_index(
        "ix_grant_instructions_pending_in_order",
        "grant_instructions",
        ["operator_code", "grant_id"],
        unique=False,
        postgresql_where=_PENDING,
        sqlite_where=_PENDING,
    )


def downgrade() -> None:
    op.drop_index("ix_grant_instructions_pending_in_order", table_name="grant_instructions")
