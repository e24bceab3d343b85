"""`mynapoint worker`: runs the platform's background jobs (docs/JOBS.md)."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from mynapoint.cli.common import EXIT_USAGE, announce_clock, fail


def worker_command(
    concurrency: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            help="Jobs run at once in this process (threads). Evaluation is Python work: run "
            "one worker process per core for more.",
        ),
    ] = 1,
) -> None:
    """Run uploads, ingests and evaluations from the job queue (PostgreSQL) until stopped;
    start one per core, on any number of hosts."""
    from mynapoint.bootstrap import build_platform  # noqa: PLC0415 - wiring happens on demand
    from mynapoint.config import load_settings  # noqa: PLC0415
    from mynapoint.jobs.worker import run_worker  # noqa: PLC0415 - only this command needs it
    from mynapoint.logs import configure_logging  # noqa: PLC0415

    try:
        settings = load_settings()
    except ValueError as exc:
        raise fail(f"cannot start the worker: {exc}", EXIT_USAGE) from None
    if not settings.database_url.startswith("postgres"):
        raise fail(
            "the job queue needs PostgreSQL (MYNAPOINT_DATABASE_URL=postgresql+psycopg://…); on "
            "SQLite there is no worker to start: `mynapoint serve` runs the jobs in-process",
            EXIT_USAGE,
        )
    # A worker's own jobs queue more jobs (an upload's evaluations) for every worker to take.
    settings = settings.model_copy(update={"inprocess_worker": False})
    try:
        platform = build_platform(settings)
    except ValueError as exc:
        raise fail(f"cannot open the database: {exc}", EXIT_USAGE) from None
    announce_clock(platform)
    configure_logging()
    try:
        asyncio.run(run_worker(platform, concurrency))
    finally:
        platform.engine.dispose()
