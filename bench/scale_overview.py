"""bench/scale.py `--parts overview` (issue 15): the statistics' refresh, the overview's
queries in one process, and the page itself over HTTP.

1. the summary tables refreshed in full, then incrementally with nothing new, then
   ANALYZEd (as autovacuum leaves them in service; not counted in the refresh);
2. the queries the ministry's overview makes through services/statistics.py, QUERY_CALLS
   times in this process: p50 and p99 of one whole overview (the reference of the page's
   figures: what the database part costs without HTTP, templates or charts);
3. `mynapoint serve` on that database, a ministry_viewer added the way the CLI does
   (`mynapoint staff add`) and signed in as a browser does (the CSRF cookie echoed by the
   form, the one-time password changed at /ministry/password), then PAGE_CALLS sequential
   requests after PAGE_WARMUP of each: `GET /ministry/overview` (the page: every figure's
   SVG chart and table, web/charts.py), the same with a month's date range, the download of
   one figure's CSV (the MyKey IDs per day, the longest), and a signed-in console page that
   reads no statistics (/ministry/password) as the floor of the console's own stack.

Nothing here reads or loops over persons: the page reads summary tables (a row per day and
dimension), so the work on this side does not grow with N.
"""

from __future__ import annotations

import os
import subprocess
import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final

import httpx
import psycopg

from api_load import MYNAPOINT, Server, free_port, percentile, platform_command, server_env
from common import conninfo, machine, server_version, today
from scale_data import NOW

if TYPE_CHECKING:
    from pathlib import Path

    from sqlalchemy.engine import URL

QUERY_CALLS: Final = 50
PAGE_WARMUP: Final = 10
PAGE_CALLS: Final = 100
PAGE_TIMEOUT: Final = 60.0
SERVE_WORKERS: Final = 2
PAGE: Final = "/ministry/overview"
# A month of the generated history (MyKey IDs from 2020-07-01, events to 2021-09-30).
RANGE: Final = {"from": "2021-08-01", "to": "2021-08-31"}
CSV: Final = PAGE + "/mykeys.csv"
FLOOR: Final = "/ministry/password"
PASSWORD: Final = "bench-overview-2021"  # noqa: S105 - the bench account's, on a scratch database
# What the page holds when the statistics are there: the first figure's section.
PAGE_MARK: Final = 'id="mykeys"'
TARGET_MS: Final = 200.0


def measure(url: URL, env: dict[str, str], var_dir: Path, run_tag: str) -> dict[str, Any]:
    """Every figure of the part; `env` is the CLI's environment for that database."""
    figures = refresh_and_query(url)
    figures |= page(url, env, var_dir, run_tag)
    return figures


def refresh_and_query(url: URL) -> dict[str, Any]:
    """The statistics' refresh (full, then incremental with nothing new) and the queries the
    ministry's overview makes (services/statistics.py: totals, applications by measure,
    service, channel and ward, the last 30 days per day, grants pending), QUERY_CALLS
    times: p50 and p99 of one whole overview."""
    from mynapoint.db.engine import create_engine_for  # noqa: PLC0415 - this part only
    from mynapoint.db.statistics_store import SqlStatisticsStore  # noqa: PLC0415
    from mynapoint.domain.statistics import Dimension, Metric  # noqa: PLC0415
    from mynapoint.services import statistics  # noqa: PLC0415

    engine = create_engine_for(url.render_as_string(hide_password=False))
    store = SqlStatisticsStore(engine)
    now = NOW
    t0 = time.perf_counter()
    statistics.refresh(store, now, full=True)
    full_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    statistics.refresh(store, now + timedelta(minutes=5))
    incremental_ms = (time.perf_counter() - t0) * 1000
    analyze(url)
    last = now.date()
    durations = []
    for _ in range(QUERY_CALLS):
        t0 = time.perf_counter()
        statistics.totals(store)
        for dimension in (
            Dimension.MEASURE,
            Dimension.SERVICE,
            Dimension.CHANNEL,
            Dimension.MUNICIPALITY,
        ):
            statistics.breakdown(store, Metric.APPLICATIONS, (dimension,))
        statistics.series(store, Metric.APPLICATIONS, (), last - timedelta(days=30), last)
        statistics.series(store, Metric.POINTS_GRANTED, (), last - timedelta(days=30), last)
        statistics.pending_grants(store)
        durations.append((time.perf_counter() - t0) * 1000)
    engine.dispose()
    return {
        "full_s": full_s,
        "incremental_ms": incremental_ms,
        "p50_ms": percentile(durations, 50),
        "p99_ms": percentile(durations, 99),
        "calls": QUERY_CALLS,
    }


def analyze(url: URL) -> None:
    """The planner's statistics of the summary tables the refresh has just filled, as
    autovacuum leaves them within a minute in service. Without it (autovacuum is off on the
    bench's server) the planner keeps the generator's "empty table" and sorts every row of a
    metric to group them: a breakdown took 17.5 ms instead of 7.0 at 10⁵ persons."""
    with psycopg.connect(conninfo(url), autocommit=True) as connection:
        connection.execute("ANALYZE daily_statistics, pending_grant_statistics")


# --- the page over HTTP -------------------------------------------------------------------------


def add_viewer(env: dict[str, str], name: str) -> str:
    """A ministry_viewer added as an administrator does (`mynapoint staff add`): its
    one-time password."""
    added = subprocess.run(  # noqa: S603 - the project's own command
        [MYNAPOINT, "staff", "add", "--name", name, "--role", "ministry_viewer"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return added.stdout.strip().splitlines()[0]


def _csrf(client: httpx.Client) -> str:
    if "mp_csrf" not in client.cookies:
        client.get("/ministry/sign-in").raise_for_status()
    return str(client.cookies["mp_csrf"])


def _post(client: httpx.Client, path: str, data: dict[str, str]) -> httpx.Response:
    answer = client.post(path, data={"csrf_token": _csrf(client), **data})
    if answer.status_code != 303:
        raise RuntimeError(f"POST {path}: {answer.status_code}\n{answer.text[:2000]}")
    return answer


def sign_in(client: httpx.Client, name: str, one_time: str) -> None:
    """As a browser does: the sign-in form, then the first sign-in's password change."""
    _post(client, "/ministry/sign-in", {"name": name, "password": one_time})
    _post(
        client,
        "/ministry/password",
        {"current": one_time, "new": PASSWORD, "new_again": PASSWORD},
    )


def timed(
    client: httpx.Client, path: str, params: dict[str, str] | None = None
) -> dict[str, float]:
    """PAGE_WARMUP requests, then PAGE_CALLS timed one after the other (the whole answer
    read): p50 and p99 in ms, and the answer's size."""
    size = 0
    durations = []
    for k in range(PAGE_WARMUP + PAGE_CALLS):
        t0 = time.perf_counter()
        answer = client.get(path, params=params)
        elapsed = (time.perf_counter() - t0) * 1000
        if answer.status_code != 200:
            raise RuntimeError(f"GET {path} {params or ''}: {answer.status_code}")
        if path == PAGE and PAGE_MARK not in answer.text:
            raise RuntimeError(f"GET {path} {params or ''}: no figures (statistics not computed?)")
        size = len(answer.content)
        if k >= PAGE_WARMUP:
            durations.append(elapsed)
    return {"p50_ms": percentile(durations, 50), "p99_ms": percentile(durations, 99), "bytes": size}


def page(url: URL, env: dict[str, str], var_dir: Path, run_tag: str) -> dict[str, Any]:
    """The page, the page with a range, the CSV and the floor, on one server, signed in as a
    new ministry_viewer (a name of its own per run, the process id besides the minute: a
    reused database keeps the earlier runs' accounts)."""
    name = f"bench-viewer-{run_tag}-{os.getpid()}"
    one_time = add_viewer(env, name)
    port = free_port()
    server = Server(
        platform_command(SERVE_WORKERS, port),
        # Plain HTTP on the loopback: the session and CSRF cookies must not be Secure-only
        # for the client to send them back (the load balancer terminates TLS in production).
        server_env(url.render_as_string(hide_password=False), var_dir)
        | {"MYNAPOINT_COOKIE_SECURE": "false"},
        var_dir / "overview-server.log",
        port,
    )
    server.start("/healthz")
    try:
        with httpx.Client(base_url=server.base, timeout=PAGE_TIMEOUT) as client:
            sign_in(client, name, one_time)
            figures = {
                "page": timed(client, PAGE),
                "range": timed(client, PAGE, RANGE),
                "csv": timed(client, CSV),
                "floor": timed(client, FLOOR),
            }
    finally:
        server.stop()
    if tracebacks := server.tracebacks():
        raise RuntimeError(f"{tracebacks} tracebacks in {server.log}")
    return figures | {"page_calls": PAGE_CALLS}


# --- results ------------------------------------------------------------------------------------


def summary(o: dict[str, Any]) -> str:
    """The printed lines of the part."""
    p, r, c, f = o["page"], o["range"], o["csv"], o["floor"]
    return (
        f"  statistics: full refresh {o['full_s']:.1f} s, incremental {o['incremental_ms']:.0f} "
        f"ms; overview queries p50 {o['p50_ms']:.1f} ms, p99 {o['p99_ms']:.1f} ms "
        f"({o['calls']} calls; target < {TARGET_MS:.0f} ms)\n"
        f"  GET {PAGE} ({o['page_calls']} after {PAGE_WARMUP}): p50 {p['p50_ms']:.1f} ms, "
        f"p99 {p['p99_ms']:.1f} ms ({p['bytes'] / 1024:,.0f} KiB; "
        f"{p['p50_ms'] / o['p50_ms']:.1f}× the queries' p50; target < {TARGET_MS:.0f} ms); "
        f"with {RANGE['from']}…{RANGE['to']}: p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms "
        f"({r['bytes'] / 1024:,.0f} KiB)\n"
        f"  GET {CSV}: p50 {c['p50_ms']:.1f} ms, p99 {c['p99_ms']:.1f} ms; floor "
        f"(GET {FLOOR}, signed in, no statistics): p50 {f['p50_ms']:.1f} ms, "
        f"p99 {f['p99_ms']:.1f} ms"
    )


SECTION: Final = "## `make bench-scale` — the statistics' overview (issue 15)"
INTRO: Final = """
`--parts overview`: on the data set of that size, the statistics' summary tables refreshed in
full once, then incrementally with nothing new (db/statistics_store.py), then (rows from
the page's columns on) ANALYZEd as autovacuum leaves them in service, and the queries the
ministry's overview makes through services/statistics.py (totals; applications by measure,
service, channel and ward; applications and points per day over 30 days; grants pending per
operator), 50 times in one process: p50 and p99 of one whole overview. Then the page itself
(bench/scale_overview.py): `mynapoint serve --workers 2` on that database, a ministry_viewer
added by `mynapoint staff add` and signed in as a browser is (CSRF, first password change),
100 sequential `GET /ministry/overview` after 10 of warm-up (every figure's SVG chart and
table): p50 and p99 measured by the client, and its p50 over the queries' p50 (what HTTP,
the templates and the charts add); the same for the page with a month's range
(2021-08-01…2021-08-31), for the CSV of the MyKey IDs per day, and for a signed-in console
page that reads no statistics (/ministry/password: the floor of the console's stack).
Target < 200 ms at 10⁶ for the page.

"""
HEAD: Final = (
    "| date | persons | full refresh | incremental refresh | overview p50 | overview p99 "
    "| page GET p50 | page GET p99 | page ÷ queries (p50) | page with a range p50 / p99 "
    "| CSV p50 / p99 | floor p50 / p99 | load | machine | note |\n" + "|---" * 15 + "|\n"
)


def row(url: URL, persons: int, load: str, o: dict[str, Any], note: str) -> str:
    p, r, c, f = o["page"], o["range"], o["csv"], o["floor"]
    return (
        f"| {today()} | {persons:,} | {o['full_s']:.1f} s | {o['incremental_ms']:.0f} ms "
        f"| {o['p50_ms']:.1f} ms | {o['p99_ms']:.1f} ms | {p['p50_ms']:.1f} ms "
        f"| {p['p99_ms']:.1f} ms | {p['p50_ms'] / o['p50_ms']:.2f}× "
        f"| {r['p50_ms']:.1f} / {r['p99_ms']:.1f} ms | {c['p50_ms']:.1f} / {c['p99_ms']:.1f} ms "
        f"| {f['p50_ms']:.1f} / {f['p99_ms']:.1f} ms | {load} "
        f"| {machine()}, PostgreSQL {server_version(url)} | {note} |"
    )
