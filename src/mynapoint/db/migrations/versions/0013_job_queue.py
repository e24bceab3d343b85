"""The job queue (issue 14): procrastinate's tables, types and functions, on PostgreSQL only.

The SQL is procrastinate 3.10.0's own schema (procrastinate/sql/schema.sql), copied beside
this file so that the revision stays what it was when a later release changes the library's
schema (a later release brings its own migration SQL, applied by a later revision). SQLite
has no queue: the server runs its jobs in-process from ingest_jobs (docs/JOBS.md).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 08:00:00.000000
"""

from __future__ import annotations

from pathlib import Path

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

SCHEMA = Path(__file__).with_name("0013_procrastinate_3_10_0.sql")

# Everything the schema creates lives under these names (tables cascade to their triggers).
_DROP = """
DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs,
    procrastinate_workers CASCADE;
DO $$
DECLARE f record;
BEGIN
    FOR f IN SELECT p.oid::regprocedure AS signature FROM pg_proc p
        JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE p.proname LIKE 'procrastinate\\_%' AND n.nspname = current_schema()
    LOOP
        EXECUTE 'DROP ROUTINE ' || f.signature || ' CASCADE';
    END LOOP;
END;
$$;
DROP TYPE IF EXISTS procrastinate_job_to_defer_v1, procrastinate_job_event_type,
    procrastinate_job_status CASCADE;
"""


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    # Through the driver without parameters: the schema's `%` (RAISE formats) and `:`
    # (casts) must reach the server as they are.
    bind.connection.driver_connection.execute(SCHEMA.read_text(encoding="utf-8"))  # type: ignore[union-attr]


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    bind.connection.driver_connection.execute(_DROP)  # type: ignore[union-attr]
