"""The job queue on PostgreSQL (docs/JOBS.md): `mynapoint worker` processes take the files
that `mynapoint ingest --no-wait` (or an upload) queued.

A worker killed (SIGKILL) in the middle of a job, and another one started, end with the
ledger of a clean in-process load; two workers given the same file twice and a file that
overlaps it grant exactly what one load of all the lines grants. Each database is a fresh
schema holding PERSONS linked people.
"""

from __future__ import annotations

import re
import secrets
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine

from citizen_app import citizen_app
from event_files import (
    Crowd,
    command_environment,
    read_grants_and_events,
    shuffled_event_lines,
    two_hundred_days,
    write_event_file,
)
from ledger_setup import operator_key
from mynapoint.bootstrap import build_platform
from mynapoint.config import Settings
from mynapoint.db.engine import create_engine_for, sqlite_url
from mynapoint.db.tables import pending_evaluations, spending_events
from mynapoint.db.unit_of_work import SqlUnitOfWork
from mynapoint.domain.calendar import JST
from mynapoint.domain.ledger import IngestJob
from mynapoint.ingest.event_rows import parse_event
from mynapoint.jobs.uploads import part_id
from mynapoint.services.clock import FixedClock
from mynapoint.services.intake import EventRow, store

NOW = datetime(2021, 12, 1, 10, 0, tzinfo=JST)
APPLIED = datetime(2021, 5, 10, 10, 0, tzinfo=JST)
PERSONS = 240
EVENTS_PER_PERSON = 50
EVENTS = PERSONS * EVENTS_PER_PERSON  # 12,000: three batches of ingest.files.FILE_BATCH
# How long a job may take here, on a busy machine: a limit for a stuck test, not a measure.
PATIENCE_SECONDS = 180
# Short, so that a killed worker's job is retried soon; long enough that a busy machine's late
# heartbeat is not taken for a dead worker.
STALLED_SECONDS = 6

Ledger = tuple[dict[tuple[str, str], int], frozenset[tuple[str, str | None]]]


CROWD = Crowd("queue", 7_100_000_000_000_000)
# Charges, purchases that do not count, refunds (some before what they refund).
MIX = two_hundred_days(EVENTS_PER_PERSON)


def event_lines() -> list[str]:
    return shuffled_event_lines(CROWD, range(PERSONS), MIX, letter="q", seed=14)


def event_row(index: int, line: str) -> EventRow:
    """A line of event_lines() as the operator API reads it."""
    event_id, service_code, psid, kind, amount, occurred_at, refund_of = line.rstrip().split(",")
    row = parse_event(
        index,
        {
            "event_id": event_id,
            "service_code": service_code,
            "payment_service_id": psid,
            "kind": kind,
            "amount": int(amount),
            "occurred_at": occurred_at,
            "refund_of": refund_of or None,
        },
    )
    assert isinstance(row, EventRow), row
    return row


@pytest.fixture
def fresh_database(postgresql_worker_engine: Engine, tmp_path: Path) -> Callable[[], str]:
    """Makes a new, migrated schema with the linked people; returns its URL."""

    def make() -> str:
        schema = f"queue_{secrets.token_hex(6)}"
        with postgresql_worker_engine.connect() as connection:
            connection.execute(text(f"CREATE SCHEMA {schema}"))
        url = postgresql_worker_engine.url.update_query_dict({"options": f"-csearch_path={schema}"})
        database_url = url.render_as_string(hide_password=False)
        CROWD.link(database_url, tmp_path, range(PERSONS), applied_at=APPLIED, now=NOW)
        return database_url

    return make


def environment(
    database_url: str, var_dir: Path, *, inprocess: bool, range_bytes: int | None = None
) -> dict[str, str]:
    settings = {
        "MYNAPOINT_INPROCESS_WORKER": "true" if inprocess else "false",
        "MYNAPOINT_WORKER_STALLED_SECONDS": str(STALLED_SECONDS),
    }
    if range_bytes is not None:
        settings["MYNAPOINT_UPLOAD_RANGE_BYTES"] = str(range_bytes)
    return command_environment(database_url, var_dir, NOW) | settings


def mynapoint(
    database_url: str, var_dir: Path, *arguments: str, inprocess: bool = False
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own command line, with this Python
        [sys.executable, "-m", "mynapoint.cli", *arguments],
        env=environment(database_url, var_dir, inprocess=inprocess),
        cwd=var_dir,
        capture_output=True,
        text=True,
        timeout=PATIENCE_SECONDS,
        check=False,
    )


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[str]]]:
    """Starts `mynapoint worker` processes on a database (cutting files into parts of
    `range_bytes`, when given); stops those still running."""
    started: list[subprocess.Popen[str]] = []

    def start(database_url: str, range_bytes: int | None = None) -> subprocess.Popen[str]:
        # The log to a file: a pipe nobody reads would stop a worker that logs much.
        with (tmp_path / f"worker-{len(started)}.log").open("w") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "mynapoint.cli", "worker"],
                env=environment(database_url, tmp_path, inprocess=False, range_bytes=range_bytes),
                cwd=tmp_path,
                stdout=subprocess.DEVNULL,
                stderr=log,
                text=True,
            )
        started.append(process)
        return process

    yield start
    running = [process for process in started if process.poll() is None]
    for process in running:
        process.send_signal(signal.SIGTERM)
    for process in running:
        try:
            process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
    # SIGTERM stops a worker cleanly, once its jobs under way are over.
    assert [process.returncode for process in running] == [0] * len(running)


def queue(database_url: str, var_dir: Path, file: Path) -> str:
    """`mynapoint ingest --no-wait`: the file queued; its job id."""
    done = mynapoint(
        database_url, var_dir, "ingest", str(file), "--operator", "paypay", "--no-wait"
    )
    assert done.returncode == 0, done.stderr
    found = re.search(r"queued as job ([0-9a-f]+)", done.stdout)
    assert found is not None, done.stdout
    return found[1]


def read_job(database_url: str, job_id: str) -> IngestJob:
    engine = create_engine_for(database_url)
    try:
        uow = SqlUnitOfWork(engine)
        with uow:
            job = uow.jobs.get(job_id)
    finally:
        engine.dispose()
    assert job is not None
    return job


def wait_for(database_url: str, job_id: str, until: Callable[[IngestJob], bool]) -> IngestJob:
    deadline = time.monotonic() + PATIENCE_SECONDS
    while True:
        job = read_job(database_url, job_id)
        if until(job) or time.monotonic() > deadline:
            return job
        time.sleep(0.05)


def ended(job: IngestJob) -> bool:
    return not job.is_live


def read_ledger(database_url: str) -> Ledger:
    """Points per (person, source) and every stored event with its reason."""
    lines, events = read_grants_and_events(database_url, CROWD.persons(range(PERSONS)))
    by_source: dict[tuple[str, str], int] = defaultdict(int)
    for holder, person_lines in lines.items():
        for source, _measure, points in person_lines:
            by_source[holder, source] += points
    return {key: points for key, points in by_source.items() if points}, events


def leftovers(database_url: str) -> tuple[int, int, int]:
    """(stored events, pending markers, queue jobs not over)."""
    engine = create_engine_for(database_url)
    try:
        with engine.connect() as connection:
            events = connection.execute(select(func.count()).select_from(spending_events))
            pending = connection.execute(select(func.count()).select_from(pending_evaluations))
            queued = connection.execute(
                text("SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing')")
            )
            return events.scalar_one(), pending.scalar_one(), queued.scalar_one()
    finally:
        engine.dispose()


@pytest.fixture
def clean_ledger(fresh_database: Callable[[], str], tmp_path: Path) -> Ledger:
    """The ledger of the whole file loaded in-process, without the queue."""
    url = fresh_database()
    file = write_event_file(tmp_path / "all.csv", event_lines())
    done = mynapoint(url, tmp_path, "ingest", str(file), "--operator", "paypay", inprocess=True)
    assert done.returncode == 0, done.stderr
    assert f"{EVENTS + 1} lines, {EVENTS} accepted, 0 duplicates, 0 rejected" in done.stdout
    ledger = read_ledger(url)
    assert len(ledger[1]) == EVENTS
    assert sum(ledger[0].values()) > 0
    return ledger


@pytest.mark.postgres
def test_a_worker_killed_mid_job_leaves_the_ledger_of_a_clean_run(
    fresh_database, clean_ledger, workers, tmp_path
):
    url = fresh_database()
    job_id = queue(url, tmp_path, write_event_file(tmp_path / "events.csv", event_lines()))
    first = workers(url)
    # Killed once the first batch is committed: the load is under way.
    assert wait_for(url, job_id, lambda job: job.accepted > 0 or ended(job)).accepted > 0
    first.send_signal(signal.SIGKILL)
    first.communicate(timeout=30)
    killed_at = read_job(url, job_id)
    # Killed while loading: the rest of the file is the next worker's.
    assert killed_at.status == "running"
    assert 0 < killed_at.accepted < EVENTS

    workers(url)
    job = wait_for(url, job_id, ended)
    assert (job.status, job.reason) == ("done", None)
    # Every line counted once: the batches the killed worker committed are not loaded again.
    assert (job.lines, job.accepted, job.duplicates, job.rejected) == (EVENTS + 1, EVENTS, 0, 0)
    assert read_ledger(url) == clean_ledger, killed_at
    assert leftovers(url) == (EVENTS, 0, 0)
    assert not list((tmp_path / "uploads").glob(f"{job_id}*"))


def parts_of(database_url: str, job_id: str) -> list[IngestJob]:
    """The rows of the upload's parts (jobs.uploads.part_id), in order."""
    engine = create_engine_for(database_url)
    found = []
    try:
        uow = SqlUnitOfWork(engine)
        with uow:
            while (part := uow.jobs.get(part_id(job_id, len(found)))) is not None:
                found.append(part)
    finally:
        engine.dispose()
    return found


# The file of event_lines() is ~850 kB: two parts of ~6,000 lines, each two batches.
PART_BYTES = 400_000


@pytest.mark.postgres
def test_a_worker_killed_mid_part_leaves_the_ledger_of_a_clean_run(
    fresh_database, clean_ledger, workers, tmp_path
):
    url = fresh_database()
    job_id = queue(url, tmp_path, write_event_file(tmp_path / "events.csv", event_lines()))
    first = workers(url, PART_BYTES)
    # Killed once a part's first batch is committed: that part's load is under way.
    assert wait_for(url, job_id, lambda job: job.accepted > 0 or ended(job)).accepted > 0
    first.send_signal(signal.SIGKILL)
    first.communicate(timeout=30)
    killed_at = read_job(url, job_id)
    parts = parts_of(url, job_id)
    assert killed_at.status == "running"
    assert 0 < killed_at.accepted < EVENTS
    assert len(parts) == 2
    assert [part.status for part in parts].count("done") < 2
    # The upload's counts are the sum of its parts' committed batches.
    assert killed_at.accepted == sum(part.accepted for part in parts)

    workers(url, PART_BYTES)
    job = wait_for(url, job_id, ended)
    assert (job.status, job.reason) == ("done", None)
    # Every line counted once: the batches the killed worker committed are not loaded again.
    assert (job.lines, job.accepted, job.duplicates, job.rejected) == (EVENTS + 1, EVENTS, 0, 0)
    assert job.read_bytes == (tmp_path / "events.csv").stat().st_size
    assert read_ledger(url) == clean_ledger, killed_at
    assert leftovers(url) == (EVENTS, 0, 0)
    assert parts_of(url, job_id) == []
    assert not list((tmp_path / "uploads").glob(f"{job_id}*"))


def with_bad_lines(lines: list[str]) -> list[str]:
    """event_lines() with lines rejected for many reasons, in both halves of the file."""
    bad = list(lines)
    for at in (10, 3_000, 6_500, 11_000):
        bad[at] = bad[at].replace(",paypay,", ",unknown,", 1)
    bad[20] = "not,a,line\n"
    bad[7_000] = bad[7_000].replace(",paypay,7", ",paypay,9", 1)  # no person linked it
    bad[9_000] = bad[9_000].replace("2021-", "1999-", 1)
    return bad


@pytest.mark.postgres
def test_a_file_loaded_in_parts_counts_and_reports_as_one_loaded_whole(
    fresh_database, workers, tmp_path
):
    file = write_event_file(tmp_path / "events.csv", with_bad_lines(event_lines()))
    answers = []
    for range_bytes in (None, PART_BYTES // 2):
        url = fresh_database()
        job_id = queue(url, tmp_path, file)
        workers(url, range_bytes)
        workers(url, range_bytes)
        job = wait_for(url, job_id, ended)
        answers.append(
            (
                (job.status, job.lines, job.accepted, job.duplicates, job.rejected),
                job.rejected_lines,
                read_ledger(url),
                leftovers(url),
            )
        )
    whole, in_parts = answers
    assert whole[0] == ("done", EVENTS + 1, EVENTS - 7, 0, 7)
    # The rejected lines in line order, whichever part found them first.
    assert [line["line"] for line in in_parts[1]] == sorted(line["line"] for line in whole[1])
    assert in_parts == whole


@pytest.mark.postgres
def test_two_workers_on_one_file_twice_and_an_overlapping_file_grant_what_one_load_does(
    fresh_database, clean_ledger, workers, tmp_path
):
    lines = event_lines()
    first = write_event_file(tmp_path / "first.csv", lines[: EVENTS * 2 // 3])
    overlapping = write_event_file(tmp_path / "overlapping.csv", lines[EVENTS // 3 :])
    url = fresh_database()
    jobs = [queue(url, tmp_path, file) for file in (first, first, overlapping)]
    workers(url)
    workers(url)
    done = [wait_for(url, job_id, ended) for job_id in jobs]
    assert [(job.status, job.rejected) for job in done] == [("done", 0)] * 3
    assert [job.accepted + job.duplicates for job in done] == [
        EVENTS * 2 // 3,
        EVENTS * 2 // 3,
        EVENTS - EVENTS // 3,
    ]
    # Each event stored by exactly one of the jobs.
    assert sum(job.accepted for job in done) == EVENTS
    assert read_ledger(url) == clean_ledger
    assert leftovers(url) == (EVENTS, 0, 0)


@pytest.mark.postgres
def test_ingest_waits_for_its_file_working_on_the_queue_itself(
    fresh_database, clean_ledger, tmp_path
):
    url = fresh_database()
    file = write_event_file(tmp_path / "events.csv", event_lines())
    done = mynapoint(url, tmp_path, "ingest", str(file), "--operator", "paypay")
    assert done.returncode == 0, done.stderr
    assert f"{EVENTS + 1} lines, {EVENTS} accepted, 0 duplicates, 0 rejected" in done.stdout
    assert read_ledger(url) == clean_ledger
    assert leftovers(url) == (EVENTS, 0, 0)


@pytest.mark.postgres
def test_an_upload_is_queued_by_the_api_and_loaded_by_a_worker(
    fresh_database, clean_ledger, workers, tmp_path
):
    url = fresh_database()
    content = write_event_file(tmp_path / "upload.csv", event_lines()).read_bytes()
    with citizen_app(url, tmp_path, at=NOW, inprocess_worker=False) as app:
        key = operator_key(app.platform.unit_of_work(), "paypay", app.platform.catalog, NOW)
        headers = {"Authorization": f"Bearer {key}"}

        def upload() -> str:
            response = app.client.post(
                "/api/v1/operator/events/files",
                headers=headers,
                files={"file": ("events.csv", content, "text/csv")},
            )
            assert response.status_code == 202, response.text
            job_id: str = response.json()["job_id"]
            return job_id

        def status(job_id: str) -> dict[str, object]:
            response = app.client.get(f"/api/v1/operator/events/files/{job_id}", headers=headers)
            assert response.status_code == 200, response.text
            found: dict[str, object] = response.json()
            return found

        first = upload()
        # The server only queued it: nobody loads it before a worker starts.
        assert status(first)["status"] == "queued"
        workers(url)
        wait_for(url, first, ended)
        again = upload()
        wait_for(url, again, ended)
        loaded, repeated = status(first), status(again)
    assert (loaded["status"], loaded["accepted"], loaded["duplicates"]) == ("done", EVENTS, 0)
    assert (repeated["status"], repeated["accepted"], repeated["duplicates"]) == ("done", 0, EVENTS)
    for job in (loaded, repeated):
        assert job["counted"] + job["not_counted"] == EVENTS
        assert job["rejected_lines"] == []
    assert loaded["not_counted_by_reason"] == repeated["not_counted_by_reason"]
    assert read_ledger(url) == clean_ledger
    assert leftovers(url) == (EVENTS, 0, 0)


@pytest.mark.postgres
def test_persons_left_pending_by_a_stopped_batch_are_evaluated_by_the_workers(
    fresh_database, clean_ledger, workers, tmp_path
):
    url = fresh_database()
    platform = build_platform(
        Settings(database_url=url, var_dir=tmp_path, inprocess_worker=False),
        clock=FixedClock(NOW),
    )
    try:
        # API batches that stopped between their two phases: events stored, persons pending.
        rows = [(index, event_row(index, line)) for index, line in enumerate(event_lines())]
        for start in range(0, EVENTS, 5_000):
            store(
                platform.unit_of_work(),
                "paypay",
                rows[start : start + 5_000],
                platform.catalog,
                NOW,
            )
    finally:
        platform.engine.dispose()
    assert leftovers(url)[1] > 0
    workers(url)
    deadline = time.monotonic() + PATIENCE_SECONDS
    while leftovers(url)[1:] != (0, 0) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert leftovers(url) == (EVENTS, 0, 0)
    assert read_ledger(url) == clean_ledger


def test_the_worker_refuses_sqlite_and_points_at_serve(tmp_path):
    done = mynapoint(sqlite_url(tmp_path / "m.db"), tmp_path, "worker")
    assert done.returncode == 2
    assert "needs PostgreSQL" in done.stderr
    assert "`mynapoint serve` runs the jobs in-process" in done.stderr


@pytest.mark.postgres
def test_a_worker_refreshes_the_statistics_in_its_periodic_pass(fresh_database, workers, tmp_path):
    url = fresh_database()
    platform = build_platform(
        Settings(database_url=url, var_dir=tmp_path, inprocess_worker=False),
        clock=FixedClock(NOW),
    )
    try:
        assert platform.statistics.last_refresh() is None
        workers(url)
        deadline = time.monotonic() + PATIENCE_SECONDS
        while platform.statistics.last_refresh() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        last = platform.statistics.last_refresh()
    finally:
        platform.engine.dispose()
    assert last is not None, "no refresh by the worker"
    assert last.full  # the first one
