"""(b) The server killed (SIGKILL, with its worker processes) while upload jobs
(`POST /api/v1/operator/events/files`) run, and started again.

The crash file is cut into one piece per kill; each cycle starts the server on the same
database, uploads the next piece, waits a random moment within the time a piece takes and
kills the server. Then the server is started once more and given RECOVERY_SECONDS to finish
what was interrupted. Afterwards every job must be finished (`done`, or `failed` with its
reason in the rejected lines), no file may be left in var/uploads, every valid line must be
stored once, nobody pending evaluation, and the points those of one clean ingest of the file.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path

import httpx

from reliability.answers import send
from reliability.context import Context, Outcome
from reliability.dataset import EventFacts, EventFile, bearer, split_file
from reliability.ledger import compare, read_ledger
from reliability.processes import Server

RECOVERY_SECONDS = 60
FINISHED = {"done", "failed"}
JobStatus = dict[str, object]  # GET /api/v1/operator/events/files/{job_id}


@dataclass
class Cycles:
    """The uploads of the kill cycles: job ids with their piece of the file."""

    jobs: dict[str, EventFile] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    crashed: int = 0
    hit_running: int = 0


def _kill_cycles(context: Context, server: Server, parts: list[EventFile], window: float) -> Cycles:
    """Per piece: start the server, upload, wait a random moment, kill."""
    cycles = Cycles()
    auth = bearer(context.world.operator_key)
    for number, part in enumerate(parts):
        server.start()
        with httpx.Client(base_url=server.base, headers=auth, timeout=120) as client:
            answer = client.post(
                "/api/v1/operator/events/files",
                files={"file": (part.path.name, part.path.read_bytes(), "text/csv")},
            )
            if answer.status_code != HTTPStatus.ACCEPTED:
                cycles.crashed += answer.status_code >= HTTPStatus.INTERNAL_SERVER_ERROR
                cycles.problems.append(f"upload {number}: HTTP {answer.status_code} {answer.text}")
                server.kill()
                continue
            job_id = str(answer.json()["job_id"])
            cycles.jobs[job_id] = part
            delay = context.rng.uniform(0.05, window)
            time.sleep(delay)
            status = _status(client, job_id)
        cycles.hit_running += status not in FINISHED
        server.kill()
        context.say(
            f"crash server {number + 1}/{len(parts)}: killed {delay:.1f} s after 202, job {status}"
        )
    return cycles


def _status(client: httpx.Client, job_id: str) -> str:
    answer = send(client, "GET", f"/api/v1/operator/events/files/{job_id}")
    return str(answer.body.get("status", answer.label))


def _wait_for_jobs(server: Server, jobs: list[str], auth: dict[str, str]) -> dict[str, JobStatus]:
    """The jobs' status once all are finished, or RECOVERY_SECONDS after the restart."""
    deadline = time.monotonic() + RECOVERY_SECONDS
    with httpx.Client(base_url=server.base, headers=auth, timeout=30) as client:
        while True:
            statuses = {
                job_id: send(client, "GET", f"/api/v1/operator/events/files/{job_id}").body
                for job_id in jobs
            }
            if all(s.get("status") in FINISHED for s in statuses.values()):
                return statuses
            if time.monotonic() > deadline:
                return statuses
            time.sleep(1)


def _job_problems(statuses: dict[str, JobStatus], var_dir: Path) -> list[str]:
    problems = []
    unfinished = [j for j, s in statuses.items() if s.get("status") not in FINISHED]
    if unfinished:
        stuck = sorted({str(statuses[j].get("status", "unknown")) for j in unfinished})
        problems.append(
            f"{len(unfinished)} of {len(statuses)} jobs never finished "
            f"({'/'.join(stuck)} {RECOVERY_SECONDS} s after the restart)"
        )
    unexplained = [
        j
        for j, s in statuses.items()
        if s.get("status") == "failed" and not s.get("rejected_lines")
    ]
    if unexplained:
        problems.append(f"{len(unexplained)} jobs failed without a reason")
    leftovers = list((var_dir / "uploads").glob("*"))
    if leftovers:
        problems.append(f"{len(leftovers)} files left in var/uploads")
    return problems


def run(context: Context, file: EventFile, kills: int) -> Outcome:
    began = time.monotonic()
    reference = context.reference(file)
    parts = split_file(file, context.workdir / "parts", kills)
    database = context.fresh_database("crash_server")
    var_dir = context.folder("crash-server")
    server = Server(context.port(), context.env(database, var_dir), var_dir / "server.log")
    # A piece's share of a clean run's time, plus the job's own start (two worker processes).
    window = reference.seconds / kills + 1.5
    try:
        cycles = _kill_cycles(context, server, parts, window)
        restart = server.start()
        context.say(
            f"restarted in {restart:.1f} s; waiting up to {RECOVERY_SECONDS} s for the jobs"
        )
        statuses = _wait_for_jobs(server, list(cycles.jobs), bearer(context.world.operator_key))
        if server.died():
            cycles.crashed += 1
            cycles.problems.append("the server exited by itself")
    finally:
        server.stop()
    problems = cycles.problems + _job_problems(statuses, var_dir)
    expected: dict[str, EventFacts] = {}
    for part in cycles.jobs.values():
        expected |= part.valid
    differences = compare(read_ledger(context.cluster, database), expected, reference.ledger)
    problems += differences.problems()
    if server.tracebacks():
        problems.append(f"{server.tracebacks()} tracebacks in the server logs")
    context.say("crash server: " + ("; ".join(problems) or "every job recovered"))
    context.drop(database)
    return Outcome(
        run="crash: server killed mid-upload",
        tried=(
            f"{len(cycles.jobs)} uploads, {kills} kills "
            f"({cycles.hit_running} with the job still running)"
        ),
        lost=differences.lost,
        doubled=differences.doubled,
        crashed=cycles.crashed + server.tracebacks(),
        result="FAIL" if problems else "PASS",
        reason="; ".join(problems) or "every job finished, every valid line stored once",
        seconds=time.monotonic() - began,
    )
