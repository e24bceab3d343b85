"""`mynapoint policy forecast` and `mynapoint policy backtest` on a generated history: the
figures in text and JSON, under a candidate too, and clear refusals (no statistics yet, a bad
day, an unreadable candidate)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
from typer.testing import CliRunner

from mynapoint.bootstrap import build_platform
from mynapoint.cli import app
from mynapoint.config import Settings
from mynapoint.demo import seed_generated_history
from mynapoint.rules.loader import packaged_campaigns_text

if TYPE_CHECKING:
    from pathlib import Path

    from typer.testing import Result

CLOCK_START = "2021-07-19T10:00:00+09:00"
EXIT_REFUSED = 1
EXIT_USAGE = 2


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        "MYNAPOINT_DATABASE_URL": database_url,
        "MYNAPOINT_VAR_DIR": str(tmp_path),
        "MYNAPOINT_CLOCK_START": CLOCK_START,
    }


@pytest.fixture
def history(env: dict[str, str], database_url: str, tmp_path: Path) -> dict[str, str]:
    """The environment of a database holding a generated history of 300 persons, its
    statistics refreshed."""
    settings = Settings(
        database_url=database_url,
        var_dir=tmp_path,
        clock_start=CLOCK_START,
        demo_history_persons=300,
        demo_history_seed=5,
    )
    platform = build_platform(settings)
    try:
        assert seed_generated_history(platform).written == 300
    finally:
        platform.engine.dispose()
    return env


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(app, list(args), env=env)


def test_the_forecast_prints_each_announced_frame_under_the_rules_in_force(
    history: dict[str, str],
) -> None:
    result = run(history, "policy", "forecast", "--window", "14")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "Forecast under the rules in force as announced by 2021-07-18" in out
    assert "data through 2021-07-18" in out
    assert "pace: mean of the last 14 days; band: mean ± 1.96·sd/√14" in out
    assert "phase1 frame (announced 2019-12-05)" in out
    assert "of 40,000,000" in out
    assert "of 200,000,000,000" in out
    assert "at the close (2021-09-30)" in out
    assert "fills: not before 2021-09-30" in out  # 300 persons do not fill 40 million
    assert "phase2 frame: not announced by 2021-07-18" in out
    # `--rules in-force` names the rules in force: nothing to forecast beside them.
    same = run(history, "policy", "forecast", "--window", "14", "--rules", "in-force")
    assert same.exit_code == 0, same.stderr
    assert same.stdout == out


def test_a_candidate_is_forecast_beside_the_rules_in_force(
    history: dict[str, str], tmp_path: Path
) -> None:
    extended = tmp_path / "extended.yaml"
    extended.write_text(
        packaged_campaigns_text().replace(
            "value: 2022-01-01T00:00:00+09:00", "value: 2022-04-01T00:00:00+09:00"
        ),
        encoding="utf-8",
    )
    result = run(
        history, "policy", "forecast", "--rules", str(extended), "--as-of", "2021-06-30", "--json"
    )
    assert result.exit_code == 0, result.stderr
    in_force, candidate = json.loads(result.stdout)["forecasts"]
    assert (in_force["rules"], candidate["rules"]) == ("in-force", "extended.yaml")
    assert in_force["last_day"] == candidate["last_day"] == "2021-06-30"
    assert in_force["not_announced"] == ["phase2"]
    assert [f["phase"] for f in candidate["frames"]] == ["phase1", "phase2"]
    now, then = in_force["frames"][0], candidate["frames"][0]
    assert (now["yen"]["closes"], then["yen"]["closes"]) == ("2021-09-30", "2022-03-31")
    assert now["yen"]["used"] == then["yen"]["used"] > 0
    # Six months more at the same pace.
    days = 182
    added = then["yen"]["at_close"]["expected"] - now["yen"]["at_close"]["expected"]
    assert added == pytest.approx(now["yen"]["pace_per_day"]["expected"] * days)
    assert then["persons"]["fills_on"] == {"expected": None, "early": None, "late": None}

    text = run(history, "policy", "forecast", "--rules", str(extended), "--as-of", "2021-06-30")
    assert text.exit_code == 0, text.stderr
    in_force_text, candidate_text = text.stdout.split("Forecast under candidate extended.yaml")
    assert "against the rules in force" not in in_force_text
    assert f"against the rules in force: {added:+,.0f} at the close (2021-09-30)" in candidate_text


def test_the_backtest_prints_predicted_against_recorded_for_each_horizon(
    history: dict[str, str],
) -> None:
    result = run(history, "policy", "backtest", "--from", "2021-05-01", "--horizon", "7",
                 "--horizon", "30", "--horizon", "200")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Backtest: forecast from 2021-05-01 with the data through it only")
    rows = [line for line in lines if line.startswith("phase1 ")]
    assert [row.split()[1:4] for row in rows] == [
        ["persons", "7", "d"], ["yen", "7", "d"], ["persons", "30", "d"], ["yen", "30", "d"],
        ["persons", "78", "d"], ["yen", "78", "d"],
    ]  # fmt: skip
    assert all(row.rstrip().endswith((" yes", " no")) for row in rows)
    assert "not checked (past the data's last day): 200 d" in result.stdout

    as_json = run(history, "policy", "backtest", "--from", "2021-05-01", "--json")
    assert as_json.exit_code == 0, as_json.stderr
    document = json.loads(as_json.stdout)
    assert document["forecast"]["last_day"] == "2021-05-01"
    assert [c["horizon_days"] for c in document["checks"]] == [7, 7, 30, 30, 78, 78]
    for check in document["checks"]:
        assert check["error"] == pytest.approx(check["predicted"]["expected"] - check["actual"])
        low, high = check["predicted"]["low"], check["predicted"]["high"]
        assert check["inside_band"] == (low <= check["actual"] <= high)


def test_before_any_statistics_the_forecast_says_to_refresh_them(env: dict[str, str]) -> None:
    for args in (("policy", "forecast"), ("policy", "backtest", "--from", "2021-01-01")):
        result = run(env, *args)
        assert result.exit_code == EXIT_REFUSED
        assert "run `mynapoint stats refresh`" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("forecast", "--as-of", "2021-02-30"),
            "--as-of '2021-02-30' is not a day; give YYYY-MM-DD",
        ),
        (("backtest", "--from", "1 May"), "--from '1 May' is not a day; give YYYY-MM-DD"),
        (("forecast", "--as-of", "2021-07-19"), "hold the days 2020-07-01 to 2021-07-18"),
        (("backtest", "--from", "2020-06-30"), "hold the days 2020-07-01 to 2021-07-18"),
        (
            ("forecast", "--rules", "no-such-file.yaml"),
            "no such rules file, nor a packaged candidate",
        ),
    ],
)
def test_a_bad_day_or_candidate_exits_2_and_says_what_is_expected(
    history: dict[str, str], args: tuple[str, ...], message: str
) -> None:
    result = run(history, "policy", *args)
    assert result.exit_code == EXIT_USAGE
    assert message in result.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"program: {}\n", "broken.yaml"),
        (b"measures: [\n", "broken.yaml"),
        (b"\xff\xfe not text", "can't decode"),
    ],
)
def test_a_candidate_that_is_not_valid_rules_says_what_is_wrong(
    env: dict[str, str], tmp_path: Path, content: bytes, message: str
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_bytes(content)
    result = run(env, "policy", "forecast", "--rules", str(broken))
    assert result.exit_code == EXIT_USAGE
    assert f"candidate rules '{broken}'" in result.stderr
    assert message in result.stderr
