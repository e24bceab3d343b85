"""Wrong security codes are counted per person trying, not per account, and staff accounts no
longer lock (their sign-in is throttled instead): an attacker's tries hold back the attacker
only (issue 11, OWASP ASVS 2.2.1).

The counters being dropped held only the locks of the old rules; they are not carried over (a
lock meant "this account, for everybody", which the new rules no longer have).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-12 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account_code_tries",
        sa.Column("service_code", sa.String(length=40), nullable=False),
        sa.Column("payment_service_id", sa.String(length=64), nullable=False),
        sa.Column("person", sa.String(), nullable=False),
        sa.Column("wrong_codes", sa.Integer(), nullable=False),
        sa.Column("last_wrong_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "wrong_codes BETWEEN 1 AND 5", name=op.f("ck_account_code_tries_wrong_codes_range")
        ),
        sa.PrimaryKeyConstraint(
            "service_code", "payment_service_id", "person", name=op.f("pk_account_code_tries")
        ),
    )
    with op.batch_alter_table("payment_accounts") as batch:
        batch.drop_constraint(op.f("ck_payment_accounts_wrong_codes_range"), type_="check")
        batch.drop_column("wrong_codes")
    with op.batch_alter_table("staff_accounts") as batch:
        batch.drop_constraint(op.f("ck_staff_accounts_failed_range"), type_="check")
        batch.drop_column("failed_sign_ins")


def downgrade() -> None:
    with op.batch_alter_table("staff_accounts") as batch:
        batch.add_column(
            sa.Column("failed_sign_ins", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
        batch.create_check_constraint(
            op.f("ck_staff_accounts_failed_range"), "failed_sign_ins BETWEEN 0 AND 5"
        )
    with op.batch_alter_table("payment_accounts") as batch:
        batch.add_column(
            sa.Column("wrong_codes", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
        batch.create_check_constraint(
            op.f("ck_payment_accounts_wrong_codes_range"), "wrong_codes BETWEEN 0 AND 5"
        )
    op.drop_table("account_code_tries")
