"""A PostgreSQL cluster of the harness's own: initdb into a temporary folder, one port, trust
authentication on 127.0.0.1 only; stopped and deleted at the end, also on failure or Ctrl-C.

The machine's shared server (5432) is never touched: restarting "the database under load"
restarts this cluster only.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import psycopg

PG_BIN_GLOB = "/usr/lib/postgresql/*/bin"
OS_USER = "postgres"
Mode = Literal["fast", "immediate"]  # pg_ctl's shutdown modes that a restart may take


class ClusterError(RuntimeError):
    pass


def pg_bin() -> Path:
    """The newest PostgreSQL installation's bin folder (Debian's layout)."""
    found = sorted(
        (p for p in Path("/").glob(PG_BIN_GLOB.lstrip("/")) if (p / "initdb").exists()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if not found:
        raise ClusterError(
            f"no PostgreSQL binaries under {PG_BIN_GLOB} (apt-get install postgresql)"
        )
    return found[-1]


def _as_postgres() -> list[str]:
    """initdb and the server refuse to run as root: run them as the `postgres` OS user."""
    return ["runuser", "-u", OS_USER, "--"] if os.geteuid() == 0 else []


@dataclass(frozen=True)
class Cluster:
    root: Path
    port: int
    bin: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def log(self) -> Path:
        return self.root / "server.log"

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def conninfo(self, database: str) -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={database}"

    def _tool(self, name: str, *args: str, timeout: float = 120) -> None:
        command = [*_as_postgres(), str(self.bin / name), *args]
        done = subprocess.run(  # noqa: S603 - PostgreSQL's own tools, fixed arguments
            command, capture_output=True, text=True, timeout=timeout, check=False
        )
        if done.returncode != 0:
            raise ClusterError(f"{name} {' '.join(args)}: {done.stderr.strip() or done.stdout}")

    def _pg_ctl(self, *args: str) -> None:
        self._tool("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", *args)

    def initdb(self) -> None:
        self._tool(
            "initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust",
            "-E", "UTF8", "--locale=C.UTF-8",
        )  # fmt: skip
        settings = (
            f"port = {self.port}\n"
            "listen_addresses = '127.0.0.1'\n"
            f"unix_socket_directories = '{self.root}'\n"
            "max_connections = 300\n"
            "shared_buffers = 256MB\n"
        )
        conf = self.data / "postgresql.conf"
        conf.write_text(conf.read_text(encoding="utf-8") + settings, encoding="utf-8")

    def start(self) -> None:
        self._pg_ctl("start")

    def stop(self, mode: Literal["smart", "fast", "immediate"] = "fast") -> None:
        self._pg_ctl("stop", "-m", mode)

    def restart(self, mode: Mode) -> None:
        self._pg_ctl("restart", "-m", mode)

    def is_running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def execute(self, sql: str, database: str = "postgres") -> None:
        with psycopg.connect(self.conninfo(database), autocommit=True) as connection:
            connection.execute(sql.encode())

    def rows(
        self, sql: str, database: str, params: Sequence[object] = ()
    ) -> list[tuple[object, ...]]:
        with psycopg.connect(self.conninfo(database)) as connection:
            return list(connection.execute(sql.encode(), params).fetchall())

    def create_database(self, name: str, template: str | None = None) -> None:
        source = f' TEMPLATE "{template}"' if template else ""
        self.execute(f'CREATE DATABASE "{name}"{source}')

    def drop_database(self, name: str) -> None:
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def scratch_cluster(port: int) -> Iterator[Cluster]:
    """initdb, start; on the way out (however it is left) stop at once and delete the folder."""
    root = Path(tempfile.mkdtemp(prefix="mynapoint-reliability-pg-"))
    if os.geteuid() == 0:
        user = pwd.getpwnam(OS_USER)
        os.chown(root, user.pw_uid, user.pw_gid)
    cluster = Cluster(root=root, port=port, bin=pg_bin())
    try:
        cluster.initdb()
        cluster.start()
        yield cluster
    finally:
        try:
            if cluster.is_running():
                cluster.stop("immediate")
        finally:
            shutil.rmtree(root, ignore_errors=True)
