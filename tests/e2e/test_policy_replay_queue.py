"""A stored replay on the job queue (PostgreSQL, docs/POLICY.md "The lab's pages"): the
service queues its plan, two `mynapoint worker` processes plan it and judge its parts side by
side, and the result is the command line's `replay(...)`, tally for tally, with nothing left
on the queue and no grant written."""

from __future__ import annotations

import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine

from event_files import command_environment
from mynapoint.bootstrap import Platform, build_platform
from mynapoint.config import Settings
from mynapoint.db.queue import REPLAY_PLAN_TASK
from mynapoint.db.tables import grant_lines
from mynapoint.domain.calendar import JST
from mynapoint.history.writer import load_history
from mynapoint.rules.candidates import packaged_candidate
from mynapoint.services.clock import FixedClock
from mynapoint.services.policy_replay import ReplayRules, replay
from mynapoint.services.policy_runs import ReplayRequest, start, tally_of

NOW = datetime(2021, 12, 1, 10, 0, tzinfo=JST)
PERSONS = 2_600  # over 2,000 applicants: two parts, judged side by side
PATIENCE_SECONDS = 180  # a limit for a stuck test on a busy machine, not a measure


@pytest.fixture
def queued_platform(postgresql_worker_engine: Engine, tmp_path: Path) -> Iterator[Platform]:
    schema = f"replay_{secrets.token_hex(6)}"
    with postgresql_worker_engine.connect() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    url = postgresql_worker_engine.url.update_query_dict({"options": f"-csearch_path={schema}"})
    settings = Settings(
        database_url=url.render_as_string(hide_password=False),
        var_dir=tmp_path,
        inprocess_worker=False,
    )
    platform = build_platform(settings, clock=FixedClock(NOW))
    try:
        yield platform
    finally:
        platform.engine.dispose()


def _points(platform: Platform) -> int:
    with platform.engine.connect() as connection:
        return int(connection.execute(select(func.sum(grant_lines.c.points))).scalar_one() or 0)


def _queue(platform: Platform, status: str) -> list[str]:
    with platform.engine.connect() as connection:
        found = connection.execute(
            text("SELECT task_name FROM procrastinate_jobs WHERE status = :status"),
            {"status": status},
        )
        return list(found.scalars())


@pytest.mark.postgres
def test_workers_plan_and_judge_a_queued_replay_as_the_command_line_does(
    queued_platform: Platform, tmp_path: Path
) -> None:
    platform = queued_platform
    load_history(platform, 21, PERSONS)
    granted = _points(platform)
    candidate = packaged_candidate("rate-20")
    request = ReplayRequest(candidate, None, None, NOW.date())
    replay_id = start(platform.unit_of_work(), request, "mic-policy", NOW).replay_id
    assert _queue(platform, "todo") == [REPLAY_PLAN_TASK]  # queued with its row, nothing run

    environment = command_environment(platform.settings.database_url, tmp_path, NOW)
    environment |= {"MYNAPOINT_INPROCESS_WORKER": "false"}
    workers = []
    for number in range(2):
        with (tmp_path / f"worker-{number}.log").open("w") as log:
            workers.append(
                subprocess.Popen(
                    [sys.executable, "-m", "mynapoint.cli", "worker"],
                    env=environment,
                    cwd=tmp_path,
                    stdout=subprocess.DEVNULL,
                    stderr=log,
                    text=True,
                )
            )
    try:
        deadline = time.monotonic() + PATIENCE_SECONDS
        while True:
            uow = platform.unit_of_work()
            with uow.reading():
                stored = uow.replays.get(replay_id)
                parts = uow.replays.parts(replay_id)
            assert stored is not None
            if not stored.is_live or time.monotonic() > deadline:
                break
            time.sleep(0.2)
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            worker.communicate(timeout=60)
    logs = "\n".join(path.read_text() for path in sorted(tmp_path.glob("worker-*.log")))
    assert stored.status == "done", (stored, logs[-3000:])
    assert [worker.returncode for worker in workers] == [0, 0]
    assert len(parts) == stored.parts_total >= 2
    rules = ReplayRules(platform.rules, candidate.rules, platform.catalog, None, NOW.date())
    expected = replay(platform.new_reader(), rules)
    assert tally_of(parts).to_json() == expected.to_json()
    assert stored.persons_done == expected.persons > 2_000
    assert _queue(platform, "todo") == _queue(platform, "doing") == []
    assert _points(platform) == granted  # a replay writes no grant
