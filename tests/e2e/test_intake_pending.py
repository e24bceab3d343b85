"""An ingest killed between storing a file's events and evaluating them is finished later.

Intake stores every batch of a file with a marker of its persons, then evaluates those
persons once each. Here a real process is killed (SIGKILL) exactly between the two
phases: every event is stored, nothing is evaluated, the markers are left. Running the
same file again, or any other file, evaluates the persons left behind, and the ledger is
the one a clean run gives (on SQLite and PostgreSQL).
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine

from event_files import (
    Crowd,
    EventMix,
    command_environment,
    read_grants_and_events,
    shuffled_event_lines,
    write_event_file,
)
from ledger_setup import PidLoggingFactory, link_person
from mynapoint.bootstrap import build_platform
from mynapoint.config import Settings
from mynapoint.db.engine import create_engine_for, sqlite_url
from mynapoint.db.tables import grant_instructions, pending_evaluations, spending_events
from mynapoint.domain.calendar import JST
from mynapoint.ingest.event_rows import CSV_HEADER
from mynapoint.services import ledger
from mynapoint.services.clock import FixedClock
from mynapoint.services.ledger import EVALUATION_CHUNK, Workers, evaluate_pending

NOW = datetime(2021, 12, 1, 10, 0, tzinfo=JST)
APPLIED = datetime(2021, 5, 10, 10, 0, tzinfo=JST)
PERSONS = 40
LATE_PERSONS = 5  # only in the second file
EVENTS_PER_PERSON = 8
BATCH = 50  # lines per batch in the killed run, so each person's events span batches

Ledger = tuple[dict[tuple[str, str, str], int], frozenset[tuple[str, str | None]]]

# Loads a file as `mynapoint ingest` does, but dies (SIGKILL) where the evaluation starts.
KILLED_BETWEEN_PHASES = """
import os, signal, sys
from pathlib import Path
import mynapoint.ingest.files as files
from mynapoint.bootstrap import build_platform
from mynapoint.config import Settings

files.FILE_BATCH = int(sys.argv[4])
files.evaluate_pending = lambda *args, **kwargs: os.kill(os.getpid(), signal.SIGKILL)
platform = build_platform(Settings(database_url=sys.argv[1], var_dir=Path(sys.argv[2])))
with open(sys.argv[3], "rb") as stream:
    files.load_events(
        platform.unit_of_work, "paypay", stream, "events.csv", platform.rules,
        platform.catalog, platform.clock.now, print,
    )
"""


CROWD = Crowd("pending", 6_000_000_000_000_000)
# Charges, purchases (not counted) and refunds, shuffled: some refunds come first.
MIX = EventMix(
    per_person=EVENTS_PER_PERSON,
    start=datetime(2021, 5, 1, 0, 0, tzinfo=JST),
    days=150,
    refunds=0.2,
    not_counted=0.3,
    amounts=(500, 6000),
    id_digits=1,
)


def write_events(path: Path, numbers: range, seed: int) -> int:
    """The crowd's file for `numbers`; how many lines it holds."""
    lines = shuffled_event_lines(CROWD, numbers, MIX, letter="p", seed=seed)
    write_event_file(path, lines)
    return len(lines)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def fresh_database(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    """Makes a new, migrated database with everyone linked; returns its URL."""

    def link_everyone(database_url: str) -> str:
        CROWD.link(
            database_url, tmp_path, range(PERSONS + LATE_PERSONS), applied_at=APPLIED, now=NOW
        )
        return database_url

    if request.param == "sqlite":
        return lambda: link_everyone(sqlite_url(tmp_path / f"{secrets.token_hex(6)}.db"))
    worker_engine: Engine = request.getfixturevalue("postgresql_worker_engine")

    def make_postgresql() -> str:
        schema = f"pending_{secrets.token_hex(6)}"
        with worker_engine.connect() as connection:
            connection.execute(text(f"CREATE SCHEMA {schema}"))
        url = worker_engine.url.update_query_dict({"options": f"-csearch_path={schema}"})
        return link_everyone(url.render_as_string(hide_password=False))

    return make_postgresql


def kill_between_phases(database_url: str, file: Path, var_dir: Path) -> None:
    arguments = [database_url, str(var_dir), str(file), str(BATCH)]
    process = subprocess.run(  # noqa: S603 - our own script, with this Python
        [sys.executable, "-c", KILLED_BETWEEN_PHASES, *arguments],
        env=command_environment(database_url, var_dir, NOW),
        cwd=var_dir,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert process.returncode == -signal.SIGKILL, process.stderr


def ingest(database_url: str, file: Path, var_dir: Path) -> str:
    process = subprocess.run(  # noqa: S603 - our own command line, with this Python
        [sys.executable, "-m", "mynapoint.cli", "ingest", str(file), "--operator", "paypay"],
        env=command_environment(database_url, var_dir, NOW),
        cwd=var_dir,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert process.returncode == 0, process.stderr
    return process.stdout


def counts(database_url: str) -> tuple[int, int, int]:
    """(stored events, markers, grant instructions)."""
    engine = create_engine_for(database_url)
    try:
        with engine.connect() as connection:
            return tuple(  # type: ignore[return-value]
                connection.execute(select(func.count()).select_from(table)).scalar_one()
                for table in (spending_events, pending_evaluations, grant_instructions)
            )
    finally:
        engine.dispose()


def read_ledger(database_url: str) -> Ledger:
    """Points per (person, source, measure), and each event with its reason."""
    everyone = CROWD.persons(range(PERSONS + LATE_PERSONS))
    lines, events = read_grants_and_events(database_url, everyone)
    points: dict[tuple[str, str, str], int] = defaultdict(int)
    for holder, held in lines.items():
        for source, measure, amount in held:
            points[holder, source, measure] += amount
    return {key: amount for key, amount in points.items() if amount}, events


def test_the_same_file_again_evaluates_what_a_killed_run_left_pending(fresh_database, tmp_path):
    file = tmp_path / "events.csv"
    lines = write_events(file, range(PERSONS), seed=1)
    clean = fresh_database()
    assert f"{lines} accepted, 0 duplicates, 0 rejected" in ingest(clean, file, tmp_path)
    expected = read_ledger(clean)
    assert expected[0]
    assert counts(clean)[:2] == (lines, 0)

    killed = fresh_database()
    kill_between_phases(killed, file, tmp_path)
    # Every batch is stored with its marker; no person has been evaluated.
    stored, markers, instructions = counts(killed)
    assert (stored, instructions) == (lines, 0)
    assert markers == -(-lines // BATCH)

    assert f"0 accepted, {lines} duplicates, 0 rejected" in ingest(killed, file, tmp_path)
    assert counts(killed)[1] == 0
    assert read_ledger(killed) == expected


def test_any_later_file_evaluates_what_a_killed_run_left_pending(fresh_database, tmp_path):
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    write_events(first, range(PERSONS), seed=2)
    late = write_events(second, range(PERSONS, PERSONS + LATE_PERSONS), seed=3)
    clean = fresh_database()
    ingest(clean, first, tmp_path)
    ingest(clean, second, tmp_path)

    killed = fresh_database()
    kill_between_phases(killed, first, tmp_path)
    assert f"{late} accepted, 0 duplicates, 0 rejected" in ingest(killed, second, tmp_path)
    assert counts(killed)[1] == 0
    assert read_ledger(killed) == read_ledger(clean)


def test_worker_processes_evaluate_what_was_left_pending(fresh_database, tmp_path):
    """`mynapoint ingest` on PostgreSQL evaluates a big file's persons in worker processes,
    chunk by chunk; the ledger is the one a single process gives."""
    file = tmp_path / "events.csv"
    write_events(file, range(PERSONS), seed=4)
    clean = fresh_database()
    ingest(clean, file, tmp_path)
    expected = read_ledger(clean)

    killed = fresh_database()
    kill_between_phases(killed, file, tmp_path)
    platform = build_platform(
        Settings(database_url=killed, var_dir=tmp_path), clock=FixedClock(NOW)
    )
    try:
        with platform.evaluation_workers() as workers:
            if platform.engine.dialect.name == "sqlite":
                # One writer at a time: no process would gain anything.
                assert workers is None
                return
            assert workers is not None
            log = tmp_path / "pids.txt"
            evaluated = evaluate_pending(
                platform.unit_of_work,
                platform.rules,
                platform.catalog,
                NOW,
                chunk=7,  # six chunks for the 40 persons
                processes=Workers(workers.pool, PidLoggingFactory(killed, str(log))),
            )
    finally:
        platform.engine.dispose()
    assert evaluated == PERSONS
    chunks_run_by = log.read_text(encoding="utf-8").split()
    assert len(chunks_run_by) == -(-PERSONS // 7)
    assert str(os.getpid()) not in chunks_run_by
    assert counts(killed)[1] == 0
    assert read_ledger(killed) == expected


def test_persons_read_and_judged_a_few_at_a_time_get_the_ledger_of_one_read(
    fresh_database, tmp_path, monkeypatch
):
    """reevaluate reads and judges a chunk's persons REEVALUATE_BATCH at a time (memory,
    issue 14 item 4), in the chunk's one transaction: the ledger is the one a single read
    of the whole chunk gives."""
    file = tmp_path / "events.csv"
    write_events(file, range(PERSONS), seed=5)
    clean = fresh_database()
    ingest(clean, file, tmp_path)
    expected = read_ledger(clean)
    assert expected

    killed = fresh_database()
    kill_between_phases(killed, file, tmp_path)
    monkeypatch.setattr(ledger, "REEVALUATE_BATCH", 3)
    platform = build_platform(
        Settings(database_url=killed, var_dir=tmp_path), clock=FixedClock(NOW)
    )
    try:
        evaluated = evaluate_pending(
            platform.unit_of_work, platform.rules, platform.catalog, NOW, chunk=16
        )
    finally:
        platform.engine.dispose()
    assert evaluated == PERSONS
    assert counts(killed)[1] == 0
    assert read_ledger(killed) == expected


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_mynapoint_ingest_evaluates_a_big_file_in_worker_processes(database_url, tmp_path):
    """More persons than one evaluation chunk: the command spawns its worker processes (as
    `mynapoint ingest` does for an operator's daily file) and every person is granted."""
    persons = EVALUATION_CHUNK + 100
    platform = build_platform(
        Settings(database_url=database_url, var_dir=tmp_path), clock=FixedClock(NOW)
    )
    try:
        for number in range(persons):
            link_person(
                platform.unit_of_work(),
                person=f"big-{number:05d}",
                payment_service_id=CROWD.payment_service_id(number),
                applied_at=APPLIED,
            )
    finally:
        platform.engine.dispose()
    file = tmp_path / "events.csv"
    file.write_text(
        ",".join(CSV_HEADER)
        + "\n"
        + "".join(
            f"big-{number}-1,paypay,{CROWD.payment_service_id(number)},charge,4000,"
            "2021-07-19T10:00:00+09:00,\n"
            for number in range(persons)
        ),
        encoding="utf-8",
    )

    assert f"{persons} accepted, 0 duplicates, 0 rejected" in ingest(database_url, file, tmp_path)

    engine = create_engine_for(database_url)
    try:
        with engine.connect() as connection:
            granted = connection.execute(
                select(func.count(), func.sum(grant_instructions.c.points))
            ).one()
            markers = connection.execute(
                select(func.count()).select_from(pending_evaluations)
            ).scalar_one()
    finally:
        engine.dispose()
    # 25 % of 4,000 yen for each person, one instruction each; nothing left pending.
    assert tuple(granted) == (persons, persons * 1_000)
    assert markers == 0
