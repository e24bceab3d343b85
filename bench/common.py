"""What every benchmark shares: the scratch PostgreSQL database, the machine's description
and the rows appended to bench/RESULTS.md."""

from __future__ import annotations

import os
import platform as python_platform
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Final

import psycopg
from sqlalchemy import create_engine, text

from mynapoint.domain.calendar import JST

if TYPE_CHECKING:
    from sqlalchemy.engine import URL, Engine

RESULTS: Final = Path(__file__).with_name("RESULTS.md")


# --- the database -----------------------------------------------------------------------------


def _admin_engine(url: URL) -> Engine:
    return create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")


def admin(url: URL, *statements: str) -> None:
    """Run `statements` on the server's maintenance database, outside any transaction."""
    engine = _admin_engine(url)
    with engine.connect() as connection:
        for statement in statements:
            connection.execute(text(statement))
    engine.dispose()


def recreate_database(url: URL) -> None:
    drop_database(url)
    admin(url, f'CREATE DATABASE "{url.database}"')


def drop_database(url: URL) -> None:
    admin(url, f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')


def conninfo(url: URL) -> str:
    """libpq's form of a SQLAlchemy URL."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def checkpoint(url: URL) -> None:
    """Start a measurement with the same (empty) backlog of dirty pages."""
    with psycopg.connect(conninfo(url), autocommit=True) as connection:
        connection.execute("CHECKPOINT")


def server_version(url: URL) -> str:
    engine = _admin_engine(url)
    with engine.connect() as connection:
        version = str(connection.execute(text("SHOW server_version")).scalar_one())
    engine.dispose()
    return version.split(maxsplit=1)[0]


# --- the machine ------------------------------------------------------------------------------


def machine() -> str:
    """Cores, memory, CPU model and Python: the machine column of a RESULTS.md row."""
    memory = ""
    try:
        with Path("/proc/meminfo").open(encoding="ascii") as info:
            memory = f", {int(info.readline().split()[1]) / 2**20:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                model = ", " + line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores{memory}{model}, CPython {python_platform.python_version()}"


def today() -> str:
    """The date of a RESULTS.md row (Japan's)."""
    return datetime.now(UTC).astimezone(JST).date().isoformat()


# --- RESULTS.md -------------------------------------------------------------------------------


def append_rows(section: str, intro: str, table_head: str, rows: list[str]) -> None:
    """Append `rows` after the last table row of `section` in RESULTS.md before any subheading
    of it, creating the section (its heading, `intro` and `table_head`) at the end of the file
    when it is not there."""
    content = RESULTS.read_text(encoding="utf-8")
    if section not in content:
        content = content.rstrip("\n") + "\n\n" + section + "\n" + intro + table_head
    lines = content.splitlines()
    at = lines.index(section) + 1
    last = at
    # Up to the section's first subheading: a "###" analysis may hold tables of its own.
    while at < len(lines) and not lines[at].startswith("#"):
        if lines[at].startswith("|"):
            last = at
        at += 1
    lines[last + 1 : last + 1] = rows
    RESULTS.write_text("\n".join(lines) + "\n", encoding="utf-8")
