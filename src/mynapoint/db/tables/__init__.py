"""The platform's tables (SQLAlchemy Core), one module per part of the program; importing
the package defines them all on `metadata`, which the migrations and checks compare."""

from __future__ import annotations

from mynapoint.db.tables.accounts import (
    account_code_tries,
    account_links,
    applications,
    operator_keys,
    payment_accounts,
    platform_persons,
)
from mynapoint.db.tables.audit import (
    audit_heads,
    audit_log,
)
from mynapoint.db.tables.authority import (
    authority_keys,
    cardholders,
    cards,
    certificates,
    legal_representatives,
)
from mynapoint.db.tables.base import (
    NAMING_CONVENTION,
    metadata,
    platform_clock,
)
from mynapoint.db.tables.citizens import (
    citizen_sessions,
    login_challenges,
    mykey_reservation_shards,
    mykeys,
)
from mynapoint.db.tables.intake import (
    grant_instructions,
    grant_lines,
    ingest_job_lines,
    ingest_jobs,
    linkage_notices,
    pending_evaluations,
    settlement_approvals,
    settlement_months,
    spending_events,
)
from mynapoint.db.tables.policy import (
    policy_replay_parts,
    policy_replays,
)
from mynapoint.db.tables.staff import (
    assisted_sessions,
    staff_accounts,
    staff_sessions,
)
from mynapoint.db.tables.statistics import (
    daily_statistics,
    pending_grant_statistics,
    stale_grant_days,
    statistics_refreshes,
)

__all__ = [
    "NAMING_CONVENTION",
    "account_code_tries",
    "account_links",
    "applications",
    "assisted_sessions",
    "audit_heads",
    "audit_log",
    "authority_keys",
    "cardholders",
    "cards",
    "certificates",
    "citizen_sessions",
    "daily_statistics",
    "grant_instructions",
    "grant_lines",
    "ingest_job_lines",
    "ingest_jobs",
    "legal_representatives",
    "linkage_notices",
    "login_challenges",
    "metadata",
    "mykey_reservation_shards",
    "mykeys",
    "operator_keys",
    "payment_accounts",
    "pending_evaluations",
    "pending_grant_statistics",
    "platform_clock",
    "platform_persons",
    "policy_replay_parts",
    "policy_replays",
    "settlement_approvals",
    "settlement_months",
    "spending_events",
    "staff_accounts",
    "staff_sessions",
    "stale_grant_days",
    "statistics_refreshes",
]
