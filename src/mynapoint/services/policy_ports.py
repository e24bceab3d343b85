"""What the policy lab's stored replays need from storage (services/policy_runs.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from mynapoint.domain.replay_runs import ReplayPart, StoredReplay


class ReplayRepository(Protocol):
    def add(self, replay: StoredReplay) -> None: ...

    def get(self, replay_id: str) -> StoredReplay | None: ...

    def recent(self, limit: int) -> list[StoredReplay]:
        """The newest first."""
        ...

    def live(self) -> list[str]:
        """The ids of the replays queued or running, oldest first."""
        ...

    def plan(
        self, replay_id: str, parts: Sequence[ReplayPart], persons_expected: int, at: datetime
    ) -> bool:
        """Store the replay's parts and mark it running (done at `at` when there are none),
        unless it was planned before (or is over): False then, and nothing written."""
        ...

    def parts(self, replay_id: str) -> list[ReplayPart]:
        """In part order, with their tallies where done."""
        ...

    def part(self, replay_id: str, part: int) -> ReplayPart | None: ...

    def finish_part(
        self, replay_id: str, part: int, tally: str, persons: int, at: datetime
    ) -> bool:
        """Keep a part's tally and add its persons to the replay's, unless the part was done
        before (False, nothing written); the replay is done, at `at`, when its last part is.
        Holds the replay's row, so that two parts ending together see each other."""
        ...

    def fail(self, replay_id: str, error: str, at: datetime) -> None:
        """A live replay failed, with the reason; an ended one is left as it is."""
        ...
