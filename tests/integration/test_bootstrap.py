from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import inspect

from mynapoint.bootstrap import build_clock, build_engine
from mynapoint.config import Settings
from mynapoint.db.migrate import NotMigrated

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


def test_a_server_worker_checks_the_revision_and_never_migrates(settings: Settings) -> None:
    # `mynapoint serve --workers N` migrates in its parent; a worker only checks.
    with pytest.raises(NotMigrated, match="mynapoint migrate"):
        build_engine(settings, migrate=False)
    build_engine(settings).dispose()
    engine = build_engine(settings, migrate=False)
    try:
        assert "platform_clock" in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_without_a_start_or_a_recorded_clock_platform_time_is_real_time(
    settings: Settings,
) -> None:
    real_time = settings.model_copy(update={"clock_start": None})
    engine = build_engine(real_time)
    try:
        clock = build_clock(real_time, engine)
    finally:
        engine.dispose()

    assert clock.anchor is None
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(minutes=1)


def test_processes_with_the_same_start_share_platform_time(settings: Settings) -> None:
    server, cli = build_engine(settings), build_engine(settings)
    try:
        server_clock = build_clock(settings, server)
        cli_clock = build_clock(settings, cli)
    finally:
        server.dispose()
        cli.dispose()

    assert server_clock.anchor is not None
    assert cli_clock.anchor == server_clock.anchor
    assert START <= server_clock.now() < START + timedelta(minutes=1)
    assert server_clock.now().tzinfo is UTC


@pytest.mark.parametrize(
    "cli_start", [None, datetime(2021, 10, 1, 9, 0, tzinfo=JST)], ids=["unset", "another"]
)
def test_a_process_started_without_the_start_or_with_another_runs_on_the_recorded_clock(
    settings: Settings, cli_start: datetime | None
) -> None:
    """`make run` anchored the database; a command run from another shell has no
    MYNAPOINT_CLOCK_START (or a stale one) and must still agree with the server."""
    server = build_engine(settings)
    cli_settings = settings.model_copy(update={"clock_start": cli_start})
    cli = build_engine(cli_settings)
    try:
        server_clock = build_clock(settings, server)
        cli_clock = build_clock(cli_settings, cli)
    finally:
        server.dispose()
        cli.dispose()

    assert cli_clock.anchor == server_clock.anchor
    assert START <= cli_clock.now() < START + timedelta(minutes=1)
