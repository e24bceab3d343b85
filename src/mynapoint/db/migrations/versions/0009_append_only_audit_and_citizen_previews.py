"""The audit tables refuse UPDATE and DELETE; heads carry their signature; a citizen's
session keeps the account its preview checked.

Triggers, not privileges: they hold for the tables' owner too, who can only get past them
by dropping them, which a signed head published before shows (services/head_signing.py).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

APPEND_ONLY = ("audit_log", "audit_heads")
_REFUSAL = "is append-only: UPDATE and DELETE are refused"

_PREVIEW_COLUMNS = (
    ("preview_id", sa.String(length=32)),
    ("preview_measure", sa.String(length=32)),
    ("preview_service_code", sa.String(length=40)),
    ("preview_payment_service_id", sa.String(length=64)),
    ("preview_counts", sa.String(length=16)),
    ("preview_holder_name_masked", sa.String(length=200)),
    ("preview_representative_card", sa.String(length=40)),
    ("previewed_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    op.add_column("audit_heads", sa.Column("signature", sa.String(length=86), nullable=True))
    for name, column_type in _PREVIEW_COLUMNS:
        op.add_column("citizen_sessions", sa.Column(name, column_type, nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION refuse_audit_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION '% " + _REFUSAL + "', TG_TABLE_NAME "
            "USING ERRCODE = 'insufficient_privilege'; END $$"
        )
        for table in APPEND_ONLY:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION refuse_audit_change()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION refuse_audit_change()"
            )
        return
    for table in APPEND_ONLY:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} {_REFUSAL}'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER {table}_no_truncate ON {table}")
            op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
        op.execute("DROP FUNCTION refuse_audit_change()")
    else:
        for table in APPEND_ONLY:
            for verb in ("update", "delete"):
                op.execute(f"DROP TRIGGER {table}_no_{verb}")
    with op.batch_alter_table("citizen_sessions") as batch_op:
        for name, _ in reversed(_PREVIEW_COLUMNS):
            batch_op.drop_column(name)
    with op.batch_alter_table("audit_heads") as batch_op:
        batch_op.drop_column("signature")
