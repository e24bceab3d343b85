"""`mynapoint worker`: procrastinate's worker on the platform's jobs, with three duties every
worker shares with the others (docs/JOBS.md):

- stalled jobs: a job whose worker stopped beating (killed, its host gone) for
  `worker_stalled_seconds` goes back to the queue, where any worker takes it;
- the sweep: pending evaluations that no upload covers (an API batch stopped between storing
  and evaluating) are queued as evaluation jobs once seen at two passes in a row, one
  `worker_stalled_seconds` apart (a batch under way evaluates its own persons sooner), and
  only while no upload is live: an upload queues the evaluation of every pending person
  when its file is loaded, so the sweep would only do its work twice;
- old jobs: jobs that failed (or were cancelled or aborted) over a week ago are deleted,
  once an hour (succeeded jobs are deleted as they succeed);
- the statistics: their summary tables are refreshed every `statistics_refresh_seconds`
  (jobs/statistics.py; several workers wait for each other's refresh).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from typing import TYPE_CHECKING, Final

from procrastinate import exceptions

from mynapoint.db.queue import QUEUE, UPLOAD_END_TASK
from mynapoint.jobs.statistics import refresh_quietly
from mynapoint.jobs.tasks import SWEEP, build_app, queue_evaluations

if TYPE_CHECKING:
    from procrastinate import App

    from mynapoint.bootstrap import Platform

log = logging.getLogger("mynapoint.jobs")

# How long a job that ended otherwise than by success stays in procrastinate_jobs, and how
# often each worker deletes those older (the deletion is one statement; workers may overlap).
KEEP_ENDED_HOURS: Final = 24 * 7
FORGET_EVERY_SECONDS: Final = 3600


async def retry_stalled(app: App, seconds_since_heartbeat: float) -> int:
    """Put the running jobs of workers silent for `seconds_since_heartbeat` back in the queue;
    how many. Two workers may try the same job: the second finds it queued already."""
    retried = 0
    manager = app.job_manager
    for job in await manager.get_stalled_jobs(
        queue=QUEUE, seconds_since_heartbeat=seconds_since_heartbeat
    ):
        try:
            await manager.retry_job(job)
        except exceptions.ConnectorException:
            continue  # another worker retried it first
        log.warning("job %s (%s) of a silent worker goes back to the queue", job.id, job.task_name)
        retried += 1
    return retried


def _pending(platform: Platform) -> tuple[set[int], bool]:
    """The pending markers, and whether an upload is live (queued or running)."""
    uow = platform.unit_of_work()
    with uow.reading():
        return set(uow.events.pending_markers()), bool(uow.jobs.live())


async def sweep(app: App, platform: Platform, seen: set[int]) -> set[int]:
    """Queue the evaluation of pending markers seen at the last pass too (`seen`), unless an
    upload is live or a sweep's evaluations are still under way; returns the markers pending
    now."""
    pending, uploading = await asyncio.to_thread(_pending, platform)
    if pending & seen and not uploading:
        running = [
            job
            for status in ("todo", "doing")
            for job in await app.job_manager.list_jobs_async(
                task=UPLOAD_END_TASK, lock=f"upload:{SWEEP}", status=status
            )
        ]
        if not running:
            log.info("queueing the evaluation of %d pending markers", len(pending))
            await asyncio.to_thread(queue_evaluations, platform, None)
    return pending


async def forget_old_jobs(app: App) -> None:
    """Delete the queue's jobs that ended (failed, cancelled, aborted) over KEEP_ENDED_HOURS
    ago: the worker deletes succeeded jobs itself, the others stay that long for whoever
    looks into them (their upload's row keeps its own status and reason)."""
    await app.job_manager.delete_old_jobs(
        nb_hours=KEEP_ENDED_HOURS,
        queue=QUEUE,
        include_failed=True,
        include_cancelled=True,
        include_aborted=True,
    )


async def _keep_watching(app: App, platform: Platform) -> None:
    stalled = platform.settings.worker_stalled_seconds
    seen: set[int] = set()
    passes = 0
    forgotten_at = refreshed_at = -math.inf
    while True:
        try:
            await retry_stalled(app, stalled)
            if passes % 3 == 0:
                seen = await sweep(app, platform, seen)
            if time.monotonic() - forgotten_at >= FORGET_EVERY_SECONDS:
                await forget_old_jobs(app)
                forgotten_at = time.monotonic()
            if time.monotonic() - refreshed_at >= platform.settings.statistics_refresh_seconds:
                refreshed_at = time.monotonic()
                await refresh_quietly(platform)
        except Exception:
            log.exception("watching for stalled jobs failed; trying again")
        passes += 1
        await asyncio.sleep(stalled / 3)


async def run_worker(platform: Platform, concurrency: int, *, signals: bool = True) -> None:
    """Run jobs until stopped: by SIGINT or SIGTERM (`signals`), or by cancelling the task
    (`mynapoint ingest`, which works on the queue while it waits for its file); the jobs
    under way are finished first."""
    app = build_app(platform)
    stalled = platform.settings.worker_stalled_seconds
    async with app.open_async():
        watching = asyncio.create_task(_keep_watching(app, platform))
        try:
            await app.run_worker_async(
                queues=[QUEUE],
                concurrency=concurrency,
                delete_jobs="successful",
                update_heartbeat_interval=stalled / 3,
                stalled_worker_timeout=stalled,
                install_signal_handlers=signals,
            )
        finally:
            watching.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watching
