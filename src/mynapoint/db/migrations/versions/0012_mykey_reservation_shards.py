"""The reserved MyKey IDs counted in 64 shards instead of one row that every reservation
waited on (issue 13). The count of the single row is spread evenly over the shards.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 04:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# domain/mykey.py RESERVATION_SHARDS when this migration was written; fixed here for good.
SHARDS = 64


def upgrade() -> None:
    shards = op.create_table(
        "mykey_reservation_shards",
        sa.Column("shard", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("reserved", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            f"shard >= 0 AND shard < {SHARDS}",
            name=op.f("ck_mykey_reservation_shards_shard_in_range"),
        ),
        sa.CheckConstraint(
            "reserved >= 0", name=op.f("ck_mykey_reservation_shards_reserved_not_negative")
        ),
        sa.PrimaryKeyConstraint("shard", name=op.f("pk_mykey_reservation_shards")),
    )
    reserved = (
        op.get_bind()
        .execute(sa.text("SELECT coalesce(sum(reserved), 0) FROM mykey_reservations"))
        .scalar_one()
    )
    base, extra = divmod(int(reserved), SHARDS)
    op.bulk_insert(
        shards,
        [{"shard": k, "reserved": base + (1 if k < extra else 0)} for k in range(SHARDS)],
    )
    op.drop_table("mykey_reservations")


def downgrade() -> None:
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
    op.execute(
        "INSERT INTO mykey_reservations (id, reserved) "
        "SELECT 1, coalesce(sum(reserved), 0) FROM mykey_reservation_shards"
    )
    op.drop_table("mykey_reservation_shards")
