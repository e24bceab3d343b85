"""Support-corner staff accounts, their sign-in sessions, and assisted sessions at the counter.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 03:34:28.236189
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_accounts",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("corner", sa.String(length=40), nullable=True),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("first_sign_in_pending", sa.Boolean(), nullable=False),
        sa.Column("failed_sign_ins", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(role = 'admin') = (corner IS NULL)",
            name=op.f("ck_staff_accounts_corner_unless_admin"),
        ),
        sa.CheckConstraint(
            "role IN ('staff', 'supervisor', 'admin')", name=op.f("ck_staff_accounts_role_known")
        ),
        sa.CheckConstraint(
            "failed_sign_ins BETWEEN 0 AND 5", name=op.f("ck_staff_accounts_failed_range")
        ),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_staff_accounts")),
    )
    op.create_index(op.f("ix_staff_accounts_corner"), "staff_accounts", ["corner"])

    op.create_table(
        "staff_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("staff", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["staff"], ["staff_accounts.name"], name=op.f("fk_staff_sessions_staff_staff_accounts")
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_staff_sessions")),
    )
    op.create_index(op.f("ix_staff_sessions_staff"), "staff_sessions", ["staff"])

    op.create_table(
        "assisted_sessions",
        sa.Column("session_id", sa.String(length=32), nullable=False),
        sa.Column("staff", sa.String(length=64), nullable=False),
        sa.Column("corner", sa.String(length=40), nullable=False),
        sa.Column("card_serial", sa.String(), nullable=False),
        sa.Column("person", sa.String(), nullable=False),
        sa.Column("mykey_id", sa.String(length=8), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_activity_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(length=20), nullable=True),
        sa.Column("preview_id", sa.String(length=32), nullable=True),
        sa.Column("preview_measure", sa.String(length=32), nullable=True),
        sa.Column("preview_service_code", sa.String(length=40), nullable=True),
        sa.Column("preview_payment_service_id", sa.String(length=64), nullable=True),
        sa.Column("preview_counts", sa.String(length=16), nullable=True),
        sa.Column("preview_holder_name_masked", sa.String(length=200), nullable=True),
        sa.Column("preview_with_representative", sa.Boolean(), nullable=True),
        sa.Column("previewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(ended_at IS NULL) = (end_reason IS NULL)",
            name=op.f("ck_assisted_sessions_ended_with_reason"),
        ),
        sa.ForeignKeyConstraint(
            ["staff"],
            ["staff_accounts.name"],
            name=op.f("fk_assisted_sessions_staff_staff_accounts"),
        ),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_assisted_sessions")),
    )
    op.create_index(
        "ix_assisted_sessions_corner_started", "assisted_sessions", ["corner", "started_at"]
    )
    # One open session per staff member (a partial unique index on both databases).
    op.create_index(
        "uq_assisted_sessions_staff_open",
        "assisted_sessions",
        ["staff"],
        unique=True,
        sqlite_where=sa.text("ended_at IS NULL"),
        postgresql_where=sa.text("ended_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_assisted_sessions_staff_open", table_name="assisted_sessions")
    op.drop_index("ix_assisted_sessions_corner_started", table_name="assisted_sessions")
    op.drop_table("assisted_sessions")
    op.drop_index(op.f("ix_staff_sessions_staff"), table_name="staff_sessions")
    op.drop_table("staff_sessions")
    op.drop_index(op.f("ix_staff_accounts_corner"), table_name="staff_accounts")
    op.drop_table("staff_accounts")
