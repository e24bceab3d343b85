"""The platform's jobs on procrastinate (docs/JOBS.md).

An upload is loaded by one job (`load_upload`), or, when its file is big and its event_ids
distinct, by one job per part of the file (`load_upload_part`, side by side) followed by
`upload_loaded`; its persons are then evaluated by many, one
per EVALUATION_CHUNK persons (`evaluate_persons`), which workers on any host take side by
side; one more job (`end_upload`) waits for those, clears the pending markers they covered
and marks the upload done. Every job can run again after a crash: loading goes on from the
last committed batch (what was committed comes back as duplicates), an evaluation recomputes
the differences, ending is a no-op on an ended job. A person stays pending until evaluated.
The policy lab's replays have their jobs too (jobs/replays.py: a plan, then one per part).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Final, LiteralString, cast

from procrastinate import App, JobContext, PsycopgConnector, RetryStrategy

from mynapoint.bootstrap import Platform
from mynapoint.db.engine import parse_database_url
from mynapoint.db.queue import (
    EVALUATION_TASK,
    QUEUE,
    UPLOAD_END_TASK,
    UPLOAD_LOADED_TASK,
    UPLOAD_PART_TASK,
    UPLOAD_TASK,
)
from mynapoint.domain.ledger import IngestJob
from mynapoint.jobs.replays import replay_tasks
from mynapoint.jobs.uploads import (
    end_job,
    parts_loaded,
    run_job,
    run_part,
    split_job,
    take_over,
)
from mynapoint.services.ledger import evaluate_chunk, queue_pending

if TYPE_CHECKING:
    from procrastinate.types import JSONValue

log = logging.getLogger("mynapoint.jobs")

# How often a job waiting for others (an upload's evaluations, or its parts) looks whether
# they are over. While they all run on other workers it waits in place, up to WAIT_IN_PLACE
# (queued after them, it is taken only once they all are); while some wait for a retry, or
# after that, it queues itself again, END_CHECK_SECONDS later.
END_CHECK_SECONDS: Final = 1
WAIT_STEP_SECONDS: Final = 0.1
WAIT_IN_PLACE_SECONDS: Final = 30
# The end job of the sweep of markers that no upload covers (jobs/worker.py).
SWEEP: Final = "sweep"
EVALUATION_STOPPED: Final = (
    "evaluating the file's persons stopped on an internal error; its events are stored and "
    "its persons stay pending evaluation, which the workers try again"
)
_OUTSTANDING: Final[LiteralString] = (
    "SELECT id, status::text AS status FROM procrastinate_jobs "
    "WHERE id = ANY(%(ids)s) AND status IN ('todo', 'doing', 'failed', 'cancelled', 'aborted')"
)


def conninfo(database_url: str) -> str:
    """libpq's form of the platform's database URL (its query, e.g. options, kept)."""
    url = parse_database_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def queue_evaluations(platform: Platform, job_id: str | None) -> None:
    """Queue the evaluation of every pending person, and the end job that clears the markers
    once the evaluations are over (and ends upload `job_id`, if given), in one transaction."""
    uow = platform.unit_of_work()
    with uow:
        markers, tickets = queue_pending(uow)
        uow.queue.enqueue_upload_end(job_id or SWEEP, markers, tickets)
        uow.commit()


async def _outstanding(context: JobContext, tickets: list[str]) -> tuple[list[str], bool]:
    """The jobs of `tickets` not over yet, waited for in place while they all run (see
    WAIT_IN_PLACE_SECONDS), and whether one of them failed."""
    loop = asyncio.get_running_loop()
    until = loop.time() + WAIT_IN_PLACE_SECONDS
    while True:
        rows = await context.app.connector.execute_query_all_async(
            _OUTSTANDING, ids=[int(ticket) for ticket in tickets]
        )
        waiting = [str(row["id"]) for row in rows if row["status"] in {"todo", "doing"}]
        failed = any(row["status"] not in {"todo", "doing"} for row in rows)
        queued = any(row["status"] == "todo" for row in rows)
        if not waiting or queued or loop.time() > until:
            return waiting, failed
        await asyncio.sleep(WAIT_STEP_SECONDS)


def _end(platform: Platform, job_id: str, markers: list[int], *, failed: bool) -> None:
    if not failed:
        uow = platform.unit_of_work()
        with uow:
            uow.events.clear_pending(markers)
            uow.commit()
    if job_id != SWEEP:
        end_job(platform, job_id, EVALUATION_STOPPED if failed else None)


def _load_tasks(app: App, platform: Platform) -> None:
    """The jobs that load an upload's file: whole, or in parts."""

    @app.task(name=UPLOAD_TASK, queue=QUEUE)
    def load_upload(job_id: str) -> None:
        job = take_over(platform, job_id)
        if job is None:
            log.info("upload %s is over already", job_id)
            return

        if split_job(platform, job):
            return

        def loaded(job: IngestJob) -> None:
            queue_evaluations(platform, job.job_id)

        run_job(platform, job, loaded=loaded)

    @app.task(name=UPLOAD_PART_TASK, queue=QUEUE)
    def load_upload_part(job_id: str, end: int) -> None:
        part = take_over(platform, job_id)
        if part is None:
            log.info("part %s is over already", job_id)
            return
        run_part(platform, part, end)

    @app.task(name=UPLOAD_LOADED_TASK, queue=QUEUE, pass_context=True)
    async def upload_loaded(context: JobContext, job_id: str, parts: list[str]) -> None:
        waiting, _ = await _outstanding(context, parts)
        if waiting:
            await upload_loaded.configure(
                lock=f"upload:{job_id}", schedule_in={"seconds": END_CHECK_SECONDS}
            ).defer_async(job_id=job_id, parts=cast("JSONValue", parts))
            return
        # Every part's load is over (its row says how it ended): evaluate, or fail the upload.
        if await asyncio.to_thread(parts_loaded, platform, job_id, len(parts)):
            await asyncio.to_thread(queue_evaluations, platform, job_id)


def build_app(platform: Platform) -> App:
    """procrastinate's app on the platform's database, with the platform's jobs."""
    app = App(connector=PsycopgConnector(conninfo=conninfo(platform.settings.database_url)))

    _load_tasks(app, platform)
    replay_tasks(app, platform)

    # A chunk that fails (the database went away) is tried again; after the last try its
    # persons stay pending and the upload fails with its reason.
    @app.task(
        name=EVALUATION_TASK,
        queue=QUEUE,
        retry=RetryStrategy(max_attempts=5, exponential_wait=2),
    )
    def evaluate_persons(persons: list[str]) -> None:
        evaluate_chunk(
            platform.unit_of_work, platform.rules, platform.catalog, platform.clock.now(), persons
        )

    @app.task(name=UPLOAD_END_TASK, queue=QUEUE, pass_context=True)
    async def end_upload(
        context: JobContext,
        job_id: str,
        markers: list[int],
        evaluations: list[str],
        failed: bool = False,  # noqa: FBT001, FBT002 - a job's JSON argument
    ) -> None:
        waiting, failing = await _outstanding(context, evaluations)
        failed = failed or failing
        if waiting:
            # Looked at again shortly, by the next copy of this job (the same lock keeps it
            # behind this one).
            await end_upload.configure(
                lock=f"upload:{job_id}", schedule_in={"seconds": END_CHECK_SECONDS}
            ).defer_async(
                job_id=job_id,
                markers=cast("JSONValue", markers),
                evaluations=cast("JSONValue", waiting),
                failed=failed,
            )
            return
        await asyncio.to_thread(_end, platform, job_id, markers, failed=failed)

    return app
