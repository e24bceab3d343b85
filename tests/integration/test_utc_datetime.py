from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, insert, select
from sqlalchemy.exc import StatementError

from mynapoint.db.types import UtcDateTime

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sqlalchemy.engine import Engine

JST = timezone(timedelta(hours=9))
_metadata = MetaData()
moments = Table(
    "moments",
    _metadata,
    Column("id", Integer, primary_key=True),
    Column("at", UtcDateTime),
)


@pytest.fixture
def with_moments(engine: Engine) -> Iterator[Engine]:
    _metadata.create_all(engine)
    yield engine
    _metadata.drop_all(engine)


def _store(engine: Engine, at: datetime | None) -> datetime | None:
    with engine.begin() as connection:
        connection.execute(insert(moments).values(id=1, at=at))
        value: datetime | None = connection.execute(select(moments.c.at)).scalar_one()
    return value


@pytest.mark.parametrize(
    "at",
    [
        datetime(2021, 7, 19, 10, 0, 0, 123456, tzinfo=JST),
        datetime(2021, 7, 19, 1, 0, 0, 123456, tzinfo=UTC),
        datetime(2021, 12, 31, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-5))),
    ],
)
def test_an_aware_datetime_reads_back_as_the_same_instant_in_utc(
    with_moments: Engine, at: datetime
) -> None:
    stored = _store(with_moments, at)

    assert stored == at
    assert stored is not None
    assert stored.tzinfo is UTC


def test_null_stays_null(with_moments: Engine) -> None:
    assert _store(with_moments, None) is None


def test_comparisons_in_sql_compare_instants(with_moments: Engine) -> None:
    at = datetime(2021, 7, 19, 10, 0, tzinfo=JST)
    _store(with_moments, at)

    with with_moments.connect() as connection:
        found = connection.execute(
            select(moments.c.id).where(moments.c.at == at.astimezone(UTC))
        ).all()
        later = connection.execute(
            select(moments.c.id).where(moments.c.at > datetime(2021, 7, 19, 9, 59, tzinfo=JST))
        ).all()

    assert len(found) == 1
    assert len(later) == 1


def test_a_naive_datetime_is_refused(with_moments: Engine) -> None:
    with pytest.raises(StatementError, match="has no UTC offset") as raised:
        _store(with_moments, datetime(2021, 7, 19, 10, 0))  # noqa: DTZ001 - the point of the test

    assert isinstance(raised.value.orig, ValueError)
