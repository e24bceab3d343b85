"""`mynapoint settle --month` says what it did: what it closed and settled, or that there was
nothing to settle (it used to close an empty month in silence), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
from typer.testing import CliRunner

from factories import jst
from ledger_setup import link_person
from mynapoint.bootstrap import build_platform
from mynapoint.cli import app
from mynapoint.config import Settings
from mynapoint.domain.measures import EventKind
from mynapoint.services.clock import FixedClock
from mynapoint.services.intake import EventRow, ingest

if TYPE_CHECKING:
    from pathlib import Path

    from typer.testing import Result

# A platform day well after the months settled here (the command runs on it).
CLOCK_START = "2021-07-19T10:00:00+09:00"


@pytest.fixture
def settle(database_url: str, tmp_path: Path):
    env = {
        "MYNAPOINT_DATABASE_URL": database_url,
        "MYNAPOINT_VAR_DIR": str(tmp_path),
        "MYNAPOINT_CLOCK_START": CLOCK_START,
    }

    def run(month: str) -> Result:
        return CliRunner().invoke(app, ["settle", "--month", month], env=env)

    return run


def _granted_in_june(database_url: str, tmp_path: Path, points_yen: int) -> None:
    settings = Settings(database_url=database_url, var_dir=tmp_path)
    platform = build_platform(settings, clock=FixedClock(jst(2021, 7, 19, 10)))
    try:
        _, account = link_person(platform.unit_of_work(), applied_at=jst(2021, 6, 1))
        row = EventRow("e1", "paypay", account, EventKind.CHARGE, points_yen, jst(2021, 6, 10))
        result = ingest(
            platform.unit_of_work(),
            "paypay",
            [(0, row)],
            platform.rules,
            platform.catalog,
            platform.clock.now(),
        )
        assert result.accepted == 1
    finally:
        platform.engine.dispose()


def test_settling_a_month_without_grants_says_there_was_nothing_to_settle(
    settle, tmp_path: Path
) -> None:
    result = settle("2021-06")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        (
            "2021-06: closed; nothing to settle: no grant instruction belongs to 2021-06, "
            "so no statement was written"
        )
    ]
    assert not (tmp_path / "settlements" / "2021-06").exists()

    again = settle("2021-06")
    assert again.exit_code == 0, again.stderr
    assert again.stdout == result.stdout


def test_settling_a_month_with_grants_names_each_statement_and_its_amount(
    settle, database_url: str, tmp_path: Path
) -> None:
    _granted_in_june(database_url, tmp_path, 8000)
    result = settle("2021-06")
    assert result.exit_code == 0, result.stderr
    folder = tmp_path / "settlements" / "2021-06"
    assert result.stdout.splitlines() == [
        f"2021-06: closed; 1 operator statement written to {folder} (JSON and CSV):",
        "  paypay: 2,000 points = 2,000 yen to reimburse (1 person; paypay.json, paypay.csv)",
    ]
    statement = json.loads((folder / "paypay.json").read_text(encoding="utf-8"))
    assert statement["status"] == "closed"
    assert statement["services"][0]["net_points"] == 2000

    again = settle("2021-06")
    assert again.stdout == result.stdout


def test_a_month_not_over_in_platform_time_is_refused(settle) -> None:
    result = settle("2021-07")
    assert result.exit_code == 1
    assert "not over yet" in result.stderr
