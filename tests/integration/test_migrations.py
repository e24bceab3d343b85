from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from mynapoint.db.engine import create_engine_for
from mynapoint.db.migrate import alembic_config, check, downgrade, upgrade
from mynapoint.db.tables import metadata

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine


def _head() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _recorded_revision(engine: Engine) -> str:
    with engine.connect() as connection:
        return str(connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one())


def test_upgrade_head_creates_every_table(migrated_engine: Engine) -> None:
    tables = set(inspect(migrated_engine).get_table_names())

    assert {"alembic_version", "platform_clock"} <= tables
    assert set(metadata.tables) <= tables


def test_upgrade_head_records_the_latest_revision(migrated_engine: Engine) -> None:
    assert _recorded_revision(migrated_engine) == _head()


def test_tables_and_migrations_do_not_drift(migrated_engine: Engine) -> None:
    check(migrated_engine)


def test_upgrading_a_migrated_database_changes_nothing(migrated_engine: Engine) -> None:
    upgrade(migrated_engine)

    assert _recorded_revision(migrated_engine) == _head()
    check(migrated_engine)


def test_every_migration_downgrades_and_upgrades_again(migrated_engine: Engine) -> None:
    downgrade(migrated_engine, "base")
    assert set(inspect(migrated_engine).get_table_names()) <= {"alembic_version"}

    upgrade(migrated_engine)
    check(migrated_engine)


def test_processes_starting_together_migrate_the_database_once(database_url: str) -> None:
    engines = [create_engine_for(database_url) for _ in range(3)]
    start_together = threading.Barrier(len(engines))

    def start(engine: Engine) -> None:
        start_together.wait()
        upgrade(engine)

    try:
        with ThreadPoolExecutor(len(engines)) as pool:
            for done in [pool.submit(start, engine) for engine in engines]:
                done.result()
        assert _recorded_revision(engines[0]) == _head()
        check(engines[0])
    finally:
        for engine in engines:
            engine.dispose()


def test_revisions_are_numbered_in_one_line() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    oldest_first = list(reversed(list(script.walk_revisions())))

    assert len(script.get_heads()) == 1
    for number, revision in enumerate(oldest_first, start=1):
        expected_down = None if number == 1 else f"{number - 1:04d}"
        assert revision.revision == f"{number:04d}"
        assert revision.down_revision == expected_down
        assert Path(str(revision.path)).name.startswith(f"{number:04d}_")
