"""The policy lab's stored replays (services/policy_runs.py) on SQLite and PostgreSQL: a
replay started through the service and run in the serving process equals the command line's
`replay(...)`, tally for tally; its parts' bounds cover every applicant exactly once; it
writes no grant; a failing part fails the replay with its reason."""

from __future__ import annotations

import itertools
from datetime import date, datetime
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select

from mynapoint.bootstrap import build_platform
from mynapoint.config import Settings
from mynapoint.db.tables import applications, grant_instructions, grant_lines
from mynapoint.domain.calendar import JST
from mynapoint.history.writer import load_history
from mynapoint.jobs.recovery import recover
from mynapoint.jobs.replays import run_replay
from mynapoint.rules.candidates import in_force, packaged_candidate
from mynapoint.services import policy_runs
from mynapoint.services.clock import FixedClock
from mynapoint.services.policy_replay import ReplayRules, replay, replay_document
from mynapoint.services.policy_runs import (
    ReplayRequest,
    plan,
    result,
    run_part,
    start,
    tally_of,
)

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from mynapoint.bootstrap import Platform
    from mynapoint.rules.candidates import Candidate

NOW = datetime(2023, 10, 15, 10, 0, tzinfo=JST)
ON = NOW.date()


@pytest.fixture
def platform(database_url: str, tmp_path: Path) -> Iterator[Platform]:
    settings = Settings(database_url=database_url, var_dir=tmp_path, inprocess_worker=False)
    platform = build_platform(settings, clock=FixedClock(NOW))
    try:
        yield platform
    finally:
        platform.engine.dispose()


def started(
    platform: Platform,
    candidate: Candidate,
    sample: float | None = None,
    as_of: date | None = None,
) -> str:
    request = ReplayRequest(candidate, as_of, sample, as_of or ON)
    return start(platform.unit_of_work(), request, "mic-policy", NOW).replay_id


def grant_rows(platform: Platform) -> tuple[int, int]:
    with platform.engine.connect() as connection:
        instructed = connection.execute(select(func.count()).select_from(grant_instructions))
        lines = connection.execute(select(func.count()).select_from(grant_lines))
        return int(instructed.scalar_one()), int(lines.scalar_one())


def all_applicants(platform: Platform) -> list[str]:
    with platform.engine.connect() as connection:
        query = select(applications.c.person).distinct().order_by(applications.c.person)
        return list(connection.execute(query).scalars())


@pytest.mark.parametrize(
    ("sample", "as_of"), [(None, None), (40.0, None), (None, date(2021, 9, 1))]
)
def test_a_stored_replay_equals_the_command_lines_replay_tally_for_tally(
    platform: Platform, sample: float | None, as_of: date | None
) -> None:
    load_history(platform, 7, 160)
    candidate = packaged_candidate("rate-20")
    before = grant_rows(platform)
    replay_id = started(platform, candidate, sample, as_of)

    plan(platform.unit_of_work, replay_id, platform.clock.now, chunk=25)
    run_replay(platform, replay_id)

    fraction = 1.0 if sample is None else sample / 100
    rules = ReplayRules(platform.rules, candidate.rules, platform.catalog, as_of, as_of or ON)
    expected = replay(platform.new_reader(), rules, fraction)
    uow = platform.unit_of_work()
    with uow.reading():
        stored = uow.replays.get(replay_id)
        parts = uow.replays.parts(replay_id)
    assert stored is not None
    assert stored.status == "done"
    assert stored.finished_at == NOW
    assert len(parts) == stored.parts_total > 1
    assert tally_of(parts).to_json() == expected.to_json()
    assert stored.persons_done == stored.persons_expected == expected.persons > 0
    document = replay_document(expected, fraction, "rate-20.yaml", as_of, as_of or ON)
    assert result(platform.unit_of_work(), replay_id) == document
    assert grant_rows(platform) == before  # a replay writes no grant


@pytest.mark.parametrize("sample", [None, 10.0])
def test_the_parts_bounds_cover_every_applicant_exactly_once(
    platform: Platform, sample: float | None
) -> None:
    load_history(platform, 11, 120)
    replay_id = started(platform, in_force(), sample)

    numbers = plan(platform.unit_of_work, replay_id, platform.clock.now, chunk=7)

    uow = platform.unit_of_work()
    with uow.reading():
        parts = uow.replays.parts(replay_id)
        stored = uow.replays.get(replay_id)
        covered = [
            person
            for part in parts
            for person in uow.applications.applicants_through(
                part.after_person, part.last_person, 10**6
            )
        ]
    assert numbers == [part.part for part in parts] == list(range(len(parts)))
    assert covered == all_applicants(platform)
    assert parts[0].after_person is None
    for previous, following in itertools.pairwise(parts):
        assert following.after_person == previous.last_person
    assert all(part.persons > 0 for part in parts)
    assert stored is not None
    assert stored.status == "running"
    assert stored.persons_expected == sum(part.persons for part in parts)
    # Planned once: a second plan (a job run again) queues nothing more.
    assert plan(platform.unit_of_work, replay_id, platform.clock.now, chunk=7) == []


def test_a_replay_without_applicants_is_done_at_once(platform: Platform) -> None:
    replay_id = started(platform, in_force())

    run_replay(platform, replay_id)

    uow = platform.unit_of_work()
    with uow.reading():
        stored = uow.replays.get(replay_id)
    assert stored is not None
    assert (stored.status, stored.parts_total, stored.persons_done) == ("done", 0, 0)
    document = result(platform.unit_of_work(), replay_id)
    assert document is not None
    assert document["persons_judged"] == 0


def test_a_failing_part_fails_the_replay_with_its_reason(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_history(platform, 3, 40)
    replay_id = started(platform, in_force())

    def broken(*_: object) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(policy_runs, "replay_chunk", broken)
    run_replay(platform, replay_id)

    uow = platform.unit_of_work()
    with uow.reading():
        stored = uow.replays.get(replay_id)
    assert stored is not None
    assert stored.status == "failed"
    assert (
        stored.error == "part 0 stopped on an internal error (RuntimeError): the database went away"
    )
    assert stored.finished_at == NOW


def test_a_server_starting_runs_the_replays_a_stopped_one_left_unfinished(
    platform: Platform,
) -> None:
    load_history(platform, 5, 60)
    first = started(platform, in_force())
    plan(platform.unit_of_work, first, platform.clock.now, chunk=10)
    run_part(
        platform.unit_of_work, platform.rules, platform.catalog, first, 0, platform.clock.now
    )  # then the server stopped
    second = started(platform, packaged_candidate("rate-20"))  # never planned

    recover(platform, None)

    uow = platform.unit_of_work()
    with uow.reading():
        stored = [uow.replays.get(replay_id) for replay_id in (first, second)]
        assert uow.replays.live() == []
    for ended in stored:
        assert ended is not None
        assert ended.status == "done"
        assert ended.persons_done == ended.persons_expected > 0
