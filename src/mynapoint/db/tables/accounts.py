"""Payment operators, registered accounts, persons and applications."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Index,
    Integer,
    String,
    Table,
    text,
)

from mynapoint.db.tables.base import metadata
from mynapoint.db.types import UtcDateTime
from mynapoint.domain.accounts import ACCOUNT_CODE_TRIES

# --- Payment operators, accounts and applications (RULES.md §3, INTERFACES "Payment operator") ----

# An operator's API key is `<key_id>.<secret>`; only the secret's SHA-256 is kept
# (keys are long random strings, so a fast hash is enough; codes use a keyed HMAC).
operator_keys = Table(
    "operator_keys",
    metadata,
    Column("key_id", String(24), primary_key=True),
    Column("operator_code", String(40), nullable=False, index=True),
    Column("secret_hash", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime, nullable=True),
)

# Accounts the operator registered so that the platform can accept them at
# application: the security code is kept only as a keyed HMAC-SHA256
# (`$hmac-sha256$v=1$…`; its key is a file outside the database, services/codes.py), or as an
# argon2id hash registered before issue 13 until its next successful check.
payment_accounts = Table(
    "payment_accounts",
    metadata,
    Column("service_code", String(40), primary_key=True),
    Column("payment_service_id", String(64), primary_key=True),
    Column("operator_code", String(40), nullable=False, index=True),
    Column("holder_name", String(200), nullable=False),
    Column("security_code_hash", String(200), nullable=False),
    Column("registered_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

# One person's wrong security codes in a row for one account ID, registered or not (an
# unknown ID is counted and locked like a known one, so IDs cannot be enumerated); at
# ACCOUNT_CODE_TRIES that person may not try the account until `locked_until`. Other persons
# have rows of their own: nobody can lock anybody else out. No foreign key, on purpose.
account_code_tries = Table(
    "account_code_tries",
    metadata,
    Column("service_code", String(40), primary_key=True),
    Column("payment_service_id", String(64), primary_key=True),
    Column("person", String, primary_key=True),
    Column("wrong_codes", Integer, nullable=False),
    Column("last_wrong_at", UtcDateTime, nullable=False),
    Column("locked_until", UtcDateTime, nullable=True),
    CheckConstraint(f"wrong_codes BETWEEN 1 AND {ACCOUNT_CODE_TRIES}", name="wrong_codes_range"),
)

# The platform's copy of what the card authority answered about a person, kept
# fresh at every login and application; intake evaluates events against it.
platform_persons = Table(
    "platform_persons",
    metadata,
    Column("person", String, primary_key=True),
    Column("birth_date", Date, nullable=False),
    Column("card_applied_on", Date, nullable=False),
    Column("card_applied_online", Boolean, nullable=False),
    Column("died_on", Date, nullable=True),
    Column("adult_ward", Boolean, nullable=False),
    Column("certificate_issued_at", UtcDateTime, nullable=False),
    # The city or ward on the resident register (JIS code), which the ministry's statistics
    # count MyKey IDs and applications by (migration 0018); null where the authority had none.
    Column("municipality", String(6), nullable=True),
    # Bumped under a row lock whenever the person's points are re-evaluated, so
    # that concurrent batches for one person run one after the other.
    Column("ledger_version", Integer, nullable=False, server_default=text("0")),
    Column("updated_at", UtcDateTime, nullable=False),
)

applications = Table(
    "applications",
    metadata,
    Column("application_id", String(32), primary_key=True),
    Column("person", String, nullable=False, index=True),
    Column("measure", String(32), nullable=False),
    Column("service_code", String(40), nullable=False),
    Column("payment_service_id", String(64), nullable=False),
    Column("counts", String(16), nullable=True),
    Column("channel", String(20), nullable=False),
    # The legal representative whose card signed too (RULES.md R14), if any.
    Column("representative", String, nullable=True),
    # Both indexed for the statistics' refresh (migration 0016): it finds the days that
    # changed since the last one from these timestamps.
    Column("applied_at", UtcDateTime, nullable=False, index=True),
    Column("status", String(12), nullable=False),
    Column("cancelled_at", UtcDateTime, nullable=True, index=True),
    CheckConstraint("status IN ('active', 'cancelled')", name="status_known"),
    # R3: one application per person per measure, enforced by the database so
    # that two concurrent requests cannot both win.
    Index(
        "uq_applications_person_measure_active",
        "person",
        "measure",
        unique=True,
        sqlite_where=text("status = 'active'"),
        postgresql_where=text("status = 'active'"),
    ),
)

# R4: a payment account is linked to one person only. The row exists while the
# person has an active application with the account.
account_links = Table(
    "account_links",
    metadata,
    Column("service_code", String(40), primary_key=True),
    Column("payment_service_id", String(64), primary_key=True),
    Column("person", String, nullable=False, index=True),
    Column("linked_at", UtcDateTime, nullable=False),
)
