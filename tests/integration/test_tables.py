from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from mynapoint.db.tables import metadata, platform_clock

# The platform identifies people by their card's certificate, never by their
# My Number (個人番号), which it is not allowed to collect.
_MY_NUMBER_SPELLINGS = ("mynumber", "kojin", "individualnumber")
# Nor does anything store a secret a person types or holds: the PIN stays on the
# card, and a session token is kept only as its hash. Words of a name that
# start with these are suspect.
_SECRET_WORDS = ("pin", "passw", "passcode", "token")
# Names that contain a suspect word but hold no secret.
_HARMLESS = {
    "cards.wrong_pins": "a count of wrong entries, as the chip keeps it",
    "citizen_sessions.token_hash": "the SHA-256 of the token, never the token",
    "staff_accounts.password_hash": "the argon2id hash of a staff password, never the password",
    "staff_sessions.token_hash": "the SHA-256 of a staff sign-in token, never the token",
}


def _squashed(name: str) -> str:
    return re.sub(r"[^a-z]", "", name.lower())


def _words(name: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    return re.findall(r"[a-z]+", spaced.lower())


def _has_a_place_for_a_my_number(name: str) -> bool:
    return any(spelling in _squashed(name) for spelling in _MY_NUMBER_SPELLINGS)


def _has_a_place_for_a_secret(name: str) -> bool:
    return any(word.startswith(_SECRET_WORDS) for word in _words(name))


def _table_and_column_names() -> list[str]:
    return [table.name for table in metadata.tables.values()] + [
        f"{table.name}.{column.name}"
        for table in metadata.tables.values()
        for column in table.columns
    ]


def test_no_table_has_a_place_for_a_my_number() -> None:
    offending = [name for name in _table_and_column_names() if _has_a_place_for_a_my_number(name)]

    assert offending == []


def test_no_table_has_a_place_for_a_pin_password_or_token() -> None:
    offending = [
        name
        for name in _table_and_column_names()
        if _has_a_place_for_a_secret(name) and name not in _HARMLESS
    ]

    assert offending == []


def test_every_harmless_exception_still_exists() -> None:
    assert set(_HARMLESS) <= set(_table_and_column_names())


@pytest.mark.parametrize(
    "name", ["my_number", "MyNumber", "kojin_bango", "holder_my-number", "kojinNo"]
)
def test_the_my_number_guard_recognises_the_usual_spellings(name: str) -> None:
    assert _has_a_place_for_a_my_number(name)


@pytest.mark.parametrize(
    "name", ["pin", "card_pin", "pin_hash", "pinCode", "password", "passwd", "session_token"]
)
def test_the_secret_guard_recognises_the_usual_spellings(name: str) -> None:
    assert _has_a_place_for_a_secret(name)


@pytest.mark.parametrize("name", ["shopping_amount", "spending", "opinion", "mapping"])
def test_the_secret_guard_lets_words_that_merely_contain_pin_through(name: str) -> None:
    assert not _has_a_place_for_a_secret(name)


def test_the_platform_clock_has_a_single_row(migrated_engine: Engine) -> None:
    at = datetime(2021, 7, 19, 1, 0, tzinfo=UTC)

    with pytest.raises(IntegrityError), migrated_engine.begin() as connection:
        connection.execute(insert(platform_clock).values(id=2, started_at=at, recorded_real_at=at))
