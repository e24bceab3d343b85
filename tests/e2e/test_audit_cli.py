"""`mynapoint audit publish` and `mynapoint audit verify` through the real command line."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import delete, insert, update
from typer.testing import CliRunner

from audit_contract import record_many
from audit_factories import OTHER_KEY
from audit_tamper import tamper
from mynapoint.bootstrap import build_platform
from mynapoint.cli import app
from mynapoint.config import Settings
from mynapoint.db.tables import audit_heads, audit_log
from mynapoint.db.unit_of_work import SqlUnitOfWork
from mynapoint.domain.audit import head_of

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from sqlalchemy.engine import Engine
    from typer.testing import Result

CLOCK_START = "2021-07-19T10:00:00+09:00"
HEAD = re.compile(r"(\d+):([0-9a-f]{64})")
SIGNED_HEAD = re.compile(r"(\d+):([0-9a-f]{64}),[0-9T:.-]+Z,[A-Za-z0-9_-]{86}")

EXIT_REFUSED = 1
EXIT_USAGE = 2


@dataclass
class AuditCli:
    env: dict[str, str]
    engine: Engine

    def __call__(self, *args: str) -> Result:
        return CliRunner().invoke(app, ["audit", *args], env=self.env)

    def publish(self) -> str:
        """The head as COUNT:HASH."""
        return self.publish_both()[0]

    def publish_both(self) -> tuple[str, str]:
        """COUNT:HASH, and the signed head."""
        result = self("publish")
        assert result.exit_code == 0, result.stderr
        plain, signed = result.stdout.splitlines()
        return plain, signed


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
    plain, signed = result.stdout.splitlines()
    match = HEAD.fullmatch(plain)
    assert match is not None
    assert match[1] == "20"
    assert SIGNED_HEAD.fullmatch(signed) is not None
    assert signed.startswith(f"{plain},2021-07-19T01:00:")
    time, *logged = result.stderr.splitlines()
    assert time.startswith("mynapoint: runs on platform time 2021-07-19T10:00:")
    [line] = [json.loads(line) for line in logged]
    assert line["logger"] == "mynapoint.audit"
    assert line["audit_head"] == plain
    assert line["signed_head"] == signed


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
    assert "checked against the last signed head published 2021-07-19T10:00" in result.stdout
    assert head in result.stdout


def test_verify_before_any_head_is_published_says_what_it_cannot_detect(cli: AuditCli) -> None:
    result = cli("verify")

    assert result.exit_code == 0, result.stderr
    assert "entries removed from the end cannot be detected" in result.stdout


def test_verify_exits_1_and_names_the_entry_after_a_row_is_changed(cli: AuditCli) -> None:
    head = cli.publish()
    tamper(cli.engine, update(audit_log).where(audit_log.c.seq == 4).values(actor="someone"))

    result = cli("verify", "--head", head)

    assert result.exit_code == EXIT_REFUSED
    assert "entry 4 was altered" in result.stderr
    assert "fails verification: 1 problem" in result.stderr
    assert result.stdout == ""


def test_verify_exits_1_after_the_newest_rows_are_deleted(cli: AuditCli) -> None:
    head = cli.publish()
    tamper(cli.engine, delete(audit_log).where(audit_log.c.seq > 17))

    result = cli("verify", "--head", head)

    assert result.exit_code == EXIT_REFUSED
    assert "the log ends at entry 17" in result.stderr


def test_publish_over_a_tampered_log_exits_1_and_publishes_nothing(cli: AuditCli) -> None:
    tamper(cli.engine, delete(audit_log).where(audit_log.c.seq == 5))

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
    tamper(cli.engine, "UPDATE audit_log SET at = 'yesterday' WHERE seq = 2")

    result = cli("verify")

    assert result.exit_code == EXIT_REFUSED
    assert "the audit log cannot be read, so it was altered" in result.stderr


def test_verify_with_the_signed_head_checks_its_signature(cli: AuditCli) -> None:
    _, signed = cli.publish_both()

    result = cli("verify", "--head", signed)

    assert result.exit_code == 0, result.stderr
    assert "signature genuine" in result.stdout


def test_verify_exits_1_when_the_given_signed_head_was_altered(cli: AuditCli) -> None:
    _, signed = cli.publish_both()
    count, rest = signed.split(":", 1)
    altered = f"{int(count) - 1}:{rest}"

    result = cli("verify", "--head", altered)

    assert result.exit_code == EXIT_REFUSED
    assert "does not verify with the audit key" in result.stderr


def test_verify_exits_1_when_the_stored_head_was_rewritten_without_the_key(
    cli: AuditCli,
) -> None:
    """The owner re-links the chain after an edit and stores a head to match; only the key
    that the database does not hold could sign it."""
    cli.publish()
    record_many(lambda: SqlUnitOfWork(cli.engine), 2, first=21)
    with SqlUnitOfWork(cli.engine) as uow:
        head = head_of(uow.audit.entries())
    with cli.engine.begin() as connection:
        connection.execute(
            insert(audit_heads).values(
                entry_count=head.count,
                head_hash=head.hash,
                published_at=datetime(2021, 7, 20, tzinfo=UTC),
            )
        )

    result = cli("verify")

    assert result.exit_code == EXIT_REFUSED
    assert "carries no signature with the audit key" in result.stderr


def test_check_head_verifies_a_signed_head_with_the_public_key_alone(
    cli: AuditCli, tmp_path: Path
) -> None:
    _, signed = cli.publish_both()
    key = cli("public-key")
    assert key.exit_code == 0, key.stderr
    assert key.stdout.startswith("-----BEGIN PUBLIC KEY-----")
    public_key = tmp_path / "audit-public-key.pem"
    public_key.write_text(key.stdout)
    # No database at all: only the head and the public key.
    outside = CliRunner().invoke(
        app,
        ["audit", "check-head", signed, "--public-key", str(public_key)],
        env={"MYNAPOINT_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none"},
    )

    assert outside.exit_code == 0, outside.stderr
    assert "signature genuine" in outside.stdout


def test_check_head_exits_1_for_a_head_rewritten_or_signed_with_another_key(
    cli: AuditCli, tmp_path: Path
) -> None:
    plain, signed = cli.publish_both()
    public_key = tmp_path / "audit-public-key.pem"
    public_key.write_text(cli("public-key").stdout)
    rewritten = signed.replace(plain, f"20:{'cd' * 32}")
    other = tmp_path / "other-key.pem"
    other.write_text(OTHER_KEY.verifier().pem())

    forged = cli("check-head", rewritten, "--public-key", str(public_key))
    foreign = cli("check-head", signed, "--public-key", str(other))

    assert forged.exit_code == foreign.exit_code == EXIT_REFUSED
    assert "does not verify with this public key" in forged.stderr


def test_the_signing_key_file_is_created_on_first_use_readable_by_its_owner_only(
    cli: AuditCli, tmp_path: Path
) -> None:
    key_file = tmp_path / "audit-signing-key.pem"
    assert not key_file.exists()

    cli.publish()

    assert key_file.stat().st_mode & 0o777 == 0o600
