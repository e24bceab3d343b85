from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, or_, select, update

from mynapoint.db.tables import ingest_jobs, linkage_notices
from mynapoint.domain.ledger import JOB_LIVE, IngestJob, LinkageNotice

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


def _job(values: dict[str, Any]) -> IngestJob:
    values["rejected_lines"] = tuple(json.loads(values["rejected_lines"]))
    return IngestJob(**values)


def _row(job: IngestJob) -> dict[str, object]:
    values = dict(vars(job))
    # Escaped: a rejected line quotes what the operator sent, and JSON text that is ASCII
    # can always be stored.
    values["rejected_lines"] = json.dumps(list(job.rejected_lines), ensure_ascii=True)
    return values
