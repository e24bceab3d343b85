"""Load an operator's event file (CSV or JSON Lines) in batches, reporting every bad line.

Each batch is one transaction through the same intake path as the API, so a
file interrupted at any point (even by SIGKILL) can simply be loaded again:
what was committed comes back as duplicates, the rest is added.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import IO

from mynapoint.domain.campaigns import CampaignRules
from mynapoint.domain.services import Catalog
from mynapoint.ingest.event_rows import read_events
from mynapoint.services.intake import EventRow, RowProblem, ingest
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
) -> FileResult:
    result = FileResult()
    batch: list[tuple[int, EventRow]] = []
    # Problems are reported in line order: those found while reading wait for their batch.
    waiting: list[RowProblem] = []

    def flush() -> None:
        problems = list(waiting)
        waiting.clear()
        if batch:
            outcome = ingest(new_uow(), operator_code, batch, rules, catalog, now())
            result.accepted += outcome.accepted
            result.duplicates += outcome.duplicates
            problems.extend(outcome.rejected)
            batch.clear()
        result.rejected += len(problems)
        for problem in sorted(problems, key=lambda p: p.index):
            on_problem(problem)

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
    return result
