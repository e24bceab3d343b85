"""`mynapoint policy diff CANDIDATE [--base OTHER] [--json]` through the command line: the
changes a Japanese line then an English one, no difference said as such, errors exit 2."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
from typer.testing import CliRunner

from mynapoint.cli import app
from mynapoint.rules.candidates import packaged_candidates

if TYPE_CHECKING:
    from pathlib import Path

    from typer.testing import Result

EXIT_USAGE = 2


def policy_diff(*args: str) -> Result:
    return CliRunner().invoke(app, ["policy", "diff", *args])


def test_a_packaged_candidate_prints_each_change_in_japanese_then_english() -> None:
    result = policy_diff("rate-20")

    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        "マイナポイント第1弾: 還元率 25% → 20%",
        "  Mynapoint phase 1: rate 25 % → 20 %",
        "マイナポイント第2弾 施策1: 還元率 25% → 20%",
        "  Mynapoint phase 2, measure 1: rate 25 % → 20 %",
    ]


@pytest.mark.parametrize("candidate", ["in-force", *packaged_candidates()])
def test_rules_compared_with_themselves_print_no_difference(candidate: str) -> None:
    result = policy_diff(candidate, "--base", candidate)

    assert result.exit_code == 0, result.stderr
    assert result.stdout == "違いはありません / no difference\n"


def test_json_lists_each_change_with_its_measure_and_dates() -> None:
    result = policy_diff("phase1-extended-3-months", "--json")

    assert result.exit_code == 0, result.stderr
    body = json.loads(result.stdout)
    assert body[0] == {
        "measure": "phase1",
        "rule": "applications_close",
        "ja": "マイナポイント第1弾: 申込期限 2021-12-31 → 2022-03-31"
        "（2022-01-01から、2021-12-01発表）",
        "en": "Mynapoint phase 1: applications due 2021-12-31 → 2022-03-31 "
        "(from 2022-01-01, announced 2021-12-01)",
        "effective": "2022-01-01",
        "announced": "2021-12-01",
    }
    assert [change["rule"] for change in body] == ["applications_close", "spending_closes"]


def test_json_of_no_difference_is_an_empty_list() -> None:
    result = policy_diff("in-force", "--json")

    assert (result.exit_code, json.loads(result.stdout)) == (0, [])


def test_the_base_can_be_another_candidate() -> None:
    result = policy_diff("cap-7500", "--base", "health-insurance-10000", "--json")

    assert result.exit_code == 0, result.stderr
    assert [(c["measure"], c["rule"], c["en"]) for c in json.loads(result.stdout)] == [
        (None, "cap_groups.spending", "Program-wide: cap of group 'spending' 5,000 → 7,500 points"),
        (
            "phase2_health_insurance",
            "fixed_points",
            "Mynapoint phase 2, measure 2: fixed grant 10,000 → 7,500 points",
        ),
    ]


def test_a_file_given_by_its_path_is_compared(tmp_path: Path) -> None:
    path = tmp_path / "wait.yaml"
    path.write_text(
        "extends: in-force\n"
        "measures:\n  phase2_public_funds:\n    waiting_after_issuance_hours: 1\n",
        encoding="utf-8",
    )

    result = policy_diff(str(path))

    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        "マイナポイント第2弾 施策3: カード発行後の待機時間 72時間 → 1時間",
        "  Mynapoint phase 2, measure 3: waiting after card issuance 72 h → 1 h",
    ]


def test_a_bad_candidate_exits_2_naming_the_file_line_and_key(tmp_path: Path) -> None:
    path = tmp_path / "typo.yaml"
    path.write_text("extends: in-force\nprogram:\n  person_totl_cap: 1\n", encoding="utf-8")

    result = policy_diff(str(path))

    assert result.exit_code == EXIT_USAGE
    assert result.stdout == ""
    assert result.stderr.startswith(
        "mynapoint: typo.yaml: line 3: program.person_totl_cap: unknown key"
    )


@pytest.mark.parametrize("args", [["rate-25"], ["rate-20", "--base", "rate-25"]])
def test_an_unknown_name_exits_2_listing_the_packaged_candidates(args: list[str]) -> None:
    result = policy_diff(*args)

    assert result.exit_code == EXIT_USAGE
    assert "'rate-25': no such rules file, nor a packaged candidate" in result.stderr
    assert "in-force, cap-7500, health-insurance-10000, no-card-cutoff" in result.stderr
