"""`mynapoint simulate FILE` through the command line, on the examples and on bad input."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mynapoint.cli import app

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
EXAMPLE_FILES = sorted(p for p in EXAMPLES.iterdir() if p.suffix in {".yaml", ".yml", ".json"})

# The output of INTERFACES.md, "Scenario file for `simulate`".
WORKED_EXAMPLE_1 = {
    "total_points": 5000,
    "by_measure": {"phase1": 5000},
    "grants": [
        {
            "event_id": "e2",
            "application": 0,
            "measure": "phase1",
            "points": 5000,
            "grant_on": "2021-05-11",
        }
    ],
    "ignored": [
        {"event_id": "e1", "reason": "before_application"},
        {"event_id": "r1", "reason": "refund_of_uncounted"},
    ],
    "rejected_applications": [],
}


def simulate(path: Path):
    return CliRunner().invoke(app, ["simulate", str(path)])


def simulated(path: Path) -> dict:
    result = simulate(path)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def mynapoint_command() -> list[str]:
    # cli.py has no `if __name__ == "__main__"` guard, so run the installed entry point.
    installed = shutil.which("mynapoint", path=str(Path(sys.executable).parent))
    assert installed is not None, "the mynapoint entry point is not installed beside python"
    return [installed]


def test_worked_example_1_prints_the_documented_document_and_exits_0():
    result = simulate(EXAMPLES / "worked-example-1.yaml")

    assert result.exit_code == 0
    assert result.stderr == ""
    assert json.loads(result.stdout) == WORKED_EXAMPLE_1


def test_simulating_twice_prints_the_same_bytes():
    first = simulate(EXAMPLES / "worked-example-1.yaml")
    second = simulate(EXAMPLES / "worked-example-1.yaml")

    assert first.stdout_bytes == second.stdout_bytes


def test_the_installed_command_prints_worked_example_1_in_a_real_process():
    completed = subprocess.run(  # noqa: S603 - our own entry point, no shell
        [*mynapoint_command(), "simulate", str(EXAMPLES / "worked-example-1.yaml")],
        capture_output=True,
        check=False,
        timeout=60,
    )

    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == b""
    assert json.loads(completed.stdout.decode("utf-8")) == WORKED_EXAMPLE_1


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.name)
def test_every_example_runs_and_prints_a_json_outcome(path):
    document = simulated(path)

    assert list(document) == [
        "total_points",
        "by_measure",
        "grants",
        "ignored",
        "rejected_applications",
    ]
    assert document["total_points"] == sum(document["by_measure"].values())
    assert document["total_points"] == sum(grant["points"] for grant in document["grants"])


def test_every_example_starts_with_a_comment_saying_what_it_shows():
    for path in EXAMPLE_FILES:
        if path.suffix != ".json":
            assert path.read_text(encoding="utf-8").startswith("# "), path.name


def test_refund_clawback_takes_back_2000_of_5000_leaving_3000():
    # RULES.md §8 example 10: purchase 20,000 (5,000), then 8,000 refunded -> 3,000.
    document = simulated(EXAMPLES / "refund-clawback.yaml")

    assert document["total_points"] == 3000
    assert document["by_measure"] == {"phase1": 3000}
    assert document["grants"] == [
        # PayPay purchases: 30 days after the day following the payment.
        {
            "event_id": "p1",
            "application": 0,
            "measure": "phase1",
            "points": 5000,
            "grant_on": "2021-06-15",
        },
        {
            "event_id": "r1",
            "application": 0,
            "measure": "phase1",
            "points": -2000,
            "grant_on": "2021-06-25",
        },
    ]
    assert document["ignored"] == []


def test_phase1_into_phase2_reaches_the_20000_person_total():
    # 12,000 x 25 % = 3,000 in phase 1; 2,000 more to the shared 5,000 cap under measure 1
    # (the phase-1 application carries); 7,500 each for measures 2 and 3.
    document = simulated(EXAMPLES / "phase1-into-phase2.yaml")

    assert document["total_points"] == 20000
    assert document["by_measure"] == {
        "phase1": 3000,
        "phase2_spending": 2000,
        "phase2_health_insurance": 7500,
        "phase2_public_funds": 7500,
    }
    assert [
        (g["event_id"], g["application"], g["measure"], g["points"], g["grant_on"])
        for g in document["grants"]
    ] == [
        ("c1", 0, "phase1", 3000, "2021-06-10"),
        ("c2", 0, "phase2_spending", 2000, "2022-01-15"),
        (None, 1, "phase2_health_insurance", 7500, "2022-07-01"),
        (None, 2, "phase2_public_funds", 7500, "2022-07-05"),
    ]
    assert document["ignored"] == [{"event_id": "c3", "reason": "cap_reached"}]
    assert document["rejected_applications"] == []


def test_as_of_2021_04_05_knows_neither_the_second_extension_nor_phase_2():
    document = simulated(EXAMPLES / "as-of-2021-04-05.yaml")

    assert document["total_points"] == 2500
    assert document["by_measure"] == {"phase1": 2500}
    assert [(g["event_id"], g["points"]) for g in document["grants"]] == [("c1", 2500)]
    assert document["ignored"] == [
        {"event_id": "c2", "reason": "after_deadline"},
        {"event_id": "c3", "reason": "after_deadline"},
    ]


def test_the_same_events_under_the_rules_as_finally_announced_earn_5000(tmp_path):
    text = (EXAMPLES / "as-of-2021-04-05.yaml").read_text(encoding="utf-8")
    assert "\nas_of: 2021-04-05\n" in text
    scenario = tmp_path / "as-announced-finally.yaml"
    scenario.write_text(text.replace("\nas_of: 2021-04-05\n", "\n"), encoding="utf-8")

    document = simulated(scenario)

    # 10,000 + 8,000 in phase 1 (4,500), then the 2022 charge under measure 1 up to the cap.
    assert document["total_points"] == 5000
    assert document["by_measure"] == {"phase1": 4500, "phase2_spending": 500}
    assert document["ignored"] == []


def test_a_bad_scenario_exits_2_naming_the_key_and_prints_nothing(tmp_path):
    scenario = tmp_path / "naive.yaml"
    scenario.write_text(
        "person: {card_applied_on: 2021-03-15}\n"
        "events:\n"
        "  - {id: e1, kind: charge, amount: 3000, at: 2021-05-09T12:00:00}\n",
        encoding="utf-8",
    )

    result = simulate(scenario)

    assert result.exit_code == 2
    assert result.stdout == ""
    assert "naive.yaml" in result.stderr
    assert "events[0].at" in result.stderr
    assert "no UTC offset" in result.stderr


@pytest.mark.parametrize(
    ("content", "key"),
    [
        pytest.param("person: {card_applied_on: 2021-03-15}\ncolour: red\n", "colour", id="key"),
        pytest.param("applications: []\n", "person", id="missing person"),
        pytest.param(
            "person: {card_applied_on: 2021-03-15}\n"
            "applications:\n"
            "  - {measure: phase1, service: paypay, applied_at: 2021-05-10T10:00:00+09:00}\n",
            "applications[0].counts",
            id="counts missing",
        ),
        pytest.param(
            "person: {card_applied_on: 2021-03-15}\n"
            "applications:\n"
            "  - {measure: phase1, service: paypal, applied_at: 2021-05-10T10:00:00+09:00}\n",
            "applications[0].service",
            id="unknown service",
        ),
        pytest.param("person: [\n", "not valid YAML", id="not YAML"),
    ],
)
def test_every_kind_of_bad_scenario_exits_2_with_the_key_on_stderr(tmp_path, content, key):
    scenario = tmp_path / "bad.yaml"
    scenario.write_text(content, encoding="utf-8")

    result = simulate(scenario)

    assert result.exit_code == 2
    assert result.stdout == ""
    assert key in result.stderr


def test_a_missing_file_exits_2(tmp_path):
    result = simulate(tmp_path / "no-such-scenario.yaml")

    assert result.exit_code == 2
    assert result.stdout == ""
    assert "no-such-scenario.yaml" in result.stderr


def test_a_scenario_with_a_rejected_application_still_exits_0(tmp_path):
    # Measures 2 and 3 open 2022-06-30: a day early is refused, yet the scenario was evaluated.
    scenario = tmp_path / "early.yaml"
    scenario.write_text(
        "person: {card_applied_on: 2021-03-15}\n"
        "applications:\n"
        "  - {measure: phase2_health_insurance, service: paypay,"
        " applied_at: 2022-06-29T10:00:00+09:00}\n",
        encoding="utf-8",
    )

    result = simulate(scenario)

    assert result.exit_code == 0
    assert json.loads(result.stdout)["rejected_applications"] == [
        {"index": 0, "measure": "phase2_health_insurance", "code": "application_window_closed"}
    ]
    assert json.loads(result.stdout)["total_points"] == 0


def test_a_json_scenario_gives_the_same_outcome_as_its_yaml(tmp_path):
    scenario = tmp_path / "worked-example-1.json"
    scenario.write_text(
        json.dumps(
            {
                "person": {"card_applied_on": "2021-03-15", "birth_date": "1980-01-01"},
                "applications": [
                    {
                        "measure": "phase1",
                        "service": "paypay",
                        "counts": "charge",
                        "applied_at": "2021-05-10T10:00:00+09:00",
                    }
                ],
                "events": [
                    {
                        "id": "e1",
                        "kind": "charge",
                        "amount": 3000,
                        "at": "2021-05-09T12:00:00+09:00",
                    },
                    {
                        "id": "e2",
                        "kind": "charge",
                        "amount": 30000,
                        "at": "2021-05-11T12:00:00+09:00",
                    },
                    {
                        "id": "r1",
                        "kind": "refund",
                        "amount": 1000,
                        "at": "2021-05-20T12:00:00+09:00",
                        "refund_of": "e1",
                    },
                ],
            }
        ),
        encoding="utf-8",
    )

    assert simulated(scenario) == WORKED_EXAMPLE_1
