"""The lines of an upload job whose event is stored, so that the job's report can say per line
whether the event counts and why not.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ingest_job_lines",
        sa.Column("job_id", sa.String(32), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(128), nullable=False),
        sa.PrimaryKeyConstraint("job_id", "line", name=op.f("pk_ingest_job_lines")),
    )


def downgrade() -> None:
    op.drop_table("ingest_job_lines")
