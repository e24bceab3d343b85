"""Plain factories with keyword defaults for the domain values tests need."""

from __future__ import annotations

from datetime import date, datetime
from itertools import count

from mynapoint.domain.applications import ApplicationRequest
from mynapoint.domain.calendar import JST
from mynapoint.domain.events import SpendingEvent
from mynapoint.domain.measures import (
    Category,
    Channel,
    Counts,
    EventKind,
    Measure,
    Rounding,
)
from mynapoint.domain.persons import PersonFacts
from mynapoint.domain.services import (
    AtEvent,
    Catalog,
    CodeFormat,
    GrantTiming,
    Operator,
    PaymentService,
)

_ids = count(1)
ALL_MEASURES = frozenset(Measure)


def jst(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=JST)


def make_person(
    *,
    card_applied_on: date = date(2020, 6, 1),
    card_applied_online: bool = False,
    birth_date: date | None = date(1980, 1, 1),
    died_on: date | None = None,
    certificate_issued_at: datetime | None = None,
) -> PersonFacts:
    return PersonFacts(
        card_applied_on=card_applied_on,
        card_applied_online=card_applied_online,
        birth_date=birth_date,
        died_on=died_on,
        certificate_issued_at=certificate_issued_at,
    )


def make_application(
    *,
    index: int = 0,
    measure: Measure = Measure.PHASE1,
    service_code: str = "charge_card",
    applied_at: datetime | None = None,
    counts: EventKind | None = None,
) -> ApplicationRequest:
    return ApplicationRequest(
        index=index,
        measure=measure,
        service_code=service_code,
        applied_at=applied_at or jst(2020, 8, 1),
        counts=counts,
    )


def make_event(
    *,
    event_id: str | None = None,
    kind: EventKind = EventKind.CHARGE,
    amount: int = 1000,
    at: datetime | None = None,
    refund_of: str | None = None,
) -> SpendingEvent:
    return SpendingEvent(
        event_id=event_id or f"ev{next(_ids)}",
        kind=kind,
        amount=amount,
        at=at or jst(2020, 9, 15),
        refund_of=refund_of,
    )


def make_refund(
    original: SpendingEvent, *, amount: int, at: datetime | None = None, event_id: str | None = None
) -> SpendingEvent:
    return make_event(
        event_id=event_id,
        kind=EventKind.REFUND,
        amount=amount,
        at=at or original.at,
        refund_of=original.event_id,
    )


def make_service(
    *,
    code: str = "charge_card",
    counts: Counts = Counts.CHARGE,
    rounding: Rounding = Rounding.CUMULATIVE,
    timing: dict[EventKind, GrantTiming] | None = None,
    measures: frozenset[Measure] = ALL_MEASURES,
    channels: frozenset[Channel] = frozenset(Channel),
    closes_at: datetime | None = None,
    category: Category = Category.E_MONEY,
) -> PaymentService:
    kinds = (
        (EventKind.CHARGE, EventKind.PURCHASE)
        if counts is Counts.PICK
        else (EventKind(counts.value),)
    )
    return PaymentService(
        code=code,
        name=code,
        name_en=code,
        operator=Operator("test_operator", "テスト決済株式会社"),
        category=category,
        counts=counts,
        timing=timing or dict.fromkeys(kinds, AtEvent()),
        rounding=rounding,
        preregistration=False,
        channels=channels,
        measures=measures,
        payment_service_id=CodeFormat(
            "決済サービスID", "Payment service ID", "[0-9]{8}", "12345678"
        ),
        security_codes=(CodeFormat("セキュリティコード", "Security code", "[0-9]{4}", "1234"),),
        expiry_ja="なし",
        expiry_en="none",
        closes_at=closes_at,
    )


def make_catalog(*services: PaymentService) -> Catalog:
    chosen = services or (
        make_service(code="charge_card"),
        make_service(code="purchase_card", counts=Counts.PURCHASE),
        make_service(code="pick_card", counts=Counts.PICK),
        make_service(
            code="per_txn_card", counts=Counts.PURCHASE, rounding=Rounding.PER_TRANSACTION
        ),
    )
    return Catalog({s.code: s for s in chosen})
