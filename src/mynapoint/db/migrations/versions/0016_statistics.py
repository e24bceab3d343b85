"""The program's statistics (issue 15): the cardholder's municipality, the summary tables
refreshed on a schedule (daily_statistics, pending_grant_statistics, statistics_refreshes),
the grant days a refresh must recompute (stale_grant_days) and the indexes on the timestamps
it reads to find the other days that changed.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 13:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_INDEXES = (
    ("applications", "applied_at"),
    ("applications", "cancelled_at"),
    ("mykeys", "created_at"),
    ("grant_instructions", "grant_on"),
)


def upgrade() -> None:
    with op.batch_alter_table("cardholders") as batch:
        batch.add_column(sa.Column("municipality", sa.String(6), nullable=True))
    for table, column in _INDEXES:
        op.create_index(f"ix_{table}_{column}", table, [column], unique=False)
    op.create_table(
        "daily_statistics",
        sa.Column("metric", sa.String(32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("measure", sa.String(32), nullable=False),
        sa.Column("service_code", sa.String(40), nullable=False),
        sa.Column("operator_code", sa.String(40), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("municipality", sa.String(8), nullable=False),
        sa.Column("corner", sa.String(40), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "metric",
            "day",
            "measure",
            "service_code",
            "operator_code",
            "channel",
            "municipality",
            "corner",
            name=op.f("pk_daily_statistics"),
        ),
    )
    op.create_table(
        "pending_grant_statistics",
        sa.Column("operator_code", sa.String(40), nullable=False),
        sa.Column("grant_on", sa.Date(), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "operator_code", "grant_on", name=op.f("pk_pending_grant_statistics")
        ),
    )
    op.create_table(
        "stale_grant_days",
        sa.Column("mark_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("grant_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("mark_id", name=op.f("pk_stale_grant_days")),
    )
    op.create_table(
        "statistics_refreshes",
        sa.Column("id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("full_refresh", sa.Boolean(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("clock_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("clock_recorded_real_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("id = 1", name=op.f("ck_statistics_refreshes_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_statistics_refreshes")),
    )


def downgrade() -> None:
    op.drop_table("statistics_refreshes")
    op.drop_table("stale_grant_days")
    op.drop_table("pending_grant_statistics")
    op.drop_table("daily_statistics")
    for table, column in reversed(_INDEXES):
        op.drop_index(f"ix_{table}_{column}", table_name=table)
    with op.batch_alter_table("cardholders") as batch:
        batch.drop_column("municipality")
