from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    text,
)

from mynapoint.db.types import UtcDateTime
from mynapoint.domain.accounts import ACCOUNT_CODE_TRIES
from mynapoint.domain.cards import PIN_TRIES
from mynapoint.domain.mykey import MYKEY_LENGTH, RESERVATION_SHARDS

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

# --- The simulated card authority (公的個人認証 / J-LIS) -------------------------
# Its own records; the platform never reads these tables directly but asks the
# authority by certificate serial. No column holds a My Number or a PIN: a
# person is a random anchor, and the PIN itself lives only on the (virtual) card.

# The root CA. One row: the first process to generate a key stores it and every
# other process uses that one.
authority_keys = Table(
    "authority_keys",
    metadata,
    Column("id", SmallInteger, primary_key=True, autoincrement=False),
    Column("certificate_pem", Text, nullable=False),
    Column("private_key_pem", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    CheckConstraint("id = 1", name="single_row"),
)

cardholders = Table(
    "cardholders",
    metadata,
    Column("anchor", String, primary_key=True),
    Column("birth_date", Date, nullable=False),
    Column("card_applied_on", Date, nullable=False),
    Column("card_applied_online", Boolean, nullable=False),
    Column("died_on", Date, nullable=True),
    Column("adult_ward", Boolean, nullable=False),
)

cards = Table(
    "cards",
    metadata,
    Column("card_id", String, primary_key=True),
    Column("person", String, ForeignKey(cardholders.c.anchor), nullable=False, index=True),
    Column("issued_at", UtcDateTime, nullable=False),
    # Consecutive wrong PINs, as the chip counts them; at PIN_TRIES the card is locked.
    Column("wrong_pins", Integer, nullable=False, server_default=text("0")),
    CheckConstraint(f"wrong_pins BETWEEN 0 AND {PIN_TRIES}", name="wrong_pins_range"),
)

certificates = Table(
    "certificates",
    metadata,
    Column("serial", String, primary_key=True),
    Column("person", String, ForeignKey(cardholders.c.anchor), nullable=False, index=True),
    Column("card_id", String, ForeignKey(cards.c.card_id), nullable=False),
    Column("certificate_pem", Text, nullable=False),
    Column("issued_at", UtcDateTime, nullable=False),
    Column("not_after", UtcDateTime, nullable=False),
    # The serial this certificate renewed or replaced: the authority links each
    # new serial to the same person (RULES.md §4).
    Column("predecessor", String, ForeignKey("certificates.serial"), nullable=True),
    Column("revoked_at", UtcDateTime, nullable=True),
)

legal_representatives = Table(
    "legal_representatives",
    metadata,
    Column("holder", String, ForeignKey(cardholders.c.anchor), primary_key=True),
    Column("representative", String, ForeignKey(cardholders.c.anchor), primary_key=True),
    CheckConstraint("holder <> representative", name="not_self"),
)

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
    Column("created_at", UtcDateTime, nullable=False),
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
    Column("applied_at", UtcDateTime, nullable=False),
    Column("status", String(12), nullable=False),
    Column("cancelled_at", UtcDateTime, nullable=True),
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

# --- Events, grant instructions and settlement ------------------------------------------

spending_events = Table(
    "spending_events",
    metadata,
    Column("operator_code", String(40), primary_key=True),
    Column("event_id", String(128), primary_key=True),
    Column("service_code", String(40), nullable=False),
    Column("payment_service_id", String(64), nullable=False),
    Column("person", String, nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("refund_of", String(128), nullable=True),
    # SHA-256 of the event's content: the same event_id again is a duplicate when
    # it matches and an event_id_conflict when it does not.
    Column("content_hash", String(64), nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    # Why the event earns nothing (an ignore reason), as of the last evaluation.
    Column("reason", String(32), nullable=True),
    CheckConstraint("amount > 0", name="amount_positive"),
)

# Persons whose stored events the points engine has not looked at yet: one row per intake
# batch, written in the transaction that stores the batch's events and deleted once every
# person in it has been evaluated (services.ledger), so a crash in between leaves the row
# for the next intake to finish. One row per batch, not per person: a batch costs one insert.
pending_evaluations = Table(
    "pending_evaluations",
    metadata,
    Column("marker_id", Integer, primary_key=True, autoincrement=True),
    # JSON array of person anchors.
    Column("persons", Text, nullable=False),
)

# What the operator is told to grant (negative: claw back). An acknowledged
# instruction never changes; corrections come as new instructions.
grant_instructions = Table(
    "grant_instructions",
    metadata,
    Column("grant_id", String(32), primary_key=True),
    Column("operator_code", String(40), nullable=False),
    Column("service_code", String(40), nullable=False),
    Column("payment_service_id", String(64), nullable=False),
    Column("person", String, nullable=False, index=True),
    Column("measure", String(32), nullable=False),
    Column("points", Integer, nullable=False),
    Column("grant_on", Date, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("acknowledged_at", UtcDateTime, nullable=True),
    # YYYY-MM: the month of grant_on, or the first open month after it (INTERFACES).
    Column("settlement_month", String(7), nullable=False),
    Index("ix_grant_instructions_operator_pending", "operator_code", "acknowledged_at", "grant_on"),
)

# Which event (or fixed-grant application) each instruction's points are for:
# the sum over lines per (source, measure) is what has been instructed so far.
grant_lines = Table(
    "grant_lines",
    metadata,
    Column("grant_id", String(32), ForeignKey(grant_instructions.c.grant_id), primary_key=True),
    # Either event:EVENT_ID or application:APPLICATION_ID.
    Column("source", String(160), primary_key=True),
    Column("measure", String(32), primary_key=True),
    Column("person", String, nullable=False, index=True),
    Column("points", Integer, nullable=False),
)

settlement_months = Table(
    "settlement_months",
    metadata,
    Column("month", String(7), primary_key=True),
    Column("closed_at", UtcDateTime, nullable=False),
)

# Stopped linkages the operator must act on (death; a revocation with no successor).
linkage_notices = Table(
    "linkage_notices",
    metadata,
    Column("notice_id", String(32), primary_key=True),
    Column("operator_code", String(40), nullable=False, index=True),
    Column("service_code", String(40), nullable=False),
    Column("payment_service_id", String(64), nullable=False),
    Column("reason", String(32), nullable=False),
    Column("effective_on", Date, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

ingest_jobs = Table(
    "ingest_jobs",
    metadata,
    Column("job_id", String(32), primary_key=True),
    Column("operator_code", String(40), nullable=False, index=True),
    Column("filename", String(255), nullable=False),
    Column("status", String(12), nullable=False),
    Column("lines", Integer, nullable=False, server_default=text("0")),
    Column("accepted", Integer, nullable=False, server_default=text("0")),
    Column("duplicates", Integer, nullable=False, server_default=text("0")),
    Column("rejected", Integer, nullable=False, server_default=text("0")),
    # JSON array of {"line", "event_id", "field", "code", "message"}
    Column("rejected_lines", Text, nullable=False, server_default=text("'[]'")),
    Column("created_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime, nullable=True),
    # Why a job failed (the file unreadable or gone, the load stopped), for the operator.
    Column("reason", Text, nullable=True),
    # The lease: the runner that holds the job renews heartbeat_at while it works; a queued
    # or running job whose heartbeat is older than the lease is taken over (web/uploads.py).
    Column("owner", String(64), nullable=True),
    Column("heartbeat_at", UtcDateTime, nullable=True),
    # Where the first batch not yet committed starts in the file (`lines` are behind it).
    Column("read_bytes", BigInteger, nullable=False, server_default=text("0")),
)

# The lines of an upload job whose event is stored (accepted, or a duplicate of one stored
# before), written in the transaction of their batch: the job's report joins them with
# spending_events to say, per line, whether the event counts and why not.
ingest_job_lines = Table(
    "ingest_job_lines",
    metadata,
    Column("job_id", String(32), primary_key=True),
    Column("line", Integer, primary_key=True),
    Column("event_id", String(128), nullable=False),
)

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

# --- Support-corner staff and assisted sessions ---------------------------------------------
# (RULES.md §6, INTERFACES "Staff and administration")

# A sign-in name, its role and corner (none for an administrator); the password
# only as its argon2id hash.
staff_accounts = Table(
    "staff_accounts",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("corner", String(40), nullable=True, index=True),
    Column("password_hash", String(200), nullable=False),
    # The one-time password of `staff add` is still the password: it must be changed first.
    Column("first_sign_in_pending", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    CheckConstraint("role IN ('staff', 'supervisor', 'admin')", name="role_known"),
    CheckConstraint("(role = 'admin') = (corner IS NULL)", name="corner_unless_admin"),
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
