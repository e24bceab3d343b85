"""`mynapoint card issue --municipality` and `mynapoint stats refresh`: the ward reaches the
statistics; a refresh says as of when, incremental after the first, full when asked."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from mynapoint.bootstrap import build_platform
from mynapoint.cli import app
from mynapoint.config import Settings
from mynapoint.db.tables import cardholders, platform_persons
from mynapoint.domain.statistics import Dimension, Metric
from mynapoint.services.mykey import ensure_mykey, holder_of

if TYPE_CHECKING:
    from pathlib import Path

    from typer.testing import Result

CLOCK_START = "2021-07-19T10:00:00+09:00"
EXIT_USAGE = 2


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        "MYNAPOINT_DATABASE_URL": database_url,
        "MYNAPOINT_VAR_DIR": str(tmp_path),
        "MYNAPOINT_CLOCK_START": CLOCK_START,
    }


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(app, list(args), env=env)


def test_a_card_s_ward_is_counted_in_the_statistics_per_ward(
    env: dict[str, str], tmp_path: Path, database_url: str
) -> None:
    issued = [
        run(env, "card", "issue", "--out", str(tmp_path / "a.json"), "--pin", "1234",
            "--municipality", "401331"),
        run(env, "card", "issue", "--out", str(tmp_path / "b.json"), "--pin", "1234"),
    ]  # fmt: skip
    assert [result.exit_code for result in issued] == [0, 0]
    settings = Settings(database_url=database_url, var_dir=tmp_path, clock_start=CLOCK_START)
    platform = build_platform(settings)
    try:
        for result in issued:
            facts = platform.authority.facts(result.stdout.strip())
            assert facts is not None
            ensure_mykey(
                platform.unit_of_work(),
                facts.person,
                platform.clock.now(),
                platform.rules,
                holder=holder_of(platform.authority, facts.serial),
            )
        first = run(env, "stats", "refresh")
        assert first.exit_code == 0, first.stderr
        assert "statistics as of 2021-07-19T10:" in first.stdout
        assert "full refresh" in first.stdout
        figures = platform.statistics.figures(Metric.MYKEYS, (Dimension.MUNICIPALITY,))
        assert {f.keys[0]: f.count for f in figures} == {"401331": 1, "unknown": 1}
        again = run(env, "stats", "refresh")
        assert "incremental refresh" in again.stdout
        assert "full refresh" in run(env, "stats", "refresh", "--full").stdout
    finally:
        platform.engine.dispose()


@pytest.mark.parametrize("code", ["401332", "123456", "fukuoka"])
def test_an_unknown_municipality_is_refused_before_any_card_is_issued(
    env: dict[str, str], tmp_path: Path, code: str
) -> None:
    out = tmp_path / "c.json"
    result = run(env, "card", "issue", "--out", str(out), "--pin", "1234", "--municipality", code)
    assert result.exit_code == EXIT_USAGE
    assert f"municipality '{code}' is not a code the platform knows" in result.stderr
    assert "401331 (福岡市中央区)" in result.stderr
    assert not out.exists()


def test_the_statistics_count_by_the_platform_s_copy_taken_at_mykey_set_up(
    env: dict[str, str], tmp_path: Path, database_url: str
) -> None:
    """The platform keeps the ward the card authority answered when the MyKey ID was set up
    (platform_persons), and counts by it: a later move on the authority's register changes
    nothing there until the person sets up or applies again."""
    issued = run(env, "card", "issue", "--out", str(tmp_path / "a.json"), "--pin", "1234",
                 "--municipality", "401331")  # fmt: skip
    assert issued.exit_code == 0, issued.stderr
    settings = Settings(database_url=database_url, var_dir=tmp_path, clock_start=CLOCK_START)
    platform = build_platform(settings)
    try:
        facts = platform.authority.facts(issued.stdout.strip())
        assert facts is not None
        assert facts.municipality == "401331"
        now = platform.clock.now()
        holder = holder_of(platform.authority, facts.serial)
        ensure_mykey(platform.unit_of_work(), facts.person, now, platform.rules, holder=holder)
        with platform.engine.begin() as connection:
            kept = connection.execute(
                select(platform_persons.c.municipality).where(
                    platform_persons.c.person == facts.person
                )
            ).scalar_one()
            connection.execute(
                update(cardholders)
                .where(cardholders.c.anchor == facts.person)
                .values(municipality="401323")
            )
        assert kept == "401331"
        assert run(env, "stats", "refresh", "--full").exit_code == 0
        figures = platform.statistics.figures(Metric.MYKEYS, (Dimension.MUNICIPALITY,))
        assert {f.keys[0]: f.count for f in figures} == {"401331": 1}
    finally:
        platform.engine.dispose()
