"""A charge, purchase or refund as a payment operator reports it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from mynapoint.domain.errors import InvalidEvent
from mynapoint.domain.measures import EventKind


@dataclass(frozen=True)
class SpendingEvent:
    event_id: str
    kind: EventKind
    amount: int  # yen, > 0; a refund states the refunded amount as a positive number
    at: datetime
    refund_of: str | None = None
    # (service_code, payment_service_id) as reported by the operator; None in scenarios.
    account: tuple[str, str] | None = None

    def __post_init__(self) -> None:
        if self.amount <= 0:
            raise InvalidEvent(
                f"event '{self.event_id}': amount {self.amount} must be a positive number of yen",
                event_id=self.event_id,
                field="amount",
            )
        if self.at.tzinfo is None or self.at.utcoffset() is None:
            raise InvalidEvent(
                f"event '{self.event_id}': occurred_at has no UTC offset",
                event_id=self.event_id,
                field="occurred_at",
            )
        if (self.kind is EventKind.REFUND) != (self.refund_of is not None):
            raise InvalidEvent(
                f"event '{self.event_id}': refund_of goes with kind refund, and only with it",
                event_id=self.event_id,
                field="refund_of",
            )

    @property
    def is_refund(self) -> bool:
        return self.kind is EventKind.REFUND
