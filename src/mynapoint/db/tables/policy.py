"""The policy lab's stored replays (issue 16; services/policy_runs.py): one row per replay
asked for on the ministry's console, and one per part of its applicants, each part judged by
its own job and its tally kept as JSON until the replay's result merges them."""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    text,
)

from mynapoint.db.tables.base import metadata
from mynapoint.db.types import UtcDateTime

REPLAY_STATUSES = "status IN ('queued', 'running', 'done', 'failed')"

# A replay of candidate rules over the recorded history: what was asked (the rules' text as
# sent, so the page shows it and the parts judge by it), by whom, and how far it got.
policy_replays = Table(
    "policy_replays",
    metadata,
    Column("replay_id", String(32), primary_key=True),
    Column("rules_name", String(255), nullable=False),
    Column("rules_text", Text, nullable=False),
    Column("as_of", Date, nullable=True),
    Column("sample_percent", Float, nullable=True),  # null: every applicant
    Column("ages_on", Date, nullable=False),
    Column("requested_by", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False, index=True),
    Column("status", String(12), nullable=False),
    Column("persons_expected", Integer, nullable=False, server_default=text("0")),
    Column("persons_done", Integer, nullable=False, server_default=text("0")),
    Column("parts_total", Integer, nullable=True),  # null until the plan has run
    Column("finished_at", UtcDateTime, nullable=True),
    Column("error", Text, nullable=True),
    CheckConstraint(REPLAY_STATUSES, name="status_known"),
)

# A part of a replay: the applicants after `after_person` (exclusive; null for the first
# part) up to `last_person` (inclusive), in person order; its tally once judged.
policy_replay_parts = Table(
    "policy_replay_parts",
    metadata,
    Column(
        "replay_id",
        String(32),
        ForeignKey("policy_replays.replay_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("part", Integer, primary_key=True),
    Column("after_person", String, nullable=True),
    Column("last_person", String, nullable=False),
    Column("persons", Integer, nullable=False),  # the sampled applicants in the bounds
    Column("tally", Text, nullable=True),  # Tally.to_json(), null until done
)
