"""The metadata every table belongs to (its naming convention) and the platform clock."""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    MetaData,
    SmallInteger,
    Table,
)

from mynapoint.db.types import UtcDateTime

# Constraint names must be deterministic so that migrations can refer to them
# and alembic's autogenerate compares like with like on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

# The anchor of the platform clock (INTERFACES, "The platform clock"): platform
# time started at `started_at` when the real time was `recorded_real_at`.
platform_clock = Table(
    "platform_clock",
    metadata,
    Column("id", SmallInteger, primary_key=True, autoincrement=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("recorded_real_at", UtcDateTime, nullable=False),
    CheckConstraint("id = 1", name="single_row"),
)
