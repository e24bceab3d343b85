from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, select, text, update

from mynapoint.db.repositories.statements import (
    copy_rows,
    insert_skipping_conflicts,
    is_postgresql,
    matching,
    tuples,
    utc,
)
from mynapoint.db.tables import spending_events
from mynapoint.domain.ledger import StoredEvent
from mynapoint.domain.measures import EventKind, IgnoreReason

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from sqlalchemy.engine import Connection

_COLUMNS = (
    "operator_code",
    "event_id",
    "service_code",
    "payment_service_id",
    "person",
    "kind",
    "amount",
    "occurred_at",
    "refund_of",
    "content_hash",
    "received_at",
    "reason",
)  # what `_values` writes and `_event` reads, in this order
_KINDS = {kind.value: kind for kind in EventKind}
_REASONS = {reason.value: reason for reason in IgnoreReason}

# PostgreSQL: a batch is copied into this per-session table, then moved into
# spending_events by one INSERT … SELECT … ON CONFLICT DO NOTHING (STACK-NOTES: the
# fastest idempotent bulk path there). `position` keeps the first of several rows
# with one key, as the repository promises.
_STAGING = "spending_events_staging"
_CREATE_STAGING = text(
    f"CREATE TEMPORARY TABLE IF NOT EXISTS {_STAGING} "
    "(LIKE spending_events INCLUDING DEFAULTS, position integer NOT NULL) "
    "ON COMMIT DELETE ROWS"
)
_MOVE_STAGED = text(
    f"INSERT INTO spending_events ({', '.join(_COLUMNS)}) "  # noqa: S608 - constant names
    f"SELECT {', '.join(_COLUMNS)} FROM {_STAGING} "
    "ORDER BY operator_code, event_id, position ON CONFLICT DO NOTHING"
).execution_options(preserve_rowcount=True)
_CLEAR_STAGING = text(f"DELETE FROM {_STAGING}")  # noqa: S608 - a constant name
# PostgreSQL: every changed reason in one statement.
_SET_REASONS = text(
    "UPDATE spending_events SET reason = changed.reason "
    "FROM unnest(CAST(:operator_codes AS text[]), CAST(:event_ids AS text[]), "
    "CAST(:reasons AS text[])) AS changed (operator_code, event_id, reason) "
    "WHERE spending_events.operator_code = changed.operator_code "
    "AND spending_events.event_id = changed.event_id"
)


class SqlEventRepository:
    """Intake's hot path: every method is one statement per batch or per IN-list chunk."""

    def __init__(self, connection: Callable[[], Connection]) -> None:
        self._connection = connection

    def existing_hashes(self, operator_code: str, event_ids: Sequence[str]) -> dict[str, str]:
        connection = self._connection()
        found: dict[str, str] = {}
        for condition in matching(connection, spending_events.c.event_id, event_ids):
            query = select(spending_events.c.event_id, spending_events.c.content_hash).where(
                spending_events.c.operator_code == operator_code, condition
            )
            found.update(connection.execute(query).all())
        return found

    def add_many(self, events: Sequence[StoredEvent]) -> int:
        """The first of several events with one (operator_code, event_id) is kept."""
        if not events:
            return 0
        connection = self._connection()
        if is_postgresql(connection):
            connection.execute(_CREATE_STAGING)
            copy_rows(
                connection,
                _STAGING,
                (*_COLUMNS, "position"),
                ((*_values(event), position) for position, event in enumerate(events)),
            )
            inserted = connection.execute(_MOVE_STAGED).rowcount
            connection.execute(_CLEAR_STAGING)
            return inserted
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
        for condition in matching(connection, spending_events.c.person, persons):
            query = (
                select(*(spending_events.c[name] for name in _COLUMNS))
                .where(condition)
                .order_by(
                    spending_events.c.occurred_at,
                    spending_events.c.operator_code,
                    spending_events.c.event_id,
                )
            )
            for row in tuples(connection, query):
                event = _event(row)
                found[event.person].append(event)
        return found

    def set_reasons(self, reasons: Sequence[tuple[str, str, str | None]]) -> None:
        if not reasons:
            return
        connection = self._connection()
        if is_postgresql(connection):
            operator_codes, event_ids, values = zip(*reasons, strict=True)
            connection.execute(
                _SET_REASONS,
                {
                    "operator_codes": list(operator_codes),
                    "event_ids": list(event_ids),
                    "reasons": [None if reason is None else str(reason) for reason in values],
                },
            )
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
        connection.execute(
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


def _values(event: StoredEvent) -> tuple[object, ...]:
    """The event as a row of spending_events, in the table's column order."""
    return (
        event.operator_code,
        event.event_id,
        event.service_code,
        event.payment_service_id,
        event.person,
        event.kind.value,
        event.amount,
        event.occurred_at,
        event.refund_of,
        event.content_hash,
        event.received_at,
        None if event.reason is None else event.reason.value,
    )


def _event(row: Sequence[Any]) -> StoredEvent:
    (
        operator_code,
        event_id,
        service_code,
        payment_service_id,
        person,
        kind,
        amount,
        occurred_at,
        refund_of,
        content_hash,
        received_at,
        reason,
    ) = row
    return StoredEvent(
        operator_code=operator_code,
        event_id=event_id,
        service_code=service_code,
        payment_service_id=payment_service_id,
        person=person,
        kind=_KINDS[kind],
        amount=amount,
        occurred_at=utc(occurred_at),
        refund_of=refund_of,
        content_hash=content_hash,
        received_at=utc(received_at),
        reason=None if reason is None else _REASONS[reason],
    )
