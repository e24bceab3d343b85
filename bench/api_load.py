"""The load of `make bench-api`: the servers it starts, wrk for the GET endpoints, an async
client (httpx) for the enrollment flow, and the servers' memory sampled from /proc."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import math
import os
import random
import resource
import signal
import ssl
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Final

import httpx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from mynapoint.services.throttling import DEFAULT_LIMITS

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from api_data import Holder

HOST: Final = "127.0.0.1"
BENCH: Final = Path(__file__).resolve().parent
PYTHON: Final = sys.executable
MYNAPOINT: Final = str(Path(sys.executable).with_name("mynapoint"))
# Every load here comes from 127.0.0.1: the per-address limits (30 challenges a minute)
# would stop it at once. The bench measures the work, not the limits.
GENEROUS_LIMITS: Final = dict.fromkeys(DEFAULT_LIMITS, "100000000/minute")
OVERLOADED: Final = "overloaded"
# The enrollment client: connections per httpx pool (see _drive).
CONNECTIONS_PER_POOL: Final = 32


# --- figures --------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank percentile (`q` from 0 to 100) of `values`; NaN for none."""
    if not values:
        return math.nan
    if not 0 <= q <= 100:
        raise ValueError(f"a percentile is from 0 to 100, not {q}")
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q / 100 * len(ordered))) - 1]


@dataclass(frozen=True)
class Measured:
    """One measurement: requests (or flows) per second and per-request latencies."""

    rate: float  # req/s, or flows/s for enrollment
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: dict[str, int]
    timeouts: int
    waited: int  # answers asked to wait: 503 with the code `overloaded`
    client_cpu: float  # busiest client process, share of one core


# --- servers --------------------------------------------------------------------------------


def _serve_takes_workers() -> bool:
    """Whether `mynapoint serve` has a --workers option (issue 13's production serving)."""
    try:
        shown = subprocess.run(  # noqa: S603 - the project's own command
            [MYNAPOINT, "serve", "--help"],
            capture_output=True,
            text=True,
            timeout=60,
            env=os.environ | {"COLUMNS": "200", "NO_COLOR": "1"},
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "--workers" in shown.stdout


def uvicorn_command(app: str, workers: int, port: int, *, app_dir: Path | None = None) -> list[str]:
    return [
        PYTHON, "-m", "uvicorn", app, "--factory", "--workers", str(workers),
        "--host", HOST, "--port", str(port), "--log-level", "warning", "--no-access-log",
        *(["--app-dir", str(app_dir)] if app_dir else []),
    ]  # fmt: skip


def platform_command(workers: int, port: int) -> list[str]:
    """How the platform is served: the one place to change. `mynapoint serve --workers N`
    where the command has the option; before it, what it runs: uvicorn's own process
    manager on the app factory, the database migrated once beforehand (api_data)."""
    if _serve_takes_workers():
        return [MYNAPOINT, "serve", "--workers", str(workers), "--host", HOST, "--port", str(port)]
    return uvicorn_command("mynapoint.web.app:create_app", workers, port)


def trivial_command(workers: int, port: int) -> list[str]:
    """The ceiling (bench/trivial_app.py), on the same server with the same workers."""
    return uvicorn_command("trivial_app:create_app", workers, port, app_dir=BENCH)


def free_port() -> int:
    import socket  # noqa: PLC0415 - only here

    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    command: list[str]
    env: dict[str, str]
    log: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self, ready_path: str, timeout: float = 120) -> None:
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(  # noqa: S603 - the project's own server
                self.command,
                env=self.env,
                cwd=self.env.get("MYNAPOINT_VAR_DIR", str(BENCH)),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        began = time.monotonic()
        while time.monotonic() - began < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"the server exited with {self.process.returncode}:\n{self.log_tail()}"
                )
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.base + ready_path, timeout=2).status_code == 200:
                    return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"the server did not answer {ready_path} in {timeout:.0f} s")

    def stop(self) -> None:
        """SIGTERM to the server's process group, SIGKILL after 20 s."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=20)
        self.process = None

    def settle(self, path: str = "/healthz", timeout: float = 120) -> None:
        """Wait until the requests left from a measurement are done: a few requests on new
        connections (each worker may take one) answered one after the other, then half a
        second. Each queues behind what its worker still has to do."""
        began = time.monotonic()
        answered = 0
        while answered < 4 and time.monotonic() - began < timeout:
            try:
                httpx.get(self.base + path, timeout=timeout)
                answered += 1
            except httpx.HTTPError:
                time.sleep(0.5)
        time.sleep(0.5)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def tracebacks(self) -> int:
        try:
            return self.log.read_text(errors="replace").count("Traceback (most recent")
        except OSError:
            return 0


# The caller's serving settings are passed on, so that one bench compares admission shares,
# threads and pool sizes (e.g. MYNAPOINT_ADMIT_CITIZENS=8 make bench-api).
SERVING_SETTINGS: Final = (
    "MYNAPOINT_ADMIT_",
    "MYNAPOINT_THREADS",
    "MYNAPOINT_DB_POOL_SIZE",
    "MYNAPOINT_DB_MAX_OVERFLOW",
)


def server_env(database_url: str, var_dir: Path) -> dict[str, str]:
    """This environment without the caller's MYNAPOINT_ settings but the serving ones, plus
    the bench database, a var folder of its own and limits that let one address make every
    request."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("MYNAPOINT_") or k.startswith(SERVING_SETTINGS)
    }
    var_dir.mkdir(parents=True, exist_ok=True)
    return env | {
        "MYNAPOINT_DATABASE_URL": database_url,
        "MYNAPOINT_VAR_DIR": str(var_dir),
        "MYNAPOINT_RATE_LIMITS": json.dumps(GENEROUS_LIMITS),
    }


class MemorySampler(threading.Thread):
    """The resident memory of a server's processes (its process group), every `interval`
    seconds: the largest total since the last mark()."""

    def __init__(self, pgid: int, interval: float = 0.25) -> None:
        super().__init__(daemon=True)
        self._pgid = pgid
        self._interval = interval
        self._halt = threading.Event()
        self._lock = threading.Lock()
        self._peak = 0
        self._page = os.sysconf("SC_PAGE_SIZE")
        self._first = set(group_members(pgid))
        self._seen = set(self._first)
        self._counted = 0

    def run(self) -> None:
        while not self._halt.wait(self._interval):
            total = self.sample()
            with self._lock:
                self._peak = max(self._peak, total)

    def sample(self) -> int:
        total = 0
        members = group_members(self._pgid)
        with self._lock:
            self._seen.update(members)
        for pid in members:
            with contextlib.suppress(OSError, ValueError, IndexError):
                total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * self._page
        return total

    def mark(self) -> int:
        """The peak (bytes) since the last mark, and start counting again."""
        with self._lock:
            peak, self._peak = self._peak, 0
        return peak

    def replaced(self) -> int:
        """Server processes started since the last call (none at first): each replaces a
        worker that died or that the process manager killed."""
        with self._lock:
            started = len(self._seen - self._first)
            new, self._counted = started - self._counted, started
        return new

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=5)


def group_members(pgid: int) -> list[int]:
    members = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            stat = Path(entry.path, "stat").read_text()
            # pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses.
            if int(stat.rsplit(")", 1)[1].split()[2]) == pgid:
                members.append(int(entry.name))
    return members


# --- wrk ------------------------------------------------------------------------------------

WRK: Final = "wrk"
WRK_MARK: Final = "WRK_RESULT "
# done() prints one line of JSON that parse_wrk reads (wrk's own summary is for people).
# Every script: each thread counts the answers asked to wait (503 with the error code
# `overloaded`) and every other answer of 400 or more by status; done() adds them up and
# prints one line of JSON that parse_wrk reads (wrk's own summary is for people).
WRK_REPORT_LUA: Final = r"""
local threads = {}
setup = function(thread)
  thread:set("offset", #threads)
  table.insert(threads, thread)
end
waited = 0
failed = {}
response = function(status, headers, body)
  if status >= 400 then
    if status == 503 and body and string.find(body, '"overloaded"', 1, true) then
      waited = waited + 1
    else
      failed[status] = (failed[status] or 0) + 1
    end
  end
end
done = function(summary, latency, requests)
  local asked, statuses, parts = 0, {}, {}
  for _, thread in ipairs(threads) do
    asked = asked + thread:get("waited")
    for status, n in pairs(thread:get("failed")) do
      statuses[status] = (statuses[status] or 0) + n
    end
  end
  for status, n in pairs(statuses) do
    parts[#parts + 1] = string.format('"%d": %d', status, n)
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, ' ..
    '"write": %d, "status": %d, "timeout": %d, "p50_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"waited": %d, "statuses": {%s}}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max, asked,
    table.concat(parts, ", ")))
end
"""
# A signed-in citizen per request: the tokens (one a line, in the file given after `--`)
# taken in turn, each wrk thread starting at its own place (`offset`, set by setup()).
WRK_BEARER_LUA: Final = r"""
local tokens = {}
local turn = 0
init = function(args)
  for line in io.lines(args[1]) do
    if #line > 0 then tokens[#tokens + 1] = line end
  end
  turn = (offset * 7919) % #tokens
end
request = function()
  turn = turn % #tokens + 1
  return wrk.format(nil, nil, {["Authorization"] = "Bearer " .. tokens[turn]})
end
"""


@dataclass(frozen=True)
class WrkResult:
    requests: int  # answers of any status
    seconds: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    waited: int  # 503 overloaded
    errors: dict[str, int]  # connect, read, write and timeout; other answers >= 400 by status

    @property
    def answered(self) -> int:
        """Requests answered with their content (not asked to wait, not refused)."""
        refused = sum(n for name, n in self.errors.items() if name.isdigit())
        return self.requests - self.waited - refused

    @property
    def rate(self) -> float:
        return self.answered / self.seconds if self.seconds else 0.0


def parse_wrk(output: str) -> WrkResult:
    """The figures of the WRK_RESULT line that WRK_REPORT_LUA's done() prints."""
    for line in output.splitlines():
        if line.startswith(WRK_MARK):
            data = json.loads(line.removeprefix(WRK_MARK))
            errors = {
                name: int(data[name])
                for name in ("connect", "read", "write", "timeout")
                if data[name]
            }
            return WrkResult(
                requests=int(data["requests"]),
                seconds=data["duration_us"] / 1e6,
                p50_ms=data["p50_us"] / 1e3,
                p99_ms=data["p99_us"] / 1e3,
                max_ms=data["max_us"] / 1e3,
                waited=int(data["waited"]),
                errors=errors | {str(k): int(v) for k, v in sorted(data["statuses"].items())},
            )
    tail = "\n".join(output.splitlines()[-10:])
    raise ValueError(f"wrk printed no {WRK_MARK.strip()} line:\n{tail}")


def wrk_script(folder: Path, *, bearer: bool) -> Path:
    path = folder / ("wrk-bearer.lua" if bearer else "wrk-report.lua")
    path.write_text((WRK_BEARER_LUA if bearer else "") + WRK_REPORT_LUA, encoding="utf-8")
    return path


def run_wrk(
    url: str,
    connections: int,
    seconds: float,
    script: Path,
    *,
    tokens: Path | None = None,
    timeout: float = 30,
) -> Measured:
    """wrk with two threads (one per core here); its CPU time tells whether it kept up."""
    threads = min(2, connections)
    command = [
        WRK, f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s",
        f"--timeout={max(1, round(timeout))}s", "-s", str(script), url,
        *(["--", str(tokens)] if tokens else []),
    ]  # fmt: skip
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"wrk exited with {done.returncode}: {done.stderr.strip()}")
    result = parse_wrk(done.stdout)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    errors = dict(result.errors)
    timeouts = errors.pop("timeout", 0)
    return Measured(
        rate=result.rate,
        requests_per_second=result.rate,
        p50_ms=result.p50_ms,
        p99_ms=result.p99_ms,
        errors=errors,
        timeouts=timeouts,
        waited=result.waited,
        # wrk's threads share its CPU time: per thread, as for the client processes.
        client_cpu=cpu / result.seconds / threads if result.seconds else 0.0,
    )


# --- the enrollment flow --------------------------------------------------------------------

# challenge -> session (the card signs the nonce) -> MyKey -> preview -> apply -> /me
STEPS: Final = ("challenge", "session", "mykey", "preview", "apply", "me")
EXPECTED: Final = {
    "challenge": {201},
    "session": {201},
    "mykey": {200, 201},
    "preview": {200},
    "apply": {201},
    "me": {200},
}


@dataclass
class FlowStats:
    """What one client process saw (pickled back to the bench)."""

    flows: int = 0  # completed in the measuring window
    flow_seconds: list[float] = field(default_factory=list)  # flows ending in the window
    completed_seconds: list[float] = field(default_factory=list)  # every completed flow
    latencies: list[float] = field(default_factory=list)  # requests ending in the window
    admitted: list[float] = field(default_factory=list)  # requests of completed flows
    by_step: dict[str, list[float]] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)
    timeouts: Counter[str] = field(default_factory=Counter)
    waited: Counter[str] = field(default_factory=Counter)  # 503 overloaded, by step
    arrivals: int = 0  # open loop: flows started
    completed: int = 0  # every flow that reached its end, inside the window or not
    holders_used: int = 0
    tokens: list[str] = field(default_factory=list)  # sessions of the completed flows
    ran_out: int = 0  # flows not started: no card holder left
    cpu_seconds: float = 0.0
    wall_seconds: float = 0.0
    # Open loop: how late each arrival started against its schedule, and the client's
    # CPU over the arrivals (share of one core): a client behind its schedule, or starved
    # of CPU on a shared machine, measures itself, not the server.
    late_seconds: list[float] = field(default_factory=list)
    arrivals_cpu: float = 0.0

    def merge(self, other: FlowStats) -> None:
        self.flows += other.flows
        self.flow_seconds += other.flow_seconds
        self.completed_seconds += other.completed_seconds
        self.latencies += other.latencies
        self.admitted += other.admitted
        for step, values in other.by_step.items():
            self.by_step.setdefault(step, []).extend(values)
        self.errors.update(other.errors)
        self.timeouts.update(other.timeouts)
        self.waited.update(other.waited)
        self.arrivals += other.arrivals
        self.completed += other.completed
        self.holders_used += other.holders_used
        self.tokens += other.tokens
        self.ran_out += other.ran_out
        self.cpu_seconds = max(self.cpu_seconds, other.cpu_seconds)
        self.wall_seconds = max(self.wall_seconds, other.wall_seconds)
        self.late_seconds += other.late_seconds
        self.arrivals_cpu = max(self.arrivals_cpu, other.arrivals_cpu)


@dataclass(frozen=True)
class LoadPlan:
    """One client process's share of a measurement. Times are time.monotonic() values
    (one clock for every process of the machine)."""

    base: str
    keys_pem: tuple[bytes, ...]
    holders: tuple[Holder, ...]
    start: float
    measure_from: float
    end: float
    timeout: float
    users: int = 0  # closed loop: flows under way at once
    rate: float = 0.0  # open loop: flows started per second
    grace: float = 0.0  # open loop: how long flows under way at `end` may take to finish


class _Flow:
    def __init__(
        self, clients: list[httpx.AsyncClient], plan: LoadPlan, keys: list[rsa.RSAPrivateKey]
    ) -> None:
        self.clients = clients
        self.plan = plan
        self.keys = keys
        self.stats = FlowStats()
        self._holders: Iterator[Holder] = iter(plan.holders)
        self.retry_after = 0.0  # of the last 503 overloaded

    def next_holder(self) -> Holder | None:
        holder = next(self._holders, None)
        if holder is None:
            self.stats.ran_out += 1
        else:
            self.stats.holders_used += 1
        return holder

    async def step(
        self, name: str, kept: list[float], method: str, path: str, **kwargs: object
    ) -> httpx.Response | None:
        """One request; its answer when expected, else None with the reason counted."""
        began = time.monotonic()
        try:
            # httpx's timeout is per phase (pool, connect, write, read): the whole request
            # gets one deadline, as a person waiting for a page has.
            async with asyncio.timeout(self.plan.timeout):
                answer = await random.choice(self.clients).request(method, path, **kwargs)  # type: ignore[arg-type]
        except (TimeoutError, httpx.TimeoutException):
            self.stats.timeouts[name] += 1
            return None
        except httpx.HTTPError as error:
            self.stats.errors[f"{name}: {type(error).__name__}"] += 1
            return None
        ended = time.monotonic()
        if answer.status_code in EXPECTED[name]:
            if self.plan.measure_from <= ended < self.plan.end:
                self.stats.latencies.append(ended - began)
                self.stats.by_step.setdefault(name, []).append(ended - began)
            kept.append(ended - began)
            return answer
        code = _error_code(answer)
        if answer.status_code == 503 and code == OVERLOADED:
            self.stats.waited[name] += 1
            self.retry_after = _retry_after(answer)
        else:
            self.stats.errors[f"{name}: {answer.status_code} {code}"] += 1
        return None

    async def run(self) -> None:
        """One enrollment; the card holder is taken once the challenge is answered (one
        asked to wait there has used nobody)."""
        began = time.monotonic()
        kept: list[float] = []
        challenge = await self.step("challenge", kept, "POST", "/api/v1/auth/challenges")
        if challenge is None:
            return
        holder = self.next_holder()
        if holder is None:
            return
        nonce = base64.b64decode(challenge.json()["nonce"])
        signature = self.keys[holder.key].sign(nonce, padding.PKCS1v15(), hashes.SHA256())
        session = await self.step(
            "session", kept, "POST", "/api/v1/auth/sessions",
            json={
                "challenge_id": challenge.json()["challenge_id"],
                "certificate": holder.certificate_pem,
                "signature": base64.b64encode(signature).decode(),
            },
        )  # fmt: skip
        if session is None:
            return
        bearer = {"Authorization": f"Bearer {session.json()['token']}"}
        account = {
            "service_code": "paypay",
            "payment_service_id": holder.payment_service_id,
            "security_code": holder.security_code,
        }
        for name, method, path, body in (
            ("mykey", "POST", "/api/v1/mykey", None),
            ("preview", "POST", "/api/v1/applications/preview", account),
            ("apply", "POST", "/api/v1/applications",
             account | {"measure": "phase1", "counts": "charge"}),
            ("me", "GET", "/api/v1/me", None),
        ):  # fmt: skip
            if await self.step(name, kept, method, path, headers=bearer, json=body) is None:
                return
        ended = time.monotonic()
        self.stats.completed += 1
        self.stats.tokens.append(bearer["Authorization"].removeprefix("Bearer "))
        self.stats.admitted += kept
        self.stats.completed_seconds.append(ended - began)
        if self.plan.measure_from <= ended < self.plan.end:
            self.stats.flows += 1
            self.stats.flow_seconds.append(ended - began)


def _retry_after(answer: httpx.Response) -> float:
    try:
        return max(0.0, float(answer.headers.get("retry-after", "1")))
    except ValueError:
        return 1.0


def _error_code(answer: httpx.Response) -> str:
    try:
        return str(answer.json()["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return "(no error code)"


async def _until(moment: float) -> None:
    delay = moment - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)


async def _closed_loop(flow: _Flow) -> None:
    """`users` flows at once, each starting the next as soon as it ends, until `end`;
    flows under way then are cut (their requests after `end` do not count)."""
    plan = flow.plan

    async def user() -> None:
        while time.monotonic() < plan.end and not flow.stats.ran_out:
            waited = sum(flow.stats.waited.values())
            await flow.run()
            if sum(flow.stats.waited.values()) > waited:
                # Asked to wait: come back when told (at most 5 s), as the waiting page does.
                await asyncio.sleep(min(flow.retry_after, 5.0))

    await _until(plan.start)
    tasks = [asyncio.create_task(user()) for _ in range(plan.users)]
    _, pending = await asyncio.wait(tasks, timeout=max(0.0, plan.end - time.monotonic()))
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)


async def _open_loop(flow: _Flow) -> None:
    """Flows started at `rate` a second from `start` to `end`, whether or not earlier ones
    have finished (citizens arrive on their own); those under way at `end` may finish
    within `grace`."""
    plan = flow.plan
    tasks: set[asyncio.Task[None]] = set()
    arrival = 0
    if plan.rate <= 0:
        raise ValueError("an open loop needs a positive arrival rate")
    cpu, wall = time.process_time(), time.monotonic()
    while (moment := plan.start + arrival / plan.rate) < plan.end:
        await _until(moment)
        flow.stats.late_seconds.append(time.monotonic() - moment)
        task = asyncio.create_task(flow.run())
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        arrival += 1
    flow.stats.arrivals = arrival
    if (spent := time.monotonic() - wall) > 0:
        flow.stats.arrivals_cpu = (time.process_time() - cpu) / spent
    if tasks:
        _, pending = await asyncio.wait(set(tasks), timeout=plan.grace)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        if pending:
            flow.stats.timeouts["flow still under way after the grace period"] += len(pending)


async def _drive(plan: LoadPlan) -> FlowStats:
    keys = [
        # Keys this bench made itself: checking each would cost ~28 ms.
        _rsa(serialization.load_pem_private_key(pem, None, unsafe_skip_rsa_key_validation=True))
        for pem in plan.keys_pem
    ]
    connections = plan.users or 4096
    # httpx's connection pool looks through all its connections for each request, so one pool
    # of thousands of connections costs the client more than the requests: the connections are
    # spread over pools of at most CONNECTIONS_PER_POOL, a request taking one at random.
    pools = max(1, -(-connections // CONNECTIONS_PER_POOL))
    per_pool = -(-connections // pools)
    # Idle connections are dropped before uvicorn's keep-alive timeout (its default 5 s for the
    # trivial app; `mynapoint serve` keeps them 75 s) ends them, so
    # that no request is sent on a connection the server is closing at that moment.
    limits = httpx.Limits(
        max_connections=per_pool, max_keepalive_connections=per_pool, keepalive_expiry=3
    )
    # Each httpx client makes its own TLS context unless given one, loading the system's CA
    # certificates: ~40 ms each, 5 s for the 128 pools of the overload, which started its
    # arrivals seconds late and then all at once (bench/RESULTS.md, issue 13). One is shared.
    tls = ssl.create_default_context()
    async with contextlib.AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(
                httpx.AsyncClient(
                    base_url=plan.base,
                    limits=limits,
                    timeout=httpx.Timeout(plan.timeout),
                    verify=tls,
                )
            )
            for _ in range(pools)
        ]
        flow = _Flow(clients, plan, keys)
        await _until(plan.start)
        cpu, wall = time.process_time(), time.monotonic()
        await (_closed_loop(flow) if plan.users else _open_loop(flow))
        flow.stats.cpu_seconds = time.process_time() - cpu
        flow.stats.wall_seconds = time.monotonic() - wall
    return flow.stats


def _rsa(key: object) -> rsa.RSAPrivateKey:
    if not isinstance(key, rsa.RSAPrivateKey):
        raise TypeError("the bench's card keys are RSA")
    return key


def drive(plan: LoadPlan) -> FlowStats:
    """A client process's share of a measurement (run in a worker process)."""
    # httpcore tries `import sniffio` at every lock it takes; without sniffio installed (anyio
    # 4 no longer needs it) each try searches sys.path again: 13 % of the client's CPU at
    # overload (py-spy). None in sys.modules makes the import fail at once; httpcore then
    # assumes asyncio, which this client is.
    sys.modules.setdefault("sniffio", None)  # type: ignore[arg-type]
    try:
        import uvloop  # noqa: PLC0415 - installed with uvicorn[standard]

        return uvloop.run(_drive(plan))
    except ImportError:  # pragma: no cover - uvloop is a dependency of the server
        return asyncio.run(_drive(plan))
