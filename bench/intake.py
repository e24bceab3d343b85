"""Event intake throughput on PostgreSQL through the job queue, with 1, 2 and 4 workers,
against what its storage alone costs (issue 4 item 7, issue 14 item 2).

1. Creates a fresh database (MYNAPOINT_BENCH_DATABASE_URL, default
   postgresql+psycopg://postgres@127.0.0.1:5432/mynapoint_bench): dropped and
   recreated, migrated, and dropped again at the end. The platform clock is anchored at
   2021-10-15T10:00+09:00 (every process reads it from the database).
2. Sets up 200,000 linked persons through the repositories (a phase-1 PayPay
   application counting charges, applied 2021-05-01): units of work of 5,000 persons,
   shared out between two processes.
3. Writes 1,000,000 events (charges of 100-9,000 yen from 2021-05-02 to 2021-09-30 JST
   in time order, about 1 % refunds of earlier ones) as an ingest CSV file.
4. Loads the file with a raw `COPY … FROM STDIN (FORMAT csv, HEADER true)` into a table
   with the same columns, three times each (the medians count), as two references:
   an unindexed table and the same table with a primary key on event_id.
5. For each worker count N of `--workers` (default 1,2,4), on the same state (the intake's
   tables and the queue emptied, then VACUUM ANALYZE and CHECKPOINT): starts N
   `mynapoint worker --concurrency 1` processes, queues the file as `mynapoint ingest
   --no-wait` does (`jobs.uploads.start_job`) and waits until the upload is `done`. Per run:
   wall time from queueing to done, when the file was loaded (phase 1), the CPU seconds of
   the workers and of this database's PostgreSQL backends (utime + stime from /proc, sampled
   every 0.2 s), the whole machine's busy core-seconds (/proc/stat: other sessions' work
   shows there), and the grants (the same in every run, or the run fails).
6. Measures "storage alone" after the first run: the server copying the rows intake kept
   (events, grant instructions and their lines) into empty tables of the same definitions.
   No intake of this schema can be faster than that, whatever its language.
7. Prints the rates and the ratios and appends one row per worker count to bench/RESULTS.md.
   The goal (issue 14): the best run at >= 50 % of storage alone. Exits 1 only when a run
   loaded the file wrongly (a line not accepted, other grants than the first run).

`--persons/--events` make a smaller run (it is then not recorded unless `--record` is
given).
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
from sqlalchemy import text

from common import (
    RESULTS,
    append_rows,
    checkpoint,
    conninfo,
    drop_database,
    machine,
    recreate_database,
    server_version,
    today,
)
from intake_data import SEED, set_up_persons, write_events
from mynapoint.bootstrap import build_platform
from mynapoint.config import Settings
from mynapoint.db.engine import parse_database_url
from mynapoint.domain.calendar import JST
from mynapoint.jobs.uploads import start_job

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

    from mynapoint.bootstrap import Platform

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/mynapoint_bench"
PERSONS = 200_000
EVENTS = 1_000_000
WORKERS = (1, 2, 4)
COPY_RUNS = 3
OPERATOR = "paypay"
NOW = datetime(2021, 10, 15, 10, 0, tzinfo=JST)
GOAL = 0.50
# How long a run may take before it is given up (a worker stuck, a job failed for good).
RUN_TIMEOUT = 1_800
SAMPLE_SECONDS = 0.2
TICKS = os.sysconf("SC_CLK_TCK")
# The tables an intake writes, emptied between two runs (the persons, their applications
# and links, the clock stay).
_INTAKE_TABLES = (
    "spending_events",
    "pending_evaluations",
    "grant_lines",
    "grant_instructions",
    "ingest_job_lines",
    "ingest_jobs",
    "procrastinate_events",
    "procrastinate_periodic_defers",
    "procrastinate_jobs",
)
QUEUE_SECTION = "## `make bench-intake` through the job queue: 1, 2 and 4 workers (issue 14)"
QUEUE_INTRO = f"""
The data of the section above ({PERSONS:,} linked persons, {EVENTS:,} events in one CSV
file). The file is queued as `mynapoint ingest --no-wait` queues it and loaded and evaluated
by N `mynapoint worker --concurrency 1` processes, on the same state for every N (the
intake's tables and the queue emptied, VACUUM ANALYZE, CHECKPOINT). "wall" runs from queueing
to the upload `done`; "load" is when the last batch of the file was committed (phase 1, one
job). CPU columns are core-seconds from /proc during the run: the N workers together, this
database's PostgreSQL backends, and the whole machine busy (other sessions' work included:
the machine is shared). "storage alone" (the server copying the rows the intake kept into
empty tables of the same definitions) and the COPY references are measured in the same run;
only the ratios of one run compare. Goal (issue 14): the best N at >= 50 % of storage
alone. Load average as /proc/loadavg before the run.

"""
QUEUE_HEAD = (
    "| date | workers | wall s | load s | ev/s | storage alone ev/s | ratio (storage) "
    "| CPU workers s | CPU server s | CPU machine s | COPY no index / PK ev/s | load avg "
    "| machine | note |\n" + "|---" * 14 + "|\n"
)


@dataclass
class QueuedRun:
    workers: int
    wall: float
    loaded: float
    worker_cpu: float
    server_cpu: float
    machine_cpu: float
    grants: int
    points: int
    loadavg: str


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=PERSONS)
    parser.add_argument("--events", type=int, default=EVENTS)
    parser.add_argument(
        "--workers",
        type=lambda value: [int(part) for part in value.split(",")],
        default=list(WORKERS),
        help="worker counts to run, e.g. 1,2,4 (the default)",
    )
    parser.add_argument(
        "--record",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="append the figures to bench/RESULTS.md (default: only for a full-size run)",
    )
    parser.add_argument("--note", default="", help="the note column of the RESULTS.md rows")
    args = parser.parse_args()
    full_size = args.persons == PERSONS and args.events == EVENTS
    record = full_size if args.record is None else args.record

    url = parse_database_url(os.environ.get("MYNAPOINT_BENCH_DATABASE_URL", DEFAULT_URL))
    if url.get_backend_name() != "postgresql" or not url.database:
        sys.exit(f"MYNAPOINT_BENCH_DATABASE_URL must name a PostgreSQL database; got {url!r}")
    started = time.perf_counter()
    recreate_database(url)
    try:
        with tempfile.TemporaryDirectory(prefix="mynapoint-bench-") as tmp:
            settings = Settings(
                database_url=url.render_as_string(hide_password=False),
                var_dir=Path(tmp),
                clock_start=NOW,
            )
            platform = build_platform(settings)
            try:
                figures, runs = run(platform, url, Path(tmp), args)
            finally:
                platform.engine.dispose()
    finally:
        drop_database(url)
    total = time.perf_counter() - started
    print(f"bench-intake: whole run {total:.1f} s")
    if record:
        append_results(url, figures, runs, args.note)
        print(f"bench-intake: figures appended to {RESULTS}")
    best = min(runs, key=lambda queued: queued.wall)
    ratio = figures["events"] / best.wall / figures["stored_rate"]
    verdict = "goal met" if ratio >= GOAL else f"goal {GOAL:.0%} not met"
    print(f"bench-intake: best: {best.workers} worker(s), {ratio:.1%} of storage alone ({verdict})")
    return 0


def run(
    platform: Platform, url: URL, tmp: Path, args: argparse.Namespace
) -> tuple[dict[str, float], list[QueuedRun]]:
    rng = random.Random(SEED)
    t0 = time.perf_counter()
    accounts = set_up_persons(url, rng, args.persons)
    setup = time.perf_counter() - t0
    print(
        f"setup: {args.persons:,} linked persons in {setup:.1f} s ({args.persons / setup:,.0f}/s)"
    )

    path = tmp / "events.csv"
    t0 = time.perf_counter()
    refunds = write_events(path, rng, accounts, args.events)
    print(
        f"file: {args.events:,} events ({refunds:,} refunds), "
        f"{path.stat().st_size / 2**20:.1f} MiB in {time.perf_counter() - t0:.1f} s"
    )

    # The references first, on the database as the setup left it; the median of three runs
    # each (a single COPY of the file takes seconds and varies with background work).
    copies: dict[bool, float] = {}
    for keyed in (False, True):
        seconds = []
        for _ in range(COPY_RUNS):
            checkpoint(url)
            t0 = time.perf_counter()
            copied = raw_copy(url, path, keyed=keyed)
            seconds.append(time.perf_counter() - t0)
            if copied != args.events:
                sys.exit(f"raw COPY: {copied:,} rows loaded, expected {args.events:,}")
        copies[keyed] = statistics.median(seconds)
        label = f"raw COPY ({_REFERENCES[keyed]}):"
        print(f"{label:<24}" + ", ".join(f"{t:.2f} s" for t in seconds))
    with psycopg.connect(conninfo(url), autocommit=True) as connection:
        connection.execute("DROP TABLE raw_events")

    runs: list[QueuedRun] = []
    stored = 0.0
    for count in args.workers:
        if runs:
            empty_intake(url)
        queued = queued_run(platform, url, tmp, path, count, args.events)
        print(
            f"{count} worker(s): {queued.wall:.1f} s ({args.events / queued.wall:,.0f} events/s;"
            f" file loaded at {queued.loaded:.1f} s); CPU: workers {queued.worker_cpu:.1f} s, "
            f"server {queued.server_cpu:.1f} s, machine {queued.machine_cpu:.1f} s; "
            f"{queued.grants:,} grant instructions, {queued.points:,} points; "
            f"load {queued.loadavg}"
        )
        if runs and (queued.grants, queued.points) != (runs[0].grants, runs[0].points):
            sys.exit(f"{count} worker(s): other grants than the first run")
        runs.append(queued)
        if not stored:
            stored = storage_alone(url, tmp)
            print(
                f"storage alone: the rows intake kept, copied by the server into empty tables"
                f" of the same definitions, in {stored:.2f} s"
            )

    figures = {
        "persons": args.persons,
        "events": args.events,
        "setup": setup,
        "copy_rate": args.events / copies[False],
        "keyed_rate": args.events / copies[True],
        "stored_rate": args.events / stored,
    }
    print_rates(figures, runs, {"unindexed": copies[False], "PK": copies[True]})
    return figures, runs


# --- the queued runs --------------------------------------------------------------------------


def _cpu_ticks(pid: int) -> int | None:
    """utime + stime of a process, in clock ticks (None: it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:  # noqa: PTH123 - many small reads
            fields = stat.read().rsplit(b")", 1)[1].split()
    except OSError:
        return None
    return int(fields[11]) + int(fields[12])


def _backends(database: str) -> list[int]:
    """The PostgreSQL backends serving `database` (their title names it)."""
    found = []
    marker = f" {database} ".encode()
    for entry in os.listdir("/proc"):  # noqa: PTH208 - names only, many of them
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline:  # noqa: PTH123
                title = cmdline.read()
        except OSError:
            continue
        if title.startswith(b"postgres: ") and marker in title:
            found.append(int(entry))
    return found


def _machine_ticks() -> int:
    """Busy ticks of every core since boot (user, nice, system, irq, softirq, steal)."""
    with open("/proc/stat", encoding="ascii") as stat:  # noqa: PTH123
        cpu = [int(value) for value in stat.readline().split()[1:]]
    return cpu[0] + cpu[1] + cpu[2] + cpu[5] + cpu[6] + cpu[7]


class ServerCpu:
    """CPU ticks of this database's backends over a run: sampled every SAMPLE_SECONDS, so a
    backend that starts and ends within the run counts up to its last sample."""

    def __init__(self, database: str) -> None:
        self._database = database
        self._first: dict[int, int] = {}
        self._last: dict[int, int] = {}
        self._stop = threading.Event()
        self._sample(first=True)
        self._thread = threading.Thread(target=self._keep_sampling, daemon=True)
        self._thread.start()

    def _sample(self, *, first: bool = False) -> None:
        for pid in _backends(self._database):
            ticks = _cpu_ticks(pid)
            if ticks is None:
                continue
            if first:
                self._first[pid] = ticks
            else:
                self._first.setdefault(pid, 0)
            self._last[pid] = ticks

    def _keep_sampling(self) -> None:
        while not self._stop.wait(SAMPLE_SECONDS):
            self._sample()

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        self._sample()
        return sum(self._last[pid] - self._first[pid] for pid in self._last) / TICKS


def _start_workers(url: URL, tmp: Path, count: int) -> list[subprocess.Popen[bytes]]:
    """`count` worker processes on the database, each with its log file under `tmp`."""
    command = str(Path(sys.executable).with_name("mynapoint"))
    env = {
        **os.environ,
        "MYNAPOINT_DATABASE_URL": url.render_as_string(hide_password=False),
        "MYNAPOINT_VAR_DIR": str(tmp),
    }
    workers = []
    for number in range(count):
        with (tmp / f"worker-{count}-{number}.log").open("wb") as log:
            workers.append(
                subprocess.Popen(  # noqa: S603 - our own command
                    [command, "worker", "--concurrency", "1"],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
    return workers


def _stop_workers(workers: list[subprocess.Popen[bytes]]) -> None:
    for worker in workers:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
    for worker in workers:
        try:
            worker.wait(timeout=60)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def _wait_for_workers(url: URL, workers: list[subprocess.Popen[bytes]], tmp: Path) -> None:
    """Until every worker has registered with the queue."""
    deadline = time.monotonic() + 120
    with psycopg.connect(conninfo(url), autocommit=True) as connection:
        while True:
            row = connection.execute("SELECT count(*) FROM procrastinate_workers").fetchone()
            if row is not None and row[0] >= len(workers):
                return
            if any(worker.poll() is not None for worker in workers) or (
                time.monotonic() > deadline
            ):
                logs = "\n".join(log.read_text() for log in sorted(tmp.glob("worker-*.log")))
                sys.exit(f"the workers did not start:\n{logs[-4000:]}")
            time.sleep(0.2)


def queued_run(
    platform: Platform, url: URL, tmp: Path, path: Path, count: int, events: int
) -> QueuedRun:
    """The file queued as `mynapoint ingest --no-wait` queues it, loaded and evaluated by
    `count` worker processes; waits for the upload to be done."""
    with psycopg.connect(conninfo(url), autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")
    checkpoint(url)
    workers = _start_workers(url, tmp, count)
    try:
        _wait_for_workers(url, workers, tmp)
        loadavg = Path("/proc/loadavg").read_text(encoding="ascii").split()
        worker_ticks = [_cpu_ticks(worker.pid) or 0 for worker in workers]
        machine_ticks = _machine_ticks()
        server = ServerCpu(str(url.database))
        size = path.stat().st_size
        t0 = time.perf_counter()
        with path.open("rb") as source:
            job = start_job(platform, OPERATOR, path.name, source, platform.clock.now())
        loaded = 0.0
        while True:
            uow = platform.unit_of_work()
            with uow.reading():
                state = uow.jobs.get(job.job_id)
            if state is None:
                sys.exit("the upload job is gone")
            if not loaded and state.read_bytes >= size:
                loaded = time.perf_counter() - t0
            if not state.is_live:
                break
            if time.perf_counter() - t0 > RUN_TIMEOUT or any(
                worker.poll() is not None for worker in workers
            ):
                sys.exit(f"{count} worker(s): the upload is still {state.status}; see {tmp}")
            time.sleep(SAMPLE_SECONDS)
        wall = time.perf_counter() - t0
        server_cpu = server.stop()
        machine_cpu = (_machine_ticks() - machine_ticks) / TICKS
        worker_cpu = (
            sum(
                (_cpu_ticks(worker.pid) or 0) - before
                for worker, before in zip(workers, worker_ticks, strict=True)
            )
            / TICKS
        )
    finally:
        _stop_workers(workers)
    if state.status != "done" or state.accepted != events or state.rejected:
        sys.exit(
            f"{count} worker(s): upload {state.status} ({state.reason}): {state.accepted:,} "
            f"accepted, {state.duplicates:,} duplicates, {state.rejected:,} rejected"
        )
    with platform.engine.connect() as connection:
        grants, points = connection.execute(
            text("SELECT count(*), coalesce(sum(points), 0) FROM grant_instructions")
        ).one()
    return QueuedRun(
        count,
        wall,
        loaded or wall,
        worker_cpu,
        server_cpu,
        machine_cpu,
        int(grants),
        int(points),
        " ".join(loadavg[:3]),
    )


def empty_intake(url: URL) -> None:
    """The state before the first run again: no events, grants, upload jobs or queued jobs."""
    with psycopg.connect(conninfo(url), autocommit=True) as connection:
        connection.execute(f"TRUNCATE {', '.join(_INTAKE_TABLES)}")


def print_rates(
    figures: dict[str, float], runs: list[QueuedRun], seconds: dict[str, float]
) -> None:
    events, copy_rate, keyed_rate, stored_rate = (
        figures[name] for name in ("events", "copy_rate", "keyed_rate", "stored_rate")
    )
    for name, rate in (("unindexed", copy_rate), ("PK", keyed_rate)):
        label = f"raw COPY ({name}):"
        print(f"{label:<24}{rate:>10,.0f} events/s ({seconds[name]:.2f} s, median of {COPY_RUNS})")
    print(
        f"{'storage alone:':<24}{stored_rate:>10,.0f} events/s; {stored_rate / copy_rate:.1%} "
        f"of the unindexed COPY, {stored_rate / keyed_rate:.1%} of the PK COPY"
    )
    for queued in runs:
        rate = events / queued.wall
        label = f"{queued.workers} worker(s):"
        print(
            f"{label:<24}{rate:>10,.0f} events/s; {rate / stored_rate:.1%} of storage alone, "
            f"{rate / copy_rate:.1%} of the unindexed COPY"
        )


_REFERENCES = {False: "unindexed", True: "PK"}


# --- database ---------------------------------------------------------------------------------


def raw_copy(url: URL, path: Path, *, keyed: bool) -> int:
    """The same file, streamed through COPY into a new table, unindexed or with a primary key
    on event_id; returns the rows loaded."""
    with psycopg.connect(conninfo(url)) as connection:
        connection.execute("DROP TABLE IF EXISTS raw_events")
        connection.execute(
            f"CREATE TABLE raw_events (event_id text{' PRIMARY KEY' if keyed else ''}, "
            "service_code text, payment_service_id text, kind text, amount integer, "
            "occurred_at timestamptz, refund_of text)"
        )
        connection.commit()
        with (
            connection.cursor() as cursor,
            cursor.copy("COPY raw_events FROM STDIN (FORMAT csv, HEADER true)") as copy,
            path.open("rb") as stream,
        ):
            while chunk := stream.read(1 << 20):
                copy.write(chunk)
        connection.commit()
        row = connection.execute("SELECT count(*) FROM raw_events").fetchone()
    return int(row[0]) if row else 0


# What intake must keep: (table, the copy's name). Lines refer to their instruction.
_KEPT = (
    ("spending_events", "ceiling_events"),
    ("grant_instructions", "ceiling_instructions"),
    ("grant_lines", "ceiling_lines"),
)


def storage_alone(url: URL, tmp: Path) -> float:
    """Seconds the server alone takes to write the rows intake kept (events, instructions,
    lines) into empty tables with the same columns, indexes, checks and foreign key, in the
    order intake wrote them: no parsing, no engine, no lookups. No intake of this schema
    can be faster; the figure shows how far the floor is reachable at all."""
    dumps: dict[str, Path] = {}
    with psycopg.connect(conninfo(url), autocommit=True) as connection:
        for table, copy in _KEPT:
            connection.execute(f"DROP TABLE IF EXISTS {copy}")
            connection.execute(f"CREATE TABLE {copy} (LIKE {table} INCLUDING ALL)")
            dumps[copy] = tmp / f"{copy}.bin"
            with (
                connection.cursor().copy(
                    f"COPY (SELECT * FROM {table}) TO STDOUT (FORMAT binary)"  # noqa: S608
                ) as out,
                dumps[copy].open("wb") as sink,
            ):
                for data in out:
                    sink.write(data)
        connection.execute(
            "ALTER TABLE ceiling_lines ADD FOREIGN KEY (grant_id) "
            "REFERENCES ceiling_instructions (grant_id)"
        )
    checkpoint(url)
    t0 = time.perf_counter()
    with psycopg.connect(conninfo(url)) as connection:
        for copy, dump in dumps.items():
            with (
                connection.cursor().copy(f"COPY {copy} FROM STDIN (FORMAT binary)") as into,
                dump.open("rb") as source,
            ):
                while chunk := source.read(1 << 20):
                    into.write(chunk)
        connection.commit()
    seconds = time.perf_counter() - t0
    with psycopg.connect(conninfo(url), autocommit=True) as connection:
        for _, copy in reversed(_KEPT):
            connection.execute(f"DROP TABLE {copy}")
    for dump in dumps.values():
        dump.unlink()
    return seconds


# --- results ------------------------------------------------------------------------------------


def append_results(url: URL, figures: dict[str, float], runs: list[QueuedRun], note: str) -> None:
    stored, events = figures["stored_rate"], figures["events"]
    where = f"{machine()}, PostgreSQL {server_version(url)}"
    rows = [
        f"| {today()} | {queued.workers} | {queued.wall:.1f} | {queued.loaded:.1f} "
        f"| {events / queued.wall:,.0f} | {stored:,.0f} | {events / queued.wall / stored:.1%} "
        f"| {queued.worker_cpu:.1f} | {queued.server_cpu:.1f} | {queued.machine_cpu:.1f} "
        f"| {figures['copy_rate']:,.0f} / {figures['keyed_rate']:,.0f} | {queued.loadavg} "
        f"| {where} | {note} |"
        for queued in runs
    ]
    append_rows(QUEUE_SECTION, QUEUE_INTRO, QUEUE_HEAD, rows)


if __name__ == "__main__":
    sys.exit(main())
