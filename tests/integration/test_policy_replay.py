"""The policy lab's replay on a database (SQLite and PostgreSQL): the rules in force reproduce
the recorded grants exactly, on generated histories and on hand-made ones; a rate of 20 %
instead of 25 % moves the points of persons below the cap by exactly a fifth; a replay writes
nothing; a cut at --as-of and a sample behave as documented."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select

from ledger_setup import link_person
from mynapoint.bootstrap import build_platform
from mynapoint.config import Settings
from mynapoint.db.tables import applications, grant_instructions, grant_lines
from mynapoint.domain.calendar import JST
from mynapoint.domain.measures import EventKind
from mynapoint.domain.replay_tally import ALL, AT_CAP, MEASURE, SERVICE, Tally
from mynapoint.history.writer import load_history
from mynapoint.rules.candidates import candidate_from_text, in_force
from mynapoint.rules.loader import load_catalog
from mynapoint.services.clock import FixedClock
from mynapoint.services.intake import EventRow, store
from mynapoint.services.ledger import reevaluate
from mynapoint.services.policy_replay import ReplayRules, estimates, replay

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from mynapoint.bootstrap import Platform
    from mynapoint.domain.campaigns import CampaignRules

NOW = datetime(2023, 10, 15, 10, 0, tzinfo=JST)
APPLIED = datetime(2021, 5, 10, 10, 0, tzinfo=JST)
HOUR = timedelta(hours=1)


@pytest.fixture
def platform(database_url: str, tmp_path: Path) -> Iterator[Platform]:
    settings = Settings(database_url=database_url, var_dir=tmp_path, inprocess_worker=False)
    platform = build_platform(settings, clock=FixedClock(NOW))
    try:
        yield platform
    finally:
        platform.engine.dispose()


def rate_20() -> ReplayRules:
    text = in_force().text.replace("rate_percent: 25", "rate_percent: 20")
    return rules_of(candidate_from_text(text, "rate-20.yaml").rules)


def rules_of(candidate: CampaignRules | None = None, as_of: date | None = None) -> ReplayRules:
    force = in_force().rules
    return ReplayRules(force, candidate or force, load_catalog(), as_of, NOW.date())


def recorded_points(platform: Platform) -> int:
    with platform.engine.connect() as connection:
        return int(connection.execute(select(func.sum(grant_lines.c.points))).scalar_one() or 0)


def instructions(platform: Platform) -> int:
    with platform.engine.connect() as connection:
        query = select(func.count()).select_from(grant_instructions)
        return int(connection.execute(query).scalar_one())


def charged(platform: Platform, amounts: list[int]) -> str:
    """A phase-1 applicant (PayPay, counting charges) with these charges on June 1, 2, …
    2021 at noon, each reported an hour later, and the grants the engine gave them."""
    person, account = link_person(platform.unit_of_work(), applied_at=APPLIED)
    for n, amount in enumerate(amounts):
        at = datetime(2021, 6, n + 1, 12, 0, tzinfo=JST)
        row = EventRow(f"{person}-{n}", "paypay", account, EventKind.CHARGE, amount, at)
        store(platform.unit_of_work(), "paypay", [(n, row)], platform.catalog, at + HOUR)
    uow = platform.unit_of_work()
    with uow:
        reevaluate(uow, [person], platform.rules, platform.catalog, NOW)
        uow.commit()
    return person


def same_everywhere(tally: Tally) -> None:
    for (dimension, key), line in tally.lines.items():
        assert (line.actual_points, line.actual_persons) == (
            line.candidate_points,
            line.candidate_persons,
        ), (dimension, key)


@pytest.mark.parametrize("seed", [3, 19])
def test_the_rules_in_force_reproduce_a_generated_history_exactly(
    platform: Platform, seed: int
) -> None:
    loaded = load_history(platform, seed, 120)
    assert loaded.written == 120
    written = instructions(platform)

    tally = replay(platform.new_reader(), rules_of())

    with platform.engine.connect() as connection:
        applicants = connection.execute(select(func.count(applications.c.person.distinct())))
        assert tally.persons == applicants.scalar_one() > 50  # everyone who applied
    assert tally.mismatched == 0
    same_everywhere(tally)
    assert tally.line(ALL, ALL).actual_points == recorded_points(platform) > 0
    assert instructions(platform) == written  # read-only


def test_a_rate_of_20_instead_of_25_takes_a_fifth_below_the_cap_and_nothing_at_it(
    platform: Platform,
) -> None:
    # Amounts in multiples of 20: 25 % and 20 % of each are whole yen, whatever the rounding.
    below = [charged(platform, amounts) for amounts in ([1_000, 2_000], [4_000], [19_980])]
    capped = charged(platform, [30_000])  # 7,500 at 25 %, 6,000 at 20 %: 5,000 either way
    assert len(below) == 3
    assert capped not in below

    tally = replay(platform.new_reader(), rate_20())

    total = tally.line(ALL, ALL)
    assert total.actual_points == 750 + 1_000 + 4_995 + 5_000
    assert total.candidate_points == total.actual_points - (750 + 1_000 + 4_995) // 5
    assert tally.line(MEASURE, "phase1").candidate_points == 600 + 800 + 3_996 + 5_000
    assert tally.line(SERVICE, "paypay").persons == 4
    cap = tally.line(AT_CAP, ALL)
    assert (cap.persons, cap.actual_persons, cap.candidate_persons) == (4, 1, 1)
    assert tally.mismatched == 0


def test_a_cut_replays_what_was_recorded_by_then_under_the_rules_announced_by_then(
    platform: Platform,
) -> None:
    charged(platform, [1_000, 2_000, 4_000])  # charged on June 1, 2 and 3

    tally = replay(platform.new_reader(), rules_of(as_of=date(2021, 6, 2)))

    # The charge of June 3 was not yet made; no record is compared (actual is the verdict).
    assert tally.line(ALL, ALL).actual_points == 750
    same_everywhere(tally)


def test_a_sample_judges_the_same_persons_each_time_and_estimates_with_a_margin(
    platform: Platform,
) -> None:
    load_history(platform, 5, 200)
    whole = replay(platform.new_reader(), rate_20())

    first = replay(platform.new_reader(), rate_20(), 0.5)
    again = replay(platform.new_reader(), rate_20(), 0.5)

    assert first.to_json() == again.to_json()
    assert 0 < first.persons < whole.persons
    found = estimates(first, 0.5)
    assert found.candidate.margin > 0
    assert found.persons.value == round(first.persons / 0.5)
    exact = estimates(whole, 1.0)
    assert exact.difference.margin == 0
    assert exact.difference.value == (
        whole.line(ALL, ALL).candidate_points - whole.line(ALL, ALL).actual_points
    )


def test_worker_processes_give_the_tally_one_process_gives(platform: Platform) -> None:
    load_history(platform, 9, 150)
    alone = replay(platform.new_reader(), rate_20(), chunk=40)
    with platform.replay_pool(2) as (pool, workers):
        shared = replay(platform.new_reader(), rate_20(), pool=pool, workers=workers, chunk=40)
    assert shared.to_json() == alone.to_json()
