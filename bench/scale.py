"""How the cost grows from 10⁵ to 10⁷ persons (issue 14, items 3 and 4; issue 15).

For each size N of `--sizes` (default 100000,1000000,10000000), on the database
MYNAPOINT_BENCH_DATABASE_URL with `_N` appended to its name:

1. generates N persons with bench/scale_data.py (COPY; `--reuse` keeps a database of that
   size that is already there: its state is then that of the earlier runs too);
2. `GET /api/v1/me` with wrk against `mynapoint serve --workers 2`, with the tokens of the
   persons that have a session (up to 100,000, evenly over the whole table, in random
   order): 32 connections, then 1 (latency without queueing);
3. the operator's grant pull: PayPay pulls its whole pending set (`GET
   /api/v1/operator/grants`, 500 a page, due by platform today, without acknowledging);
4. intake: a file of `--events` (1,000,000) new charges for random existing PayPay persons,
   queued by `mynapoint ingest --no-wait` and run by two `mynapoint worker` processes until
   the upload is done (loaded and evaluated): µs of wall and of CPU (the workers' and the
   command's) per event, and their largest RSS;
5. the monthly settlement: `mynapoint settle --month 2021-08` (closes the month and writes
   its statements): seconds and RSS;
6. the statistics (issue 15; `--parts overview`, bench/scale_overview.py): the summary
   tables refreshed in full and then incrementally, the queries of the ministry's overview
   (services/statistics.py) 50 times, and the page itself, `GET /ministry/overview` signed
   in as a ministry viewer on `mynapoint serve` (also with a date range, its CSV and a
   signed-in floor), 100 times each: p50 and p99 (target < 200 ms at 10⁶), in a table of
   its own.

At N = 1,000,000 (when it is in `--sizes`) it then ingests a `--memory-lines`
(10,000,000) line file of new events for its persons, streamed to disk, the same way, with
the waiting `mynapoint ingest` working on the queue too, and samples the RSS of the command
and each worker every 0.25 s (item 4: < 300 MB each); `--no-memory` skips it.

Figures are printed and appended to bench/RESULTS.md (`--no-record` not to). The databases
are kept (`--drop` drops each after its size).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import httpx
import psycopg

import scale_overview
from api_load import (
    MYNAPOINT,
    Server,
    free_port,
    platform_command,
    run_wrk,
    server_env,
    wrk_script,
)
from common import append_rows, conninfo, drop_database, machine, server_version, today
from mynapoint.db.engine import parse_database_url
from mynapoint.domain.calendar import JST
from scale_data import (
    EVENTS_FROM,
    EVENTS_UNTIL,
    NOW,
    account_of,
    charging_persons,
    generate,
    pick_person,
    print_figures,
    session_persons,
    token,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

DEFAULT_URL: Final = "postgresql+psycopg://postgres@127.0.0.1:5432/mynapoint_bench"
SIZES: Final = (100_000, 1_000_000, 10_000_000)
EVENTS: Final = 1_000_000
MEMORY_SIZE: Final = 1_000_000
MEMORY_LINES: Final = 10_000_000
MEMORY_TARGET: Final = 300_000_000  # 300 MB (issue 14, item 4): 286 MiB
WORKERS: Final = 2
SERVE_WORKERS: Final = 2
CONNECTIONS: Final = 32
OPERATOR: Final = "paypay"
SETTLED_MONTH: Final = "2021-08"
DUE_BY: Final = NOW.date().isoformat()
PAGE_TIMEOUT: Final = 300.0
P99_GOAL_MS: Final = 10.0
NOT_RUN: Final = "not run"
PARTS: Final = ("me", "pull", "intake", "settle", "memory", "overview")
HEADER: Final = "event_id,service_code,payment_service_id,kind,amount,occurred_at,refund_of\n"

SECTION: Final = "## `make bench-scale` — how the cost grows from 10⁵ to 10⁷ persons"
SECTION_INTRO: Final = """
`bench/scale_data.py` generates N persons on a fresh PostgreSQL database by binary COPY from
two processes (schema by `mynapoint migrate`; the loaded tables' indexes and constraints
dropped and built again after the load, which measured faster than copying into indexed
tables: 74 s against 100 s for 10⁵): each with a MyKey ID, one registered and linked
payment account of PayPay, WAON or nanaco (three operators), an active phase-1
application, 2–4 events (3 on average; charges from 2021-05-02 to 2021-09-30, 5 % of persons
with a refund), and the grant instructions and lines the platform's own comparison
(`services.ledger.judge`, running the points engine) computes for that history, with the
events' reasons; instructions dated before 2021-09-01 acknowledged; a session for 100,000
persons spread evenly over the table (their tokens' SHA-256 as the platform keeps them).
Persons share 30,000 history shapes, each judged once per process, with their own ids
(re-evaluating 1,000 random persons through `services.ledger` writes nothing at 10⁵ and
10⁶). Platform time 2021-10-15 10:00 JST. Then `bench/scale.py`: `GET /api/v1/me` (wrk,
`serve --workers 2`, random session tokens over the whole table, 32 connections and 1), the
PayPay grant pull (its whole pending set, 500 a page, not acknowledged), the intake of
1,000,000 new PayPay charges for random existing persons (`mynapoint ingest --no-wait`, two
`mynapoint worker` processes, until the upload is done; CPU: the workers and the command,
not the database server) and `mynapoint settle --month 2021-08`. The load average is the
1-minute one at the start of each size (the machine is shared).

"""
TABLE_HEAD: Final = (
    "| date | persons | generation | DB size | intake ev/s | µs/event wall | µs/event CPU "
    "| intake RSS max | GET /me p50 / p99 (32 conn.) | req/s | p99 (1 conn.) | grant pull "
    "| settlement | load | machine | note |\n" + "|---" * 16 + "|\n"
)
MEMORY_SECTION: Final = "## `make bench-scale` — memory of a large event file (issue 14, item 4)"
MEMORY_INTRO: Final = """
A file of new PayPay charges for random persons of the 10⁶ data set (`--memory-lines`,
10,000,000 by default), written by streaming, ingested by `mynapoint ingest` (waiting,
working on the queue too) with two `mynapoint worker` processes; the largest RSS of each
process, sampled from /proc every 0.25 s. Target < 300 MB each.

"""
MEMORY_HEAD: Final = (
    "| date | lines | ingest s | ev/s | RSS max: command | worker 1 | worker 2 | target met "
    "| load | machine | note |\n" + "|---" * 11 + "|\n"
)


@dataclass
class SizeFigures:
    persons: int
    load: str
    generation: dict[str, Any] | None = None
    database_bytes: int = 0
    me: dict[str, Any] = field(default_factory=dict)
    pull: dict[str, Any] = field(default_factory=dict)
    intake: dict[str, Any] = field(default_factory=dict)
    settle: dict[str, Any] = field(default_factory=dict)
    overview: dict[str, Any] = field(default_factory=dict)


# --- processes ----------------------------------------------------------------------------------


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _cpu_seconds(pid: int) -> float:
    with contextlib.suppress(OSError, ValueError, IndexError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return 0.0


def _rss(pid: int) -> int:
    with contextlib.suppress(OSError, ValueError, IndexError):
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    return 0


class Sampler(threading.Thread):
    """The largest RSS and the latest CPU seconds of each watched process, every 0.25 s."""

    def __init__(self, interval: float = 0.25) -> None:
        super().__init__(daemon=True)
        self.interval = interval
        self.pids: dict[str, int] = {}
        self.peak: dict[str, int] = {}
        self.cpu: dict[str, float] = {}
        self._halt = threading.Event()
        self._lock = threading.Lock()

    def watch(self, name: str, pid: int) -> None:
        with self._lock:
            self.pids[name] = pid
            self.peak.setdefault(name, 0)

    def sample(self) -> None:
        with self._lock:
            for name, pid in self.pids.items():
                rss = _rss(pid)
                if rss:
                    self.peak[name] = max(self.peak[name], rss)
                    self.cpu[name] = _cpu_seconds(pid)

    def run(self) -> None:
        while not self._halt.wait(self.interval):
            self.sample()

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=5)
        self.sample()


def _env(url: URL, var_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MYNAPOINT_")}
    return env | {
        "MYNAPOINT_DATABASE_URL": url.render_as_string(hide_password=False),
        "MYNAPOINT_VAR_DIR": str(var_dir),
        "MYNAPOINT_LOG_LEVEL": "WARNING",
    }


def _stop(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=20)


# --- the event files ----------------------------------------------------------------------------


def write_events(path: Path, persons: int, count: int, tag: str, seed: int) -> None:
    """`count` new PayPay charges for random existing PayPay persons who count charges
    (scale_data.charging_persons), in time order over 2021-05-02 … 2021-09-30, streamed to
    `path` (nothing held in memory)."""
    rng = random.Random(seed)
    service = OPERATOR
    firsts = charging_persons(persons, service)
    accounts: dict[int, str] = {}
    start = EVENTS_FROM.timestamp()
    span = (EVENTS_UNTIL - EVENTS_FROM).total_seconds() - 1
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(HEADER)
        batch: list[str] = []
        for i in range(count):
            n = pick_person(rng, firsts, persons)
            at = datetime.fromtimestamp(int(start + span * i / count), JST).isoformat()
            account = accounts.get(n) or accounts.setdefault(n, account_of(n, service))
            batch.append(
                f"b{tag}-{i:08d},{service},{account},charge,{rng.randint(100, 9_000)},{at},\n"
            )
            if len(batch) == 10_000:
                out.writelines(batch)
                batch.clear()
        out.writelines(batch)


# --- the measurements ---------------------------------------------------------------------------


def ingest(url: URL, var_dir: Path, path: Path, *, wait: bool) -> dict[str, Any]:
    """Load `path` through the queue with WORKERS `mynapoint worker` processes; with `wait`
    the `mynapoint ingest` command waits (working on the queue too), else it only queues the
    file and this polls the upload until it is done."""
    env = _env(url, var_dir)
    sampler = Sampler()
    workers = [
        subprocess.Popen(  # noqa: S603 - the project's own command
            [MYNAPOINT, "worker", "--concurrency", "1"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=(var_dir / f"worker-{k}.log").open("wb"),
            start_new_session=True,
        )
        for k in range(WORKERS)
    ]
    for k, worker in enumerate(workers):
        sampler.watch(f"worker {k + 1}", worker.pid)
    sampler.start()
    time.sleep(3)  # the workers start (imports, connections) before the clock does
    before = {name: sampler.cpu.get(name, 0.0) for name in sampler.pids}
    lines = sum(1 for _ in path.open("rb")) - 1
    t0 = time.perf_counter()
    report = str(var_dir / "rejected.csv")
    command = [MYNAPOINT, "ingest", str(path), "--operator", OPERATOR, "--report", report,
               *([] if wait else ["--no-wait"])]  # fmt: skip
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    job = subprocess.Popen(  # noqa: S603
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )
    sampler.watch("command", job.pid)
    out, err = job.communicate()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    command_cpu = (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)
    if job.returncode != 0:
        sys.exit(f"ingest exited with {job.returncode}: {out.decode()} {err.decode()}")
    status = "done" if wait else _wait_for_upload(url, out.decode())
    seconds = time.perf_counter() - t0
    sampler.stop()
    worker_cpu = sum(sampler.cpu.get(n, 0.0) - before.get(n, 0.0) for n in before)
    for worker in workers:
        _stop(worker)
    if status != "done":
        sys.exit(f"the upload ended {status}")
    return {
        "lines": lines,
        "seconds": seconds,
        "rate": lines / seconds,
        "wall_us": seconds / lines * 1e6,
        "cpu_us": (worker_cpu + command_cpu) / lines * 1e6,
        "cpu_workers_s": worker_cpu,
        "cpu_command_s": command_cpu,
        "rss": dict(sampler.peak),
        "output": out.decode().strip().splitlines()[-1:],
    }


def _wait_for_upload(url: URL, printed: str) -> str:
    job_id = printed.strip().rsplit(" ", 1)[-1]
    with psycopg.connect(conninfo(url), autocommit=True) as connection:
        while True:
            row = connection.execute(
                "SELECT status, reason FROM ingest_jobs WHERE job_id = %s", (job_id,)
            ).fetchone()
            if row is None:
                sys.exit(f"no upload {job_id!r} (the command printed {printed!r})")
            if row[0] not in ("queued", "running"):
                return str(row[0]) + (f" ({row[1]})" if row[1] else "")
            time.sleep(0.25)


def _migrate(url: URL, var_dir: Path) -> None:
    """A database generated before a new migration gets it before anything is measured."""
    t0 = time.perf_counter()
    subprocess.run([MYNAPOINT, "migrate"], env=_env(url, var_dir), check=True)  # noqa: S603
    print(f"  migrated in {time.perf_counter() - t0:.1f} s", flush=True)


def serve_and_measure(
    url: URL, var_dir: Path, persons: int, duration: float, parts: set[str]
) -> dict[str, Any]:
    """GET /me at CONNECTIONS and 1 connection, then the grant pull, on one server."""
    tokens = [token(n) for n in session_persons(persons)]
    random.Random(persons).shuffle(tokens)
    tokens_file = var_dir / "tokens.txt"
    tokens_file.write_text("\n".join(tokens) + "\n", encoding="utf-8")
    key = subprocess.run(  # noqa: S603
        [MYNAPOINT, "operator", "key", OPERATOR],
        env=_env(url, var_dir),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    port = free_port()
    server = Server(
        platform_command(SERVE_WORKERS, port),
        server_env(url.render_as_string(hide_password=False), var_dir),
        var_dir / "server.log",
        port,
    )
    server.start("/healthz")
    figures: dict[str, Any] = {}
    try:
        script = wrk_script(var_dir, bearer=True)
        for connections in (CONNECTIONS, 1) if "me" in parts else ():
            measured = run_wrk(
                server.base + "/api/v1/me", connections, duration, script,
                tokens=tokens_file, timeout=30,
            )  # fmt: skip
            figures[f"me_{connections}"] = measured
            print(
                f"  GET /me, {connections} conn.: {measured.rate:,.0f} req/s, "
                f"p50 {measured.p50_ms:.1f} ms, p99 {measured.p99_ms:.1f} ms, "
                f"errors {measured.errors or 'none'}, timeouts {measured.timeouts}, "
                f"asked to wait {measured.waited}",
                flush=True,
            )
            server.settle()
        if "pull" in parts:
            figures["pull"] = pull(server.base, key)
    finally:
        server.stop()
    return figures


def pull(base: str, key: str) -> dict[str, Any]:
    """The operator's whole pending set, page after page, as an operator's client pulls it."""
    pages = grants = 0
    slowest = 0.0
    cursor: str | None = None
    t0 = time.perf_counter()
    with httpx.Client(base_url=base, timeout=PAGE_TIMEOUT) as client:
        while True:
            params = {"due_by": DUE_BY} | ({"cursor": cursor} if cursor else {})
            t1 = time.perf_counter()
            answer = client.get(
                "/api/v1/operator/grants", params=params,
                headers={"Authorization": f"Bearer {key}"},
            )  # fmt: skip
            slowest = max(slowest, time.perf_counter() - t1)
            answer.raise_for_status()
            body = answer.json()
            pages += 1
            grants += len(body["grants"])
            cursor = body.get("next_cursor")
            if not cursor:
                break
    seconds = time.perf_counter() - t0
    return {
        "grants": grants,
        "pages": pages,
        "seconds": seconds,
        "pages_per_s": pages / seconds,
        "slowest_ms": slowest * 1e3,
    }


def settle(url: URL, var_dir: Path) -> dict[str, Any]:
    sampler = Sampler()
    t0 = time.perf_counter()
    process = subprocess.Popen(  # noqa: S603
        [MYNAPOINT, "settle", "--month", SETTLED_MONTH],
        env=_env(url, var_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    sampler.watch("settle", process.pid)
    sampler.start()
    out, err = process.communicate()
    seconds = time.perf_counter() - t0
    sampler.stop()
    if process.returncode != 0:
        sys.exit(f"settle exited with {process.returncode}: {out.decode()} {err.decode()}")
    return {"seconds": seconds, "rss": sampler.peak["settle"], "output": out.decode().strip()}


def _database_bytes(url: URL) -> int:
    with psycopg.connect(conninfo(url), autocommit=True) as connection:
        row = connection.execute("SELECT pg_database_size(current_database())").fetchone()
    return int(row[0]) if row else 0


def _existing_persons(url: URL) -> int | None:
    try:
        with psycopg.connect(conninfo(url), autocommit=True, connect_timeout=10) as connection:
            row = connection.execute("SELECT count(*) FROM platform_persons").fetchone()
    except psycopg.Error:
        return None
    return int(row[0]) if row else None


# --- one size -----------------------------------------------------------------------------------


def run_size(base: URL, persons: int, args: argparse.Namespace, run_tag: str) -> SizeFigures:
    url = base.set(database=f"{base.database}_{persons}")
    var_dir = args.var_root / str(persons)
    var_dir.mkdir(parents=True, exist_ok=True)
    figures = SizeFigures(persons=persons, load=loadavg())
    print(f"== {persons:,} persons ({url.database}), load {figures.load}", flush=True)
    if args.reuse and _existing_persons(url) == persons:
        print("  reusing the database of that size that is there", flush=True)
    else:
        figures.generation = generate(url, persons, var_dir, jobs=args.jobs, rebuild=True)
        print_figures(figures.generation)
    figures.database_bytes = _database_bytes(url)

    _migrate(url, var_dir)
    if {"me", "pull"} & args.parts:
        served = serve_and_measure(url, var_dir, persons, args.duration, args.parts)
        figures.me = {k: v for k, v in served.items() if k.startswith("me_")}
        figures.pull = served.get("pull", {})
    if p := figures.pull:
        print(
            f"  grant pull: {p['grants']:,} grants in {p['pages']:,} pages, {p['seconds']:.1f} s "
            f"({p['pages_per_s']:.1f} pages/s, slowest page {p['slowest_ms']:.0f} ms)",
            flush=True,
        )
    if "intake" in args.parts:
        path = var_dir / "events.csv"
        write_events(path, persons, args.events, f"{run_tag}s", seed=persons)
        figures.intake = ingest(url, var_dir, path, wait=False)
        path.unlink()
        i = figures.intake
        print(
            f"  intake: {i['lines']:,} events in {i['seconds']:.1f} s ({i['rate']:,.0f}/s): "
            f"{i['wall_us']:.0f} µs wall, {i['cpu_us']:.0f} µs CPU per event "
            f"(workers {i['cpu_workers_s']:.0f} s, command {i['cpu_command_s']:.1f} s); "
            f"RSS max {_mib(i['rss'])}",
            flush=True,
        )
    if "settle" in args.parts:
        figures.settle = settle(url, var_dir)
        print(
            f"  settlement {SETTLED_MONTH}: {figures.settle['seconds']:.1f} s, "
            f"RSS max {figures.settle['rss'] / 2**20:.0f} MiB",
            flush=True,
        )
    if "overview" in args.parts:
        figures.overview = scale_overview.measure(url, _env(url, var_dir), var_dir, run_tag)
        print(scale_overview.summary(figures.overview), flush=True)
    if args.drop:
        drop_database(url)
    return figures


def memory_run(base: URL, args: argparse.Namespace, run_tag: str) -> dict[str, Any]:
    url = base.set(database=f"{base.database}_{MEMORY_SIZE}")
    var_dir = args.var_root / f"{MEMORY_SIZE}-memory"
    var_dir.mkdir(parents=True, exist_ok=True)
    load = loadavg()
    path = var_dir / "events.csv"
    t0 = time.perf_counter()
    write_events(path, MEMORY_SIZE, args.memory_lines, f"{run_tag}m", seed=MEMORY_LINES)
    print(
        f"== memory: {args.memory_lines:,} lines ({path.stat().st_size / 2**20:,.0f} MiB) "
        f"written in {time.perf_counter() - t0:.0f} s; load {load}",
        flush=True,
    )
    figures = ingest(url, var_dir, path, wait=True)
    path.unlink()
    figures["load"] = load
    print(
        f"  ingested in {figures['seconds']:.0f} s ({figures['rate']:,.0f} ev/s); RSS max "
        f"{_mib(figures['rss'])} (target < {MEMORY_TARGET / 1e6:.0f} MB = "
        f"{MEMORY_TARGET / 2**20:.0f} MiB each)",
        flush=True,
    )
    return figures


def _mib(rss: dict[str, int]) -> str:
    return ", ".join(f"{name} {value / 2**20:.0f} MiB" for name, value in sorted(rss.items()))


# --- results ------------------------------------------------------------------------------------


def row(url: URL, f: SizeFigures, note: str) -> str:
    g = f.generation
    generation = (
        f"{g['total_s']:,.0f} s ({f.persons / g['total_s']:,.0f} persons/s)" if g else "reused"
    )
    i, p, s = f.intake, f.pull, f.settle
    cells = [NOT_RUN] * 9
    if i:
        workers_rss = max(v for k, v in i["rss"].items() if k.startswith("worker"))
        cells[:4] = [f"{i['rate']:,.0f}", f"{i['wall_us']:.0f}", f"{i['cpu_us']:.0f}",
                     f"{workers_rss / 2**20:.0f} MiB"]  # fmt: skip
    if f.me:
        wide, one = f.me[f"me_{CONNECTIONS}"], f.me["me_1"]
        cells[4:7] = [f"{wide.p50_ms:.1f} / {wide.p99_ms:.1f} ms", f"{wide.rate:,.0f}",
                      f"{one.p99_ms:.1f} ms"]  # fmt: skip
    if p:
        cells[7] = f"{p['grants']:,} in {p['seconds']:.1f} s ({p['pages_per_s']:.1f} pages/s)"
    if s:
        cells[8] = f"{s['seconds']:.1f} s, {s['rss'] / 2**20:,.0f} MiB"
    return (
        f"| {today()} | {f.persons:,} | {generation} | {f.database_bytes / 2**30:.1f} GiB "
        f"| {' | '.join(cells)} | {f.load} "
        f"| {machine()}, PostgreSQL {server_version(url)} | {note} |"
    )


def memory_row(url: URL, m: dict[str, Any], note: str) -> str:
    rss = m["rss"]
    met = all(v < MEMORY_TARGET for v in rss.values())
    return (
        f"| {today()} | {m['lines']:,} | {m['seconds']:,.0f} | {m['rate']:,.0f} "
        f"| {rss.get('command', 0) / 2**20:.0f} MiB | {rss.get('worker 1', 0) / 2**20:.0f} MiB "
        f"| {rss.get('worker 2', 0) / 2**20:.0f} MiB | {'yes' if met else 'no'} | {m['load']} "
        f"| {machine()}, PostgreSQL {server_version(url)} | {note} |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        default=",".join(str(s) for s in SIZES),
        help="persons, comma-separated (default 100000,1000000,10000000)",
    )
    parser.add_argument("--events", type=int, default=EVENTS)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of each wrk run")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument(
        "--parts",
        default=",".join(PARTS),
        help="what to measure: me,pull,intake,settle,memory (memory: at 10⁶ persons only)",
    )
    parser.add_argument("--memory", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--memory-lines", type=int, default=MEMORY_LINES)
    parser.add_argument("--reuse", action="store_true", help="keep a database of the size")
    parser.add_argument("--drop", action="store_true", help="drop each database after its size")
    parser.add_argument("--record", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--note", default="")
    parser.add_argument(
        "--var-root", type=Path, default=Path(tempfile.gettempdir()) / "mynapoint-scale"
    )
    args = parser.parse_args()
    base = parse_database_url(os.environ.get("MYNAPOINT_BENCH_DATABASE_URL", DEFAULT_URL))
    if base.get_backend_name() != "postgresql" or not base.database:
        sys.exit(f"MYNAPOINT_BENCH_DATABASE_URL must name a PostgreSQL database; got {base!r}")
    sizes = [int(s) for s in args.sizes.split(",") if s]
    args.parts = {part for part in args.parts.split(",") if part}
    if unknown := args.parts - set(PARTS):
        sys.exit(f"--parts: unknown {', '.join(sorted(unknown))}")
    if not args.memory:
        args.parts.discard("memory")
    run_tag = datetime.now(JST).strftime("%m%d%H%M")
    for persons in sizes:
        figures = run_size(base, persons, args, run_tag)
        if args.record and figures.overview:
            append_rows(
                scale_overview.SECTION,
                scale_overview.INTRO,
                scale_overview.HEAD,
                [scale_overview.row(base, persons, figures.load, figures.overview, args.note)],
            )
        if args.record and args.parts - {"memory", "overview"}:
            append_rows(SECTION, SECTION_INTRO, TABLE_HEAD, [row(base, figures, args.note)])
        if persons == MEMORY_SIZE and "memory" in args.parts and not args.drop:
            memory = memory_run(base, args, run_tag)
            if args.record:
                append_rows(
                    MEMORY_SECTION, MEMORY_INTRO, MEMORY_HEAD, [memory_row(base, memory, args.note)]
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
