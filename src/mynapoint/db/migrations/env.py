from __future__ import annotations

import re
from logging.config import fileConfig
from typing import TYPE_CHECKING

from alembic import context
from sqlalchemy.engine import Connection

from mynapoint.config import load_settings
from mynapoint.db.engine import create_engine_for, parse_database_url
from mynapoint.db.migrate import migration_transaction
from mynapoint.db.tables import metadata

if TYPE_CHECKING:
    from alembic.operations.ops import MigrationScript
    from alembic.runtime.migration import MigrationContext

config = context.config


def number_the_revision(
    _context: MigrationContext, _revision: object, directives: list[MigrationScript]
) -> None:
    """New revisions are numbered 0001, 0002, … instead of alembic's random ids."""
    script = directives[0]
    if re.fullmatch(r"\d{4}", script.rev_id or ""):
        return
    head = context.script.get_current_head()
    script.rev_id = f"{int(head) + 1:04d}" if head else "0001"


def is_ours(name: str | None, kind: str, _parents: object) -> bool:
    """Leave procrastinate's tables (migration 0013, docs/JOBS.md) out of `alembic check`: the
    library owns their definition, db/tables/ does not describe them."""
    return not (kind == "table" and (name or "").startswith("procrastinate_"))


def run_migrations_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        compare_type=True,
        include_name=is_ours,
        process_revision_directives=number_the_revision,
        # SQLite alters most things only by copying the table.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    context.configure(
        url=parse_database_url(load_settings().database_url),
        target_metadata=metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    given = config.attributes.get("connection")
    if given is not None:
        if not isinstance(given, Connection):
            raise TypeError(f"config.attributes['connection'] must be a Connection, not {given!r}")
        # Called from mynapoint.db.migrate: the caller holds the transaction and lock.
        run_migrations_on(given)
        return
    engine = create_engine_for(load_settings().database_url)
    try:
        with migration_transaction(engine) as connection:
            run_migrations_on(connection)
    finally:
        engine.dispose()


# Only the alembic command line configures logging; a program that migrates
# keeps its own logging as it is.
if config.config_file_name is not None and "connection" not in config.attributes:
    fileConfig(config.config_file_name, disable_existing_loggers=False)

if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
