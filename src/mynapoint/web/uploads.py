"""Uploaded event files: kept on disk under var/uploads, loaded after the response is sent."""

from __future__ import annotations

import logging
import secrets
import shutil
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import IO

from mynapoint.bootstrap import Platform
from mynapoint.domain.errors import MynapointError
from mynapoint.domain.ledger import IngestJob
from mynapoint.ingest.event_rows import FileProblem
from mynapoint.ingest.files import load_events
from mynapoint.services.intake import RowProblem

log = logging.getLogger("mynapoint.uploads")

STORED_REJECTIONS = 10_000


class JobNotFound(MynapointError):
    code = "not_found"


def _path(platform: Platform, job: IngestJob) -> Path:
    suffix = ".jsonl" if job.filename.lower().endswith((".jsonl", ".ndjson", ".json")) else ".csv"
    return platform.settings.var_dir / "uploads" / f"{job.job_id}{suffix}"


def start_job(
    platform: Platform, operator: str, filename: str, content: IO[bytes], now: datetime
) -> IngestJob:
    job = IngestJob(
        job_id=secrets.token_hex(12),
        operator_code=operator,
        filename=Path(filename).name[:255] or "events.csv",
        status="queued",
        created_at=now,
    )
    path = _path(platform, job)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        shutil.copyfileobj(content, out, length=1 << 20)
    uow = platform.unit_of_work()
    with uow:
        uow.jobs.add(job)
        uow.commit()
    return job


def _save(platform: Platform, job: IngestJob) -> None:
    uow = platform.unit_of_work()
    with uow:
        uow.jobs.save(job)
        uow.commit()


def run_job(platform: Platform, job: IngestJob) -> None:
    job = replace(job, status="running")
    _save(platform, job)
    kept: list[dict[str, object]] = []

    def keep(problem: RowProblem) -> None:
        if len(kept) < STORED_REJECTIONS:
            kept.append(
                {
                    "line": problem.index,
                    "event_id": problem.event_id,
                    "field": problem.field,
                    "code": problem.code,
                    "message": problem.message,
                }
            )

    path = _path(platform, job)
    try:
        with path.open("rb") as source, platform.evaluation_workers() as processes:
            result = load_events(
                platform.unit_of_work,
                job.operator_code,
                source,
                job.filename,
                platform.rules,
                platform.catalog,
                platform.clock.now,
                keep,
                processes=processes,
            )
    except (FileProblem, UnicodeDecodeError) as exc:
        kept.insert(
            0,
            {
                "line": 1,
                "event_id": None,
                "field": "(file)",
                "code": "invalid_request",
                "message": str(exc),
            },
        )
        job = replace(
            job,
            status="failed",
            rejected=len(kept),
            rejected_lines=tuple(kept),
            finished_at=platform.clock.now(),
        )
    except Exception:
        log.exception("loading upload %s failed", job.job_id)
        job = replace(job, status="failed", finished_at=platform.clock.now())
    else:
        job = replace(
            job,
            status="done",
            lines=result.lines,
            accepted=result.accepted,
            duplicates=result.duplicates,
            rejected=result.rejected,
            rejected_lines=tuple(kept),
            finished_at=platform.clock.now(),
        )
    _save(platform, job)
    path.unlink(missing_ok=True)
