"""The program's statistics: summary tables refreshed on a schedule (services/statistics.py).

Every figure the ministry's screens and the open data show is read from here, never counted
from the live tables at request time: a refresh recomputes the days that can have changed
since the previous one (db/statistics_store.py says how it knows) in one transaction.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Integer,
    SmallInteger,
    String,
    Table,
)

from mynapoint.db.tables.base import metadata
from mynapoint.db.types import UtcDateTime

# One row per (metric, day in JST, dimensions). A dimension a metric is not broken down by
# holds '' (so that the primary key has no NULL); an application whose cardholder has no
# municipality on record holds 'unknown'. `count` is how many (MyKey IDs, applications,
# instructions…), `points` the points of grant metrics (0 for the others).
daily_statistics = Table(
    "daily_statistics",
    metadata,
    Column("metric", String(32), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("measure", String(32), primary_key=True),
    Column("service_code", String(40), primary_key=True),
    Column("operator_code", String(40), primary_key=True),
    Column("channel", String(20), primary_key=True),
    Column("municipality", String(8), primary_key=True),
    Column("corner", String(40), primary_key=True),
    Column("count", BigInteger, nullable=False),
    Column("points", BigInteger, nullable=False),
)

# Grant instructions not yet acknowledged, per operator and due day (grant_on), as of the last
# refresh: how late each is follows from the refresh's day (statistics_refreshes.computed_at).
pending_grant_statistics = Table(
    "pending_grant_statistics",
    metadata,
    Column("operator_code", String(40), primary_key=True),
    Column("grant_on", Date, primary_key=True),
    Column("count", BigInteger, nullable=False),
    Column("points", BigInteger, nullable=False),
)

# Grant days whose instructions changed since the last refresh: written by the transaction that
# writes the instructions (db/repositories/grants.py add_many), taken (deleted) by the refresh
# that recomputes them. Instructions may carry a `created_at` taken long before they commit
# (an evaluation of a whole upload runs with one `now`), so their timestamps cannot tell.
stale_grant_days = Table(
    "stale_grant_days",
    metadata,
    Column("mark_id", Integer, primary_key=True, autoincrement=True),
    Column("grant_on", Date, nullable=False),
)

# The last refresh, one row (locked by each refresh, so two never run at once): when it was
# computed (platform time), whether it was full, how many days it recomputed, and the platform
# clock's anchor at the time (a clock set anew since then makes the next refresh a full one).
statistics_refreshes = Table(
    "statistics_refreshes",
    metadata,
    Column("id", SmallInteger, primary_key=True, autoincrement=False),
    Column("computed_at", UtcDateTime, nullable=False),
    Column("full_refresh", Boolean, nullable=False),
    Column("days", Integer, nullable=False),
    Column("clock_started_at", UtcDateTime, nullable=True),
    Column("clock_recorded_real_at", UtcDateTime, nullable=True),
    CheckConstraint("id = 1", name="single_row"),
)
