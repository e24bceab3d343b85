"""Re-evaluate people's points with the engine and instruct operators with the difference.

The engine (`domain.points.evaluate`) computes what each event and fixed grant
is worth from a person's whole history; this module compares that with what
was instructed so far (the sum of instruction lines per source and measure)
and writes new instructions for every difference. Acknowledged instructions
never change: a correction is always a new instruction, negative for a
clawback. Running it twice changes nothing the second time.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import date, datetime
from itertools import islice, repeat

from mynapoint.domain.applications import ApplicationRequest
from mynapoint.domain.calendar import jst_date
from mynapoint.domain.campaigns import CampaignRules
from mynapoint.domain.events import SpendingEvent
from mynapoint.domain.ledger import (
    GrantInstruction,
    GrantLine,
    PersonSnapshot,
    StoredApplication,
    StoredEvent,
    application_source,
    event_source,
)
from mynapoint.domain.measures import Measure
from mynapoint.domain.persons import PersonFacts
from mynapoint.domain.points import Outcome, evaluate
from mynapoint.domain.services import Catalog
from mynapoint.services.ports import UnitOfWork

# Persons re-evaluated in one transaction by evaluate_pending.
EVALUATION_CHUNK = 2_000
# Persons whose histories reevaluate reads and judges at once, within its transaction.
REEVALUATE_BATCH = 250
# Evaluation jobs queued by one statement (queue_pending): 100,000 persons.
QUEUED_TOGETHER = 50


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def settlement_month(grant_on: date, closed: set[str]) -> str:
    """The month of grant_on, or the first open month after it (INTERFACES settlements)."""
    month = month_of(grant_on)
    while month in closed:
        year, number = int(month[:4]), int(month[5:])
        month = f"{year + number // 12:04d}-{number % 12 + 1:02d}"
    return month


def person_facts(snapshot: PersonSnapshot) -> PersonFacts:
    return PersonFacts(
        card_applied_on=snapshot.card_applied_on,
        card_applied_online=snapshot.card_applied_online,
        birth_date=snapshot.birth_date,
        died_on=snapshot.died_on,
        certificate_issued_at=snapshot.certificate_issued_at,
    )


def evaluate_person(
    snapshot: PersonSnapshot,
    applications: Sequence[StoredApplication],
    events: Sequence[StoredEvent],
    rules: CampaignRules,
    catalog: Catalog,
    as_of: date | None = None,
) -> tuple[Outcome, list[StoredApplication], dict[str, StoredEvent]]:
    """The engine's verdict on one person's stored history (active applications only), under
    the rules as announced by `as_of` (None: every version)."""
    active = [a for a in applications if a.is_active]
    requests = [
        ApplicationRequest(
            index=index,
            measure=app.measure,
            service_code=app.service_code,
            applied_at=app.applied_at,
            counts=app.counts,
            account=(app.service_code, app.payment_service_id),
        )
        for index, app in enumerate(active)
    ]
    by_key = {event_source(e.operator_code, e.event_id): e for e in events}
    spending = [
        SpendingEvent(
            event_id=key,
            kind=event.kind,
            amount=event.amount,
            at=event.occurred_at,
            refund_of=(
                event_source(event.operator_code, event.refund_of) if event.refund_of else None
            ),
            account=(event.service_code, event.payment_service_id),
        )
        for key, event in by_key.items()
    ]
    outcome = evaluate(person_facts(snapshot), requests, spending, rules, catalog, as_of)
    return outcome, active, by_key


@dataclass(frozen=True)
class History:
    """What the engine and the comparison need of one person, as stored."""

    snapshot: PersonSnapshot
    applications: list[StoredApplication]  # cancelled ones too
    events: list[StoredEvent]
    instructed: list[tuple[str, str, int]]  # (source, measure, points) of every line so far


@dataclass(frozen=True)
class Judgement:
    """What to write for a set of persons: changed event reasons and new instructions."""

    reasons: list[tuple[str, str, str | None]]  # (operator_code, event_id, reason or None)
    instructions: list[GrantInstruction]


def grant_id_prefix(now: datetime) -> str:
    """The first 24 of a new instruction's 32 hex digits; the last 8 number the instructions
    written together.

    The milliseconds of `now` come first, so instructions sort (and an operator's cursor
    runs) in the order they were made, a correction after what it corrects; then 48 random
    bits, so that two evaluations in the same millisecond (other processes, other servers)
    practically never make the same id (the primary key would refuse the second). The ids
    of one evaluation are consecutive: the database appends them to its indexes instead of
    inserting each at a random place.
    """
    milliseconds = int(now.timestamp() * 1000)
    return f"{milliseconds:012x}{secrets.token_hex(6)}"


def judge(
    histories: Sequence[History],
    rules: CampaignRules,
    catalog: Catalog,
    now: datetime,
    closed: set[str],
) -> Judgement:
    """The engine's verdict on each history against what was instructed so far: no storage,
    no clock (the new instructions' ids come from `now` and a random part)."""
    today = jst_date(now)
    months: dict[date, str] = {}
    reasons: list[tuple[str, str, str | None]] = []
    groups: list[_Group] = []
    for history in histories:
        outcome, active, by_key = evaluate_person(
            history.snapshot, history.applications, history.events, rules, catalog
        )
        ignored = {i.event_id: i.reason.value for i in outcome.ignored}
        for key, event in by_key.items():
            reason = ignored.get(key)
            if event.reason != reason:
                reasons.append((event.operator_code, event.event_id, reason))
        known = _Known(active, history.applications, by_key)
        groups.extend(
            _differences(
                history.snapshot.person, outcome, known, history.instructed, catalog, today
            )
        )
    prefix = grant_id_prefix(now)
    instructions = []
    for number, (person, account, measure, grant_on, lines) in enumerate(groups):
        month = months.get(grant_on)
        if month is None:
            month = months[grant_on] = settlement_month(grant_on, closed)
        operator_code, service_code, payment_service_id = account
        instructions.append(
            GrantInstruction(
                grant_id=f"{prefix}{number:08x}",
                operator_code=operator_code,
                service_code=service_code,
                payment_service_id=payment_service_id,
                person=person,
                measure=measure,
                points=sum(line.points for line in lines),
                grant_on=grant_on,
                created_at=now,
                settlement_month=month,
                lines=tuple(lines),
            )
        )
    return Judgement(reasons, instructions)


def reevaluate(
    uow: UnitOfWork,
    persons: Sequence[str],
    rules: CampaignRules,
    catalog: Catalog,
    now: datetime,
    *,
    locked: bool = False,
) -> list[GrantInstruction]:
    """Bring these persons' instructions in line with the engine; call inside `with uow`.

    Locks the persons first (in a stable order), so a concurrent batch for the
    same person waits and then sees this one's events and instructions. `locked`: this
    unit of work holds their locks already (apply and cancel take them before their
    checks); locking again would cost a round trip and bump ledger_version twice.
    """
    ordered = sorted(set(persons))
    if not ordered:
        return []
    if not locked:
        uow.persons.lock(ordered)
    closed = uow.settlements.closed_months()
    written: list[GrantInstruction] = []
    # Histories are read and judged REEVALUATE_BATCH persons at a time: a chunk of 2,000
    # persons with 60 events each held ~190 MB more than batches of 250, for the same CPU
    # (issue 14, item 4; bench/RESULTS.md `make bench-scale` memory).
    for start in range(0, len(ordered), REEVALUATE_BATCH):
        batch = ordered[start : start + REEVALUATE_BATCH]
        snapshots = uow.persons.get_many(batch)
        applications = uow.applications.for_persons(batch)
        events = uow.events.for_persons(batch)
        lines = uow.grants.lines_for_persons(batch)
        histories = [
            History(
                snapshot,
                applications.get(person, []),
                events.get(person, []),
                lines.get(person, []),
            )
            for person in batch
            if (snapshot := snapshots.get(person)) is not None
        ]
        del snapshots, applications, events, lines
        judgement = judge(histories, rules, catalog, now, closed)
        del histories
        if judgement.reasons:
            uow.events.set_reasons(judgement.reasons)
        if judgement.instructions:
            uow.grants.add_many(judgement.instructions)
        written.extend(judgement.instructions)
    return written


@dataclass(frozen=True)
class Workers:
    """Worker processes for evaluate_pending: a pool, and a way to open units of work that
    can be pickled (each process opens its own connections to the same database)."""

    pool: Executor
    new_uow: Callable[[], UnitOfWork]


def evaluate_pending(
    new_uow: Callable[[], UnitOfWork],
    rules: CampaignRules,
    catalog: Catalog,
    now: datetime,
    chunk: int = EVALUATION_CHUNK,
    processes: Workers | None = None,
) -> int:
    """Re-evaluate every person intake left pending, `chunk` persons per transaction, then
    clear the markers; returns how many persons were evaluated.

    Every event of a marker read here was committed before it, so the evaluations, which
    read later, see them all. Markers written meanwhile are left for the next call.

    The chunks share no person, so worker `processes` can run them side by side, each in
    its own transaction holding its persons' locks, each process on its own core (threads
    would share one: the engine is Python). Without workers they run one after the other.
    """
    reader = new_uow()
    with reader:
        markers = reader.events.pending_markers()
        chunks = list(reader.events.pending_persons(markers, chunk))
    if processes is not None and len(chunks) > 1:
        arguments = (repeat(processes.new_uow), repeat(rules), repeat(catalog), repeat(now))
        for _ in processes.pool.map(evaluate_chunk, *arguments, chunks):
            pass
    else:
        for part in chunks:
            evaluate_chunk(new_uow, rules, catalog, now, part)
    if markers:
        with reader:
            reader.events.clear_pending(markers)
            reader.commit()
    return sum(map(len, chunks))


def evaluate_chunk(
    new_uow: Callable[[], UnitOfWork],
    rules: CampaignRules,
    catalog: Catalog,
    now: datetime,
    persons: list[str],
) -> None:
    """One chunk of evaluate_pending in its own transaction (a module function, so that a
    worker process can run it; a queue's evaluation job runs it too)."""
    uow = new_uow()
    with uow:
        reevaluate(uow, persons, rules, catalog, now)
        uow.commit()


def queue_pending(uow: UnitOfWork, chunk: int = EVALUATION_CHUNK) -> tuple[list[int], list[str]]:
    """evaluate_pending through the job queue; call inside `with uow`, then commit. Queues one
    evaluation job per `chunk` pending persons and returns the markers read and the jobs'
    tickets: the markers are to be cleared once those jobs are over (the queue's end job),
    so a person stays pending until evaluated, whatever stops on the way."""
    markers = uow.events.pending_markers()
    tickets: list[str] = []
    # Queued QUEUED_TOGETHER chunks at a time, as the database hands them out: however many
    # persons are pending, this process holds a few chunks of them (issue 14, item 4).
    chunks = uow.events.pending_persons(markers, chunk)
    while group := list(islice(chunks, QUEUED_TOGETHER)):
        tickets.extend(uow.queue.enqueue_evaluations(group))
    return markers, tickets


@dataclass(frozen=True)
class _Known:
    active: list[StoredApplication]  # in the order the engine indexed them
    every: list[StoredApplication]  # cancelled ones too
    events: dict[str, StoredEvent]


# (operator_code, service_code, payment_service_id): where an instruction's points go.
_Account = tuple[str, str, str]
# One instruction to write: person, account, measure, grant_on and its lines.
_Group = tuple[str, _Account, Measure, date, list[GrantLine]]


def _differences(
    person: str,
    outcome: Outcome,
    known: _Known,
    instructed_lines: list[tuple[str, str, int]],
    catalog: Catalog,
    today: date,
) -> list[_Group]:
    active = known.active
    desired: dict[tuple[str, Measure], int] = {}
    dated: dict[tuple[str, Measure], date] = {}
    # Fixed grants by source key (an event's key finds its event in known.events).
    granted: dict[str, StoredApplication] = {}
    for grant in outcome.grants:
        key = grant.event_id
        if key is None:
            app = active[grant.application]
            key = application_source(app.application_id)
            granted[key] = app
        key_measure = (key, grant.measure)
        desired[key_measure] = desired.get(key_measure, 0) + grant.points
        dated[key_measure] = grant.grant_on
    instructed: dict[tuple[str, Measure], int] = {}
    for key, measure, points in instructed_lines:
        key_measure = (key, Measure(measure))
        instructed[key_measure] = instructed.get(key_measure, 0) + points
    groups: dict[tuple[_Account, Measure, date], list[GrantLine]] = {}
    for key_measure in sorted(desired.keys() | instructed.keys() if instructed else desired):
        delta = desired.get(key_measure, 0) - instructed.get(key_measure, 0)
        if delta == 0:
            continue
        key, measure = key_measure
        account = _account_of(key, known, granted, catalog)
        if account is None:
            continue
        # A correction for a line the engine no longer grants is dated today.
        group = (account, measure, dated.get(key_measure, today))
        line = GrantLine(key, measure, delta)
        found = groups.get(group)
        if found is None:
            groups[group] = [line]
        else:
            found.append(line)
    return [
        (person, account, measure, grant_on, lines)
        for (account, measure, grant_on), lines in groups.items()
    ]


def _account_of(
    key: str, known: _Known, granted: dict[str, StoredApplication], catalog: Catalog
) -> _Account | None:
    """Where the points of a source key go: its event's account, or its application's."""
    event = known.events.get(key)
    if event is not None:
        return (event.operator_code, event.service_code, event.payment_service_id)
    app = granted.get(key)
    if app is None:
        # A fixed grant whose application was cancelled the same day: claw it back from its
        # account.
        app = next((a for a in known.every if application_source(a.application_id) == key), None)
    if app is None:
        return None
    return (catalog.get(app.service_code).operator.code, app.service_code, app.payment_service_id)
