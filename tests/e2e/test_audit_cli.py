"""`mynapoint audit publish` and `mynapoint audit verify` through the real command line."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import delete, update
from typer.testing import CliRunner

from audit_contract import record_many
from mynapoint.bootstrap import build_platform
from mynapoint.cli import app
from mynapoint.config import Settings
from mynapoint.db.tables import audit_log

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from sqlalchemy.engine import Engine
    from typer.testing import Result

CLOCK_START = "2021-07-19T10:00:00+09:00"
HEAD = re.compile(r"(\d+):([0-9a-f]{64})")

EXIT_REFUSED = 1
EXIT_USAGE = 2


@dataclass
class AuditCli:
    env: dict[str, str]
    engine: Engine

    def __call__(self, *args: str) -> Result:
        return CliRunner().invoke(app, ["audit", *args], env=self.env)

    def publish(self) -> str:
        result = self("publish")
        assert result.exit_code == 0, result.stderr
        return result.stdout.strip()


@pytest.fixture
def cli(database_url: str, tmp_path: Path) -> Iterator[AuditCli]:
    platform = build_platform(
        Settings(database_url=database_url, var_dir=tmp_path, clock_start=CLOCK_START)
    )
    record_many(platform.unit_of_work, 20)
    env = {
        "MYNAPOINT_DATABASE_URL": database_url,
        "MYNAPOINT_VAR_DIR": str(tmp_path),
        "MYNAPOINT_CLOCK_START": CLOCK_START,
    }
    try:
        yield AuditCli(env, platform.engine)
    finally:
        platform.engine.dispose()


def test_publish_prints_the_head_and_logs_it_as_json(cli: AuditCli) -> None:
    result = cli("publish")

    assert result.exit_code == 0, result.stderr
    match = HEAD.fullmatch(result.stdout.strip())
    assert match is not None
    assert match[1] == "20"
    [line] = [json.loads(line) for line in result.stderr.splitlines()]
    assert line["logger"] == "mynapoint.audit"
    assert line["audit_head"] == result.stdout.strip()


def test_verify_with_the_published_head_exits_0_and_prints_the_count_and_head(
    cli: AuditCli,
) -> None:
    head = cli.publish()

    result = cli("verify", "--head", head)

    assert result.exit_code == 0, result.stderr
    assert f"20 entries, head {head}" in result.stdout
    assert f"checked against the given head {head}" in result.stdout


def test_verify_without_a_head_uses_the_last_one_published(cli: AuditCli) -> None:
    head = cli.publish()

    result = cli("verify")

    assert result.exit_code == 0, result.stderr
    assert "checked against the last head published 2021-07-19T10:00" in result.stdout
    assert head in result.stdout


def test_verify_before_any_head_is_published_says_what_it_cannot_detect(cli: AuditCli) -> None:
    result = cli("verify")

    assert result.exit_code == 0, result.stderr
    assert "entries removed from the end cannot be detected" in result.stdout


def test_verify_exits_1_and_names_the_entry_after_a_row_is_changed(cli: AuditCli) -> None:
    head = cli.publish()
    with cli.engine.begin() as connection:
        connection.execute(update(audit_log).where(audit_log.c.seq == 4).values(actor="someone"))

    result = cli("verify", "--head", head)

    assert result.exit_code == EXIT_REFUSED
    assert "entry 4 was altered" in result.stderr
    assert "fails verification: 1 problem" in result.stderr
    assert result.stdout == ""


def test_verify_exits_1_after_the_newest_rows_are_deleted(cli: AuditCli) -> None:
    head = cli.publish()
    with cli.engine.begin() as connection:
        connection.execute(delete(audit_log).where(audit_log.c.seq > 17))

    result = cli("verify", "--head", head)

    assert result.exit_code == EXIT_REFUSED
    assert "the log ends at entry 17" in result.stderr


def test_publish_over_a_tampered_log_exits_1_and_publishes_nothing(cli: AuditCli) -> None:
    with cli.engine.begin() as connection:
        connection.execute(delete(audit_log).where(audit_log.c.seq == 5))

    result = cli("publish")

    assert result.exit_code == EXIT_REFUSED
    assert "entry 5 is missing" in result.stderr
    assert "no head was published" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    "head", ["20", "twenty:abc", f"20:{'a' * 63}", f"20;{'a' * 64}", f"-3:{'a' * 64}"]
)
def test_a_malformed_head_exits_2_and_shows_the_form_expected(cli: AuditCli, head: str) -> None:
    result = cli("verify", "--head", head)

    assert result.exit_code == EXIT_USAGE
    assert "is not COUNT:HASH" in result.stderr


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_verify_exits_1_when_a_stored_time_no_longer_reads_as_one(cli: AuditCli) -> None:
    # SQLite keeps whatever text it is given; PostgreSQL's column type refuses it.
    with cli.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE audit_log SET at = 'yesterday' WHERE seq = 2")

    result = cli("verify")

    assert result.exit_code == EXIT_REFUSED
    assert "the audit log cannot be read, so it was altered" in result.stderr
