"""The command line runs on the platform clock a server recorded in the database, without
MYNAPOINT_CLOCK_START of its own (INTERFACES, "The platform clock"), on SQLite and PostgreSQL.

The server's start (2021-07-19, a Monday in July) lies years before real time, so every
command that ran on the machine's date instead would answer differently: a certificate valid
from the real date, every corner closed, an event of platform tomorrow accepted, July closed.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import httpx
import pytest
from typer.testing import CliRunner

from ledger_setup import link_person
from live_server import live_server
from mynapoint.bootstrap import Platform, build_platform
from mynapoint.cli import app as cli_app
from mynapoint.config import Settings
from mynapoint.demo import seed_demo_cards
from mynapoint.domain.calendar import JST
from mynapoint.services.clock import RecordedClock

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from typer.testing import Result

SERVER_START = datetime(2021, 7, 19, 10, 0, tzinfo=JST)  # `make run`'s start
OTHER_START = datetime(2021, 8, 2, 10, 0, tzinfo=JST)
HEADER = "event_id,service_code,payment_service_id,kind,amount,occurred_at,refund_of\n"
EXIT_REFUSED = 1


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=database_url, var_dir=tmp_path, clock_start=SERVER_START)


@pytest.fixture
def platform(settings: Settings) -> Iterator[Platform]:
    """The server's platform: built with MYNAPOINT_CLOCK_START, it anchors the database."""
    built = build_platform(settings)
    try:
        yield built
    finally:
        built.engine.dispose()


@pytest.fixture
def server(settings: Settings, platform: Platform) -> Iterator[str]:
    with live_server(settings, platform) as base_url:
        yield base_url


def run_cli(settings: Settings, *args: str | Path, clock_start: str | None = None) -> Result:
    """A command on the server's database; without `clock_start` the variable is unset."""
    env: dict[str, str | None] = {
        "MYNAPOINT_DATABASE_URL": settings.database_url,
        "MYNAPOINT_VAR_DIR": str(settings.var_dir),
        "MYNAPOINT_CLOCK_START": clock_start,
    }
    return CliRunner().invoke(cli_app, [str(a) for a in args], env=env)


def on_server_time(at: datetime) -> bool:
    """Within the minutes a test takes of the server's platform time."""
    return SERVER_START <= at < SERVER_START + timedelta(minutes=10)


@pytest.mark.usefixtures("platform")
def test_the_first_line_says_the_command_runs_on_the_recorded_platform_time(settings):
    result = run_cli(settings, "clock", "now")

    assert result.exit_code == 0, result.stderr
    assert on_server_time(datetime.fromisoformat(result.stdout.strip()))
    first = result.stderr.splitlines()[0]
    assert first.startswith("mynapoint: runs on platform time 2021-07-19T10:0")
    assert (
        "this database's platform clock: started at 2021-07-19T10:00:00+09:00 when real time was"
        in first
    )


def test_renewed_and_reissued_demo_cards_log_in_to_the_server(settings, platform, server):
    [parent] = [s for s in seed_demo_cards(platform) if s.card.name == "parent"]
    renewed = settings.var_dir / "renewed.json"
    reissued = settings.var_dir / "reissued.json"

    renew = run_cli(settings, "card", "renew", parent.path, "--out", renewed, "--pin", "1234")
    assert renew.exit_code == 0, renew.stderr
    login = run_cli(settings, "card", "login", renewed, "--pin", "1234", "--url", server)
    assert login.exit_code == 0, login.stderr

    reissue = run_cli(settings, "card", "reissue", renewed, "--out", reissued, "--pin", "5678")
    assert reissue.exit_code == 0, reissue.stderr
    login = run_cli(settings, "card", "login", reissued, "--pin", "5678", "--url", server)
    assert login.exit_code == 0, login.stderr


def test_corners_json_answers_for_platform_now_as_the_api_does(settings, server):
    result = run_cli(settings, "corners", "--json")

    assert result.exit_code == 0, result.stderr
    answer = json.loads(result.stdout)
    assert on_server_time(datetime.fromisoformat(answer["at"]))
    api = httpx.get(f"{server}/api/v1/support-corners").json()
    assert [(c["code"], c["open"]) for c in answer["support_corners"]] == [
        (c["code"], c["open"]) for c in api["support_corners"]
    ]
    assert any(c["open"] for c in answer["support_corners"])  # a Monday at 10:00


def test_ingest_refuses_an_event_dated_after_platform_now_as_the_api_does(
    settings, platform, server, tmp_path
):
    _, psid = link_person(platform.unit_of_work(), applied_at=SERVER_START - timedelta(days=60))
    tomorrow = "2021-07-20T12:00:00+09:00"  # long past in real time
    events = tmp_path / "events.csv"
    events.write_text(
        HEADER + f"future-1,paypay,{psid},charge,4000,{tomorrow},\n", encoding="utf-8"
    )

    result = run_cli(settings, "ingest", events, "--operator", "paypay")

    assert result.exit_code == EXIT_REFUSED, result.output
    assert "2 lines, 0 accepted, 0 duplicates, 1 rejected" in result.stdout
    with (tmp_path / "events.csv.rejected.csv").open(encoding="utf-8") as report:
        [row] = list(csv.DictReader(report))
    assert (row["line"], row["field"], row["code"]) == ("2", "occurred_at", "occurred_in_future")
    key = run_cli(settings, "operator", "key", "paypay").stdout.splitlines()[0]
    api = httpx.post(
        f"{server}/api/v1/operator/events",
        headers={"Authorization": f"Bearer {key}"},
        json={
            "events": [
                {
                    "event_id": "future-2",
                    "service_code": "paypay",
                    "payment_service_id": psid,
                    "kind": "charge",
                    "amount": 4000,
                    "occurred_at": tomorrow,
                }
            ]
        },
    ).json()
    assert [r["code"] for r in api["rejected"]] == [row["code"]]


@pytest.mark.usefixtures("platform")
def test_settle_refuses_the_month_platform_time_is_in(settings):
    result = run_cli(settings, "settle", "--month", "2021-07")

    assert result.exit_code == EXIT_REFUSED
    assert "month 2021-07 is not over yet (platform today is 2021-07-19)" in result.stderr
    assert not (settings.var_dir / "settlements" / "2021-07").exists()
    assert run_cli(settings, "settle", "--month", "2021-06").exit_code == 0


def test_a_different_clock_start_does_not_move_the_recorded_clock(settings, platform):
    result = run_cli(settings, "clock", "now", clock_start=OTHER_START.isoformat())

    assert result.exit_code == 0, result.stderr
    assert on_server_time(datetime.fromisoformat(result.stdout.strip()))
    assert (
        "mynapoint: warning: MYNAPOINT_CLOCK_START=2021-08-02T10:00:00+09:00 is not used: "
        "this database's platform clock, recorded earlier, started at 2021-07-19T10:00:00+09:00"
        in result.stderr
    )
    assert "run `mynapoint clock set 2021-08-02T10:00:00+09:00`" in result.stderr
    assert on_server_time(platform.clock.now())


def test_clock_set_restarts_platform_time_for_every_process_and_clear_returns_to_real_time(
    settings, platform
):
    moved = run_cli(settings, "clock", "set", OTHER_START.isoformat())

    assert moved.exit_code == 0, moved.stderr
    assert "platform time restarts at 2021-08-02T10:00:00+09:00" in moved.stdout
    later = datetime.fromisoformat(run_cli(settings, "clock", "now").stdout.strip())
    assert OTHER_START <= later < OTHER_START + timedelta(minutes=10)
    # The server built before the move follows once it reads the anchor again.
    assert isinstance(platform.clock, RecordedClock)
    platform.clock.reload()
    assert OTHER_START <= platform.clock.now() < OTHER_START + timedelta(minutes=10)

    cleared = run_cli(settings, "clock", "clear")

    assert cleared.exit_code == 0, cleared.stderr
    real = run_cli(settings, "clock", "now")
    assert real.stderr.startswith("mynapoint: runs on real time ")
    assert abs(datetime.fromisoformat(real.stdout.strip()) - datetime.now(UTC)) < timedelta(
        minutes=1
    )


def test_help_says_which_time_commands_run_on():
    result = CliRunner().invoke(cli_app, ["--help"], env={"COLUMNS": "200"})

    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    assert "runs on that database's platform clock" in text
    assert "A recorded clock wins over a different MYNAPOINT_CLOCK_START" in text


@pytest.mark.usefixtures("platform")
def test_the_server_banner_names_the_recorded_clock_and_the_start_it_does_not_use(
    settings, monkeypatch
):
    import uvicorn  # noqa: PLC0415

    import mynapoint.logs  # noqa: PLC0415

    # Print the banner, then neither serve nor take over the test run's logging.
    monkeypatch.setattr(uvicorn, "run", lambda *_, **__: None)
    monkeypatch.setattr(mynapoint.logs, "configure_logging", lambda *_, **__: None)

    result = run_cli(settings, "serve", "--port", "8123", clock_start=OTHER_START.isoformat())

    assert result.exit_code == 0, result.output
    [time_line] = [line for line in result.stdout.splitlines() if "platform time" in line]
    assert time_line.startswith("  platform time  2021-07-19T10:0")
    assert "(this database's platform clock: started at 2021-07-19T10:00:00+09:00" in time_line
    assert (
        "  warning        MYNAPOINT_CLOCK_START=2021-08-02T10:00:00+09:00 is not used"
        in result.stdout
    )
