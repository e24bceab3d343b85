"""The policy lab (issue 16): the ministry's policy staff (role policy_analyst) and the
replays they start on the console, stored with their parts' bounds and tallies.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 17:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

# As in db/tables/staff.py at this revision (copied: a migration never imports the app).
_ROLES_BEFORE = (
    "role IN ('staff', 'supervisor', 'admin', 'city_admin', 'ministry_admin', "
    "'ministry_viewer', 'auditor', 'operator_admin', 'operator_staff')"
)
_ROLES_KNOWN = (
    "role IN ('staff', 'supervisor', 'admin', 'city_admin', 'ministry_admin', "
    "'ministry_viewer', 'auditor', 'policy_analyst', 'operator_admin', 'operator_staff')"
)


def upgrade() -> None:
    with op.batch_alter_table("staff_accounts") as batch:
        batch.drop_constraint(op.f("ck_staff_accounts_role_known"), type_="check")
        batch.create_check_constraint(op.f("ck_staff_accounts_role_known"), _ROLES_KNOWN)
    op.create_table(
        "policy_replays",
        sa.Column("replay_id", sa.String(length=32), nullable=False),
        sa.Column("rules_name", sa.String(length=255), nullable=False),
        sa.Column("rules_text", sa.Text(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=True),
        sa.Column("sample_percent", sa.Float(), nullable=True),
        sa.Column("ages_on", sa.Date(), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("persons_expected", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("persons_done", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("parts_total", sa.Integer(), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'done', 'failed')",
            name=op.f("ck_policy_replays_status_known"),
        ),
        sa.PrimaryKeyConstraint("replay_id", name=op.f("pk_policy_replays")),
    )
    op.create_index(
        op.f("ix_policy_replays_created_at"), "policy_replays", ["created_at"], unique=False
    )
    op.create_table(
        "policy_replay_parts",
        sa.Column("replay_id", sa.String(length=32), nullable=False),
        sa.Column("part", sa.Integer(), nullable=False),
        sa.Column("after_person", sa.String(), nullable=True),
        sa.Column("last_person", sa.String(), nullable=False),
        sa.Column("persons", sa.Integer(), nullable=False),
        sa.Column("tally", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["replay_id"],
            ["policy_replays.replay_id"],
            name=op.f("fk_policy_replay_parts_replay_id_policy_replays"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("replay_id", "part", name=op.f("pk_policy_replay_parts")),
    )


def downgrade() -> None:
    op.drop_table("policy_replay_parts")
    op.drop_index(op.f("ix_policy_replays_created_at"), table_name="policy_replays")
    op.drop_table("policy_replays")
    # The policy staff's accounts cannot exist at revision 0018.
    op.execute(
        "DELETE FROM staff_sessions WHERE staff IN (SELECT name FROM staff_accounts "
        "WHERE role = 'policy_analyst')"
    )
    op.execute("DELETE FROM staff_accounts WHERE role = 'policy_analyst'")
    with op.batch_alter_table("staff_accounts") as batch:
        batch.drop_constraint(op.f("ck_staff_accounts_role_known"), type_="check")
        batch.create_check_constraint(op.f("ck_staff_accounts_role_known"), _ROLES_BEFORE)
