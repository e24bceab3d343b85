"""The enqueueing half of the job queue (docs/JOBS.md): rows in procrastinate's tables on
PostgreSQL, written on the unit of work's own connection, so that a job commits with the rows
it covers or not at all. The running half (procrastinate's worker) lives in mynapoint.jobs.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Final

from sqlalchemy import text
from sqlalchemy.engine import Connection

QUEUE: Final = "mynapoint"
UPLOAD_TASK: Final = "mynapoint.load_upload"
EVALUATION_TASK: Final = "mynapoint.evaluate_persons"
UPLOAD_END_TASK: Final = "mynapoint.end_upload"
UPLOAD_PART_TASK: Final = "mynapoint.load_upload_part"
UPLOAD_LOADED_TASK: Final = "mynapoint.upload_loaded"
REPLAY_PLAN_TASK: Final = "mynapoint.plan_replay"
REPLAY_PART_TASK: Final = "mynapoint.replay_part"

# procrastinate's own defer function (migration 0013), as procrastinate's `defer_jobs` query
# calls it: one statement for any number of jobs, returning their ids in order.
_DEFER = text(
    "SELECT unnest(procrastinate_defer_jobs_v1(array_agg(CAST(ROW("
    "CAST(:queue AS varchar), CAST(job ->> 'task' AS varchar), 0, job ->> 'lock', "
    "CAST(NULL AS text), job -> 'args', CAST(NULL AS timestamptz)"
    ") AS procrastinate_job_to_defer_v1) ORDER BY position))) "
    "FROM jsonb_array_elements(CAST(:jobs AS jsonb)) WITH ORDINALITY AS jobs(job, position)"
)


class InProcessJobQueue:
    """Nothing to write: the serving process runs the work itself, from the durable rows
    the unit of work commits (ingest_jobs, pending_evaluations): SQLite, or PostgreSQL with
    MYNAPOINT_INPROCESS_WORKER=true (jobs/uploads.py)."""

    def enqueue_upload(self, job_id: str) -> list[str]:  # noqa: ARG002 - the row is the job
        return []

    def enqueue_evaluations(self, chunks: Sequence[Sequence[str]]) -> list[str]:  # noqa: ARG002
        return []

    def enqueue_upload_end(
        self,
        job_id: str,  # noqa: ARG002
        markers: Sequence[int],  # noqa: ARG002
        evaluations: Sequence[str],  # noqa: ARG002
    ) -> list[str]:
        return []

    def enqueue_upload_parts(self, parts: Sequence[tuple[str, int]]) -> list[str]:  # noqa: ARG002
        return []

    def enqueue_upload_loaded(self, job_id: str, parts: Sequence[str]) -> list[str]:  # noqa: ARG002
        return []

    def enqueue_replay_plan(self, replay_id: str) -> list[str]:  # noqa: ARG002 - the row is the job
        return []

    def enqueue_replay_parts(self, replay_id: str, parts: Sequence[int]) -> list[str]:  # noqa: ARG002
        return []


class ProcrastinateJobQueue:
    """Jobs for `mynapoint worker` (mynapoint.jobs) in procrastinate's tables."""

    def __init__(self, connection: Callable[[], Connection]) -> None:
        self._connection = connection

    def enqueue_upload(self, job_id: str) -> list[str]:
        # The lock: procrastinate runs one job of a lock at a time, so a file is loaded by one
        # worker at a time even when it was queued twice.
        return self._defer([_job(UPLOAD_TASK, {"job_id": job_id}, lock=f"upload:{job_id}")])

    def enqueue_evaluations(self, chunks: Sequence[Sequence[str]]) -> list[str]:
        return self._defer(
            [_job(EVALUATION_TASK, {"persons": list(chunk)}) for chunk in chunks if chunk]
        )

    def enqueue_upload_end(
        self, job_id: str, markers: Sequence[int], evaluations: Sequence[str]
    ) -> list[str]:
        arguments = {"job_id": job_id, "markers": list(markers), "evaluations": list(evaluations)}
        return self._defer([_job(UPLOAD_END_TASK, arguments, lock=f"upload:{job_id}")])

    def enqueue_upload_parts(self, parts: Sequence[tuple[str, int]]) -> list[str]:
        # A lock per part: one load of a part at a time, the parts side by side.
        return self._defer(
            [
                _job(UPLOAD_PART_TASK, {"job_id": part, "end": end}, lock=f"upload:{part}")
                for part, end in parts
            ]
        )

    def enqueue_upload_loaded(self, job_id: str, parts: Sequence[str]) -> list[str]:
        arguments = {"job_id": job_id, "parts": list(parts)}
        return self._defer([_job(UPLOAD_LOADED_TASK, arguments, lock=f"upload:{job_id}")])

    def enqueue_replay_plan(self, replay_id: str) -> list[str]:
        return self._defer(
            [_job(REPLAY_PLAN_TASK, {"replay_id": replay_id}, lock=f"replay:{replay_id}")]
        )

    def enqueue_replay_parts(self, replay_id: str, parts: Sequence[int]) -> list[str]:
        return self._defer(
            [_job(REPLAY_PART_TASK, {"replay_id": replay_id, "part": part}) for part in parts]
        )

    def _defer(self, jobs: list[dict[str, object]]) -> list[str]:
        if not jobs:
            return []
        found = self._connection().execute(_DEFER, {"queue": QUEUE, "jobs": json.dumps(jobs)})
        return [str(job_id) for job_id in found.scalars()]


def _job(task: str, arguments: Mapping[str, object], lock: str | None = None) -> dict[str, object]:
    return {"task": task, "lock": lock, "args": arguments}
