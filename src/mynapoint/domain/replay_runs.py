"""A replay of candidate rules stored on the platform (issue 16, the policy lab's pages):
what was asked, how far it got, and the parts its applicants were cut into, each judged by a
job of its own (services/policy_runs.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Final, Literal

ReplayStatus = Literal["queued", "running", "done", "failed"]
LIVE: Final = frozenset({"queued", "running"})


@dataclass(frozen=True)
class StoredReplay:
    replay_id: str
    rules_name: str
    rules_text: str  # as sent: the parts judge by it, the page shows it
    as_of: date | None
    sample_percent: float | None  # None: every applicant
    ages_on: date
    requested_by: str
    created_at: datetime
    status: ReplayStatus = "queued"
    persons_expected: int = 0  # the sampled applicants, once planned
    persons_done: int = 0
    parts_total: int | None = None  # None until planned
    finished_at: datetime | None = None
    error: str | None = None

    @property
    def is_live(self) -> bool:
        return self.status in LIVE

    @property
    def fraction(self) -> float:
        return 1.0 if self.sample_percent is None else self.sample_percent / 100


@dataclass(frozen=True)
class ReplayPart:
    """The applicants after `after_person` (exclusive; None: from the first) up to
    `last_person` (inclusive), in person order; `persons` of them in the sample."""

    replay_id: str
    part: int
    after_person: str | None
    last_person: str
    persons: int
    tally: str | None = None  # Tally.to_json() as JSON text, once judged
