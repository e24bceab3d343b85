"""Events, grant instructions, settlement and event-file jobs."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    text,
)

from mynapoint.db.tables.base import metadata
from mynapoint.db.types import UtcDateTime

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
    # Indexed for the statistics' refresh (migration 0016): the instructions of a grant day.
    Column("grant_on", Date, nullable=False, index=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("acknowledged_at", UtcDateTime, nullable=True),
    # YYYY-MM: the month of grant_on, or the first open month after it (INTERFACES).
    Column("settlement_month", String(7), nullable=False),
    Index("ix_grant_instructions_operator_pending", "operator_code", "acknowledged_at", "grant_on"),
    # The pull's pages in grant_id order, reading only pending rows (migration 0014): without
    # it a page walks the primary key past every acknowledged instruction before it.
    Index(
        "ix_grant_instructions_pending_in_order",
        "operator_code",
        "grant_id",
        postgresql_where=text("acknowledged_at IS NULL"),
        sqlite_where=text("acknowledged_at IS NULL"),
    ),
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

# A closed month's statement of one operator on its way to payment (issue 15):
# draft (prepared, totals frozen) → approved (by another person) → paid (in a payment file).
settlement_approvals = Table(
    "settlement_approvals",
    metadata,
    Column("month", String(7), primary_key=True),
    Column("operator_code", String(40), primary_key=True),
    Column("state", String(10), nullable=False),
    Column("points_granted", BigInteger, nullable=False),
    Column("points_clawed_back", BigInteger, nullable=False),
    Column("amount_yen", BigInteger, nullable=False),
    Column("events", BigInteger, nullable=False),
    Column("persons", BigInteger, nullable=False),
    Column("prepared_by", String(64), nullable=False),
    Column("prepared_at", UtcDateTime, nullable=False),
    Column("approved_by", String(64), nullable=True),
    Column("approved_at", UtcDateTime, nullable=True),
    Column("paid_by", String(64), nullable=True),
    Column("paid_at", UtcDateTime, nullable=True),
    Column("payment_file", String(64), nullable=True, index=True),
    CheckConstraint("state IN ('draft', 'approved', 'paid')", name="state_known"),
    # Four eyes, kept by the table too: whoever prepared a statement never approves it.
    CheckConstraint("approved_by IS NULL OR approved_by <> prepared_by", name="four_eyes"),
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
    # or running job whose heartbeat is older than the lease is taken over (jobs/uploads.py).
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
