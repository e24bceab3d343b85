"""Uploaded event files: kept on disk under var/uploads, loaded after the response is sent.

A job's counts are written in the transaction of each batch they count, so they are the
truth at every moment: while the job runs, after it failed, after a crash. The runner holds
the job by a lease (`owner`, `heartbeat_at`, renewed every HEARTBEAT_EVERY); a job whose
lease is older than LEASE (its process died) is resumed from its last committed batch
(`read_bytes`, `lines`) by a queue worker or by the in-process server's recovery pass
(jobs/recovery.py).
"""

from __future__ import annotations

import logging
import secrets
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

from mynapoint.bootstrap import Platform
from mynapoint.domain.errors import MynapointError
from mynapoint.domain.ledger import IngestJob
from mynapoint.ingest.event_rows import FileProblem, is_json_lines
from mynapoint.ingest.files import BatchDone, load_events
from mynapoint.ingest.ranges import RangeReader, split
from mynapoint.services.audit import BeforeCommit
from mynapoint.services.ports import UnitOfWork

log = logging.getLogger("mynapoint.uploads")

STORED_REJECTIONS = 10_000
# Later than any heartbeat: take_over claims a job whatever its lease.
_ANY_LEASE = datetime.max.replace(tzinfo=UTC)
LEASE = timedelta(seconds=60)
HEARTBEAT_EVERY = timedelta(seconds=10)
FILE_GONE = (
    "the uploaded file is gone, so the rest of it cannot be loaded; upload it again "
    "(the lines already counted come back as duplicates)"
)
LOAD_STOPPED = (
    "the load stopped on an internal error; the counts are what was committed; upload "
    "the file again to load the rest (the lines already counted come back as duplicates)"
)


class JobNotFound(MynapointError):
    code = "not_found"


class LeaseLost(RuntimeError):
    """Another runner took the job over (this one was thought dead): stop, change nothing."""


class Interrupted(RuntimeError):
    """The server is stopping: the batch under way is rolled back and the job left to be
    resumed."""


def new_owner() -> str:
    return secrets.token_hex(16)


def part_id(job_id: str, number: int) -> str:
    """The id of part `number` of an upload's file (a byte range, loaded by its own job)."""
    return f"{job_id}.{number}"


def upload_of(job_id: str) -> str:
    """The upload a job id belongs to: itself, or the upload of a part."""
    return job_id.split(".", 1)[0]


def _path(platform: Platform, job: IngestJob) -> Path:
    suffix = ".jsonl" if is_json_lines(job.filename) else ".csv"
    return upload_folder(platform) / f"{upload_of(job.job_id)}{suffix}"


def progress(platform: Platform, job: IngestJob) -> float | None:
    """How far a live job has read its file (0 to 1: the committed batches' bytes over the
    file's size); 1 when it ended, None when its file is gone."""
    if not job.is_live:
        return 1.0
    try:
        size = _path(platform, job).stat().st_size
    except OSError:
        return None
    return 1.0 if size == 0 else min(1.0, job.read_bytes / size)


def upload_folder(platform: Platform) -> Path:
    return platform.settings.var_dir / "uploads"


def start_job(
    platform: Platform,
    operator: str,
    filename: str,
    content: IO[bytes],
    now: datetime,
    *,
    before_commit: BeforeCommit | None = None,
) -> IngestJob:
    """Keep the file and queue its job. `before_commit` (e.g. the console's audit entry) is
    written in the transaction that adds the job: both land, or neither."""
    job = IngestJob(
        job_id=secrets.token_hex(12),
        operator_code=operator,
        filename=Path(filename).name[:255] or "events.csv",
        status="queued",
        created_at=now,
        owner=new_owner(),
        heartbeat_at=now,
    )
    path = _path(platform, job)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        shutil.copyfileobj(content, out, length=1 << 20)
    uow = platform.unit_of_work()
    with uow:
        uow.jobs.add(job)
        # Committed with the job's row: a job is queued if and only if it exists.
        uow.queue.enqueue_upload(job.job_id)
        if before_commit is not None:
            before_commit(
                uow,
                "operator_events_uploaded",
                {"operator": operator, "job_id": job.job_id, "filename": job.filename},
            )
        uow.commit()
    return job


def _save_owned(platform: Platform, job: IngestJob) -> bool:
    uow = platform.unit_of_work()
    with uow:
        saved = uow.jobs.save_if_owned(job)
        uow.commit()
    return saved


def _committed(platform: Platform, job: IngestJob) -> IngestJob:
    """The job as its committed batches left it."""
    uow = platform.unit_of_work()
    with uow:
        stored = uow.jobs.get(job.job_id)
    return job if stored is None else stored


@contextmanager
def _heartbeat(platform: Platform, job: IngestJob) -> Iterator[None]:
    """Renew the job's lease every HEARTBEAT_EVERY while the block runs (also while the
    persons are evaluated, when no batch is written for a while)."""
    done = threading.Event()

    def beat() -> None:
        while not done.wait(HEARTBEAT_EVERY.total_seconds()):
            try:
                uow = platform.unit_of_work()
                with uow:
                    uow.jobs.beat(job.job_id, job.owner or "", platform.clock.now())
                    uow.commit()
            except Exception:
                log.exception("renewing the lease of upload %s failed", job.job_id)

    thread = threading.Thread(target=beat, name=f"lease-{job.job_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


def take_over(platform: Platform, job_id: str) -> IngestJob | None:
    """The live upload job with a lease of this process's, whoever held it before (None: it
    is over or gone). A queue's worker calls it: the queue gives a job to one worker at a time,
    to another only once the first one's heartbeat stopped, so no lease needs to expire."""
    now = platform.clock.now()
    owner = new_owner()
    uow = platform.unit_of_work()
    with uow:
        job = uow.jobs.get(job_id)
        claimed = job is not None and uow.jobs.claim(job_id, owner, _ANY_LEASE, now)
        uow.commit()
    return replace(job, owner=owner, heartbeat_at=now) if job is not None and claimed else None


def run_job(
    platform: Platform,
    job: IngestJob,
    stop: threading.Event | None = None,
    *,
    loaded: Callable[[IngestJob], None] | None = None,
) -> None:
    """Load the job's file from where its committed batches end, then mark it done, or
    failed with the reason. `stop` set makes it give the job back between two batches.

    `loaded` given (a queue's worker): the persons are left pending and, once the file is
    loaded, `loaded` gets the job (still running) to have them evaluated and the job ended;
    the file stays until then (a retried load finds it, reads nothing more)."""
    stopping = stop or threading.Event()
    job = replace(job, status="running", heartbeat_at=platform.clock.now())
    if not _save_owned(platform, job):
        return
    path = _path(platform, job)
    try:
        with _heartbeat(platform, job):
            finished = _load(platform, job, path, stopping, evaluate=loaded is None)
        if loaded is not None:
            loaded(finished)
            return
    except LeaseLost:
        log.warning("upload %s was taken over by another runner", job.job_id)
        return
    except Interrupted:
        # Given back: the next server start (or another server) resumes it at once.
        _save_owned(platform, replace(_committed(platform, job), heartbeat_at=None))
        return
    except FileNotFoundError:
        finished = replace(_committed(platform, job), status="failed", reason=FILE_GONE)
    except FileProblem as exc:
        finished = _unreadable(_committed(platform, job), str(exc))
    except Exception:
        log.exception("loading upload %s failed", job.job_id)
        finished = replace(_committed(platform, job), status="failed", reason=LOAD_STOPPED)
    if _save_owned(platform, replace(finished, finished_at=platform.clock.now())):
        path.unlink(missing_ok=True)


def end_job(platform: Platform, job_id: str, reason: str | None = None) -> None:
    """A loaded job whose evaluations are over: done (failed with `reason`), its file
    deleted."""
    job = take_over(platform, job_id)
    if job is None:
        return
    ended = replace(
        _committed(platform, job),
        status="done" if reason is None else "failed",
        reason=reason,
        finished_at=platform.clock.now(),
    )
    uow = platform.unit_of_work()
    with uow:
        saved = uow.jobs.save_if_owned(ended)
        uow.jobs.remove_parts(job_id)
        uow.commit()
    if saved:
        _path(platform, job).unlink(missing_ok=True)


def split_job(platform: Platform, job: IngestJob) -> bool:
    """Cut the file of a job `take_over` gave into parts (ingest.ranges) and queue a load per
    part and the job that follows them (`parts_loaded`), in one transaction; False when the
    file is loaded in one piece (small, its ids may repeat, resumed, or gone). True also when
    the file was cut before (this job runs again after a crash): its parts are queued."""
    uow = platform.unit_of_work()
    with uow:
        if uow.jobs.get(part_id(job.job_id, 0)) is not None:
            return True
    if job.read_bytes:
        return False
    try:
        ranges = split(_path(platform, job), job.filename, platform.settings.upload_range_bytes)
    except FileNotFoundError:
        return False
    if ranges is None:
        return False
    now = platform.clock.now()
    parts = [
        IngestJob(
            job_id=part_id(job.job_id, number),
            operator_code=job.operator_code,
            filename=job.filename,
            status="queued",
            created_at=now,
            lines=part.first_line - 1,
            read_bytes=part.start,
        )
        for number, part in enumerate(ranges)
    ]
    with uow:
        if not uow.jobs.save_if_owned(replace(job, status="running", heartbeat_at=now)):
            raise LeaseLost(job.job_id)
        for part in parts:
            uow.jobs.add(part)
        tickets = uow.queue.enqueue_upload_parts(
            [(part.job_id, piece.end) for part, piece in zip(parts, ranges, strict=True)]
        )
        uow.queue.enqueue_upload_loaded(job.job_id, tickets)
        uow.commit()
    log.info("upload %s: its file is loaded in %d parts", job.job_id, len(parts))
    return True


def run_part(platform: Platform, part: IngestJob, end: int) -> None:
    """Load a part of an upload's file (a job `take_over` gave), up to byte `end`, from where
    its committed batches end; each batch adds its counts and rejected lines to the upload's
    in its transaction. The part ends done, or failed with the reason (the upload's
    `parts_loaded` fails the upload then)."""
    part = replace(part, status="running", heartbeat_at=platform.clock.now())
    if not _save_owned(platform, part):
        return
    path = _path(platform, part)
    try:
        with _heartbeat(platform, part):
            finished = _load(platform, part, path, threading.Event(), evaluate=False, end=end)
    except LeaseLost:
        log.warning("part %s was taken over by another runner", part.job_id)
        return
    except FileNotFoundError:
        finished = replace(_committed(platform, part), status="failed", reason=FILE_GONE)
    except Exception:
        log.exception("loading part %s failed", part.job_id)
        finished = replace(_committed(platform, part), status="failed", reason=LOAD_STOPPED)
    _save_owned(platform, replace(finished, finished_at=platform.clock.now()))


def parts_loaded(platform: Platform, job_id: str, parts: int) -> bool:
    """Whether every part of the upload was loaded; if not, the upload is failed with the
    reason of the first part that failed (its persons stay pending, for the sweep)."""
    uow = platform.unit_of_work()
    with uow:
        found = [uow.jobs.get(part_id(job_id, number)) for number in range(parts)]
    for part in found:
        if part is None or part.status != "done":
            reason = part.reason if part is not None and part.status == "failed" else None
            end_job(platform, job_id, reason or LOAD_STOPPED)
            return False
    return True


def _unreadable(job: IngestJob, message: str) -> IngestJob:
    line = {"line": 1, "event_id": None, "field": "(file)", "code": "invalid_request"}
    return replace(
        job,
        status="failed",
        reason=message,
        rejected=job.rejected + 1,
        rejected_lines=({**line, "message": message}, *job.rejected_lines),
    )


def _load(
    platform: Platform,
    job: IngestJob,
    path: Path,
    stop: threading.Event,
    *,
    evaluate: bool,
    end: int | None = None,
) -> IngestJob:
    """The job's file loaded from its last committed batch on, up to byte `end` for a part
    (its persons evaluated, or left pending with `evaluate` False); the job as done. A part's
    batches count for its upload too (its counts, rejected lines, stored lines)."""
    state = job
    kept = list(job.rejected_lines)
    upload = upload_of(job.job_id)

    def record(uow: UnitOfWork, done: BatchDone) -> None:
        nonlocal state
        if stop.is_set():
            raise Interrupted
        room = STORED_REJECTIONS - len(kept)
        shown: list[dict[str, object]] = [
            {
                "line": problem.index,
                "event_id": problem.event_id,
                "field": problem.field,
                "code": problem.code,
                "message": problem.message,
            }
            for problem in done.problems[: max(room, 0)]
        ]
        kept.extend(shown)
        # The counts carried over from an interrupted run are not counted again: the load
        # goes on after the last committed batch.
        following = replace(
            state,
            lines=done.lines,
            read_bytes=done.read_bytes,
            accepted=state.accepted + done.accepted,
            duplicates=state.duplicates + done.duplicates,
            rejected=state.rejected + len(done.problems),
            rejected_lines=tuple(kept),
            heartbeat_at=platform.clock.now(),
        )
        if not uow.jobs.save_if_owned(following):
            raise LeaseLost(job.job_id)
        if upload != job.job_id:
            batch = replace(
                following,
                lines=following.lines - state.lines,
                read_bytes=following.read_bytes - state.read_bytes,
                accepted=done.accepted,
                duplicates=done.duplicates,
                rejected=len(done.problems),
                rejected_lines=tuple(shown),
            )
            uow.jobs.add_progress(upload, batch, STORED_REJECTIONS)
        uow.jobs.add_lines(upload, done.stored)
        state = following

    workers = platform.evaluation_workers() if evaluate else nullcontext()
    with path.open("rb") as source, workers as processes:
        source.seek(job.read_bytes)
        load_events(
            platform.unit_of_work,
            job.operator_code,
            source if end is None else RangeReader(source, end),
            job.filename,
            platform.rules,
            platform.catalog,
            platform.clock.now,
            lambda _problem: None,
            processes=processes,
            on_batch=record,
            first_line=job.lines + 1 if job.read_bytes else 1,
            evaluate=evaluate,
        )
    return replace(_committed(platform, job), status="done", reason=None)
