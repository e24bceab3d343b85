"""`mynapoint ingest` killed (SIGKILL) at random moments, then run again, ends as a clean run.

The file holds 12,000 events for 300 people, so it is loaded in three
transactions (ingest.files.FILE_BATCH is 5,000). Each cycle loads it into a
fresh database as a real subprocess, kills the process after a random time
(spread over the length of a clean run), checks that only whole batches were
kept, runs the command again to completion and compares the ledger (points per
person and measure and per source, the stored events and their reasons) with
that of a clean run on another fresh database.
"""

from __future__ import annotations

import random
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine

from event_files import (
    Crowd,
    command_environment,
    read_grants_and_events,
    shuffled_event_lines,
    two_hundred_days,
    write_event_file,
)
from mynapoint.db.engine import create_engine_for, sqlite_url
from mynapoint.db.tables import spending_events
from mynapoint.domain.calendar import JST
from mynapoint.ingest.files import FILE_BATCH

NOW = datetime(2021, 12, 1, 10, 0, tzinfo=JST)
APPLIED = datetime(2021, 5, 10, 10, 0, tzinfo=JST)
PERSONS = 300
EVENTS_PER_PERSON = 40
EVENTS = PERSONS * EVENTS_PER_PERSON
KILLS_PER_DATABASE = 5  # two databases: ten kill/re-run cycles in all


CROWD = Crowd("crash", 7_000_000_000_000_000)
# Charges (some before the application), purchases that do not count, and refunds.
MIX = two_hundred_days(EVENTS_PER_PERSON)


def link_everyone(database_url: str, var_dir: Path) -> None:
    CROWD.link(database_url, var_dir, range(PERSONS), applied_at=APPLIED, now=NOW)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def fresh_database(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    """Makes a new, migrated database with the 300 linked people; returns its URL."""
    if request.param == "sqlite":
        template = tmp_path / "template.db"
        link_everyone(sqlite_url(template), tmp_path)
        # The engine is disposed: the write-ahead log has been folded into the file.
        assert not template.with_name("template.db-wal").exists()

        def make_sqlite() -> str:
            copy = tmp_path / f"{secrets.token_hex(6)}.db"
            shutil.copyfile(template, copy)
            return sqlite_url(copy)

        return make_sqlite
    worker_engine: Engine = request.getfixturevalue("postgresql_worker_engine")

    def make_postgresql() -> str:
        schema = f"crash_{secrets.token_hex(6)}"
        with worker_engine.connect() as connection:
            connection.execute(text(f"CREATE SCHEMA {schema}"))
        url = worker_engine.url.update_query_dict({"options": f"-csearch_path={schema}"})
        database_url = url.render_as_string(hide_password=False)
        link_everyone(database_url, tmp_path)
        return database_url

    return make_postgresql


@dataclass(frozen=True)
class Ledger:
    by_measure: dict[tuple[str, str], int]  # (person, measure) -> points
    by_source: dict[tuple[str, str, str], int]  # (person, source, measure) -> points
    events: frozenset[tuple[str, str | None]]  # (event_id, reason it earns nothing)


def read_ledger(database_url: str) -> Ledger:
    lines, events = read_grants_and_events(database_url, CROWD.persons(range(PERSONS)))
    by_measure: dict[tuple[str, str], int] = defaultdict(int)
    by_source: dict[tuple[str, str, str], int] = defaultdict(int)
    for holder, person_lines in lines.items():
        for source, measure, points in person_lines:
            by_measure[holder, measure] += points
            by_source[holder, source, measure] += points
    return Ledger(
        {key: points for key, points in by_measure.items() if points},
        {key: points for key, points in by_source.items() if points},
        events,
    )


def stored_events(database_url: str) -> int:
    engine = create_engine_for(database_url)
    try:
        with engine.connect() as connection:
            return connection.execute(
                select(func.count()).select_from(spending_events)
            ).scalar_one()
    finally:
        engine.dispose()


def start_ingest(database_url: str, file: Path, var_dir: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(  # noqa: S603 - our own command line, with this Python
        [sys.executable, "-m", "mynapoint.cli", "ingest", str(file), "--operator", "paypay"],
        env=command_environment(database_url, var_dir, NOW),
        cwd=var_dir,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def ingest_to_completion(database_url: str, file: Path, var_dir: Path) -> str:
    process = start_ingest(database_url, file, var_dir)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    return stdout


def counts(summary: str) -> tuple[int, int]:
    """(accepted, duplicates) from the command's last line; nothing may be rejected."""
    found = re.search(rf"{EVENTS + 1} lines, (\d+) accepted, (\d+) duplicates, 0 rejected", summary)
    assert found is not None, summary
    return int(found[1]), int(found[2])


def test_a_killed_ingest_run_again_leaves_the_ledger_of_a_clean_run(fresh_database, tmp_path):
    file = write_event_file(
        tmp_path / "events.csv",
        shuffled_event_lines(CROWD, range(PERSONS), MIX, letter="c", seed=12_000),
    )
    clean_url = fresh_database()
    started = time.monotonic()
    assert counts(ingest_to_completion(clean_url, file, tmp_path)) == (EVENTS, 0)
    full_run = time.monotonic() - started
    clean = read_ledger(clean_url)
    assert len(clean.events) == EVENTS
    assert sum(clean.by_measure.values()) > 0

    draw = random.Random()  # noqa: S311 - kill moments, not secrets
    kills: list[tuple[float, int]] = []  # (seconds after the start, events kept)
    for cycle in range(KILLS_PER_DATABASE):
        for _attempt in range(4):
            # One kill in each fifth of a clean run's length, which is the shortest run seen:
            # a run that beats its kill (the machine got less busy) shortens it for the retry.
            stratum = (full_run - 0.2) / KILLS_PER_DATABASE
            delay = 0.2 + stratum * (cycle + draw.random())
            url = fresh_database()
            began = time.monotonic()
            process = start_ingest(url, file, tmp_path)
            try:
                process.wait(timeout=delay)
            except subprocess.TimeoutExpired:
                process.send_signal(signal.SIGKILL)
            else:
                full_run = min(full_run, time.monotonic() - began)
            _, errors = process.communicate(timeout=60)
            killed = process.returncode == -signal.SIGKILL
            assert killed or process.returncode == 0, errors
            kept = stored_events(url)
            if killed:
                # A batch is one transaction: it is there whole or not at all.
                assert kept in {0, FILE_BATCH, 2 * FILE_BATCH, EVENTS}, (delay, kept)
            accepted, duplicates = counts(ingest_to_completion(url, file, tmp_path))
            # What the killed run committed comes back as duplicates. (Not compared with
            # `kept`: on PostgreSQL a commit the killed client had sent may land after it.)
            assert accepted + duplicates == EVENTS
            assert duplicates in {0, FILE_BATCH, 2 * FILE_BATCH, EVENTS}, (delay, duplicates)
            assert read_ledger(url) == clean, (delay, kept)
            if killed:
                kills.append((round(delay, 2), kept))
                break
    assert len(kills) == KILLS_PER_DATABASE, kills
