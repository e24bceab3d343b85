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
_MY_NUMBER_SPELLINGS = ("mynumber", "kojinbango", "individualnumber")


def _squashed(name: str) -> str:
    return re.sub(r"[^a-z]", "", name.lower())


def test_no_table_has_a_place_for_a_my_number() -> None:
    names = [table.name for table in metadata.tables.values()] + [
        f"{table.name}.{column.name}"
        for table in metadata.tables.values()
        for column in table.columns
    ]

    offending = [name for name in names if any(s in _squashed(name) for s in _MY_NUMBER_SPELLINGS)]

    assert offending == []


@pytest.mark.parametrize("name", ["my_number", "MyNumber", "kojin_bango", "holder_my-number"])
def test_the_my_number_guard_recognises_the_usual_spellings(name: str) -> None:
    assert any(s in _squashed(name) for s in _MY_NUMBER_SPELLINGS)


def test_the_platform_clock_has_a_single_row(migrated_engine: Engine) -> None:
    at = datetime(2021, 7, 19, 1, 0, tzinfo=UTC)

    with pytest.raises(IntegrityError), migrated_engine.begin() as connection:
        connection.execute(insert(platform_clock).values(id=2, started_at=at, recorded_real_at=at))
