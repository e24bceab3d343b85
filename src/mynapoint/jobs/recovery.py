"""The recovery pass of a server that runs upload jobs itself (SQLite, or
MYNAPOINT_INPROCESS_WORKER): at start and every RECOVER_EVERY it resumes live jobs whose
lease expired (their process died) from their last committed batch, or fails them with the
reason when their file is gone; finishes evaluations an interrupted intake left pending; and
deletes upload files that belong to no live job (jobs/uploads.py runs the jobs themselves).
At start only, it also runs the policy lab's replays a stopped server left unfinished
(jobs/replays.py; a replay has no lease: a part judged twice is kept once).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import replace
from datetime import timedelta

from mynapoint.bootstrap import Platform
from mynapoint.db.engine import is_database_unavailable
from mynapoint.jobs.replays import resume_replays
from mynapoint.jobs.uploads import LEASE, new_owner, run_job, upload_folder
from mynapoint.services.ledger import evaluate_pending

log = logging.getLogger("mynapoint.uploads")

RECOVER_EVERY = timedelta(seconds=30)


def recover(
    platform: Platform, seen_pending: set[int] | None, stop: threading.Event | None = None
) -> set[int]:
    """One recovery pass: resume (or fail) live jobs whose lease expired, evaluate pending
    markers that were already there at the last pass (`seen_pending`; None at start: all of
    them), delete upload files no live job owns, and (at start: `seen_pending` None) run the
    replays left unfinished. Returns the markers pending now."""
    now = platform.clock.now()
    uow = platform.unit_of_work()
    with uow:
        live = uow.jobs.live()
    expired = [job for job in live if job.heartbeat_at is None or job.heartbeat_at < now - LEASE]
    for job in expired:
        owner = new_owner()
        with uow:
            claimed = uow.jobs.claim(job.job_id, owner, now - LEASE, now)
            uow.commit()
        if not claimed:
            continue  # another server took it first
        log.warning("resuming upload %s, whose runner stopped at line %d", job.job_id, job.lines)
        run_job(platform, replace(job, owner=owner), stop)
    with uow:
        pending = set(uow.events.pending_markers())
    if pending and (seen_pending is None or pending & seen_pending):
        evaluate_pending(platform.unit_of_work, platform.rules, platform.catalog, now)
    _clean_uploads(platform)
    if seen_pending is None:
        resume_replays(platform)
    with uow:
        return set(uow.events.pending_markers())


def _clean_uploads(platform: Platform) -> None:
    """Delete files under var/uploads that no live job reads. A file younger than the lease
    is left alone: start_job writes the file before the job."""
    folder = upload_folder(platform)
    if not folder.is_dir():
        return
    uow = platform.unit_of_work()
    with uow:
        live = {job.job_id for job in uow.jobs.live()}
    oldest = time.time() - LEASE.total_seconds()
    for path in folder.iterdir():
        if path.stem in live or not path.is_file():
            continue
        if path.stat().st_mtime < oldest:
            log.info("deleting %s: no live upload job reads it", path.name)
            path.unlink(missing_ok=True)


def next_pass_in(platform: Platform, every: timedelta = RECOVER_EVERY) -> float:
    """Seconds until the next recovery pass: `every`, or just after the first live job's lease
    runs out if that comes sooner, so that a server started after a crash resumes the dead
    server's jobs as soon as their lease allows (not up to `every` later)."""
    uow = platform.unit_of_work()
    with uow:
        live = uow.jobs.live()
    now = platform.clock.now()
    wait = every.total_seconds()
    for job in live:
        if job.heartbeat_at is not None:
            expires_in = (job.heartbeat_at + LEASE - now).total_seconds() + 1
            wait = min(wait, max(expires_in, 1.0))
    return wait


async def keep_recovering(platform: Platform, every: timedelta = RECOVER_EVERY) -> None:
    """`recover` at once and then every `every` (sooner when a lease runs out first), until
    cancelled (the server stops): a job being resumed then gives itself back between two
    batches."""
    stop = threading.Event()
    seen: set[int] | None = None
    while True:
        attempt = asyncio.ensure_future(asyncio.to_thread(recover, platform, seen, stop))
        wait = every.total_seconds()
        try:
            seen = await asyncio.shield(attempt)
            wait = await asyncio.to_thread(next_pass_in, platform, every)
        except asyncio.CancelledError:
            stop.set()
            await asyncio.wait([attempt])
            raise
        except Exception as exc:
            if is_database_unavailable(exc):
                log.warning(
                    "recovering upload jobs: database unavailable, next try in %.0f s", wait
                )
            else:
                log.exception("recovering upload jobs failed")
        await asyncio.sleep(wait)
