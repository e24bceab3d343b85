"""`mynapoint policy replay` on a generated history (both databases): the JSON document, the
tables with the candidate's differences, a sample's margins, and clear refusals."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from mynapoint.bootstrap import build_platform
from mynapoint.cli import app
from mynapoint.config import Settings
from mynapoint.db.tables import applications, grant_instructions, grant_lines
from mynapoint.demo import seed_generated_history

if TYPE_CHECKING:
    from pathlib import Path

    from typer.testing import Result

CLOCK_START = "2021-07-19T10:00:00+09:00"
EXIT_USAGE = 2


@pytest.fixture
def history(database_url: str, tmp_path: Path) -> tuple[dict[str, str], dict[str, int]]:
    """The environment of a database holding a generated history of 200 persons, and what it
    holds: applicants, recorded points, grant instructions."""
    settings = Settings(
        database_url=database_url,
        var_dir=tmp_path,
        clock_start=CLOCK_START,
        demo_history_persons=200,
        demo_history_seed=8,
    )
    platform = build_platform(settings)
    try:
        assert seed_generated_history(platform).written == 200
        with platform.engine.connect() as connection:
            held = {
                "applicants": connection.execute(
                    select(func.count(applications.c.person.distinct()))
                ).scalar_one(),
                "points": connection.execute(select(func.sum(grant_lines.c.points))).scalar_one(),
                "instructions": connection.execute(
                    select(func.count()).select_from(grant_instructions)
                ).scalar_one(),
            }
    finally:
        platform.engine.dispose()
    env = {
        "MYNAPOINT_DATABASE_URL": database_url,
        "MYNAPOINT_VAR_DIR": str(tmp_path),
        "MYNAPOINT_CLOCK_START": CLOCK_START,
    }
    return env, held


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(app, ["policy", "replay", *args], env=env)


def test_the_json_document_compares_the_record_with_the_candidate(history) -> None:
    env, held = history

    result = run(env, "--rules", "rate-20", "--processes", "1", "--json")

    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["rules"] == "rate-20.yaml"
    assert document["persons_judged"] == held["applicants"]
    assert document["mismatched"] == 0
    estimates = document["estimates"]
    assert estimates["actual_points"] == {"value": held["points"], "margin": 0}
    assert estimates["difference"]["value"] < 0  # a fifth less, below the cap
    assert estimates["candidate_points"]["value"] == (
        held["points"] + estimates["difference"]["value"]
    )
    assert [change["rule"] for change in document["changes"]] == ["rate_percent"] * 2
    assert set(document["breakdowns"]) == {"measure", "service", "age", "ward", "points",
                                           "at_cap"}  # fmt: skip
    by_service = sum(row["actual_points"] for row in document["breakdowns"]["service"])
    assert by_service == held["points"]


def test_the_tables_say_the_differences_and_that_the_record_is_reproduced(history) -> None:
    env, held = history

    result = run(env, "--rules", "rate-20", "--processes", "1", "--sample", "50")

    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "マイナポイント第1弾: 還元率 25% → 20%" in out
    assert "Mynapoint phase 1: rate 25 % → 20 %" in out
    assert "現行ルールの再計算は記録と一致" in out
    assert " ± " in out  # a sample's totals carry their margin
    judged = re.search(r"persons judged: ([\d,]+)", out)
    assert judged is not None
    assert 0 < int(judged.group(1).replace(",", "")) < held["applicants"]  # half, about


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--rules", "no-such-rules"), "no such rules file, nor a packaged candidate"),
        (("--rules", "rate-20", "--sample", "0"), "--sample takes a percentage above 0"),
        (("--rules", "rate-20", "--as-of", "2021-02-30"), "--as-of '2021-02-30' is not a day"),
    ],
)
def test_a_bad_argument_exits_2_and_says_why(history, args, says) -> None:
    env, _ = history

    result = run(env, *args)

    assert result.exit_code == EXIT_USAGE
    assert says in result.stderr
