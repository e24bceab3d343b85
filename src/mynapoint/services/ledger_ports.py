"""The ledger's ports (services/ports.py holds the rest and the UnitOfWork): operators'
events and the persons pending evaluation, grant instructions, settlement and its approvals,
notices of stopped linkages, and upload jobs."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime
from typing import Protocol

from mynapoint.domain.ledger import (
    GrantCounts,
    GrantInstruction,
    IngestJob,
    JobVerdicts,
    LinkageNotice,
    MonthTotals,
    StoredEvent,
)
from mynapoint.domain.measures import IgnoreReason
from mynapoint.domain.settlement_approvals import Approval, ApprovalState


class EventRepository(Protocol):
    def existing_hashes(self, operator_code: str, event_ids: Sequence[str]) -> dict[str, str]:
        """content_hash by event_id, for those of the ids already stored."""
        ...

    def add_many(self, events: Sequence[StoredEvent]) -> int:
        """Insert; an event_id already stored for the operator is skipped. Returns how many
        were inserted."""
        ...

    def for_persons(self, persons: Sequence[str]) -> dict[str, list[StoredEvent]]: ...

    def mark_pending(self, persons: Sequence[str]) -> int:
        """Record that these persons have events to evaluate; returns the marker's id. Write it
        in the transaction that stores the events, so a crash cannot keep one without the other.
        """
        ...

    def pending_markers(self) -> list[int]:
        """The ids of the markers not yet cleared, oldest first."""
        ...

    def pending_persons(self, marker_ids: Sequence[int], chunk: int) -> Iterator[list[str]]:
        """The distinct persons the markers name, in code point order, `chunk` at a time
        (the last chunk shorter), read as the caller goes on: only a chunk is held at once.
        Iterate within the unit of work that asked."""
        ...

    def clear_pending(self, marker_ids: Sequence[int]) -> None:
        """Remove markers once every person in them has been evaluated after they were read."""
        ...

    def set_reasons(self, reasons: Sequence[tuple[str, str, str | None]]) -> None:
        """(operator_code, event_id, reason or None) for events whose reason changed."""
        ...

    def reasons(
        self, operator_code: str, event_ids: Sequence[str]
    ) -> dict[str, IgnoreReason | None]:
        """Why each stored event of the ids earns nothing (None: it counts), as of the last
        evaluation; ids not stored are left out."""
        ...


class GrantRepository(Protocol):
    def lines_for_persons(self, persons: Sequence[str]) -> dict[str, list[tuple[str, str, int]]]:
        """Per person, (source, measure, points) of every instruction line so far."""
        ...

    def add_many(self, instructions: Sequence[GrantInstruction]) -> None: ...

    def pending(
        self,
        operator_code: str,
        due_by: date,
        service_code: str | None,
        after: str | None,
        limit: int,
    ) -> list[GrantInstruction]:
        """Unacknowledged instructions dated up to due_by, in grant_id order after `after`."""
        ...

    def acknowledge(self, operator_code: str, grant_ids: Sequence[str], at: datetime) -> int: ...

    def counts(self, operator_code: str, today: date) -> GrantCounts:
        """The operator's instructions counted by where they stand on `today`."""
        ...

    def for_month(self, month: str) -> list[GrantInstruction]: ...

    def month_totals(self, month: str) -> list[MonthTotals]:
        """The month's instructions added up per (operator, service), in that order: what
        a settlement needs, without reading every instruction (issue 14)."""
        ...

    def for_person(self, person: str) -> list[GrantInstruction]: ...


class SettlementRepository(Protocol):
    def closed_months(self) -> set[str]: ...

    def close(self, month: str, at: datetime) -> bool: ...

    def approvals(self, month: str | None = None) -> list[Approval]:
        """The statements' approval records, newest month first, then by operator code."""
        ...

    def in_payment_file(self, payment_file: str) -> list[Approval]: ...

    def add_approval(self, approval: Approval) -> bool:
        """False (nothing stored) if the month's statement of the operator has one already."""
        ...

    def advance_approval(self, approval: Approval, previous: ApprovalState) -> bool:
        """Store the approval's new state if it is still `previous`; False if another
        step came first."""
        ...


class NoticeRepository(Protocol):
    def add_many(self, notices: Sequence[LinkageNotice]) -> None: ...

    def for_operator(self, operator_code: str) -> list[LinkageNotice]: ...


class IngestJobRepository(Protocol):
    def add(self, job: IngestJob) -> None: ...

    def get(self, job_id: str) -> IngestJob | None: ...

    def save(self, job: IngestJob) -> None:
        """Replace the job's status, counts and rejected lines."""
        ...

    def save_if_owned(self, job: IngestJob) -> bool:
        """`save`, only while `job.owner` still holds the job; False when another took it."""
        ...

    def beat(self, job_id: str, owner: str, at: datetime) -> bool:
        """Renew the lease of a live job `owner` holds; False when it no longer does."""
        ...

    def claim(self, job_id: str, owner: str, expired_before: datetime, at: datetime) -> bool:
        """Take over a live job whose heartbeat is before `expired_before` (or missing):
        at most one claimant of an expired lease wins."""
        ...

    def live(self) -> list[IngestJob]:
        """Queued and running jobs, oldest first."""
        ...

    def recent(self, operator_code: str, limit: int) -> list[IngestJob]:
        """The operator's uploads (not their parts), the newest first."""
        ...

    def add_progress(self, job_id: str, batch: IngestJob, keep: int) -> None:
        """Add one batch of a part of the job's file (its counts in `batch`; `lines` and
        `read_bytes` as how many more were read) to the job's counts, and its rejected lines
        to the job's, which keeps the `keep` first in line order. Write it in the transaction
        of the batch (parts loaded side by side update the job one after the other)."""
        ...

    def remove_parts(self, job_id: str) -> None:
        """Delete the rows of the job's parts (jobs.uploads.part_id) once the job is over."""
        ...

    def add_lines(self, job_id: str, lines: Sequence[tuple[int, str]]) -> None:
        """(line, event_id) of the job's lines whose event is stored: accepted, or a duplicate
        of one stored before. Write them in the transaction of their batch."""
        ...

    def verdicts(self, job_id: str, operator_code: str, limit: int) -> JobVerdicts:
        """Whether the events of the job's lines count, as of their last evaluation; at most
        `limit` of the lines that do not."""
        ...
