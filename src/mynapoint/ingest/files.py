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
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import IO

from mynapoint.domain.campaigns import CampaignRules
from mynapoint.domain.services import Catalog
from mynapoint.ingest.event_rows import read_events
from mynapoint.services.intake import EventRow, RowProblem, Screened, keep, screen
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
    stream: IO[bytes],
    name: str,
    rules: CampaignRules,
    catalog: Catalog,
    now: Callable[[], datetime],
    on_problem: Callable[[RowProblem], None],
    on_progress: Callable[[int], None] = lambda _bytes: None,
    processes: Workers | None = None,
) -> FileResult:
    result = FileResult()
    # The batch being read; the one read before it is stored meanwhile by another thread
    # (the database works while this one parses: psycopg lets go of the GIL as it waits).
    # One batch at a time is stored, in file order, so a later line never overtakes an
    # earlier one with the same event_id.
    batch: list[tuple[int, EventRow]] = []
    # Problems are reported in line order: those found while reading wait for their batch.
    waiting: list[RowProblem] = []
    with ThreadPoolExecutor(1, thread_name_prefix="intake") as writer:
        storing: Future[list[RowProblem]] | None = None

        def keep_batch(screened: Screened, problems: list[RowProblem]) -> list[RowProblem]:
            if screened.candidates:
                outcome = keep(new_uow(), operator_code, screened)
            else:
                outcome = screened.result
            result.accepted += outcome.accepted
            result.duplicates += outcome.duplicates
            problems.extend(outcome.rejected)
            return problems

        def report(stored: Future[list[RowProblem]] | None) -> None:
            if stored is None:
                return
            problems = stored.result()
            result.rejected += len(problems)
            for problem in sorted(problems, key=lambda p: p.index):
                on_problem(problem)

        def flush() -> None:
            nonlocal storing
            # Checked and hashed here, while the batch before is being stored.
            screened = screen(batch, operator_code, catalog, now())
            report(storing)
            storing = writer.submit(keep_batch, screened, list(waiting))
            batch.clear()
            waiting.clear()

        for number, row in read_events(stream, name):
            result.lines = max(result.lines, number)
            if isinstance(row, RowProblem):
                waiting.append(row)
            else:
                batch.append((number, row))
            if len(batch) + len(waiting) >= FILE_BATCH:
                flush()
                on_progress(stream.tell() if stream.seekable() else 0)
        flush()
        report(storing)
    # Every pending person, this file's and any an interrupted intake left behind.
    evaluate_pending(new_uow, rules, catalog, now(), processes=processes)
    return result
