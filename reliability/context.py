"""What every run is given: the cluster, the template's data, a work folder, ports, and the
reference ledgers of clean runs."""

from __future__ import annotations

import random
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from rich.console import Console

from reliability.cluster import Cluster
from reliability.dataset import CLOCK_START, TEMPLATE, EventFile, World
from reliability.ledger import Ledger, read_ledger
from reliability.processes import ingest, platform_env

Result = Literal["PASS", "FAIL", "SKIP"]


@dataclass
class Outcome:
    """One row of the table: what was tried, and what was lost, doubled or crashed."""

    run: str
    tried: str
    lost: int | None
    doubled: int | None
    crashed: int | None
    result: Result
    reason: str
    seconds: float = 0.0


@dataclass(frozen=True)
class Reference:
    ledger: Ledger
    seconds: float  # how long the clean `mynapoint ingest` of the file took


@dataclass
class Context:
    cluster: Cluster
    world: World
    workdir: Path
    rng: random.Random
    console: Console
    quick: bool
    ports: list[int]
    keep_databases: bool = False
    _databases: int = 0
    _references: dict[Path, Reference] = field(default_factory=dict)

    def fresh_database(self, label: str) -> str:
        """A copy of the template (schema, persons, key, card holders) for one run."""
        self._databases += 1
        name = f"{label}_{self._databases:03d}"
        self.cluster.create_database(name, template=TEMPLATE)
        return name

    def drop(self, database: str) -> None:
        if not self.keep_databases:
            self.cluster.drop_database(database)

    def folder(self, name: str) -> Path:
        path = self.workdir / name
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        return path

    def env(self, database: str, var_dir: Path) -> dict[str, str]:
        return platform_env(self.cluster.url(database), var_dir, CLOCK_START)

    def port(self) -> int:
        return self.ports.pop(0)

    def say(self, text: str) -> None:
        self.console.log(text)

    def reference(self, file: EventFile) -> Reference:
        """The ledger one clean `mynapoint ingest` of the file leaves in a fresh database."""
        if file.path not in self._references:
            database = self.fresh_database("reference")
            var_dir = self.folder(f"reference-{self._databases:03d}")
            began = time.monotonic()
            run = ingest(file.path, self.env(database, var_dir), var_dir / "ingest.log")
            seconds = time.monotonic() - began
            if run.returncode not in {0, 1} or run.accepted != len(file.valid):
                raise RuntimeError(
                    f"the clean ingest of {file.path.name} failed (exit {run.returncode}, "
                    f"{run.accepted} of {len(file.valid)} accepted):\n{run.output}"
                )
            self._references[file.path] = Reference(read_ledger(self.cluster, database), seconds)
            self.drop(database)
            self.say(f"reference: clean ingest of {file.path.name} in {seconds:.1f} s")
        return self._references[file.path]
