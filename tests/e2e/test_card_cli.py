"""`mynapoint card …` through the real command line, on SQLite and PostgreSQL.

The commands share the database with a platform built here (and a live server for
`card login`), as a municipal office's terminal and the platform would.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

import httpx
import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from typer.testing import CliRunner

from live_server import live_server
from mynapoint.bootstrap import Platform, build_platform
from mynapoint.cli import app
from mynapoint.config import Settings
from mynapoint.domain.calendar import JST

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from typer.testing import Result

CLOCK_START = "2021-07-19T10:00:00+09:00"
PIN = "1234"
CHALLENGE = b"a challenge from the platform, 32 bytes or not"
UNREACHABLE = "http://127.0.0.1:9"  # the discard port: nothing listens there

EXIT_REFUSED = 1
EXIT_USAGE = 2
EXIT_LOCKED = 3


@dataclass
class CardCli:
    """`mynapoint card …` with the environment of one test's database and platform clock."""

    env: dict[str, str]
    folder: Path

    def __call__(self, *args: str | Path) -> Result:
        return CliRunner().invoke(app, ["card", *map(str, args)], env=self.env)

    def issue(self, name: str, *options: str, pin: str = PIN) -> tuple[Path, str]:
        path = self.folder / name
        result = self("issue", "--out", path, "--pin", pin, *options)
        assert result.exit_code == 0, result.stderr
        return path, result.stdout.strip()

    def sign(self, card: Path, pin: str = PIN, challenge: bytes = CHALLENGE) -> Result:
        encoded = base64.b64encode(challenge).decode()
        return self("sign", card, "--pin", pin, "--challenge", encoded)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=database_url, var_dir=tmp_path, clock_start=CLOCK_START)


@pytest.fixture
def cli(database_url: str, tmp_path: Path) -> CardCli:
    env = {
        "MYNAPOINT_DATABASE_URL": database_url,
        "MYNAPOINT_VAR_DIR": str(tmp_path),
        "MYNAPOINT_CLOCK_START": CLOCK_START,
    }
    return CardCli(env, tmp_path)


@pytest.fixture
def platform(settings: Settings) -> Iterator[Platform]:
    """The platform on the commands' database, with the same platform clock."""
    built = build_platform(settings)
    try:
        yield built
    finally:
        built.engine.dispose()


def card_file(path: Path) -> dict[str, str]:
    document: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    return document


def verifies(card: Path, signature_base64: str, challenge: bytes = CHALLENGE) -> bool:
    certificate = x509.load_pem_x509_certificate(card_file(card)["certificate"].encode())
    public_key = certificate.public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    signature = base64.b64decode(signature_base64, validate=True)
    try:
        public_key.verify(signature, challenge, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


def is_uppercase_hex(text: str) -> bool:
    return bool(text) and all(c in "0123456789ABCDEF" for c in text)


# --- issue ---------------------------------------------------------------------------------


def test_issue_prints_the_serial_and_writes_a_card_whose_key_is_encrypted_with_the_pin(cli):
    path, serial = cli.issue("card.json", pin="7391")
    assert is_uppercase_hex(serial)
    document = card_file(path)
    assert document["format"] == "mynapoint-virtual-card/1"
    assert document["serial"] == serial
    certificate = x509.load_pem_x509_certificate(document["certificate"].encode())
    assert f"{certificate.serial_number:X}" == serial
    assert "-----BEGIN ENCRYPTED PRIVATE KEY-----" in document["private_key"]
    assert "7391" not in path.read_text(encoding="utf-8")


def test_issue_records_the_persons_facts_and_the_legal_representative(cli, platform):
    holder_path, holder = cli.issue(
        "holder.json",
        "--birth-date",
        "2012-05-06",
        "--card-applied-on",
        "2021-02-01",
        "--card-applied-online",
        "--issued-at",
        "2021-03-01",
        "--adult-ward",
    )
    _, parent = cli.issue(
        "parent.json",
        "--issued-at",
        "2021-03-02T09:30:00+09:00",
        "--representative-of",
        holder,
    )
    facts = platform.authority.facts(holder)
    assert facts is not None
    assert facts.birth_date == date(2012, 5, 6)
    assert facts.card_applied_on == date(2021, 2, 1)
    assert facts.card_applied_online
    assert facts.adult_ward
    # A date is 00:00 JST that day.
    assert facts.certificate_issued_at == datetime(2021, 3, 1, tzinfo=JST)
    parent_facts = platform.authority.facts(parent)
    assert parent_facts is not None
    assert parent_facts.certificate_issued_at == datetime(2021, 3, 2, 9, 30, tzinfo=JST)
    assert not parent_facts.adult_ward
    assert not parent_facts.card_applied_online
    assert platform.authority.is_legal_representative(parent_facts.person, facts.person)
    assert not platform.authority.is_legal_representative(facts.person, parent_facts.person)
    assert holder_path.exists()


def test_issue_defaults_to_platform_now_from_the_clock_start(cli, platform):
    _, serial = cli.issue("card.json")
    facts = platform.authority.facts(serial)
    assert facts is not None
    started = datetime.fromisoformat(CLOCK_START)
    assert started <= facts.certificate_issued_at <= platform.clock.now()
    assert facts.card_applied_on == date(2021, 6, 19)  # 30 days before issuance


@pytest.mark.parametrize(
    ("options", "named"),
    [
        (["--issued-at", "2021-03-01T09:30:00"], "--issued-at"),  # no offset: never guessed
        (["--issued-at", "yesterday"], "--issued-at"),
        (["--birth-date", "1980-02-30"], "--birth-date"),
        (["--card-applied-on", "2021/02/01"], "--card-applied-on"),
    ],
)
def test_issue_with_a_bad_date_or_timestamp_exits_2_naming_the_option(cli, options, named):
    result = cli("issue", "--out", cli.folder / "card.json", "--pin", PIN, *options)
    assert result.exit_code == EXIT_USAGE
    assert named in result.stderr
    assert not (cli.folder / "card.json").exists()


@pytest.mark.parametrize("pin", ["12a4", "12345", "987", "１２３４"])
def test_issue_with_a_malformed_pin_exits_2_without_echoing_it(cli, pin):
    result = cli("issue", "--out", cli.folder / "card.json", "--pin", pin)
    assert result.exit_code == EXIT_USAGE
    assert "4 digits" in result.stderr
    assert pin not in result.stderr
    assert not (cli.folder / "card.json").exists()


def test_issue_for_an_unknown_representative_serial_is_refused(cli):
    result = cli(
        "issue", "--out", cli.folder / "card.json", "--pin", PIN, "--representative-of", "ABCDEF"
    )
    assert result.exit_code == EXIT_REFUSED
    assert "ABCDEF" in result.stderr


# --- sign, the PIN counter -----------------------------------------------------------------


def test_sign_prints_a_signature_that_verifies_with_the_certificate(cli):
    card, _ = cli.issue("card.json")
    result = cli.sign(card)
    assert result.exit_code == 0, result.stderr
    assert verifies(card, result.stdout.strip())
    assert not verifies(card, result.stdout.strip(), challenge=b"other bytes")


def test_three_wrong_pins_lock_the_card_until_reset_pin(cli):
    card, _ = cli.issue("card.json")
    # Malformed PINs never reach the card: they exit 2 and are not counted.
    for malformed in ("12a4", "12345"):
        assert cli.sign(card, pin=malformed).exit_code == EXIT_USAGE
    first = cli.sign(card, pin="9999")
    assert first.exit_code == EXIT_REFUSED
    assert "2 tries left" in first.stderr
    assert first.stdout == ""
    second = cli.sign(card, pin="9999")
    assert "1 tries left" in second.stderr or "1 try left" in second.stderr
    third = cli.sign(card, pin="9999")
    assert third.exit_code == EXIT_REFUSED
    assert "locked" in third.stderr

    locked = cli.sign(card)
    assert locked.exit_code == EXIT_LOCKED
    assert "reset-pin" in locked.stderr

    reset = cli("reset-pin", card)
    assert reset.exit_code == 0, reset.stderr
    signed = cli.sign(card)
    assert signed.exit_code == 0, signed.stderr
    assert verifies(card, signed.stdout.strip())


def test_a_right_pin_resets_the_count_of_wrong_ones(cli):
    card, _ = cli.issue("card.json")
    assert cli.sign(card, pin="9999").exit_code == EXIT_REFUSED
    assert cli.sign(card, pin="9999").exit_code == EXIT_REFUSED
    assert cli.sign(card).exit_code == 0
    assert "2 tries left" in cli.sign(card, pin="9999").stderr


def test_sign_with_a_challenge_that_is_not_base64_exits_2(cli):
    card, _ = cli.issue("card.json")
    result = cli("sign", card, "--pin", PIN, "--challenge", "not base64!")
    assert result.exit_code == EXIT_USAGE
    assert "--challenge" in result.stderr


@pytest.mark.parametrize(
    "content",
    [
        b"not json at all",
        b"\xff\xfe\x00garbage",
        b"[1, 2, 3]",
        b'{"format": "mynapoint-virtual-card/0"}',
        b'{"format": "mynapoint-virtual-card/1", "serial": "AB"}',
    ],
    ids=["text", "binary", "json-list", "other-format", "missing-fields"],
)
def test_an_unreadable_card_file_exits_2(cli, content):
    card = cli.folder / "garbage.json"
    card.write_bytes(content)
    result = cli.sign(card)
    assert result.exit_code == EXIT_USAGE
    assert "garbage.json" in result.stderr
    assert "Traceback" not in result.output


def test_a_missing_card_file_exits_2(cli):
    result = cli("revoke", cli.folder / "no-such-card.json")
    assert result.exit_code == EXIT_USAGE
    assert "no-such-card.json" in result.stderr


# --- renew, reissue, revoke, died ----------------------------------------------------------


def test_renew_and_reissue_give_new_serials_and_revoke_the_old_certificate(cli, platform):
    card, first = cli.issue("card.json")

    renewed = cli("renew", card, "--out", cli.folder / "renewed.json", "--pin", PIN)
    assert renewed.exit_code == 0, renewed.stderr
    second = renewed.stdout.strip()
    assert is_uppercase_hex(second)
    assert second != first

    reissued = cli(
        "reissue", cli.folder / "renewed.json", "--out", cli.folder / "new.json", "--pin", "4321"
    )
    assert reissued.exit_code == 0, reissued.stderr
    third = reissued.stdout.strip()
    assert is_uppercase_hex(third)
    assert third not in {first, second}

    facts = {serial: platform.authority.facts(serial) for serial in (first, second, third)}
    assert facts[first].revoked_at is not None
    assert facts[second].revoked_at is not None
    assert facts[third].revoked_at is None
    assert facts[second].predecessor == first
    assert facts[third].predecessor == second
    # The same person throughout: a new card is not a new person.
    assert {f.person for f in facts.values()} == {facts[first].person}

    # The reissued card has its own PIN.
    new = cli.folder / "new.json"
    assert cli.sign(new, pin=PIN).exit_code == EXIT_REFUSED
    signed = cli.sign(new, pin="4321")
    assert signed.exit_code == 0, signed.stderr
    assert verifies(new, signed.stdout.strip())

    # A replaced card cannot be renewed again: there would be two live certificates.
    again = cli("renew", card, "--out", cli.folder / "again.json", "--pin", PIN)
    assert again.exit_code == EXIT_REFUSED
    assert third in again.stderr


@pytest.mark.parametrize("command", ["renew", "reissue"])
def test_a_card_that_cannot_be_written_is_not_made_and_the_old_one_stays_valid(
    cli, platform, command
):
    card, serial = cli.issue("card.json")
    out = cli.folder / "no-such-folder" / "new.json"
    result = cli(command, card, "--out", out, "--pin", PIN)
    assert result.exit_code == EXIT_USAGE
    assert "no-such-folder" in result.stderr
    facts = platform.authority.facts(serial)
    assert facts is not None
    assert facts.revoked_at is None
    # Nothing was replaced: renewing to a good place still works.
    assert cli(command, card, "--out", cli.folder / "new.json", "--pin", PIN).exit_code == 0


def test_issue_to_a_directory_exits_2(cli):
    result = cli("issue", "--out", cli.folder, "--pin", PIN)
    assert result.exit_code == EXIT_USAGE
    assert "directory" in result.stderr


def test_renew_with_a_timestamp_without_offset_exits_2(cli):
    card, _ = cli.issue("card.json")
    result = cli(
        "renew",
        card,
        "--out",
        cli.folder / "renewed.json",
        "--pin",
        PIN,
        "--issued-at",
        "2021-07-20T10:00:00",
    )
    assert result.exit_code == EXIT_USAGE
    assert "--issued-at" in result.stderr
    assert not (cli.folder / "renewed.json").exists()


def test_revoke_puts_the_certificate_on_the_revocation_list(cli, platform):
    card, serial = cli.issue("card.json")
    result = cli("revoke", card)
    assert result.exit_code == 0, result.stderr
    facts = platform.authority.facts(serial)
    assert facts is not None
    assert facts.revoked_at is not None
    crl = platform.authority.revocation_list()
    assert crl.get_revoked_certificate_by_serial_number(int(serial, 16)) is not None


def test_died_records_the_day_of_death(cli, platform):
    card, serial = cli.issue("card.json")
    result = cli("died", card, "--on", "2021-08-01")
    assert result.exit_code == 0, result.stderr
    facts = platform.authority.facts(serial)
    assert facts is not None
    assert facts.died_on == date(2021, 8, 1)
    # A death is not a revocation: the platform asks the facts.
    assert facts.revoked_at is None

    bad = cli("died", card, "--on", "2021-08-32")
    assert bad.exit_code == EXIT_USAGE
    assert "--on" in bad.stderr


# --- login against a server ----------------------------------------------------------------


@pytest.fixture
def server(settings: Settings, platform: Platform) -> Iterator[str]:
    with live_server(settings, platform) as base_url:
        yield base_url


def test_login_prints_a_token_that_the_server_accepts(cli, server):
    card, _ = cli.issue("card.json")
    result = cli("login", card, "--pin", PIN, "--url", server)
    assert result.exit_code == 0, result.stderr
    token = result.stdout.strip()
    assert token
    assert "\n" not in token
    headers = {"Authorization": f"Bearer {token}"}
    assert httpx.post(f"{server}/api/v1/mykey", headers=headers).status_code == 201
    me = httpx.get(f"{server}/api/v1/me", headers=headers)
    assert me.status_code == 200, me.text
    assert me.json()["mykey_id"]


def test_login_with_a_wrong_pin_or_a_revoked_card_is_refused(cli, server):
    card, _ = cli.issue("card.json")
    revoked, _ = cli.issue("revoked.json")
    # Revoked before the server's first login, so its cached revocation list has it.
    assert cli("revoke", revoked).exit_code == 0

    wrong = cli("login", card, "--pin", "9999", "--url", server)
    assert wrong.exit_code == EXIT_REFUSED
    assert "2 tries left" in wrong.stderr
    assert wrong.stdout == ""

    refused = cli("login", revoked, "--pin", PIN, "--url", server)
    assert refused.exit_code == EXIT_REFUSED
    assert "certificate_revoked" in refused.stderr
    assert refused.stdout == ""

    # The holder of the good card still gets in (and the right PIN resets the count).
    assert cli("login", card, "--pin", PIN, "--url", server).exit_code == 0


def test_login_to_a_server_that_does_not_answer_exits_1_with_a_clear_message(cli):
    card, _ = cli.issue("card.json")
    result = cli("login", card, "--pin", PIN, "--url", UNREACHABLE)
    assert result.exit_code == EXIT_REFUSED
    assert f"cannot reach {UNREACHABLE}" in result.stderr
    assert "Traceback" not in result.output


def test_login_with_a_card_of_another_database_says_which_database_to_use(cli, server, tmp_path):
    card, serial = cli.issue("card.json")
    # The same command, opening another (empty) database than the one that made the card.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {name: value for name, value in cli.env.items() if name != "MYNAPOINT_DATABASE_URL"}
    other = CardCli({**env, "MYNAPOINT_VAR_DIR": str(elsewhere)}, elsewhere)
    result = other("login", card, "--pin", PIN, "--url", server)
    assert result.exit_code == EXIT_REFUSED
    assert serial in result.stderr
    assert str(elsewhere / "mynapoint.db") in result.stderr
    assert "MYNAPOINT_VAR_DIR" in result.stderr
    assert "Traceback" not in result.output
