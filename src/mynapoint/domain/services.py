"""The payment-service catalog as values: what counts, when points come, where to apply."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from mynapoint.domain.calendar import add_months, days_after
from mynapoint.domain.errors import InvalidCounts, UnknownService
from mynapoint.domain.measures import (
    Category,
    Channel,
    Counts,
    EventKind,
    Measure,
    MeasureKind,
    Rounding,
)


@dataclass(frozen=True)
class AtEvent:
    """Granted on the day of the charge or purchase (JST)."""

    def grant_on(self, day: date) -> date:
        return day


@dataclass(frozen=True)
class DaysAfter:
    """Granted `days` after the event day, or after the day following it (PayPay: 30)."""

    days: int
    from_next_day: bool = False

    def grant_on(self, day: date) -> date:
        return days_after(day, self.days + (1 if self.from_next_day else 0))


@dataclass(frozen=True)
class Monthly:
    """A month's events are totalled and granted on `day` of a later month (WAON: the 28th)."""

    day: int
    months_after: int = 1

    def grant_on(self, day: date) -> date:
        return add_months(day, self.months_after, self.day)


GrantTiming = AtEvent | DaysAfter | Monthly


@dataclass(frozen=True)
class CodeFormat:
    """The shape of a 決済サービスID or a security code, for checking input and for help text."""

    name_ja: str
    name_en: str
    pattern: str
    example: str
    description_ja: str = ""
    description_en: str = ""

    def matches(self, value: str) -> bool:
        return re.fullmatch(self.pattern, value) is not None


@dataclass(frozen=True)
class Operator:
    code: str
    name: str
    name_en: str = ""


@dataclass(frozen=True)
class PaymentService:
    code: str
    name: str
    name_en: str
    operator: Operator
    category: Category
    counts: Counts
    timing: Mapping[EventKind, GrantTiming]
    rounding: Rounding
    preregistration: bool
    channels: frozenset[Channel]
    measures: frozenset[Measure]
    payment_service_id: CodeFormat
    security_codes: tuple[CodeFormat, ...]
    expiry_ja: str
    expiry_en: str
    closes_at: datetime | None = None
    keywords: tuple[str, ...] = ()
    assumptions: tuple[str, ...] = field(default=())

    def countable_kinds(self) -> tuple[EventKind, ...]:
        if self.counts is Counts.PICK:
            return (EventKind.CHARGE, EventKind.PURCHASE)
        return (EventKind(self.counts.value),)

    def resolve_counts(self, kind: MeasureKind, given: EventKind | None) -> EventKind | None:
        """The kind of event that counts for an application; refuses a missing or wrong pick."""
        allowed = self.countable_kinds()
        if kind is MeasureKind.FIXED:
            if given is not None:
                raise InvalidCounts(self.code, given.value, ())
            return None
        if given is None:
            if len(allowed) == 1:
                return allowed[0]
            raise InvalidCounts(self.code, None, tuple(k.value for k in allowed))
        if given not in allowed:
            raise InvalidCounts(self.code, given.value, tuple(k.value for k in allowed))
        return given

    def grant_on(self, counted: EventKind | None, day: date) -> date:
        """Grant date for an event counted as `counted` (None: a fixed grant, dated as a charge)."""
        timing = self.timing.get(counted or EventKind.CHARGE)
        if timing is None:
            timing = self.timing[self.countable_kinds()[0]]
        return timing.grant_on(day)

    def is_closed_at(self, at: datetime) -> bool:
        return self.closes_at is not None and at >= self.closes_at

    def takes_part_in(self, measure: Measure) -> bool:
        return measure in self.measures


@dataclass(frozen=True)
class Catalog:
    services: Mapping[str, PaymentService]

    def get(self, code: str) -> PaymentService:
        try:
            return self.services[code]
        except KeyError:
            raise UnknownService(code) from None

    def __contains__(self, code: object) -> bool:
        return code in self.services

    def __iter__(self) -> Iterator[PaymentService]:
        return iter(self.services.values())

    def operators(self) -> tuple[Operator, ...]:
        seen: dict[str, Operator] = {}
        for service in self.services.values():
            seen.setdefault(service.operator.code, service.operator)
        return tuple(seen.values())
