from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING

import pytest
from pydantic import ValidationError

from mynapoint.config import load_settings

if TYPE_CHECKING:
    from pathlib import Path

_VARIABLES = ("DATABASE_URL", "CLOCK_START", "DEMO", "VAR_DIR")


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    for name in _VARIABLES:
        monkeypatch.delenv(f"MYNAPOINT_{name}", raising=False)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


def test_by_default_the_database_is_a_sqlite_file_under_var(tmp_path: Path) -> None:
    settings = load_settings()

    assert settings.database_url == f"sqlite+pysqlite:///{tmp_path}/var/mynapoint.db"
    assert settings.clock_start is None
    assert settings.demo is False


def test_the_default_database_follows_the_var_dir(
    environment: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    environment.setenv("MYNAPOINT_VAR_DIR", "state")

    assert load_settings().database_url == f"sqlite+pysqlite:///{tmp_path}/state/mynapoint.db"


def test_a_database_url_is_taken_as_given(environment: pytest.MonkeyPatch) -> None:
    url = "postgresql+psycopg://mynapoint@db.example:5432/mynapoint"
    environment.setenv("MYNAPOINT_DATABASE_URL", url)

    assert load_settings().database_url == url


def test_an_unsupported_database_is_refused_with_an_example(
    environment: pytest.MonkeyPatch,
) -> None:
    environment.setenv("MYNAPOINT_DATABASE_URL", "mysql://root:secret@localhost/mynapoint")

    with pytest.raises(ValidationError, match="postgresql\\+psycopg://") as raised:
        load_settings()

    assert "secret" not in str(raised.value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            "2021-07-19T10:00:00+09:00",
            datetime(2021, 7, 19, 10, tzinfo=timezone(timedelta(hours=9))),
        ),
        ("2021-07-19T01:00:00Z", datetime(2021, 7, 19, 1, tzinfo=UTC)),
        ("", None),
    ],
)
def test_the_clock_start_needs_an_offset(
    environment: pytest.MonkeyPatch, value: str, expected: datetime | None
) -> None:
    environment.setenv("MYNAPOINT_CLOCK_START", value)

    assert load_settings().clock_start == expected


@pytest.mark.parametrize("value", ["2021-07-19T10:00:00", "2021-07-19 10:00", "2021-07-19"])
def test_a_clock_start_without_an_offset_is_refused(
    environment: pytest.MonkeyPatch, value: str
) -> None:
    environment.setenv("MYNAPOINT_CLOCK_START", value)

    with pytest.raises(
        ValidationError, match=r"has no UTC offset; give one, e\.g\. 2021-07-19T10:00:00\+09:00"
    ):
        load_settings()


def test_demo_mode_is_switched_on_by_true(environment: pytest.MonkeyPatch) -> None:
    environment.setenv("MYNAPOINT_DEMO", "true")

    assert load_settings().demo is True
