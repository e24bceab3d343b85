"""Plain factories for what the repositories store: snapshots, accounts, applications, events,
grant instructions."""

from __future__ import annotations

import hashlib
from datetime import date, datetime

from mynapoint.domain.accounts import PaymentAccount
from mynapoint.domain.calendar import JST
from mynapoint.domain.ledger import (
    GrantInstruction,
    GrantLine,
    OperatorKey,
    PersonSnapshot,
    StoredApplication,
    StoredEvent,
)
from mynapoint.domain.measures import Channel, EventKind, IgnoreReason, Measure

AT = datetime(2021, 7, 19, 10, 0, tzinfo=JST)
SERVICE = "paypay"
OPERATOR = "paypay-corp"
ACCOUNT_ID = "1234567890123456"


def make_snapshot(
    person: str = "person-1",
    *,
    birth_date: date = date(1980, 2, 29),
    card_applied_on: date = date(2021, 1, 15),
    card_applied_online: bool = False,
    died_on: date | None = None,
    adult_ward: bool = False,
    certificate_issued_at: datetime = datetime(2021, 2, 1, 9, 0, tzinfo=JST),
    municipality: str | None = None,
) -> PersonSnapshot:
    return PersonSnapshot(
        person=person,
        birth_date=birth_date,
        card_applied_on=card_applied_on,
        card_applied_online=card_applied_online,
        died_on=died_on,
        adult_ward=adult_ward,
        certificate_issued_at=certificate_issued_at,
        municipality=municipality,
    )


def make_operator_key(
    key_id: str = "key-1",
    *,
    operator_code: str = OPERATOR,
    created_at: datetime = AT,
    revoked_at: datetime | None = None,
) -> OperatorKey:
    return OperatorKey(
        key_id=key_id,
        operator_code=operator_code,
        secret_hash=hashlib.sha256(key_id.encode()).hexdigest(),
        created_at=created_at,
        revoked_at=revoked_at,
    )


def make_account(
    payment_service_id: str = ACCOUNT_ID,
    *,
    service_code: str = SERVICE,
    operator_code: str = OPERATOR,
    holder_name: str = "ヤマダ タロウ",
    security_code_hash: str = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
    registered_at: datetime = AT,
) -> PaymentAccount:
    return PaymentAccount(
        service_code=service_code,
        payment_service_id=payment_service_id,
        operator_code=operator_code,
        holder_name=holder_name,
        security_code_hash=security_code_hash,
        registered_at=registered_at,
    )


def make_application(
    application_id: str = "app-1",
    *,
    person: str = "person-1",
    measure: Measure = Measure.PHASE1,
    service_code: str = SERVICE,
    payment_service_id: str = ACCOUNT_ID,
    counts: EventKind | None = EventKind.CHARGE,
    channel: Channel = Channel.APP,
    applied_at: datetime = AT,
    representative: str | None = None,
    cancelled_at: datetime | None = None,
) -> StoredApplication:
    return StoredApplication(
        application_id=application_id,
        person=person,
        measure=measure,
        service_code=service_code,
        payment_service_id=payment_service_id,
        counts=counts,
        channel=channel,
        applied_at=applied_at,
        representative=representative,
        cancelled_at=cancelled_at,
    )


def make_event(
    event_id: str = "e1",
    *,
    operator_code: str = OPERATOR,
    service_code: str = SERVICE,
    payment_service_id: str = ACCOUNT_ID,
    person: str = "person-1",
    kind: EventKind = EventKind.CHARGE,
    amount: int = 10_000,
    occurred_at: datetime = AT,
    refund_of: str | None = None,
    content_hash: str | None = None,
    reason: IgnoreReason | None = None,
) -> StoredEvent:
    content = f"{event_id}|{kind}|{amount}|{occurred_at.isoformat()}|{refund_of}"
    return StoredEvent(
        operator_code=operator_code,
        event_id=event_id,
        service_code=service_code,
        payment_service_id=payment_service_id,
        person=person,
        kind=kind,
        amount=amount,
        occurred_at=occurred_at,
        refund_of=refund_of,
        content_hash=content_hash or hashlib.sha256(content.encode()).hexdigest(),
        received_at=AT,
        reason=reason,
    )


def make_line(
    source: str = "event:e1", *, measure: Measure = Measure.PHASE1, points: int = 2_500
) -> GrantLine:
    return GrantLine(source=source, measure=measure, points=points)


def make_grant(
    grant_id: str = "g1",
    *,
    operator_code: str = OPERATOR,
    service_code: str = SERVICE,
    payment_service_id: str = ACCOUNT_ID,
    person: str = "person-1",
    measure: Measure = Measure.PHASE1,
    grant_on: date = date(2021, 7, 19),
    settlement_month: str = "2021-07",
    lines: tuple[GrantLine, ...] | None = None,
    acknowledged_at: datetime | None = None,
) -> GrantInstruction:
    lines = lines if lines is not None else (make_line(measure=measure),)
    return GrantInstruction(
        grant_id=grant_id,
        operator_code=operator_code,
        service_code=service_code,
        payment_service_id=payment_service_id,
        person=person,
        measure=measure,
        points=sum(line.points for line in lines),
        grant_on=grant_on,
        created_at=AT,
        settlement_month=settlement_month,
        lines=lines,
        acknowledged_at=acknowledged_at,
    )
