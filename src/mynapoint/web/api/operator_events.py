"""Operators report events and pull grant instructions (INTERFACES "Payment operator")."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, Body, File, Path, Query
from pydantic import BaseModel, Field

from mynapoint.domain.calendar import jst_date
from mynapoint.domain.errors import MynapointError
from mynapoint.domain.measures import IgnoreReason, Measure
from mynapoint.ingest.event_rows import parse_event
from mynapoint.jobs.uploads import STORED_REJECTIONS, JobNotFound, run_job, start_job
from mynapoint.services.grants import PAGE_SIZE, acknowledge, pending_grants
from mynapoint.services.intake import BATCH_LIMIT, EventRow, RowProblem, ingest
from mynapoint.services.settlement import operator_statement
from mynapoint.web.dependencies import ClockDep, Operator, PlatformDep
from mynapoint.web.errors import responses
from mynapoint.web.inputs import Day, Identifier, NamedUpload

router = APIRouter(prefix="/api/v1/operator", tags=["payment operator"])

OPERATOR_AUTH = ("not_authenticated", "invalid_token", "rate_limited")


class BatchTooLarge(MynapointError):
    code = "batch_too_large"


class EventsIn(BaseModel):
    events: list[dict[str, Any]] = Field(
        description=f"at most {BATCH_LIMIT:,} events; each is checked on its own: "
        "{event_id, service_code, payment_service_id, kind, amount, occurred_at, refund_of?}"
    )


RowCode = Literal[
    "invalid_request",
    "not_your_service",
    "unknown_service",
    "account_not_linked",
    "event_id_conflict",
    "occurred_in_future",
    "invalid_text",
    "instant_out_of_range",
]


class RejectedRowOut(BaseModel):
    index: int
    event_id: str | None
    field: str
    code: RowCode
    message: str


class EventVerdictOut(BaseModel):
    index: int
    event_id: str
    counted: bool = Field(
        description="the event enters the person's points (a refund: lowers them)"
    )
    reason: IgnoreReason | None = Field(
        description="why the event earns nothing (docs/RULES.md, 'Why an event earns nothing'); "
        "null when it counts"
    )


class EventsOut(BaseModel):
    accepted: int
    duplicates: int
    rejected: list[RejectedRowOut]
    events: list[EventVerdictOut] = Field(
        description="every row that was accepted or is a duplicate, in index order: whether its "
        "event counts and why not, as the points engine judged it after this batch (later "
        "events can change it: a refund waits for its original, an earlier charge received "
        "late can fill the cap first)"
    )


@router.post("/events", responses=responses(*OPERATOR_AUTH, "batch_too_large", "malformed_request"))
def post_events(
    body: Annotated[EventsIn, Body()],
    operator: Operator,
    platform: PlatformDep,
    clock: ClockDep,
) -> EventsOut:
    """Report charges, purchases and refunds; valid rows are kept even when others are not."""
    if len(body.events) > BATCH_LIMIT:
        raise BatchTooLarge(
            f"{len(body.events):,} events in one request; send at most {BATCH_LIMIT:,}",
            limit=BATCH_LIMIT,
        )
    rows: list[tuple[int, EventRow]] = []
    problems: list[RowProblem] = []
    for index, data in enumerate(body.events):
        parsed = parse_event(index, data)
        if isinstance(parsed, RowProblem):
            problems.append(parsed)
        else:
            rows.append((index, parsed))
    result = ingest(
        platform.unit_of_work(), operator, rows, platform.rules, platform.catalog, clock.now()
    )
    rejected = sorted([*problems, *result.rejected], key=lambda p: p.index)
    return EventsOut(
        accepted=result.accepted,
        duplicates=result.duplicates,
        rejected=[
            RejectedRowOut(
                index=p.index, event_id=p.event_id, field=p.field, code=p.code, message=p.message
            )
            for p in rejected
        ],
        events=[
            EventVerdictOut(index=v.line, event_id=v.event_id, counted=v.counted, reason=v.reason)
            for v in result.verdicts
        ],
    )


class GrantOut(BaseModel):
    grant_id: str
    service_code: str
    payment_service_id: str
    measure: Measure
    points: int
    grant_on: date
    event_ids: list[str]


class GrantsOut(BaseModel):
    grants: list[GrantOut]
    next_cursor: str | None


@router.get("/grants", responses=responses(*OPERATOR_AUTH))
def get_grants(
    operator: Operator,
    platform: PlatformDep,
    clock: ClockDep,
    service_code: Annotated[Identifier | None, Query(max_length=40)] = None,
    due_by: Annotated[Day | None, Query(description="default: platform today (JST)")] = None,
    cursor: Annotated[Identifier | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=PAGE_SIZE)] = PAGE_SIZE,
) -> GrantsOut:
    """Instructions not yet acknowledged, dated up to `due_by`, in the order they were made
    (a correction after what it corrects); page on with `next_cursor`."""
    page = pending_grants(
        platform.unit_of_work(),
        operator,
        due_by or jst_date(clock.now()),
        service_code,
        cursor,
        limit,
    )
    return GrantsOut(
        grants=[
            GrantOut(
                grant_id=g.grant_id,
                service_code=g.service_code,
                payment_service_id=g.payment_service_id,
                measure=g.measure,
                points=g.points,
                grant_on=g.grant_on,
                event_ids=list(g.event_ids),
            )
            for g in page.grants
        ],
        next_cursor=page.next_cursor,
    )


class AckIn(BaseModel):
    grant_ids: list[Annotated[Identifier, Field(min_length=1, max_length=64)]] = Field(
        max_length=BATCH_LIMIT
    )


class AckOut(BaseModel):
    acknowledged: int


@router.post("/grants/ack", responses=responses(*OPERATOR_AUTH))
def post_ack(body: AckIn, operator: Operator, platform: PlatformDep, clock: ClockDep) -> AckOut:
    """Acknowledge carried-out instructions; another operator's ids are ignored."""
    return AckOut(
        acknowledged=acknowledge(platform.unit_of_work(), operator, body.grant_ids, clock.now())
    )


class ServiceStatementOut(BaseModel):
    service_code: str
    points_granted: int
    points_clawed_back: int
    net_points: int
    reimbursement_yen: int
    events: int
    persons: int


class StatementOut(BaseModel):
    month: str
    status: str
    services: list[ServiceStatementOut]


@router.get("/settlements/{month}", responses=responses(*OPERATOR_AUTH))
def get_settlement(
    month: Annotated[Identifier, Path(max_length=7)], operator: Operator, platform: PlatformDep
) -> StatementOut:
    """The month's statement for this operator: provisional until the month is closed."""
    statement = operator_statement(platform.unit_of_work(), operator, month)
    return StatementOut(
        month=statement.month,
        status=statement.status,
        services=[ServiceStatementOut(**vars(s)) for s in statement.services],
    )


class NoticeOut(BaseModel):
    notice_id: str
    service_code: str
    payment_service_id: str
    reason: str
    effective_on: date
    created_at: datetime


class NoticesOut(BaseModel):
    notices: list[NoticeOut]


@router.get("/notices", responses=responses(*OPERATOR_AUTH))
def get_notices(operator: Operator, platform: PlatformDep) -> NoticesOut:
    """Stopped linkages to act on: a holder's death, or a revocation with no successor."""
    uow = platform.unit_of_work()
    with uow:
        notices = uow.notices.for_operator(operator)
    return NoticesOut(
        notices=[
            NoticeOut(
                notice_id=n.notice_id,
                service_code=n.service_code,
                payment_service_id=n.payment_service_id,
                reason=n.reason,
                effective_on=n.effective_on,
                created_at=n.created_at,
            )
            for n in notices
        ]
    )


class JobCreatedOut(BaseModel):
    job_id: str


class RejectedLineOut(BaseModel):
    line: int
    event_id: str | None
    field: str
    code: RowCode
    message: str


class NotCountedLineOut(BaseModel):
    line: int
    event_id: str
    reason: IgnoreReason


class JobOut(BaseModel):
    job_id: str
    filename: str
    status: Literal["queued", "running", "done", "failed"] = Field(
        description="done: every line was read and judged; failed: see `reason`"
    )
    lines: int = Field(description="lines read so far (the CSV header is line 1)")
    accepted: int = Field(description="events stored, counted as their batches commit")
    duplicates: int
    rejected: int
    rejected_lines: list[RejectedLineOut] = Field(
        description=f"the first {STORED_REJECTIONS:,} rejected lines; `rejected` counts them all"
    )
    reason: str | None = Field(description="why the job failed; null otherwise")
    created_at: datetime
    finished_at: datetime | None
    counted: int | None = Field(
        description="lines (accepted or duplicates) whose event counts, as the points engine "
        "last judged it; null until the job is done"
    )
    not_counted: int | None = Field(
        description="lines (accepted or duplicates) whose event earns nothing; null until the "
        "job is done. counted + not_counted = accepted + duplicates"
    )
    not_counted_by_reason: dict[IgnoreReason, int] = Field(
        description="not_counted by reason (docs/RULES.md, 'Why an event earns nothing')"
    )
    not_counted_lines: list[NotCountedLineOut] = Field(
        description=f"the first {STORED_REJECTIONS:,} lines whose event earns nothing, with why, "
        "in line order"
    )


@router.post(
    "/events/files",
    status_code=202,
    responses=responses(*OPERATOR_AUTH, "malformed_request"),
)
def post_event_file(
    file: Annotated[NamedUpload, File(description="CSV (with header) or JSON Lines")],
    operator: Operator,
    platform: PlatformDep,
    clock: ClockDep,
    background: BackgroundTasks,
) -> JobCreatedOut:
    """Upload an event file; it is loaded in the background (poll the job for the result)."""
    job = start_job(platform, operator, file.filename or "events.csv", file.file, clock.now())
    if platform.settings.runs_jobs_inprocess:
        background.add_task(run_job, platform, job)
    # Otherwise start_job queued it for `mynapoint worker` (docs/JOBS.md).
    return JobCreatedOut(job_id=job.job_id)


@router.get("/events/files/{job_id}", responses=responses(*OPERATOR_AUTH, "not_found"))
def get_event_file(
    job_id: Annotated[Identifier, Path(max_length=64)], operator: Operator, platform: PlatformDep
) -> JobOut:
    """Status, counts and the rejected lines of an uploaded file."""
    uow = platform.unit_of_work()
    with uow:
        job = uow.jobs.get(job_id)
        verdicts = (
            uow.jobs.verdicts(job_id, operator, STORED_REJECTIONS)
            if job is not None and job.operator_code == operator and job.status == "done"
            else None
        )
    if job is None or job.operator_code != operator:
        raise JobNotFound(f"no upload job '{job_id}' for this operator", job_id=job_id)
    return JobOut(
        job_id=job.job_id,
        filename=job.filename,
        status=job.status,
        lines=job.lines,
        accepted=job.accepted,
        duplicates=job.duplicates,
        rejected=job.rejected,
        rejected_lines=[RejectedLineOut.model_validate(line) for line in job.rejected_lines],
        reason=job.reason,
        created_at=job.created_at,
        finished_at=job.finished_at,
        counted=None if verdicts is None else verdicts.counted,
        not_counted=None if verdicts is None else verdicts.not_counted,
        not_counted_by_reason={} if verdicts is None else verdicts.not_counted_by_reason,
        not_counted_lines=[]
        if verdicts is None
        else [
            NotCountedLineOut(line=v.line, event_id=v.event_id, reason=v.reason)
            for v in verdicts.not_counted_lines
            if v.reason is not None
        ],
    )
