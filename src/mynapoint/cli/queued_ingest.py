"""`mynapoint ingest` on the job queue (PostgreSQL): the file becomes an upload job, loaded
by whichever worker takes it; the command works on the queue too while it waits."""

from __future__ import annotations

import asyncio
import contextlib
import csv
from typing import TYPE_CHECKING

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from mynapoint.cli.common import EXIT_REFUSED, EXIT_USAGE, fail
from mynapoint.ingest.files import REPORT_HEADER
from mynapoint.jobs.uploads import STORED_REJECTIONS, start_job

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from mynapoint.bootstrap import Platform
    from mynapoint.domain.ledger import IngestJob

POLL_SECONDS = 0.5


def _job(platform: Platform, job_id: str) -> IngestJob:
    uow = platform.unit_of_work()
    with uow.reading():
        job = uow.jobs.get(job_id)
    if job is None:
        raise fail(f"the job {job_id} is gone", EXIT_REFUSED)
    return job


async def _wait(platform: Platform, job_id: str, shown: Callable[[int], None]) -> IngestJob:
    from mynapoint.jobs.worker import run_worker  # noqa: PLC0415 - procrastinate on demand

    worker = asyncio.create_task(run_worker(platform, 1, signals=False))
    try:
        while True:
            job = await asyncio.to_thread(_job, platform, job_id)
            shown(job.read_bytes)
            if not job.is_live:
                return job
            if worker.done():
                worker.result()  # the worker stopped: say why
            await asyncio.sleep(POLL_SECONDS)
    finally:
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker


def ingest_queued(
    platform: Platform, file: Path, operator: str, report_path: Path, *, wait: bool
) -> None:
    try:
        size = file.stat().st_size
        with file.open("rb") as source:
            job = start_job(platform, operator, file.name, source, platform.clock.now())
    except OSError as exc:
        raise fail(f"cannot read {file}: {exc.strerror}", EXIT_USAGE) from None
    if not wait:
        typer.echo(f"{file.name}: queued as job {job.job_id}")
        return
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        transient=False,
    ) as progress:
        task = progress.add_task(file.name, total=size)
        job = asyncio.run(
            _wait(platform, job.job_id, lambda done: progress.update(task, completed=done))
        )
        if job.status == "done":
            progress.update(task, completed=size)
    if job.status == "failed":
        raise fail(f"{file}: {job.reason}", EXIT_USAGE)
    try:
        with report_path.open("w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(REPORT_HEADER)
            for line in job.rejected_lines:
                writer.writerow([line.get(name) or "" for name in REPORT_HEADER])
    except OSError as exc:
        raise fail(f"cannot write the report {report_path}: {exc.strerror}", EXIT_USAGE) from None
    more = (
        f"; the first {STORED_REJECTIONS:,} are in the report"
        if job.rejected > STORED_REJECTIONS
        else ""
    )
    typer.echo(
        f"{file.name}: {job.lines} lines, {job.accepted} accepted, "
        f"{job.duplicates} duplicates, {job.rejected} rejected"
        + (f" (see {report_path}{more})" if job.rejected else "")
    )
    if job.rejected:
        raise typer.Exit(EXIT_REFUSED)
