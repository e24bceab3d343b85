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
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

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


@dataclass(frozen=True)
class _Source:
    """Where an engine grant line comes from, and which account it is paid to."""

    key: str
    operator_code: str
    service_code: str
    payment_service_id: str


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
) -> tuple[Outcome, list[StoredApplication], dict[str, StoredEvent]]:
    """The engine's verdict on one person's stored history (active applications only)."""
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
    outcome = evaluate(person_facts(snapshot), requests, spending, rules, catalog)
    return outcome, active, by_key


def reevaluate(
    uow: UnitOfWork,
    persons: Sequence[str],
    rules: CampaignRules,
    catalog: Catalog,
    now: datetime,
) -> list[GrantInstruction]:
    """Bring these persons' instructions in line with the engine; call inside `with uow`.

    Locks the persons first (in a stable order), so a concurrent batch for the
    same person waits and then sees this one's events and instructions.
    """
    ordered = sorted(set(persons))
    if not ordered:
        return []
    uow.persons.lock(ordered)
    snapshots = uow.persons.get_many(ordered)
    applications = uow.applications.for_persons(ordered)
    events = uow.events.for_persons(ordered)
    lines = uow.grants.lines_for_persons(ordered)
    closed = uow.settlements.closed_months()
    today = jst_date(now)
    instructions: list[GrantInstruction] = []
    reasons: list[tuple[str, str, str | None]] = []
    for person in ordered:
        snapshot = snapshots.get(person)
        if snapshot is None:
            continue
        outcome, active, by_key = evaluate_person(
            snapshot, applications.get(person, []), events.get(person, []), rules, catalog
        )
        ignored = {i.event_id: i.reason.value for i in outcome.ignored}
        reasons.extend(
            (event.operator_code, event.event_id, ignored.get(key))
            for key, event in by_key.items()
            if event.reason != ignored.get(key)
        )
        instructions.extend(
            _differences(
                person,
                outcome,
                _Known(active, applications.get(person, []), by_key),
                lines.get(person, []),
                catalog,
                (today, now),
                closed,
            )
        )
    if reasons:
        uow.events.set_reasons(reasons)
    if instructions:
        uow.grants.add_many(instructions)
    return instructions


@dataclass(frozen=True)
class _Known:
    active: list[StoredApplication]  # in the order the engine indexed them
    every: list[StoredApplication]  # cancelled ones too
    events: dict[str, StoredEvent]


def _differences(
    person: str,
    outcome: Outcome,
    known: _Known,
    instructed_lines: list[tuple[str, str, int]],
    catalog: Catalog,
    when: tuple[date, datetime],
    closed: set[str],
) -> list[GrantInstruction]:
    today, now = when
    active = known.active
    desired: dict[tuple[str, Measure], int] = {}
    dated: dict[tuple[str, Measure], date] = {}
    # Fixed grants by source key (an event's key finds its event in known.events).
    granted: dict[str, StoredApplication] = {}
    for grant in outcome.grants:
        if grant.event_id is not None:
            key = grant.event_id
        else:
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
    groups: dict[tuple[str, str, str, Measure, date], list[GrantLine]] = defaultdict(list)
    for key_measure in sorted(desired.keys() | instructed.keys()):
        delta = desired.get(key_measure, 0) - instructed.get(key_measure, 0)
        if delta == 0:
            continue
        key, measure = key_measure
        found = _source_of(key, known, granted, catalog)
        if found is None:
            continue
        # A correction for a line the engine no longer grants is dated today.
        grant_on = dated.get(key_measure, today)
        group = (
            found.operator_code,
            found.service_code,
            found.payment_service_id,
            measure,
            grant_on,
        )
        groups[group].append(GrantLine(key, measure, delta))
    return [
        GrantInstruction(
            grant_id=secrets.token_hex(12),
            operator_code=operator_code,
            service_code=service_code,
            payment_service_id=payment_service_id,
            person=person,
            measure=measure,
            points=sum(line.points for line in group_lines),
            grant_on=grant_on,
            created_at=now,
            settlement_month=settlement_month(grant_on, closed),
            lines=tuple(group_lines),
        )
        for (
            operator_code,
            service_code,
            payment_service_id,
            measure,
            grant_on,
        ), group_lines in groups.items()
    ]


def _source_of(
    key: str, known: _Known, granted: dict[str, StoredApplication], catalog: Catalog
) -> _Source | None:
    """Where the points of a source key go: its event's account, or its application's."""
    event = known.events.get(key)
    if event is not None:
        return _Source(key, event.operator_code, event.service_code, event.payment_service_id)
    app = granted.get(key)
    if app is not None:
        return _Source(
            key,
            catalog.get(app.service_code).operator.code,
            app.service_code,
            app.payment_service_id,
        )
    return _source_of_instructed(key, known, catalog)


def _source_of_instructed(key: str, known: _Known, catalog: Catalog) -> _Source | None:
    event = known.events.get(key)
    if event is not None:
        return _Source(key, event.operator_code, event.service_code, event.payment_service_id)
    # A fixed grant whose application was cancelled the same day: claw it back from its account.
    for app in known.every:
        if application_source(app.application_id) == key:
            return _Source(
                key,
                catalog.get(app.service_code).operator.code,
                app.service_code,
                app.payment_service_id,
            )
    return None
