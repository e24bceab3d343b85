"""Support-corner staff, their sessions and assisted sessions."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    text,
)

from mynapoint.db.tables.base import metadata
from mynapoint.db.types import UtcDateTime
from mynapoint.domain.mykey import MYKEY_LENGTH

# The account roles and the scope each carries (domain/staff.py; migrations 0015, 0019).
ROLES_KNOWN = (
    "role IN ('staff', 'supervisor', 'admin', 'city_admin', 'ministry_admin', "
    "'ministry_viewer', 'auditor', 'policy_analyst', 'operator_admin', 'operator_staff')"
)
CORNER_ROLES_ONLY = "(role IN ('staff', 'supervisor')) = (corner IS NOT NULL)"
CITY_ROLES_ONLY = "(role = 'city_admin') = (city IS NOT NULL)"
OPERATOR_ROLES_ONLY = "(role IN ('operator_admin', 'operator_staff')) = (operator IS NOT NULL)"

# --- Support-corner staff and assisted sessions ---------------------------------------------
# (RULES.md §6, INTERFACES "Staff and administration")

# A sign-in name of any console (support corners, cities, ministry, payment operators), its
# role and the one scope the role needs (a corner, a city or an operator; none for the
# others); the password only as its argon2id hash.
staff_accounts = Table(
    "staff_accounts",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("corner", String(40), nullable=True, index=True),
    Column("city", String(40), nullable=True),
    Column("operator", String(40), nullable=True),
    Column("password_hash", String(200), nullable=False),
    # The one-time password of `staff add` is still the password: it must be changed first.
    Column("first_sign_in_pending", Boolean, nullable=False),
    # A disabled account cannot sign in; its sessions ended when it was disabled.
    Column("disabled_at", UtcDateTime, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    CheckConstraint(ROLES_KNOWN, name="role_known"),
    CheckConstraint(CORNER_ROLES_ONLY, name="corner_roles_only"),
    CheckConstraint(CITY_ROLES_ONLY, name="city_roles_only"),
    CheckConstraint(OPERATOR_ROLES_ONLY, name="operator_roles_only"),
)

# A signed-in browser: only the SHA-256 of its cookie's token is kept.
staff_sessions = Table(
    "staff_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("staff", String(64), ForeignKey(staff_accounts.c.name), nullable=False, index=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_seen_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("ended_at", UtcDateTime, nullable=True),
)

# One card read at a counter, run by one staff member; the preview columns hold what
# the citizen is asked to confirm (never the security code).
assisted_sessions = Table(
    "assisted_sessions",
    metadata,
    Column("session_id", String(32), primary_key=True),
    Column("staff", String(64), ForeignKey(staff_accounts.c.name), nullable=False),
    Column("corner", String(40), nullable=False),
    Column("card_serial", String, nullable=False),
    Column("person", String, nullable=False),
    Column("mykey_id", String(MYKEY_LENGTH), nullable=True),
    Column("started_at", UtcDateTime, nullable=False),
    Column("last_activity_at", UtcDateTime, nullable=False),
    Column("ended_at", UtcDateTime, nullable=True),
    Column("end_reason", String(20), nullable=True),
    Column("preview_id", String(32), nullable=True),
    Column("preview_measure", String(32), nullable=True),
    Column("preview_service_code", String(40), nullable=True),
    Column("preview_payment_service_id", String(64), nullable=True),
    Column("preview_counts", String(16), nullable=True),
    Column("preview_holder_name_masked", String(200), nullable=True),
    Column("preview_with_representative", Boolean, nullable=True),
    Column("previewed_at", UtcDateTime, nullable=True),
    CheckConstraint("(ended_at IS NULL) = (end_reason IS NULL)", name="ended_with_reason"),
    Index("ix_assisted_sessions_corner_started", "corner", "started_at"),
    # One open session per staff member: reading the next card ends the previous one.
    Index(
        "uq_assisted_sessions_staff_open",
        "staff",
        unique=True,
        sqlite_where=text("ended_at IS NULL"),
        postgresql_where=text("ended_at IS NULL"),
    ),
)
