from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from psycopg.errors import UniqueViolation
from sqlalchemy import Column, Integer, bindparam, delete, insert, select, text, update

from mynapoint.db.repositories.statements import (
    SEPARATOR,
    copy_rows,
    in_chunks,
    insert_skipping_conflicts,
    is_postgresql,
    matching,
    tuples,
    utc,
)
from mynapoint.db.tables import pending_evaluations, spending_events
from mynapoint.domain.ledger import StoredEvent
from mynapoint.domain.measures import EventKind, IgnoreReason

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    from sqlalchemy import ColumnElement
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
# The distinct persons of some pending markers, in code point order (chunks of them are
# evaluated side by side: they share no person).
_PENDING_PERSONS_PG = text(
    'SELECT DISTINCT person COLLATE "C" FROM pending_evaluations, '
    "jsonb_array_elements_text(CAST(persons AS jsonb)) AS person "
    "WHERE marker_id = ANY(:ids) ORDER BY 1"
)
_PENDING_PERSONS_SQLITE = text(
    "SELECT DISTINCT person.value FROM pending_evaluations, json_each(persons) AS person "
    "WHERE marker_id IN (SELECT value FROM json_each(:ids)) ORDER BY 1"
)
_KINDS = {kind.value: kind for kind in EventKind}
_REASONS = {reason.value: reason for reason in IgnoreReason}

# PostgreSQL: a batch is copied straight into spending_events, inside a savepoint. When
# one of its keys is there already (or twice in the batch), the COPY fails and the batch
# is copied into this per-session table instead, then moved into spending_events by one
# INSERT … SELECT … ON CONFLICT DO NOTHING (STACK-NOTES: the fastest idempotent bulk
# path there). `position` keeps the first of several rows with one key, as the
# repository promises. Intake looks the keys up first, so a new batch takes the first
# way, which does about half the work of the second.
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
_COPIED = [spending_events.c[name] for name in _COLUMNS]
_POSITION = Column("position", Integer)
_CLEAR_STAGING = text(f"DELETE FROM {_STAGING}")  # noqa: S608 - a constant name
# PostgreSQL: every changed reason in one statement, the keys as unnested arrays.
_SET_REASONS = text(
    "UPDATE spending_events SET reason = changed.reason "
    "FROM unnest(CAST(:operator_codes AS text[]), CAST(:event_ids AS text[]), "
    "CAST(:reasons AS text[])) AS changed (operator_code, event_id, reason) "
    "WHERE spending_events.operator_code = changed.operator_code "
    "AND spending_events.event_id = changed.event_id"
)
# The same with each array sent as one string split by the server (much cheaper to send than
# a list; see statements.matching), for keys without the separator; '' stands for no reason.
_SET_REASONS_JOINED = text(
    "UPDATE spending_events SET reason = changed.reason "
    "FROM unnest(string_to_array(:operator_codes, :separator), "
    "string_to_array(:event_ids, :separator), string_to_array(:reasons, :separator, '')) "
    "AS changed (operator_code, event_id, reason) "
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

    def reasons(
        self, operator_code: str, event_ids: Sequence[str]
    ) -> dict[str, IgnoreReason | None]:
        connection = self._connection()
        found: dict[str, IgnoreReason | None] = {}
        for condition in matching(connection, spending_events.c.event_id, event_ids):
            query = select(spending_events.c.event_id, spending_events.c.reason).where(
                spending_events.c.operator_code == operator_code, condition
            )
            found.update(
                (event_id, None if reason is None else _REASONS[reason])
                for event_id, reason in connection.execute(query)
            )
        return found

    def add_many(self, events: Sequence[StoredEvent]) -> int:
        """The first of several events with one (operator_code, event_id) is kept."""
        if not events:
            return 0
        connection = self._connection()
        if is_postgresql(connection):
            try:
                with connection.begin_nested():
                    copy_rows(connection, spending_events.name, _COPIED, map(_values, events))
            except UniqueViolation:
                pass
            else:
                return len(events)
            connection.execute(_CREATE_STAGING)
            copy_rows(
                connection,
                _STAGING,
                [*_COPIED, _POSITION],
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

    def mark_pending(self, persons: Sequence[str]) -> int:
        statement = (
            insert(pending_evaluations)
            .values(persons=json.dumps(sorted(set(persons))))
            .returning(pending_evaluations.c.marker_id)
        )
        return int(self._connection().execute(statement).scalar_one())

    def pending_markers(self) -> list[int]:
        query = select(pending_evaluations.c.marker_id).order_by(pending_evaluations.c.marker_id)
        return list(self._connection().execute(query).scalars())

    def pending_persons(self, marker_ids: Sequence[int], chunk: int) -> Iterator[list[str]]:
        # The database takes the markers' lists apart and keeps each person once: a file's
        # batches name about as many (marker, person) pairs as it has lines, which read into
        # this process cost ~90 MB a million lines (issue 14, item 4; bench/RESULTS.md
        # `make bench-scale`). The persons come through a server-side cursor, `chunk` at a
        # time, so the caller holds one chunk, whatever the file.
        connection = self._connection()
        if not marker_ids:
            return
        values: dict[str, object]
        if is_postgresql(connection):
            query, values = _PENDING_PERSONS_PG, {"ids": list(marker_ids)}
        else:
            query, values = _PENDING_PERSONS_SQLITE, {"ids": json.dumps(list(marker_ids))}
        result = connection.execute(query, values, execution_options={"yield_per": chunk})
        try:
            for rows in result.partitions(chunk):
                yield [row[0] for row in rows]
        finally:
            result.close()

    def clear_pending(self, marker_ids: Sequence[int]) -> None:
        connection = self._connection()
        for chunk in in_chunks(connection, sorted(marker_ids)):
            condition: ColumnElement[bool] = pending_evaluations.c.marker_id.in_(chunk)
            if is_postgresql(connection):
                # Two evaluations clearing the same markers lock them in one order, so they
                # cannot deadlock; the second finds them gone.
                locked = (
                    select(pending_evaluations.c.marker_id)
                    .where(condition)
                    .order_by(pending_evaluations.c.marker_id)
                    .with_for_update()
                    .cte("locked")
                    .prefix_with("MATERIALIZED", dialect="postgresql")
                )
                condition = pending_evaluations.c.marker_id == locked.c.marker_id
            connection.execute(delete(pending_evaluations).where(condition))

    def set_reasons(self, reasons: Sequence[tuple[str, str, str | None]]) -> None:
        if not reasons:
            return
        connection = self._connection()
        if is_postgresql(connection):
            operator_codes, event_ids, values = zip(*reasons, strict=True)
            texts = [None if reason is None else str(reason) for reason in values]
            joined = [SEPARATOR.join(operator_codes), SEPARATOR.join(event_ids)]
            if all(
                part.count(SEPARATOR) == len(reasons) - 1 and "" not in keys
                for part, keys in zip(joined, (operator_codes, event_ids), strict=True)
            ):
                connection.execute(
                    _SET_REASONS_JOINED,
                    {
                        "operator_codes": joined[0],
                        "event_ids": joined[1],
                        "reasons": SEPARATOR.join(text or "" for text in texts),
                        "separator": SEPARATOR,
                    },
                )
                return
            connection.execute(
                _SET_REASONS,
                {
                    "operator_codes": list(operator_codes),
                    "event_ids": list(event_ids),
                    "reasons": texts,
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
