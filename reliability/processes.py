"""The platform as its users run it: `mynapoint serve` and `mynapoint ingest` as processes of
their own (each in its own process group, so that a kill takes its worker processes too)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import httpx

from mynapoint.services.throttling import DEFAULT_LIMITS

MYNAPOINT = Path(sys.executable).with_name("mynapoint")
# The runs log in and apply many times a minute from 127.0.0.1, on purpose.
GENEROUS_LIMITS = dict.fromkeys(DEFAULT_LIMITS, "1000000/minute")
SUMMARY = re.compile(r"(\d+) lines, (\d+) accepted, (\d+) duplicates, (\d+) rejected")


# The security-code key of a whole run, in its work folder: every database copied from the
# template holds codes made with it, whatever var folder a process of the run has.
CODE_KEY_FILE = "security-code-key"


def platform_env(database_url: str, var_dir: Path, clock_start: datetime) -> dict[str, str]:
    """This process's environment without any MYNAPOINT_ setting of the caller's, plus the
    scratch database, a var folder of the run's own, the run's security-code key, the platform
    clock and rate limits generous enough for the runs' many logins and applications from one
    address. The server and `mynapoint ingest` run their jobs in-process, as these runs were
    written for (crash-server kills the server that runs its uploads); the job queue's own
    crash test is tests/e2e/test_job_queue.py."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MYNAPOINT_")}
    var_dir.mkdir(parents=True, exist_ok=True)
    return env | {
        "MYNAPOINT_DATABASE_URL": database_url,
        "MYNAPOINT_VAR_DIR": str(var_dir),
        "MYNAPOINT_CODE_KEY": str(var_dir.parent / CODE_KEY_FILE),
        "MYNAPOINT_CLOCK_START": clock_start.isoformat(),
        "MYNAPOINT_RATE_LIMITS": json.dumps(GENEROUS_LIMITS),
        "MYNAPOINT_INPROCESS_WORKER": "true",
    }


def kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL to the process and everything it started (evaluation workers)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def tracebacks(log: Path) -> int:
    try:
        return log.read_text(encoding="utf-8", errors="replace").count("Traceback (most recent")
    except OSError:
        return 0


@dataclass
class Server:
    port: int
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0
    _logs: list[Path] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90) -> float:
        """Start and wait until /healthz answers 200; returns the seconds it took."""
        self.starts += 1
        log = self.log.with_name(f"{self.log.stem}-{self.starts:02d}.log")
        self._logs.append(log)
        began = time.monotonic()
        with log.open("wb") as out:
            self.process = subprocess.Popen(  # noqa: S603 - the project's own command
                [str(MYNAPOINT), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                env=self.env,
                cwd=self.env["MYNAPOINT_VAR_DIR"],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        while time.monotonic() - began < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with {self.process.returncode}; see {log}")
            try:
                if httpx.get(f"{self.base}/healthz", timeout=2).status_code == 200:
                    return time.monotonic() - began
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.kill()
        raise RuntimeError(f"the server did not answer /healthz within {timeout:.0f} s; see {log}")

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        if self.process is not None:
            kill_group(self.process)
            self.process = None

    def stop(self) -> None:
        """SIGTERM (uvicorn shuts down gracefully), SIGKILL after 20 s."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=20)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            kill_group(self.process)
        self.process = None

    def tracebacks(self) -> int:
        return sum(tracebacks(log) for log in self._logs)

    def died(self) -> bool:
        """Exited by itself (not by our kill or stop)."""
        return self.process is not None and self.process.poll() is not None


@dataclass(frozen=True)
class IngestRun:
    returncode: int
    seconds: float
    lines: int | None
    accepted: int | None
    duplicates: int | None
    rejected: int | None
    tracebacks: int
    output: str


def start_ingest(file: Path, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(  # noqa: S603 - the project's own command
            [str(MYNAPOINT), "ingest", str(file), "--operator", "paypay",
             "--report", str(log.with_suffix(".rejected.csv"))],
            env=env,
            cwd=env["MYNAPOINT_VAR_DIR"],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip


def finish_ingest(
    process: subprocess.Popen[bytes], log: Path, began: float, timeout: float = 600
) -> IngestRun:
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(process)
    seconds = time.monotonic() - began
    output = log.read_text(encoding="utf-8", errors="replace")
    found = SUMMARY.findall(output)
    lines, accepted, duplicates, rejected = (
        (int(n) for n in found[-1]) if found else (None, None, None, None)
    )
    return IngestRun(
        returncode=process.returncode,
        seconds=seconds,
        lines=lines,
        accepted=accepted,
        duplicates=duplicates,
        rejected=rejected,
        tracebacks=tracebacks(log),
        output=output[-2000:],
    )


def ingest(file: Path, env: dict[str, str], log: Path) -> IngestRun:
    """`mynapoint ingest FILE --operator paypay` to its end."""
    began = time.monotonic()
    return finish_ingest(start_ingest(file, env, log), log, began)
