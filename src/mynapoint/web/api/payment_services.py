"""GET /api/v1/payment-services: the catalog, searchable as the Ministry's search was."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel

from mynapoint.domain.errors import UnknownService
from mynapoint.domain.measures import Category, Channel, Counts, EventKind, Measure, Rounding
from mynapoint.domain.services import AtEvent, CodeFormat, DaysAfter, GrantTiming, PaymentService
from mynapoint.web.dependencies import CatalogDep
from mynapoint.web.errors import responses
from mynapoint.web.inputs import Identifier, Text

router = APIRouter(tags=["public"])


class OperatorOut(BaseModel):
    code: str
    name: str


class TimingOut(BaseModel):
    rule: Literal["at_event", "days_after", "monthly"]
    days: int | None = None
    from_next_day: bool | None = None
    day: int | None = None
    months_after: int | None = None
    description_ja: str
    description_en: str


class CodeFormatOut(BaseModel):
    name_ja: str
    name_en: str
    pattern: str
    example: str
    description_ja: str
    description_en: str


class PaymentServiceOut(BaseModel):
    code: str
    name: str
    name_en: str
    operator: OperatorOut
    category: Category
    counts: Counts
    timing: dict[EventKind, TimingOut]
    rounding: Rounding
    preregistration: bool
    channels: list[Channel]
    measures: list[Measure]
    payment_service_id: CodeFormatOut
    security_codes: list[CodeFormatOut]
    expiry_ja: str
    expiry_en: str
    closes_at: datetime | None
    keywords: list[str]
    assumptions: list[str]


class PaymentServicesOut(BaseModel):
    payment_services: list[PaymentServiceOut]


def timing_out(timing: GrantTiming) -> TimingOut:
    if isinstance(timing, AtEvent):
        return TimingOut(
            rule="at_event",
            description_ja="チャージ・お買い物の当日に付与",
            description_en="granted on the day of the charge or purchase",
        )
    if isinstance(timing, DaysAfter):
        start_ja = "翌日から" if timing.from_next_day else ""
        start_en = " after the day following it" if timing.from_next_day else " after it"
        return TimingOut(
            rule="days_after",
            days=timing.days,
            from_next_day=timing.from_next_day,
            description_ja=f"チャージ・お買い物の{start_ja}{timing.days}日後に付与",
            description_en=f"granted {timing.days} days{start_en}",
        )
    months_ja = "翌月" if timing.months_after == 1 else f"{timing.months_after}か月後の月"
    return TimingOut(
        rule="monthly",
        day=timing.day,
        months_after=timing.months_after,
        description_ja=f"1か月分をまとめて{months_ja}{timing.day}日に付与",
        description_en=f"a month's total granted on day {timing.day} of the month "
        f"{timing.months_after} month(s) later",
    )


def _code_format(fmt: CodeFormat) -> CodeFormatOut:
    return CodeFormatOut(
        name_ja=fmt.name_ja,
        name_en=fmt.name_en,
        pattern=fmt.pattern,
        example=fmt.example,
        description_ja=fmt.description_ja,
        description_en=fmt.description_en,
    )


# The catalog is immutable reference data: each service's answer is built once per process
# (0.6 ms for the whole list each time otherwise). By identity, the service kept beside its
# answer so that the identity cannot be reused; bounded for processes that load many catalogs.
_ANSWERS_KEPT = 2_000
_answers: dict[int, tuple[PaymentService, PaymentServiceOut]] = {}


def service_out(service: PaymentService) -> PaymentServiceOut:
    known = _answers.get(id(service))
    if known is not None and known[0] is service:
        return known[1]
    if len(_answers) >= _ANSWERS_KEPT:
        _answers.clear()
    answer = _service_out(service)
    _answers[id(service)] = (service, answer)
    return answer


def _service_out(service: PaymentService) -> PaymentServiceOut:
    return PaymentServiceOut(
        code=service.code,
        name=service.name,
        name_en=service.name_en,
        operator=OperatorOut(code=service.operator.code, name=service.operator.name),
        category=service.category,
        counts=service.counts,
        timing={kind: timing_out(t) for kind, t in service.timing.items()},
        rounding=service.rounding,
        preregistration=service.preregistration,
        channels=sorted(service.channels, key=list(Channel).index),
        measures=sorted(service.measures, key=list(Measure).index),
        payment_service_id=_code_format(service.payment_service_id),
        security_codes=[_code_format(c) for c in service.security_codes],
        expiry_ja=service.expiry_ja,
        expiry_en=service.expiry_en,
        closes_at=service.closes_at,
        keywords=list(service.keywords),
        assumptions=list(service.assumptions),
    )


def fold(text: str) -> str:
    """Search folding: full/half width (NFKC), case, and hiragana to katakana."""
    normal = unicodedata.normalize("NFKC", text).casefold()
    return "".join(chr(ord(c) + 0x60) if "ぁ" <= c <= "ゖ" else c for c in normal)


def matches_query(service: PaymentService, query: str) -> bool:
    haystack = fold(
        " ".join(
            (service.code, service.name, service.name_en, service.operator.name, *service.keywords)
        )
    )
    return all(fold(word) in haystack for word in query.split())


def search(
    services: list[PaymentService],
    *,
    q: str | None = None,
    category: Category | None = None,
    counts: Counts | None = None,
    preregistration: bool | None = None,
    channel: Channel | None = None,
    measure: Measure | None = None,
) -> list[PaymentService]:
    """Filters combine with AND; counts=charge also finds services where the person picks."""
    found = []
    for service in services:
        if q and not matches_query(service, q):
            continue
        if category is not None and service.category is not category:
            continue
        if (
            counts is not None
            and counts is not service.counts
            and not (
                counts is not Counts.PICK and EventKind(counts.value) in service.countable_kinds()
            )
        ):
            continue
        if preregistration is not None and service.preregistration is not preregistration:
            continue
        if channel is not None and channel not in service.channels:
            continue
        if measure is not None and not service.takes_part_in(measure):
            continue
        found.append(service)
    return found


@router.get("/api/v1/payment-services", responses=responses())
def list_payment_services(
    catalog: CatalogDep,
    q: Annotated[Text | None, Query(max_length=100, description="name or keyword")] = None,
    category: Category | None = None,
    counts: Annotated[
        Counts | None,
        Query(description="charge or purchase also finds services where the person picks"),
    ] = None,
    preregistration: bool | None = None,
    channel: Channel | None = None,
    measure: Measure | None = None,
) -> PaymentServicesOut:
    """Search the payment services; every filter is optional."""
    found = search(
        list(catalog),
        q=q,
        category=category,
        counts=counts,
        preregistration=preregistration,
        channel=channel,
        measure=measure,
    )
    return PaymentServicesOut(payment_services=[service_out(s) for s in found])


@router.get("/api/v1/payment-services/{code}", responses=responses("unknown_service"))
def get_payment_service(
    code: Annotated[Identifier, Path(max_length=40)], catalog: CatalogDep
) -> PaymentServiceOut:
    """One service with its operator, timing, formats and assumptions."""
    if code not in catalog:
        raise UnknownService(code)
    return service_out(catalog.get(code))
