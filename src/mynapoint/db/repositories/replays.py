"""The policy lab's stored replays and their parts (db/tables/policy.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import func, insert, select, update

from mynapoint.db.tables import policy_replay_parts, policy_replays
from mynapoint.domain.replay_runs import LIVE, ReplayPart, ReplayStatus, StoredReplay

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from datetime import datetime

    from sqlalchemy.engine import Connection, RowMapping


def _replay(row: RowMapping) -> StoredReplay:
    return StoredReplay(
        replay_id=row["replay_id"],
        rules_name=row["rules_name"],
        rules_text=row["rules_text"],
        as_of=row["as_of"],
        sample_percent=row["sample_percent"],
        ages_on=row["ages_on"],
        requested_by=row["requested_by"],
        created_at=row["created_at"],
        status=cast("ReplayStatus", row["status"]),
        persons_expected=row["persons_expected"],
        persons_done=row["persons_done"],
        parts_total=row["parts_total"],
        finished_at=row["finished_at"],
        error=row["error"],
    )


def _part(row: RowMapping) -> ReplayPart:
    return ReplayPart(
        replay_id=row["replay_id"],
        part=row["part"],
        after_person=row["after_person"],
        last_person=row["last_person"],
        persons=row["persons"],
        tally=row["tally"],
    )


class SqlReplayRepository:
    def __init__(self, connection: Callable[[], Connection]) -> None:
        self._connection = connection

    def add(self, replay: StoredReplay) -> None:
        self._connection().execute(insert(policy_replays).values(**vars(replay)))

    def get(self, replay_id: str) -> StoredReplay | None:
        query = select(policy_replays).where(policy_replays.c.replay_id == replay_id)
        row = self._connection().execute(query).mappings().first()
        return None if row is None else _replay(row)

    def recent(self, limit: int) -> list[StoredReplay]:
        query = (
            select(policy_replays)
            .order_by(policy_replays.c.created_at.desc(), policy_replays.c.replay_id)
            .limit(limit)
        )
        return [_replay(row) for row in self._connection().execute(query).mappings()]

    def live(self) -> list[str]:
        query = (
            select(policy_replays.c.replay_id)
            .where(policy_replays.c.status.in_(LIVE))
            .order_by(policy_replays.c.created_at, policy_replays.c.replay_id)
        )
        return list(self._connection().execute(query).scalars())

    def plan(
        self, replay_id: str, parts: Sequence[ReplayPart], persons_expected: int, at: datetime
    ) -> bool:
        connection = self._connection()
        marked = connection.execute(
            update(policy_replays)
            .where(
                policy_replays.c.replay_id == replay_id,
                policy_replays.c.parts_total.is_(None),
                policy_replays.c.status.in_(LIVE),
            )
            .values(
                status="running" if parts else "done",
                finished_at=None if parts else at,
                parts_total=len(parts),
                persons_expected=persons_expected,
            )
        )
        if marked.rowcount != 1:
            return False
        if parts:
            connection.execute(insert(policy_replay_parts), [vars(part) for part in parts])
        return True

    def parts(self, replay_id: str) -> list[ReplayPart]:
        query = (
            select(policy_replay_parts)
            .where(policy_replay_parts.c.replay_id == replay_id)
            .order_by(policy_replay_parts.c.part)
        )
        return [_part(row) for row in self._connection().execute(query).mappings()]

    def part(self, replay_id: str, part: int) -> ReplayPart | None:
        query = select(policy_replay_parts).where(
            policy_replay_parts.c.replay_id == replay_id, policy_replay_parts.c.part == part
        )
        row = self._connection().execute(query).mappings().first()
        return None if row is None else _part(row)

    def finish_part(
        self, replay_id: str, part: int, tally: str, persons: int, at: datetime
    ) -> bool:
        connection = self._connection()
        # The replay's row first (FOR UPDATE; SQLite's writers run one at a time anyway): the
        # count of done parts below then sees every part committed before this one.
        connection.execute(
            select(policy_replays.c.replay_id)
            .where(policy_replays.c.replay_id == replay_id)
            .with_for_update()
        )
        stored = connection.execute(
            update(policy_replay_parts)
            .where(
                policy_replay_parts.c.replay_id == replay_id,
                policy_replay_parts.c.part == part,
                policy_replay_parts.c.tally.is_(None),
            )
            .values(tally=tally)
        )
        if stored.rowcount != 1:
            return False
        done_parts = (
            select(func.count())
            .select_from(policy_replay_parts)
            .where(
                policy_replay_parts.c.replay_id == replay_id,
                policy_replay_parts.c.tally.is_not(None),
            )
            .scalar_subquery()
        )
        values: dict[str, Any] = {"persons_done": policy_replays.c.persons_done + persons}
        connection.execute(
            update(policy_replays).where(policy_replays.c.replay_id == replay_id).values(**values)
        )
        connection.execute(
            update(policy_replays)
            .where(
                policy_replays.c.replay_id == replay_id,
                policy_replays.c.status == "running",
                policy_replays.c.parts_total == done_parts,
            )
            .values(status="done", finished_at=at)
        )
        return True

    def fail(self, replay_id: str, error: str, at: datetime) -> None:
        self._connection().execute(
            update(policy_replays)
            .where(policy_replays.c.replay_id == replay_id, policy_replays.c.status.in_(LIVE))
            .values(status="failed", error=error[:2000], finished_at=at)
        )
