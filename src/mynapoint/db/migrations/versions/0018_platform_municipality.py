"""The platform's own copy of a person's city or ward (issue 15): platform_persons.municipality,
written from the card authority's answer when a MyKey ID is set up and at every application,
so that the ministry's statistics count by it without reading the card authority's tables.

Rows already there take the municipality the card authority holds now (cardholders, filled
since 0016). A person with a MyKey ID but no application has no platform_persons row before
this revision; the statistics count such a person's MyKey ID under 'unknown' until they set it
up again or apply.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 16:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("platform_persons") as batch:
        batch.add_column(sa.Column("municipality", sa.String(6), nullable=True))
    op.execute(
        "UPDATE platform_persons SET municipality = ("
        "SELECT cardholders.municipality FROM cardholders "
        "WHERE cardholders.anchor = platform_persons.person)"
    )


def downgrade() -> None:
    with op.batch_alter_table("platform_persons") as batch:
        batch.drop_column("municipality")
