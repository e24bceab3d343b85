"""The platform's side of a citizen: sign-in challenges, sessions, MyKey IDs."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    LargeBinary,
    SmallInteger,
    String,
    Table,
)

from mynapoint.db.tables.base import metadata
from mynapoint.db.types import UtcDateTime
from mynapoint.domain.mykey import MYKEY_LENGTH, RESERVATION_SHARDS

# --- The platform ----------------------------------------------------------------
# `person` here is the authority's opaque anchor, deliberately without a foreign
# key: the platform and the card authority are separate systems that share a
# database only in this simulation.

login_challenges = Table(
    "login_challenges",
    metadata,
    Column("challenge_id", String, primary_key=True),
    Column("nonce", LargeBinary, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("used_at", UtcDateTime, nullable=True),
)

# Only the SHA-256 (hex) of a session token is stored, so a copy of the database
# cannot be used to sign in.
citizen_sessions = Table(
    "citizen_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("person", String, nullable=False),
    Column("serial", String, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("ended_at", UtcDateTime, nullable=True),
    # The account the citizen's last preview checked (its security code, once), for the
    # confirmation to commit: never the code (services/online_previews.py).
    Column("preview_id", String(32), nullable=True),
    Column("preview_measure", String(32), nullable=True),
    Column("preview_service_code", String(40), nullable=True),
    Column("preview_payment_service_id", String(64), nullable=True),
    Column("preview_counts", String(16), nullable=True),
    Column("preview_holder_name_masked", String(200), nullable=True),
    Column("preview_representative_card", String(40), nullable=True),
    Column("previewed_at", UtcDateTime, nullable=True),
)

# One MyKey ID per person for life (RULES.md §4); both columns are unique so that
# concurrent requests cannot both create one.
mykeys = Table(
    "mykeys",
    metadata,
    Column("mykey_id", String(MYKEY_LENGTH), primary_key=True),
    Column("person", String, nullable=False, unique=True),
    # Indexed for the statistics' refresh (migration 0016).
    Column("created_at", UtcDateTime, nullable=False, index=True),
)

# How many MyKey IDs were reserved (R17: a budget frame caps them), counted in
# RESERVATION_SHARDS rows kept by the migration. A new ID takes a place in one shard chosen at
# random with one conditional UPDATE against that shard's share of the frame
# (domain/mykey.py shard_capacity; the shares add up to the frame), so concurrent requests
# seldom wait for each other, never overshoot the frame, and nothing counts the whole mykeys
# table (db/repositories/mykeys.py).
mykey_reservation_shards = Table(
    "mykey_reservation_shards",
    metadata,
    Column("shard", SmallInteger, primary_key=True, autoincrement=False),
    Column("reserved", BigInteger, nullable=False),
    CheckConstraint(f"shard >= 0 AND shard < {RESERVATION_SHARDS}", name="shard_in_range"),
    CheckConstraint("reserved >= 0", name="reserved_not_negative"),
)
