from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, select, update

from mynapoint.db.repositories.statements import in_chunks, insert_skipping_conflicts
from mynapoint.db.tables import spending_events
from mynapoint.domain.ledger import StoredEvent
from mynapoint.domain.measures import EventKind, IgnoreReason

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from sqlalchemy.engine import Connection, Row


class SqlEventRepository:
    """Intake's hot path: every method is one statement per batch or per IN-list chunk."""

    def __init__(self, connection: Callable[[], Connection]) -> None:
        self._connection = connection

    def existing_hashes(self, operator_code: str, event_ids: Sequence[str]) -> dict[str, str]:
        connection = self._connection()
        found: dict[str, str] = {}
        for chunk in in_chunks(connection, event_ids):
            query = select(spending_events.c.event_id, spending_events.c.content_hash).where(
                spending_events.c.operator_code == operator_code,
                spending_events.c.event_id.in_(chunk),
            )
            found.update(connection.execute(query).all())
        return found

    def add_many(self, events: Sequence[StoredEvent]) -> int:
        """The first of several events with one (operator_code, event_id) is kept."""
        if not events:
            return 0
        connection = self._connection()
        statement = insert_skipping_conflicts(connection, spending_events)
        # One executemany: sqlite3 and psycopg (pipeline mode) both report the sum of
        # the rows each execution inserted. It is several times faster on PostgreSQL
        # than RETURNING the inserted keys through multi-row VALUES statements.
        return connection.execute(statement, [_row(event) for event in events]).rowcount

    def for_persons(self, persons: Sequence[str]) -> dict[str, list[StoredEvent]]:
        """Oldest first (occurred_at, then operator_code, event_id); every asked-for person is
        a key."""
        connection = self._connection()
        found: dict[str, list[StoredEvent]] = {person: [] for person in persons}
        for chunk in in_chunks(connection, persons):
            query = (
                select(spending_events)
                .where(spending_events.c.person.in_(chunk))
                .order_by(
                    spending_events.c.occurred_at,
                    spending_events.c.operator_code,
                    spending_events.c.event_id,
                )
            )
            for row in connection.execute(query):
                found[row.person].append(_event(row))
        return found

    def set_reasons(self, reasons: Sequence[tuple[str, str, str | None]]) -> None:
        if not reasons:
            return
        # Bound names differ from the column names, which SQLAlchemy reserves
        # for the SET clause.
        statement = (
            update(spending_events)
            .where(
                spending_events.c.operator_code == bindparam("key_operator_code"),
                spending_events.c.event_id == bindparam("key_event_id"),
            )
            .values(reason=bindparam("new_reason"))
        )
        self._connection().execute(
            statement,
            [
                {
                    "key_operator_code": operator,
                    "key_event_id": event_id,
                    # An IgnoreReason stored as its value, whatever the driver makes of enums.
                    "new_reason": None if reason is None else str(reason),
                }
                for operator, event_id, reason in reasons
            ],
        )


def _row(event: StoredEvent) -> dict[str, object]:
    return {
        "operator_code": event.operator_code,
        "event_id": event.event_id,
        "service_code": event.service_code,
        "payment_service_id": event.payment_service_id,
        "person": event.person,
        "kind": event.kind.value,
        "amount": event.amount,
        "occurred_at": event.occurred_at,
        "refund_of": event.refund_of,
        "content_hash": event.content_hash,
        "received_at": event.received_at,
        "reason": None if event.reason is None else event.reason.value,
    }


def _event(row: Row[Any]) -> StoredEvent:
    return StoredEvent(
        operator_code=row.operator_code,
        event_id=row.event_id,
        service_code=row.service_code,
        payment_service_id=row.payment_service_id,
        person=row.person,
        kind=EventKind(row.kind),
        amount=row.amount,
        occurred_at=row.occurred_at,
        refund_of=row.refund_of,
        content_hash=row.content_hash,
        received_at=row.received_at,
        reason=None if row.reason is None else IgnoreReason(row.reason),
    )
