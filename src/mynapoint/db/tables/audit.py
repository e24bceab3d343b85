"""The hash-chained audit log of assisted actions and its published heads."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Integer,
    String,
    Table,
    Text,
)

from mynapoint.db.tables.base import metadata
from mynapoint.db.types import UtcDateTime
from mynapoint.domain.mykey import MYKEY_LENGTH

# --- The audit log of assisted actions (RULES.md §6, "The incident") ---------------------------

# Append-only and hash-chained (mynapoint.domain.audit): rows are only ever
# inserted, numbered 1, 2, … with no gaps; `previous_hash` is the hash of the row
# before (64 zeros for the first) and `entry_hash` seals this row's content to it.
audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("at", UtcDateTime, nullable=False),
    # The staff member's login name and role at the time.
    Column("actor", String(64), nullable=False),
    Column("role", String(16), nullable=False),
    Column("corner", String(40), nullable=True),
    Column("mykey_id", String(MYKEY_LENGTH), nullable=True),
    Column("action", String(64), nullable=False),
    # A JSON object, written in canonical form (sorted keys, no spaces).
    Column("details", Text, nullable=False),
    Column("previous_hash", String(64), nullable=False),
    Column("entry_hash", String(64), nullable=False),
    CheckConstraint("seq > 0", name="seq_positive"),
)

# Heads (entry count + hash of that entry) as published: each is also written to
# the structured log, where whoever can rewrite these tables cannot reach it, and signed
# with the audit key, which the database does not hold (services/head_signing.py).
# Both tables refuse UPDATE and DELETE, even from their owner (triggers, migration 0009).
audit_heads = Table(
    "audit_heads",
    metadata,
    Column("head_id", Integer, primary_key=True, autoincrement=True),
    Column("entry_count", BigInteger, nullable=False),
    Column("head_hash", String(64), nullable=False),
    Column("published_at", UtcDateTime, nullable=False),
    # Ed25519, base64url without padding; NULL for heads published before 0009.
    Column("signature", String(86), nullable=True),
    CheckConstraint("entry_count >= 0", name="entry_count_not_negative"),
)
