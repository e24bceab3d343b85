from __future__ import annotations

import json
from typing import TYPE_CHECKING

from sqlalchemy import insert, select, update

from mynapoint.db.tables import ingest_jobs, linkage_notices
from mynapoint.domain.ledger import IngestJob, LinkageNotice

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

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
        if row is None:
            return None
        values = row._asdict()
        values["rejected_lines"] = tuple(json.loads(values["rejected_lines"]))
        return IngestJob(**values)

    def save(self, job: IngestJob) -> None:
        values = _row(job)
        self._connection().execute(
            update(ingest_jobs).where(ingest_jobs.c.job_id == job.job_id).values(**values)
        )


def _row(job: IngestJob) -> dict[str, object]:
    values = dict(vars(job))
    values["rejected_lines"] = json.dumps(list(job.rejected_lines), ensure_ascii=False)
    return values
