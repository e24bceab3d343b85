"""`mynapoint settlement prepare|approve|pay`: four eyes on the command line, the payment
file written under var/settlements/, clear refusals; on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

import pytest
from typer.testing import CliRunner

from factories import jst
from ledger_setup import link_person
from mynapoint.bootstrap import build_platform
from mynapoint.cli import app
from mynapoint.config import Settings
from mynapoint.domain.measures import EventKind
from mynapoint.domain.staff import Role, StaffAccount
from mynapoint.services.clock import FixedClock
from mynapoint.services.intake import EventRow, ingest
from mynapoint.services.settlement import close_month

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from typer.testing import Result

CLOCK_START = "2021-07-19T10:00:00+09:00"


@pytest.fixture
def cli(database_url: str, tmp_path: Path) -> Callable[..., Result]:
    settings = Settings(database_url=database_url, var_dir=tmp_path)
    platform = build_platform(settings, clock=FixedClock(jst(2021, 7, 19, 10)))
    try:
        _, account = link_person(platform.unit_of_work(), applied_at=jst(2021, 6, 1))
        row = EventRow("e1", "paypay", account, EventKind.CHARGE, 20_000, jst(2021, 6, 10))
        now = platform.clock.now()
        ingest(platform.unit_of_work(), "paypay", [(0, row)], platform.rules, platform.catalog, now)
        close_month(platform.unit_of_work(), "2021-06", now)
        with platform.unit_of_work() as uow:
            for name, role in (
                ("mic-sato", Role.MINISTRY_ADMIN),
                ("mic-suzuki", Role.MINISTRY_ADMIN),
                ("mic-viewer", Role.MINISTRY_VIEWER),
            ):
                uow.staff.add(StaffAccount(name, role, None, "x", now, must_change_password=False))
            uow.commit()
    finally:
        platform.engine.dispose()
    env = {
        "MYNAPOINT_DATABASE_URL": database_url,
        "MYNAPOINT_VAR_DIR": str(tmp_path),
        "MYNAPOINT_CLOCK_START": CLOCK_START,
    }

    def run(*args: str) -> Result:
        return CliRunner().invoke(app, ["settlement", *args], env=env)

    return run


def test_a_statement_is_prepared_approved_by_another_and_paid_in_a_file(
    cli: Callable[..., Result], tmp_path: Path
) -> None:
    prepared = cli("prepare", "--month", "2021-06", "--as", "mic-sato")
    assert prepared.exit_code == 0, prepared.stderr
    assert "2021-06: 1 statement prepared:" in prepared.stdout
    assert "paypay: 5,000 yen, draft (prepared by mic-sato)" in prepared.stdout

    same = cli("approve", "--month", "2021-06", "--operator", "paypay", "--as", "mic-sato")
    assert same.exit_code == 1
    assert "cannot approve it too" in same.stderr
    assert "[same_person]" in same.stderr

    early = cli("pay", "--month", "2021-06", "--as", "mic-suzuki")
    assert early.exit_code == 1
    assert "[nothing_to_do]" in early.stderr

    approved = cli("approve", "--month", "2021-06", "--operator", "paypay", "--as", "mic-suzuki")
    assert approved.exit_code == 0, approved.stderr
    assert "approved by mic-suzuki" in approved.stdout

    paid = cli("pay", "--month", "2021-06", "--as", "mic-sato")
    assert paid.exit_code == 0, paid.stderr
    assert "1 statement paid, 5,000 yen in all" in paid.stdout
    [written] = (tmp_path / "settlements" / "2021-06").glob("payment-2021-06-*.csv")
    rows = list(csv.reader(io.StringIO(written.read_text(encoding="utf-8"))))
    assert rows[1][0] == "paypay"
    assert rows[1][-1] == "5000"
    assert rows[-1] == ["TOTAL", "1", "", "", "", "", "", "5000"]

    again = cli("approve", "--month", "2021-06", "--operator", "paypay", "--as", "mic-sato")
    assert again.exit_code == 1
    assert "[wrong_state]" in again.stderr


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("prepare", "--month", "2021-06", "--as", "mic-viewer"), "not_allowed"),
        (("prepare", "--month", "2021-06", "--as", "nobody"), "not_allowed"),
        (("prepare", "--month", "2021-07", "--as", "mic-sato"), "month_not_closed"),
        (("prepare", "--month", "2021-13", "--as", "mic-sato"), "invalid_request"),
        (("approve", "--month", "2021-06", "--as", "mic-suzuki"), "nothing_to_do"),
        (
            ("prepare", "--month", "2021-06", "--operator", "nope", "--as", "mic-sato"),
            "no_statement",
        ),
    ],
)
def test_refusals_say_why_with_a_stable_code(
    cli: Callable[..., Result], args: tuple[str, ...], code: str
) -> None:
    result = cli(*args)
    assert result.exit_code == 1
    assert f"[{code}]" in result.stderr
