from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, delete, func, insert, or_, select, update

from mynapoint.db.repositories.statements import copy_rows, is_postgresql
from mynapoint.db.tables import ingest_job_lines, ingest_jobs, linkage_notices, spending_events
from mynapoint.domain.ledger import (
    JOB_LIVE,
    EventVerdict,
    IngestJob,
    JobVerdicts,
    LinkageNotice,
)
from mynapoint.domain.measures import IgnoreReason

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from datetime import datetime

    from sqlalchemy.engine import Connection


class SqlNoticeRepository:
    def __init__(self, connection: Callable[[], Connection]) -> None:
        self._connection = connection

    def add_many(self, notices: Sequence[LinkageNotice]) -> None:
        if notices:
            self._connection().execute(
                insert(linkage_notices), [vars(notice) for notice in notices]
            )

    def for_operator(self, operator_code: str) -> list[LinkageNotice]:
        query = (
            select(linkage_notices)
            .where(linkage_notices.c.operator_code == operator_code)
            .order_by(linkage_notices.c.created_at, linkage_notices.c.notice_id)
        )
        return [LinkageNotice(**row._asdict()) for row in self._connection().execute(query)]


_LINE_COLUMNS = [ingest_job_lines.c[name] for name in ("job_id", "line", "event_id")]


class SqlIngestJobRepository:
    def __init__(self, connection: Callable[[], Connection]) -> None:
        self._connection = connection

    def add(self, job: IngestJob) -> None:
        self._connection().execute(insert(ingest_jobs).values(**_row(job)))

    def get(self, job_id: str) -> IngestJob | None:
        query = select(ingest_jobs).where(ingest_jobs.c.job_id == job_id)
        row = self._connection().execute(query).one_or_none()
        return None if row is None else _job(row._asdict())

    def save(self, job: IngestJob) -> None:
        values = _row(job)
        self._connection().execute(
            update(ingest_jobs).where(ingest_jobs.c.job_id == job.job_id).values(**values)
        )

    def save_if_owned(self, job: IngestJob) -> bool:
        statement = (
            update(ingest_jobs)
            .where(ingest_jobs.c.job_id == job.job_id, ingest_jobs.c.owner == job.owner)
            .values(**_row(job))
        )
        return self._connection().execute(statement).rowcount == 1

    def beat(self, job_id: str, owner: str, at: datetime) -> bool:
        statement = (
            update(ingest_jobs)
            .where(
                ingest_jobs.c.job_id == job_id,
                ingest_jobs.c.owner == owner,
                ingest_jobs.c.status.in_(JOB_LIVE),
            )
            .values(heartbeat_at=at)
        )
        return self._connection().execute(statement).rowcount == 1

    def claim(self, job_id: str, owner: str, expired_before: datetime, at: datetime) -> bool:
        statement = (
            update(ingest_jobs)
            .where(
                ingest_jobs.c.job_id == job_id,
                ingest_jobs.c.status.in_(JOB_LIVE),
                or_(
                    ingest_jobs.c.heartbeat_at.is_(None),
                    ingest_jobs.c.heartbeat_at < expired_before,
                ),
            )
            .values(owner=owner, heartbeat_at=at)
        )
        return self._connection().execute(statement).rowcount == 1

    def live(self) -> list[IngestJob]:
        query = (
            select(ingest_jobs)
            .where(ingest_jobs.c.status.in_(JOB_LIVE))
            .order_by(ingest_jobs.c.created_at, ingest_jobs.c.job_id)
        )
        return [_job(row._asdict()) for row in self._connection().execute(query)]

    def recent(self, operator_code: str, limit: int) -> list[IngestJob]:
        query = (
            select(ingest_jobs)
            .where(
                ingest_jobs.c.operator_code == operator_code,
                ~ingest_jobs.c.job_id.contains(".", autoescape=True),  # a part: `<job>.<n>`
            )
            .order_by(ingest_jobs.c.created_at.desc(), ingest_jobs.c.job_id.desc())
            .limit(limit)
        )
        return [_job(row._asdict()) for row in self._connection().execute(query)]

    def add_progress(self, job_id: str, batch: IngestJob, keep: int) -> None:
        connection = self._connection()
        mine = ingest_jobs.c.job_id == job_id
        values: dict[str, object] = {
            "lines": ingest_jobs.c.lines + batch.lines,
            "read_bytes": ingest_jobs.c.read_bytes + batch.read_bytes,
            "accepted": ingest_jobs.c.accepted + batch.accepted,
            "duplicates": ingest_jobs.c.duplicates + batch.duplicates,
            "rejected": ingest_jobs.c.rejected + batch.rejected,
        }
        if batch.rejected_lines:
            stored = connection.execute(
                select(ingest_jobs.c.rejected_lines).where(mine).with_for_update()
            ).scalar_one()
            merged = sorted(
                [*json.loads(stored), *batch.rejected_lines], key=lambda line: line["line"]
            )
            values["rejected_lines"] = json.dumps(merged[:keep], ensure_ascii=True)
        connection.execute(update(ingest_jobs).where(mine).values(**values))

    def remove_parts(self, job_id: str) -> None:
        # A part's id is the job's, a dot and its number (jobs.uploads.part_id).
        self._connection().execute(
            delete(ingest_jobs).where(
                ingest_jobs.c.job_id.startswith(f"{job_id}.", autoescape=True)
            )
        )

    def add_lines(self, job_id: str, lines: Sequence[tuple[int, str]]) -> None:
        if not lines:
            return
        connection = self._connection()
        if is_postgresql(connection):
            # A row per stored line of the file (a million for a file of a million events):
            # COPY writes them at a fraction of an executemany's cost, in Python and server.
            copy_rows(
                connection,
                ingest_job_lines.name,
                _LINE_COLUMNS,
                ((job_id, line, event_id) for line, event_id in lines),
            )
        else:
            connection.execute(
                insert(ingest_job_lines),
                [
                    {"job_id": job_id, "line": line, "event_id": event_id}
                    for line, event_id in lines
                ],
            )

    def verdicts(self, job_id: str, operator_code: str, limit: int) -> JobVerdicts:
        connection = self._connection()
        joined = ingest_job_lines.join(
            spending_events,
            and_(
                spending_events.c.operator_code == operator_code,
                spending_events.c.event_id == ingest_job_lines.c.event_id,
            ),
        )
        mine = ingest_job_lines.c.job_id == job_id
        counts = connection.execute(
            select(spending_events.c.reason, func.count())
            .select_from(joined)
            .where(mine)
            .group_by(spending_events.c.reason)
        ).all()
        by_reason = {IgnoreReason(reason): n for reason, n in counts if reason is not None}
        lines = connection.execute(
            select(ingest_job_lines.c.line, ingest_job_lines.c.event_id, spending_events.c.reason)
            .select_from(joined)
            .where(mine, spending_events.c.reason.is_not(None))
            .order_by(ingest_job_lines.c.line)
            .limit(limit)
        ).all()
        return JobVerdicts(
            counted=sum(n for reason, n in counts if reason is None),
            not_counted=sum(by_reason.values()),
            not_counted_by_reason=dict(sorted(by_reason.items())),
            not_counted_lines=tuple(
                EventVerdict(line, event_id, IgnoreReason(reason))
                for line, event_id, reason in lines
            ),
        )


def _job(values: dict[str, Any]) -> IngestJob:
    values["rejected_lines"] = tuple(json.loads(values["rejected_lines"]))
    return IngestJob(**values)


def _row(job: IngestJob) -> dict[str, object]:
    values = dict(vars(job))
    # Escaped: a rejected line quotes what the operator sent, and JSON text that is ASCII
    # can always be stored.
    values["rejected_lines"] = json.dumps(list(job.rejected_lines), ensure_ascii=True)
    return values
