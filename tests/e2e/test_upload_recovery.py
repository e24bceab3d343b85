"""Upload jobs tell the truth and recover (issue 11, both DBs).

A job's counts are committed with each batch, so a job that fails midway says what was
stored. A job whose process died (simulated: the runner stops dead after a committed batch,
leaving the job running with its file and the persons pending) is resumed once its lease has
expired, from its last committed batch, and ends with the counts of a clean run; a job whose
file is gone fails with the reason; pending evaluations are finished and orphan files go.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from io import BytesIO

import pytest
from sqlalchemy import func, select

from citizen_app import citizen_app
from ledger_setup import link_person, operator_key
from mynapoint.db.tables import spending_events
from mynapoint.domain.calendar import JST
from mynapoint.domain.measures import EventKind
from mynapoint.ingest import files
from mynapoint.jobs import recovery, uploads
from mynapoint.services.intake import EventRow, store

NOW = datetime(2021, 8, 2, 10, 0, tzinfo=JST)
APPLIED = datetime(2021, 5, 10, 10, 0, tzinfo=JST)
HEADER = "event_id,service_code,payment_service_id,kind,amount,occurred_at,refund_of\n"


class Killed(BaseException):
    """Stands for SIGKILL: nothing of the runner's own clean-up runs."""


@pytest.fixture
def app(database_url, tmp_path, monkeypatch):
    monkeypatch.setattr(files, "FILE_BATCH", 3)
    passes = threading.Event()
    real = recovery.recover

    def recover(*args, **kwargs):
        try:
            return real(*args, **kwargs)
        finally:
            passes.set()

    monkeypatch.setattr(recovery, "recover", recover)
    with citizen_app(database_url, tmp_path, at=NOW) as running:
        # The server's own pass at start (keep_recovering, in a thread) is over before a
        # test sets anything up: on a loaded machine it ran late and took a test's markers.
        assert passes.wait(60), "the server's recovery pass at start did not run"
        yield running


def event_file(psid: str, count: int, bad_line: int | None = None) -> bytes:
    lines = [HEADER]
    for number in range(2, count + 2):
        amount = "x" if number == bad_line else "1000"
        lines.append(
            f"e{number},paypay,{psid},charge,{amount},2021-06-0{number % 9 + 1}T12:00:00Z,\n"
        )
    return "".join(lines).encode()


def stop_at_batch(monkeypatch, batch: int, error: BaseException) -> None:
    """The `batch`-th batch of the load raises `error` (the ones before it commit)."""
    calls = 0
    real = files.keep

    def keep(*args, **kwargs):
        nonlocal calls
        calls += 1
        if calls == batch:
            raise error
        return real(*args, **kwargs)

    monkeypatch.setattr(files, "keep", keep)


def job_of(app, job_id):
    uow = app.platform.unit_of_work()
    with uow:
        return uow.jobs.get(job_id)


def pending(app) -> list[int]:
    uow = app.platform.unit_of_work()
    with uow:
        return uow.events.pending_markers()


def stored_ids(app, person: str) -> list[str]:
    uow = app.platform.unit_of_work()
    with uow:
        return sorted(e.event_id for e in uow.events.for_persons([person])[person])


def granted(app, person: str) -> int:
    uow = app.platform.unit_of_work()
    with uow:
        lines = uow.grants.lines_for_persons([person])
    return sum(points for _, _, points in lines.get(person, []))


def test_a_job_that_fails_midway_reports_what_was_committed(app, monkeypatch):
    person, psid = link_person(app.platform.unit_of_work(), applied_at=APPLIED)
    stop_at_batch(monkeypatch, 2, RuntimeError("the database went away"))
    key = operator_key(app.platform.unit_of_work(), "paypay", app.platform.catalog, NOW)
    headers = {"Authorization": f"Bearer {key}"}
    response = app.client.post(
        "/api/v1/operator/events/files",
        headers=headers,
        files={"file": ("events.csv", event_file(psid, 8), "text/csv")},
    )
    job = app.client.get(
        f"/api/v1/operator/events/files/{response.json()['job_id']}", headers=headers
    ).json()
    assert job["status"] == "failed"
    assert (job["lines"], job["accepted"], job["duplicates"], job["rejected"]) == (4, 3, 0, 0)
    assert "upload the file again" in job["reason"]
    assert stored_ids(app, person) == ["e2", "e3", "e4"]


def test_a_job_whose_runner_died_is_resumed_after_its_lease_with_true_counts(app, monkeypatch):
    person, psid = link_person(app.platform.unit_of_work(), applied_at=APPLIED)
    platform = app.platform
    job = uploads.start_job(
        platform, "paypay", "events.csv", BytesIO(event_file(psid, 10, bad_line=3)), NOW
    )
    stop_at_batch(monkeypatch, 3, Killed())
    with pytest.raises(Killed):
        uploads.run_job(platform, job)
    monkeypatch.undo()
    monkeypatch.setattr(files, "FILE_BATCH", 3)
    died = job_of(app, job.job_id)
    # Two batches (lines 2-7, one rejected) were committed; the runner left everything else.
    assert (died.status, died.lines, died.accepted, died.rejected) == ("running", 7, 5, 1)
    assert uploads._path(platform, died).exists()  # noqa: SLF001
    assert pending(app)

    # Within the lease nothing is taken over.
    recovery.recover(platform, set(pending(app)) | {-1})
    assert job_of(app, job.job_id).status == "running"

    app.clock.advance(uploads.LEASE + timedelta(seconds=1))
    assert recovery.recover(platform, set()) == set()
    done = job_of(app, job.job_id)
    assert done.status == "done"
    # The counts of a clean run: nothing counted twice, the bad line reported once.
    assert (done.lines, done.accepted, done.duplicates, done.rejected) == (11, 9, 0, 1)
    assert [line["line"] for line in done.rejected_lines] == [3]
    assert done.reason is None
    assert not uploads._path(platform, done).exists()  # noqa: SLF001
    assert stored_ids(app, person) == sorted(f"e{n}" for n in range(2, 12) if n != 3)
    assert pending(app) == []
    assert granted(app, person) == 2250  # 25 % of the 9,000 yen charged


def test_a_job_whose_file_is_gone_fails_with_the_reason(app):
    platform = app.platform
    job = uploads.start_job(platform, "paypay", "lost.csv", BytesIO(HEADER.encode()), NOW)
    uow = platform.unit_of_work()
    with uow:
        uow.jobs.save(replace(job, status="running", heartbeat_at=NOW - timedelta(minutes=5)))
        uow.commit()
    uploads._path(platform, job).unlink()  # noqa: SLF001
    recovery.recover(platform, set())
    failed = job_of(app, job.job_id)
    assert failed.status == "failed"
    assert failed.reason == uploads.FILE_GONE
    assert failed.finished_at == NOW


def test_pending_evaluations_left_behind_are_finished(app):
    person, psid = link_person(app.platform.unit_of_work(), applied_at=APPLIED)
    row = EventRow("p1", "paypay", psid, EventKind.CHARGE, 8000, NOW - timedelta(days=30))
    # The first phase of an intake whose process died before it evaluated anyone.
    store(app.platform.unit_of_work(), "paypay", [(0, row)], app.platform.catalog, NOW)
    markers = set(pending(app))
    assert markers
    # A marker first seen now may belong to an intake still under way: left for the next pass.
    assert recovery.recover(app.platform, set()) == markers
    assert granted(app, person) == 0
    assert recovery.recover(app.platform, markers) == set()
    assert granted(app, person) == 2000


def test_upload_files_no_live_job_reads_are_deleted(app):
    platform = app.platform
    live = uploads.start_job(platform, "paypay", "live.csv", BytesIO(HEADER.encode()), NOW)
    finished = uploads.start_job(platform, "paypay", "old.csv", BytesIO(HEADER.encode()), NOW)
    uow = platform.unit_of_work()
    with uow:
        uow.jobs.save(replace(finished, status="done"))
        uow.commit()
    folder = platform.settings.var_dir / "uploads"
    orphan, young = folder / "0badc0ffee.csv", folder / "1badc0ffee.csv"
    orphan.write_text(HEADER)
    young.write_text(HEADER)
    long_ago = time.time() - 3600
    for path in (orphan, uploads._path(platform, live), uploads._path(platform, finished)):  # noqa: SLF001
        os.utime(path, (long_ago, long_ago))
    recovery.recover(platform, set())
    assert sorted(path.name for path in folder.iterdir()) == sorted(
        [young.name, uploads._path(platform, live).name]  # noqa: SLF001
    )


# The runner pauses before screening each batch, so that the test sees a committed batch
# and kills it mid-file however fast the machine is (an idle one loaded all 20,000 rows
# between two looks of the test).
RUNNER = """
import sys
import threading
import time
from mynapoint.bootstrap import build_platform
from mynapoint.config import Settings
from mynapoint.ingest import files
from mynapoint.jobs import recovery, uploads

screen = files.screen
def slow_screen(*args, **kwargs):
    time.sleep(0.25)
    return screen(*args, **kwargs)
files.screen = slow_screen

url, var_dir, job_id = sys.argv[1:]
platform = build_platform(Settings(database_url=url, var_dir=var_dir))
uow = platform.unit_of_work()
with uow:
    job = uow.jobs.get(job_id)
uploads.run_job(platform, job)
"""
KILL_PERSONS = 40
KILL_EVENTS = 20_000


def stored_count(app) -> int:
    with app.platform.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(spending_events)).scalar())


def test_a_job_killed_for_real_is_resumed_with_true_counts(app, tmp_path, monkeypatch):
    monkeypatch.setattr(files, "FILE_BATCH", 5_000)  # as in the runner's process
    psids = [
        link_person(app.platform.unit_of_work(), applied_at=APPLIED)[1] for _ in range(KILL_PERSONS)
    ]
    lines = [HEADER]
    for number in range(KILL_EVENTS):
        at = f"2021-06-{number % 28 + 1:02d}T12:00:00Z"
        lines.append(f"k{number},paypay,{psids[number % KILL_PERSONS]},purchase,100,{at},\n")
    job = uploads.start_job(
        app.platform, "paypay", "big.csv", BytesIO("".join(lines).encode()), NOW
    )
    with (tmp_path / "runner.log").open("wb") as runner_log:
        runner = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
            [
                sys.executable,
                "-c",
                RUNNER,
                app.platform.settings.database_url,
                str(tmp_path),
                job.job_id,
            ],
            stderr=runner_log,
        )
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and runner.poll() is None:
                seen = job_of(app, job.job_id)
                if seen.status == "running" and seen.accepted > 0:
                    break
                time.sleep(0.02)
            else:
                log = (tmp_path / "runner.log").read_text(errors="replace")[-3000:]
                pytest.fail(
                    f"the runner ended (exit {runner.returncode}) before it could be killed; "
                    f"the job: {job_of(app, job.job_id)}; its stderr:\n{log}"
                )
            runner.send_signal(signal.SIGKILL)
        finally:
            runner.wait()
    died = job_of(app, job.job_id)
    assert died.status == "running"
    # Killed between two batches, or (a fast machine) while it evaluated the persons.
    assert 0 < died.accepted <= KILL_EVENTS
    # The counts are those of what was committed when the process died.
    assert died.accepted == stored_count(app)
    assert uploads._path(app.platform, died).exists()  # noqa: SLF001

    # The runner used real time: its lease has expired once the clock is past it.
    app.clock.set(datetime.now(UTC) + uploads.LEASE + timedelta(minutes=1))
    recovery.recover(app.platform, set())
    done = job_of(app, job.job_id)
    assert done.status == "done"
    assert (done.lines, done.accepted, done.duplicates, done.rejected) == (
        KILL_EVENTS + 1,
        KILL_EVENTS,
        0,
        0,
    )
    assert stored_count(app) == KILL_EVENTS
    assert pending(app) == []
    assert not uploads._path(app.platform, done).exists()  # noqa: SLF001


def test_the_next_pass_comes_when_the_first_lease_runs_out(app):
    platform = app.platform
    assert recovery.next_pass_in(platform) == recovery.RECOVER_EVERY.total_seconds()
    job = uploads.start_job(platform, "paypay", "dead.csv", BytesIO(HEADER.encode()), NOW)
    uow = platform.unit_of_work()
    with uow:
        # Its server died 50 s ago: the lease runs out in 10 s, before the regular pass.
        uow.jobs.save(replace(job, status="running", heartbeat_at=NOW - timedelta(seconds=50)))
        uow.commit()
    assert recovery.next_pass_in(platform) == pytest.approx(11)
    with uow:
        uow.jobs.save(replace(job, status="running", heartbeat_at=NOW - timedelta(minutes=5)))
        uow.commit()
    assert recovery.next_pass_in(platform) == 1
    with uow:
        uow.jobs.save(replace(job, status="running", heartbeat_at=NOW))
        uow.commit()
    assert recovery.next_pass_in(platform) == recovery.RECOVER_EVERY.total_seconds()


def test_a_job_and_what_is_written_before_its_commit_land_together(app):
    """The console's audit entry is written in the job's transaction (before_commit): when it
    fails, no job was queued, so no upload runs unrecorded."""
    platform = app.platform

    def broken(_uow, action, _details):
        raise RuntimeError(action)

    with pytest.raises(RuntimeError, match="operator_events_uploaded"):
        uploads.start_job(
            platform, "paypay", "x.csv", BytesIO(HEADER.encode()), NOW, before_commit=broken
        )
    with platform.unit_of_work() as uow:
        assert uow.jobs.recent("paypay", 10) == []
