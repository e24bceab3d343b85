from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import inspect

from mynapoint.bootstrap import build_clock, build_engine
from mynapoint.config import Settings
from mynapoint.services.clock import OffsetClock, SystemClock

JST = timezone(timedelta(hours=9))
START = datetime(2021, 7, 19, 10, 0, tzinfo=JST)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, clock_start=START)


def test_the_engine_comes_migrated(settings: Settings) -> None:
    engine = build_engine(settings)
    try:
        assert "platform_clock" in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_without_a_start_platform_time_is_real_time(settings: Settings) -> None:
    real_time = settings.model_copy(update={"clock_start": None})
    engine = build_engine(real_time)
    try:
        assert isinstance(build_clock(real_time, engine), SystemClock)
    finally:
        engine.dispose()


def test_processes_with_the_same_start_share_platform_time(settings: Settings) -> None:
    server, cli = build_engine(settings), build_engine(settings)
    try:
        server_clock = build_clock(settings, server)
        cli_clock = build_clock(settings, cli)
    finally:
        server.dispose()
        cli.dispose()

    assert isinstance(server_clock, OffsetClock)
    assert isinstance(cli_clock, OffsetClock)
    assert (cli_clock.start, cli_clock.recorded_real_at) == (
        server_clock.start,
        server_clock.recorded_real_at,
    )
    assert START <= server_clock.now() < START + timedelta(minutes=1)
    assert server_clock.now().tzinfo is UTC
