"""Payment operators, accounts, applications, events, grant instructions and settlement.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 00:46:00.187313
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account_links",
        sa.Column("service_code", sa.String(length=40), nullable=False),
        sa.Column("payment_service_id", sa.String(length=64), nullable=False),
        sa.Column("person", sa.String(), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "service_code", "payment_service_id", name=op.f("pk_account_links")
        ),
    )
    with op.batch_alter_table("account_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_account_links_person"), ["person"], unique=False)

    op.create_table(
        "applications",
        sa.Column("application_id", sa.String(length=32), nullable=False),
        sa.Column("person", sa.String(), nullable=False),
        sa.Column("measure", sa.String(length=32), nullable=False),
        sa.Column("service_code", sa.String(length=40), nullable=False),
        sa.Column("payment_service_id", sa.String(length=64), nullable=False),
        sa.Column("counts", sa.String(length=16), nullable=True),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("representative", sa.String(), nullable=True),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('active', 'cancelled')", name=op.f("ck_applications_status_known")
        ),
        sa.PrimaryKeyConstraint("application_id", name=op.f("pk_applications")),
    )
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_applications_person"), ["person"], unique=False)
        batch_op.create_index(
            "uq_applications_person_measure_active",
            ["person", "measure"],
            unique=True,
            sqlite_where=sa.text("status = 'active'"),
            postgresql_where=sa.text("status = 'active'"),
        )

    op.create_table(
        "grant_instructions",
        sa.Column("grant_id", sa.String(length=32), nullable=False),
        sa.Column("operator_code", sa.String(length=40), nullable=False),
        sa.Column("service_code", sa.String(length=40), nullable=False),
        sa.Column("payment_service_id", sa.String(length=64), nullable=False),
        sa.Column("person", sa.String(), nullable=False),
        sa.Column("measure", sa.String(length=32), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("grant_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("settlement_month", sa.String(length=7), nullable=False),
        sa.PrimaryKeyConstraint("grant_id", name=op.f("pk_grant_instructions")),
    )
    with op.batch_alter_table("grant_instructions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_grant_instructions_operator_pending",
            ["operator_code", "acknowledged_at", "grant_on"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_grant_instructions_person"), ["person"], unique=False)

    op.create_table(
        "ingest_jobs",
        sa.Column("job_id", sa.String(length=32), nullable=False),
        sa.Column("operator_code", sa.String(length=40), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("lines", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("accepted", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("duplicates", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("rejected", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("rejected_lines", sa.Text(), server_default=sa.text("'[]'"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("job_id", name=op.f("pk_ingest_jobs")),
    )
    with op.batch_alter_table("ingest_jobs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ingest_jobs_operator_code"), ["operator_code"], unique=False
        )

    op.create_table(
        "linkage_notices",
        sa.Column("notice_id", sa.String(length=32), nullable=False),
        sa.Column("operator_code", sa.String(length=40), nullable=False),
        sa.Column("service_code", sa.String(length=40), nullable=False),
        sa.Column("payment_service_id", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("notice_id", name=op.f("pk_linkage_notices")),
    )
    with op.batch_alter_table("linkage_notices", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_linkage_notices_operator_code"), ["operator_code"], unique=False
        )

    op.create_table(
        "operator_keys",
        sa.Column("key_id", sa.String(length=24), nullable=False),
        sa.Column("operator_code", sa.String(length=40), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_operator_keys")),
    )
    with op.batch_alter_table("operator_keys", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_operator_keys_operator_code"), ["operator_code"], unique=False
        )

    op.create_table(
        "payment_accounts",
        sa.Column("service_code", sa.String(length=40), nullable=False),
        sa.Column("payment_service_id", sa.String(length=64), nullable=False),
        sa.Column("operator_code", sa.String(length=40), nullable=False),
        sa.Column("holder_name", sa.String(length=200), nullable=False),
        sa.Column("security_code_hash", sa.String(length=200), nullable=False),
        sa.Column("wrong_codes", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "wrong_codes BETWEEN 0 AND 5", name=op.f("ck_payment_accounts_wrong_codes_range")
        ),
        sa.PrimaryKeyConstraint(
            "service_code", "payment_service_id", name=op.f("pk_payment_accounts")
        ),
    )
    with op.batch_alter_table("payment_accounts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payment_accounts_operator_code"), ["operator_code"], unique=False
        )

    op.create_table(
        "platform_persons",
        sa.Column("person", sa.String(), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("card_applied_on", sa.Date(), nullable=False),
        sa.Column("card_applied_online", sa.Boolean(), nullable=False),
        sa.Column("died_on", sa.Date(), nullable=True),
        sa.Column("adult_ward", sa.Boolean(), nullable=False),
        sa.Column("certificate_issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ledger_version", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("person", name=op.f("pk_platform_persons")),
    )
    op.create_table(
        "settlement_months",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("month", name=op.f("pk_settlement_months")),
    )
    op.create_table(
        "spending_events",
        sa.Column("operator_code", sa.String(length=40), nullable=False),
        sa.Column("event_id", sa.String(length=128), nullable=False),
        sa.Column("service_code", sa.String(length=40), nullable=False),
        sa.Column("payment_service_id", sa.String(length=64), nullable=False),
        sa.Column("person", sa.String(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("refund_of", sa.String(length=128), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.CheckConstraint("amount > 0", name=op.f("ck_spending_events_amount_positive")),
        sa.PrimaryKeyConstraint("operator_code", "event_id", name=op.f("pk_spending_events")),
    )
    with op.batch_alter_table("spending_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_spending_events_person"), ["person"], unique=False)

    op.create_table(
        "grant_lines",
        sa.Column("grant_id", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=160), nullable=False),
        sa.Column("measure", sa.String(length=32), nullable=False),
        sa.Column("person", sa.String(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["grant_id"],
            ["grant_instructions.grant_id"],
            name=op.f("fk_grant_lines_grant_id_grant_instructions"),
        ),
        sa.PrimaryKeyConstraint("grant_id", "source", "measure", name=op.f("pk_grant_lines")),
    )
    with op.batch_alter_table("grant_lines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_grant_lines_person"), ["person"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("grant_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_grant_lines_person"))

    op.drop_table("grant_lines")
    with op.batch_alter_table("spending_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_spending_events_person"))

    op.drop_table("spending_events")
    op.drop_table("settlement_months")
    op.drop_table("platform_persons")
    with op.batch_alter_table("payment_accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_accounts_operator_code"))

    op.drop_table("payment_accounts")
    with op.batch_alter_table("operator_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_operator_keys_operator_code"))

    op.drop_table("operator_keys")
    with op.batch_alter_table("linkage_notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_linkage_notices_operator_code"))

    op.drop_table("linkage_notices")
    with op.batch_alter_table("ingest_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ingest_jobs_operator_code"))

    op.drop_table("ingest_jobs")
    with op.batch_alter_table("grant_instructions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_grant_instructions_person"))
        batch_op.drop_index("ix_grant_instructions_operator_pending")

    op.drop_table("grant_instructions")
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_applications_person_measure_active",
            sqlite_where=sa.text("status = 'active'"),
            postgresql_where=sa.text("status = 'active'"),
        )
        batch_op.drop_index(batch_op.f("ix_applications_person"))

    op.drop_table("applications")
    with op.batch_alter_table("account_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_links_person"))

    op.drop_table("account_links")
