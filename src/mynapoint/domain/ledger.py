"""What the platform stores of applications, events and grant instructions (RULES.md §3, R3, R4)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from mynapoint.domain.measures import Channel, EventKind, IgnoreReason, Measure


@dataclass(frozen=True)
class PersonSnapshot:
    """The platform's copy of the card authority's facts about a person."""

    person: str
    birth_date: date
    card_applied_on: date
    card_applied_online: bool
    died_on: date | None
    adult_ward: bool
    certificate_issued_at: datetime
    municipality: str | None = None  # JIS code of the city or ward; for the statistics only


@dataclass(frozen=True)
class StoredApplication:
    application_id: str
    person: str
    measure: Measure
    service_code: str
    payment_service_id: str
    counts: EventKind | None
    channel: Channel
    applied_at: datetime
    representative: str | None = None
    cancelled_at: datetime | None = None

    @property
    def is_active(self) -> bool:
        return self.cancelled_at is None


@dataclass(frozen=True)
class StoredEvent:
    operator_code: str
    event_id: str
    service_code: str
    payment_service_id: str
    person: str
    kind: EventKind
    amount: int
    occurred_at: datetime
    refund_of: str | None
    content_hash: str
    received_at: datetime
    reason: IgnoreReason | None = None


@dataclass(frozen=True)
class GrantLine:
    """Points instructed for one source (see `event_source` and `application_source`)."""

    source: str
    measure: Measure
    points: int

    @property
    def event_id(self) -> str | None:
        kind, _, rest = self.source.partition(":")
        return rest.partition(":")[2] if kind == "event" else None


def event_source(operator_code: str, event_id: str) -> str:
    # event_id is unique per operator only, so the operator is part of the source.
    return f"event:{operator_code}:{event_id}"


def application_source(application_id: str) -> str:
    return f"application:{application_id}"


@dataclass(frozen=True)
class GrantInstruction:
    grant_id: str
    operator_code: str
    service_code: str
    payment_service_id: str
    person: str
    measure: Measure
    points: int
    grant_on: date
    created_at: datetime
    settlement_month: str
    lines: tuple[GrantLine, ...]
    acknowledged_at: datetime | None = None

    @property
    def event_ids(self) -> tuple[str, ...]:
        return tuple(event_id for line in self.lines if (event_id := line.event_id) is not None)


@dataclass(frozen=True)
class GrantCounts:
    """An operator's grant instructions by where they stand on a day: not acknowledged and
    dated before it (overdue), on it (due), after it (upcoming); and acknowledged."""

    overdue: int
    due: int
    upcoming: int
    acknowledged: int


@dataclass(frozen=True)
class MonthTotals:
    """One service's grant instructions of a settlement month, added up: points granted and
    clawed back (both >= 0), and the distinct events and persons they are for."""

    operator_code: str
    service_code: str
    granted: int
    clawed_back: int
    events: int
    persons: int


@dataclass(frozen=True)
class OperatorKey:
    key_id: str
    operator_code: str
    secret_hash: str
    created_at: datetime
    revoked_at: datetime | None = None


@dataclass(frozen=True)
class LinkageNotice:
    """A stopped linkage the operator must act on (R15 death; a revocation with no successor)."""

    notice_id: str
    operator_code: str
    service_code: str
    payment_service_id: str
    reason: str  # holder_deceased | certificate_revoked
    effective_on: date
    created_at: datetime


JOB_LIVE = ("queued", "running")


@dataclass(frozen=True)
class IngestJob:
    """An uploaded event file and how far its load got.

    The counts are always those of the batches committed so far (`lines` read up to byte
    `read_bytes` of the file), also while it runs and after it failed. A live job (queued or
    running) is held by `owner` while its `heartbeat_at` is recent."""

    job_id: str
    operator_code: str
    filename: str
    status: str  # queued | running | done | failed
    created_at: datetime
    lines: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    rejected_lines: tuple[dict[str, object], ...] = ()
    finished_at: datetime | None = None
    reason: str | None = None
    owner: str | None = None
    heartbeat_at: datetime | None = None
    read_bytes: int = 0

    @property
    def is_live(self) -> bool:
        return self.status in JOB_LIVE


@dataclass(frozen=True)
class EventVerdict:
    """Whether a stored event counts, as the points engine last judged it: `reason` is why it
    earns nothing (None: it counts). `line` is the row's index in a batch or its file line."""

    line: int
    event_id: str
    reason: IgnoreReason | None

    @property
    def counted(self) -> bool:
        return self.reason is None


@dataclass(frozen=True)
class JobVerdicts:
    """The verdicts on the events an upload job stored or found stored (its lines that were
    accepted or duplicates): how many count, how many do not and why, and the first lines
    that do not, in line order."""

    counted: int
    not_counted: int
    not_counted_by_reason: dict[IgnoreReason, int]
    not_counted_lines: tuple[EventVerdict, ...]
