"""Event intake: operators report charges, purchases and refunds; every valid row is kept.

Each row is checked on its own. `event_id` is unique per operator: the same
event again is a duplicate (nothing changes), the same id with other content is
`event_id_conflict`. Events for accounts no person has linked are rejected;
events that earn nothing are accepted and kept with their reason.

Intake runs in two phases. `store` keeps a batch's new events and, in the same
transaction, marks their persons pending evaluation; the engine then brings
those persons' instructions in line (services.ledger), each person once however
many batches touched them. A crash between the phases leaves the markers, and
the next intake evaluates them (`ledger.evaluate_pending`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from operator import attrgetter

from mynapoint.domain.campaigns import CampaignRules
from mynapoint.domain.ledger import EventVerdict, StoredEvent
from mynapoint.domain.measures import EventKind
from mynapoint.domain.services import Catalog
from mynapoint.services.ledger import reevaluate
from mynapoint.services.ports import UnitOfWork

BATCH_LIMIT = 10_000  # events in one request (INTERFACES 413 batch_too_large)
FUTURE_TOLERANCE = timedelta(minutes=5)


@dataclass(frozen=True)
class EventRow:
    """One event as an operator sent it, already checked for shape and types."""

    event_id: str
    service_code: str
    payment_service_id: str
    kind: EventKind
    amount: int
    occurred_at: datetime
    refund_of: str | None = None

    def content_hash(self) -> str:
        if self.occurred_at.utcoffset() is None:
            raise ValueError(f"{self.occurred_at.isoformat()} has no UTC offset")
        canonical = "\x1f".join(
            (
                self.event_id,
                self.service_code,
                self.payment_service_id,
                self.kind.value,
                str(self.amount),
                # The instant in UTC (what domain.calendar.as_utc gives, without the detour
                # through JST).
                self.occurred_at.astimezone(UTC).isoformat(),
                self.refund_of or "",
            )
        )
        return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class RowProblem:
    """Why one row was rejected; `index` counts from 0 (or is the file's line number)."""

    index: int
    event_id: str | None
    field: str
    code: str
    message: str


@dataclass
class IntakeResult:
    accepted: int = 0
    duplicates: int = 0
    rejected: list[RowProblem] = field(default_factory=list)
    # (index, event_id) of every row whose event is now stored: accepted, or a duplicate.
    stored: list[tuple[int, str]] = field(default_factory=list)
    # Whether each of those counts, as the engine judged it (`ingest` only), by index.
    verdicts: list[EventVerdict] = field(default_factory=list)
    # Whose events the batch stored (or found stored by a concurrent batch), left pending
    # evaluation under the marker `pending`.
    persons: list[str] = field(default_factory=list)
    pending: int | None = None


def check_row(
    index: int, row: EventRow, operator_code: str, catalog: Catalog, now: datetime
) -> RowProblem | None:
    if row.service_code not in catalog:
        return RowProblem(
            index,
            row.event_id,
            "service_code",
            "unknown_service",
            f"service '{row.service_code}' is not in the catalog",
        )
    if catalog.get(row.service_code).operator.code != operator_code:
        return RowProblem(
            index,
            row.event_id,
            "service_code",
            "not_your_service",
            f"service '{row.service_code}' belongs to another operator",
        )
    if row.occurred_at > now + FUTURE_TOLERANCE:
        return RowProblem(
            index,
            row.event_id,
            "occurred_at",
            "occurred_in_future",
            f"occurred_at {row.occurred_at.isoformat()} is more than 5 minutes after "
            f"platform time {now.isoformat()}",
        )
    return None


def ingest(
    uow: UnitOfWork,
    operator_code: str,
    rows: Sequence[tuple[int, EventRow]],
    rules: CampaignRules,
    catalog: Catalog,
    now: datetime,
) -> IntakeResult:
    """Keep every valid row of one batch, then re-evaluate the persons it touched (both
    phases, one transaction each)."""
    result = store(uow, operator_code, rows, catalog, now)
    if result.pending is None and not result.stored:
        return result
    with uow:
        if result.pending is not None:
            reevaluate(uow, result.persons, rules, catalog, now)
            uow.events.clear_pending([result.pending])
        # The engine's verdicts, as the evaluation just stored them (a duplicate's as its
        # last evaluation left it): the rules are not judged again here.
        reasons = uow.events.reasons(operator_code, [event_id for _, event_id in result.stored])
        uow.commit()
    result.verdicts = [
        EventVerdict(index, event_id, reasons.get(event_id))
        for index, event_id in result.stored
        if event_id in reasons
    ]
    return result


@dataclass
class Screened:
    """A batch checked row by row without the database: the rows worth looking up, each
    once, with their content hash, and the result so far (what the batch itself rejects
    or repeats)."""

    candidates: list[tuple[int, EventRow, str]]
    result: IntakeResult
    now: datetime


def store(
    uow: UnitOfWork,
    operator_code: str,
    rows: Sequence[tuple[int, EventRow]],
    catalog: Catalog,
    now: datetime,
) -> IntakeResult:
    """Keep every valid row of one batch; its persons are left pending evaluation."""
    return keep(uow, operator_code, screen(rows, operator_code, catalog, now))


def screen(
    rows: Sequence[tuple[int, EventRow]], operator_code: str, catalog: Catalog, now: datetime
) -> Screened:
    """The first part of `store`, which needs no database (a file loader runs it on one
    batch while the database stores the batch before)."""
    result = IntakeResult()
    return Screened(_screen(rows, operator_code, catalog, now, result), result, now)


def _nothing_more(_uow: UnitOfWork, _result: IntakeResult) -> None:
    """keep's default `before_commit`: the batch alone is the transaction."""


def keep(
    uow: UnitOfWork,
    operator_code: str,
    screened: Screened,
    before_commit: Callable[[UnitOfWork, IntakeResult], None] = _nothing_more,
) -> IntakeResult:
    """The rest of `store`: look the screened rows up and keep the new ones, in one
    transaction; `before_commit` writes what must be committed with the batch or not at all
    (an upload job's counts) and may raise to roll the batch back."""
    result, candidates, now = screened.result, screened.candidates, screened.now
    with uow:
        stored = uow.events.existing_hashes(
            operator_code, [row.event_id for _, row, _ in candidates]
        )
        fresh: list[tuple[int, EventRow, str]] = []
        for candidate in candidates:
            _, row, digest = candidate
            known = stored.get(row.event_id)
            if known is None:
                fresh.append(candidate)
            elif known == digest:
                result.duplicates += 1
                result.stored.append((candidate[0], row.event_id))
            else:
                result.rejected.append(_conflict(candidate[0], row))
        linked = uow.applications.persons_for_accounts(
            list({(row.service_code, row.payment_service_id): None for _, row, _ in fresh})
        )
        events: list[StoredEvent] = []
        sent: list[tuple[int, EventRow, str]] = []
        for index, row, digest in fresh:
            person = linked.get((row.service_code, row.payment_service_id))
            if person is None:
                result.rejected.append(_not_linked(index, row))
                continue
            sent.append((index, row, digest))
            events.append(
                StoredEvent(
                    operator_code,
                    row.event_id,
                    row.service_code,
                    row.payment_service_id,
                    person,
                    row.kind,
                    row.amount,
                    row.occurred_at,
                    row.refund_of,
                    digest,
                    now,
                )
            )
        # One order for every batch: two batches inserting the same ids cannot deadlock.
        events.sort(key=attrgetter("event_id"))
        inserted = uow.events.add_many(events)
        result.accepted = inserted
        lost: set[int] = set()  # rows whose id a concurrent batch stored with other content
        if inserted < len(events):
            # A concurrent batch stored some of these ids first (the insert waited for it to
            # commit, so its rows are visible now): the same content is a duplicate, other
            # content a conflict, whichever batch won the race.
            result.duplicates += len(events) - inserted
            for index, row in _lost_to_other_content(uow, operator_code, sent):
                result.duplicates -= 1
                result.rejected.append(_conflict(index, row))
                lost.add(index)
        result.stored.extend((index, row.event_id) for index, row, _ in sent if index not in lost)
        if events:
            result.persons = sorted({event.person for event in events})
            result.pending = uow.events.mark_pending(result.persons)
        result.rejected.sort(key=lambda problem: problem.index)
        result.stored.sort()
        before_commit(uow, result)
        uow.commit()
    return result


def _lost_to_other_content(
    uow: UnitOfWork, operator_code: str, sent: Sequence[tuple[int, EventRow, str]]
) -> list[tuple[int, EventRow]]:
    """The rows of `sent` whose event_id is now stored with other content. A row this
    batch inserted is stored with its own content, so only rows that lost a race count."""
    stored = uow.events.existing_hashes(operator_code, [row.event_id for _, row, _ in sent])
    return [
        (index, row)
        for index, row, digest in sent
        if row.event_id in stored and stored[row.event_id] != digest
    ]


def _screen(
    rows: Sequence[tuple[int, EventRow]],
    operator_code: str,
    catalog: Catalog,
    now: datetime,
    result: IntakeResult,
) -> list[tuple[int, EventRow, str]]:
    """The rows worth looking up, each once, with their content hash; the others are
    counted or rejected in `result`."""
    candidates: list[tuple[int, EventRow, str]] = []
    seen: dict[str, str] = {}
    # A batch names few services: check_row's verdict on the service is the same for every
    # row of one service, so rows of a service found good are only checked for their time.
    good_services: set[str] = set()
    latest = now + FUTURE_TOLERANCE
    for index, row in rows:
        if row.service_code not in good_services or row.occurred_at > latest:
            problem = check_row(index, row, operator_code, catalog, now)
            if problem is not None:
                result.rejected.append(problem)
                continue
            good_services.add(row.service_code)
        digest = row.content_hash()
        earlier = seen.get(row.event_id)
        if earlier is None:
            seen[row.event_id] = digest
            candidates.append((index, row, digest))
        elif earlier == digest:
            result.duplicates += 1
            result.stored.append((index, row.event_id))
        else:
            result.rejected.append(_conflict(index, row))
    return candidates


def _not_linked(index: int, row: EventRow) -> RowProblem:
    return RowProblem(
        index,
        row.event_id,
        "payment_service_id",
        "account_not_linked",
        f"no person has linked account {row.payment_service_id} of service '{row.service_code}'",
    )


def _conflict(index: int, row: EventRow) -> RowProblem:
    return RowProblem(
        index,
        row.event_id,
        "event_id",
        "event_id_conflict",
        f"event_id '{row.event_id}' was already received with different content; "
        "send a new event_id for a new event",
    )
