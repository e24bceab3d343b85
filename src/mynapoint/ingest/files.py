"""Load an operator's event file (CSV or JSON Lines) in batches, reporting every bad line.

Each batch is one transaction through the same intake path as the API
(`services.intake.store`); the persons the file touched are then evaluated once
each, after the last batch (`services.ledger.evaluate_pending`), however many
batches touched them: in the worker processes the caller gives
(`Platform.evaluation_workers`, on PostgreSQL), else one chunk after another. A
file interrupted at any point (even by SIGKILL) can simply be loaded again: what
was committed comes back as duplicates, the rest is added, and persons left
pending are evaluated.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO

from mynapoint.domain.campaigns import CampaignRules
from mynapoint.domain.services import Catalog
from mynapoint.ingest.event_rows import ByteLines, read_events
from mynapoint.services.intake import (
    EventRow,
    IntakeResult,
    RowProblem,
    Screened,
    keep,
    screen,
)
from mynapoint.services.ledger import Workers, evaluate_pending
from mynapoint.services.ports import UnitOfWork

FILE_BATCH = 5_000
REPORT_HEADER = ("line", "event_id", "field", "code", "message")


@dataclass
class FileResult:
    lines: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0


@dataclass(frozen=True)
class BatchDone:
    """One batch of a file as it is committed: what it kept and rejected, and how far into
    the file it reaches (`lines` read, the next batch starting at byte `read_bytes`)."""

    lines: int
    read_bytes: int
    accepted: int
    duplicates: int
    problems: list[RowProblem]
    # (line, event_id) of the batch's lines whose event is now stored (accepted or duplicate).
    stored: list[tuple[int, str]] = field(default_factory=list)


def _nothing_recorded(_uow: UnitOfWork, _done: BatchDone) -> None:
    """load_events' default `on_batch`: a batch commits nothing but its events."""


class RejectReport:
    """Rejected lines as CSV (line, event_id, field, code, message), written as they come."""

    def __init__(self, stream: IO[str]) -> None:
        self._writer = csv.writer(stream)
        self._writer.writerow(REPORT_HEADER)

    def write(self, problem: RowProblem) -> None:
        self._writer.writerow(
            (problem.index, problem.event_id or "", problem.field, problem.code, problem.message)
        )


def load_events(
    new_uow: Callable[[], UnitOfWork],
    operator_code: str,
    stream: ByteLines,
    name: str,
    rules: CampaignRules,
    catalog: Catalog,
    now: Callable[[], datetime],
    on_problem: Callable[[RowProblem], None],
    on_progress: Callable[[int], None] = lambda _bytes: None,
    processes: Workers | None = None,
    *,
    on_batch: Callable[[UnitOfWork, BatchDone], None] = _nothing_recorded,
    first_line: int = 1,
    evaluate: bool = True,
) -> FileResult:
    """Load the file from `stream`'s position, line `first_line` (1 for a whole file).

    `on_batch` runs in each batch's transaction, after its events are written: what it
    writes (an upload job's counts and position) is committed with the batch or not at
    all, and an exception from it rolls the batch back and stops the load. `evaluate` False
    leaves the persons pending, for evaluation jobs (mynapoint.jobs)."""
    result = FileResult(lines=first_line - 1)
    # The batch being read; the one read before it is stored meanwhile by another thread
    # (the database works while this one parses: psycopg lets go of the GIL as it waits).
    # One batch at a time is stored, in file order, so a later line never overtakes an
    # earlier one with the same event_id.
    batch: list[tuple[int, EventRow]] = []
    # Problems are reported in line order: those found while reading wait for their batch.
    waiting: list[RowProblem] = []

    def keep_batch(
        screened: Screened, problems: list[RowProblem], lines: int, read_bytes: int
    ) -> list[RowProblem]:
        every: list[RowProblem] = []

        def record(uow: UnitOfWork, outcome: IntakeResult) -> None:
            every.extend(sorted([*problems, *outcome.rejected], key=lambda p: p.index))
            on_batch(
                uow,
                BatchDone(
                    lines, read_bytes, outcome.accepted, outcome.duplicates, every, outcome.stored
                ),
            )

        outcome = keep(new_uow(), operator_code, screened, record)
        result.accepted += outcome.accepted
        result.duplicates += outcome.duplicates
        return every

    def report(problems: list[RowProblem]) -> None:
        result.rejected += len(problems)
        for problem in problems:
            on_problem(problem)

    with ThreadPoolExecutor(1, thread_name_prefix="intake") as writer:
        storing = writer.submit(list[RowProblem])

        def flush() -> None:
            nonlocal storing
            # Checked and hashed here, while the batch before is being stored.
            screened = screen(batch, operator_code, catalog, now())
            report(storing.result())
            storing = writer.submit(
                keep_batch, screened, list(waiting), result.lines, _position(stream)
            )
            batch.clear()
            waiting.clear()

        for number, row in read_events(stream, name, first_line):
            result.lines = max(result.lines, number)
            if isinstance(row, RowProblem):
                waiting.append(row)
            else:
                batch.append((number, row))
            if len(batch) + len(waiting) >= FILE_BATCH:
                flush()
                on_progress(_position(stream))
        flush()
        report(storing.result())
    if evaluate:
        # Every pending person, this file's and any an interrupted intake left behind.
        evaluate_pending(new_uow, rules, catalog, now(), processes=processes)
    return result


def _position(stream: ByteLines) -> int:
    return stream.tell() if stream.seekable() else 0
