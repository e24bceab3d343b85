from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, case, distinct, func, insert, select, update

from mynapoint.db.repositories.statements import (
    Query,
    copy_rows,
    in_chunks,
    is_postgresql,
    matching,
    tuples,
    utc,
)
from mynapoint.db.tables import grant_instructions, grant_lines, stale_grant_days
from mynapoint.domain.ledger import GrantCounts, GrantInstruction, GrantLine, MonthTotals
from mynapoint.domain.measures import Measure

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence
    from datetime import date, datetime

    from sqlalchemy import ColumnElement, Select
    from sqlalchemy.engine import Connection, Row

# Lines read back in this order, whatever order they were written in.
_LINE_ORDER = (grant_lines.c.grant_id, grant_lines.c.source, grant_lines.c.measure)
_MEASURES = {measure.value: measure for measure in Measure}
_INSTRUCTION_COLUMNS = (
    "grant_id",
    "operator_code",
    "service_code",
    "payment_service_id",
    "person",
    "measure",
    "points",
    "grant_on",
    "created_at",
    "acknowledged_at",
    "settlement_month",
)
_LINE_COLUMNS = ("grant_id", "source", "measure", "person", "points")


class SqlGrantRepository:
    """Instructions come back in grant_id order, each with its lines ordered by source, measure."""

    def __init__(self, connection: Callable[[], Connection]) -> None:
        self._connection = connection

    def lines_for_persons(self, persons: Sequence[str]) -> dict[str, list[tuple[str, str, int]]]:
        """Every asked-for person is a key."""
        connection = self._connection()
        found: dict[str, list[tuple[str, str, int]]] = {person: [] for person in persons}
        for condition in matching(connection, grant_lines.c.person, persons):
            query = (
                select(
                    grant_lines.c.person,
                    grant_lines.c.source,
                    grant_lines.c.measure,
                    grant_lines.c.points,
                )
                .where(condition)
                .order_by(*_LINE_ORDER)
            )
            for person, source, measure, points in tuples(connection, query):
                found[person].append((source, _MEASURES[measure], points))
        return found

    def add_many(self, instructions: Sequence[GrantInstruction]) -> None:
        if not instructions:
            return
        connection = self._connection()
        # The statistics' next refresh recomputes these grant days: marked in this very
        # transaction, so that it cannot miss them however long ago `created_at` was taken
        # (db/statistics_store.py). One insert per day, no key shared: writers never wait.
        days = sorted({instruction.grant_on for instruction in instructions})
        connection.execute(insert(stale_grant_days), [{"grant_on": day} for day in days])
        if is_postgresql(connection):
            _copy_instructions(connection, instructions)
            return
        connection.execute(
            insert(grant_instructions),
            [
                {
                    "grant_id": instruction.grant_id,
                    "operator_code": instruction.operator_code,
                    "service_code": instruction.service_code,
                    "payment_service_id": instruction.payment_service_id,
                    "person": instruction.person,
                    "measure": instruction.measure.value,
                    "points": instruction.points,
                    "grant_on": instruction.grant_on,
                    "created_at": instruction.created_at,
                    "acknowledged_at": instruction.acknowledged_at,
                    "settlement_month": instruction.settlement_month,
                }
                for instruction in instructions
            ],
        )
        lines = [
            {
                "grant_id": instruction.grant_id,
                "source": line.source,
                "measure": line.measure.value,
                "person": instruction.person,
                "points": line.points,
            }
            for instruction in instructions
            for line in instruction.lines
        ]
        if lines:
            connection.execute(insert(grant_lines), lines)

    def pending(
        self,
        operator_code: str,
        due_by: date,
        service_code: str | None,
        after: str | None,
        limit: int,
    ) -> list[GrantInstruction]:
        conditions = [
            grant_instructions.c.operator_code == operator_code,
            grant_instructions.c.acknowledged_at.is_(None),
            grant_instructions.c.grant_on <= due_by,
        ]
        if service_code is not None:
            conditions.append(grant_instructions.c.service_code == service_code)
        if after is not None:
            conditions.append(grant_instructions.c.grant_id > after)
        connection = self._connection()
        query = (
            select(grant_instructions)
            .where(*conditions)
            .order_by(grant_instructions.c.grant_id)
            .limit(limit)
        )
        rows = connection.execute(query).all()
        lines: dict[str, list[GrantLine]] = defaultdict(list)
        for chunk in in_chunks(connection, (row.grant_id for row in rows)):
            lines_query = (
                select(grant_lines).where(grant_lines.c.grant_id.in_(chunk)).order_by(*_LINE_ORDER)
            )
            _collect_lines(lines, connection.execute(lines_query))
        return [_instruction(row, lines[row.grant_id]) for row in rows]

    def counts(self, operator_code: str, today: date) -> GrantCounts:
        # One pass over the operator's rows of ix_grant_instructions_operator_pending.
        g = grant_instructions.c
        pending = g.acknowledged_at.is_(None)
        query = select(
            func.count().filter(pending, g.grant_on < today),
            func.count().filter(pending, g.grant_on == today),
            func.count().filter(pending, g.grant_on > today),
            func.count().filter(g.acknowledged_at.is_not(None)),
        ).where(g.operator_code == operator_code)
        overdue, due, upcoming, acknowledged = self._connection().execute(query).one()
        return GrantCounts(overdue, due, upcoming, acknowledged)

    def acknowledge(self, operator_code: str, grant_ids: Sequence[str], at: datetime) -> int:
        """Another operator's grants and acknowledged ones stay as they are; returns how many
        were acknowledged now."""
        connection = self._connection()
        acknowledged = 0
        for chunk in in_chunks(connection, grant_ids):
            acknowledged += connection.execute(
                update(grant_instructions)
                .where(
                    grant_instructions.c.operator_code == operator_code,
                    grant_instructions.c.grant_id.in_(chunk),
                    grant_instructions.c.acknowledged_at.is_(None),
                )
                .values(acknowledged_at=at)
            ).rowcount
        return acknowledged

    def for_month(self, month: str) -> list[GrantInstruction]:
        return self._matching(_FOR_MONTH, {"month": month})

    def month_totals(self, month: str) -> list[MonthTotals]:
        """Two aggregate queries: the instructions' points and persons, and their lines'
        distinct events (a line's source names its operator, the instruction's)."""
        connection = self._connection()
        events = {
            (operator_code, service_code): count
            for operator_code, service_code, count in tuples(
                connection, _MONTH_EVENTS, {"month": month}
            )
        }
        return [
            MonthTotals(
                operator_code=operator_code,
                service_code=service_code,
                granted=int(granted),
                clawed_back=int(clawed),
                events=int(events.get((operator_code, service_code), 0)),
                persons=int(persons),
            )
            for operator_code, service_code, granted, clawed, persons in tuples(
                connection, _MONTH_POINTS, {"month": month}
            )
        ]

    def for_person(self, person: str) -> list[GrantInstruction]:
        # GET /me asks this: a statement built and compiled once.
        return self._matching(_FOR_PERSON, {"person": person})

    def _matching(
        self, query: Query, values: dict[str, Any] | None = None
    ) -> list[GrantInstruction]:
        rows: dict[str, tuple[Sequence[Any], list[GrantLine]]] = {}
        for row in tuples(self._connection(), query, values):
            _, lines = rows.setdefault(row[0], (row, []))
            source, measure, points = row[_LINE_AT:]
            if source is not None:
                lines.append(GrantLine(source=source, measure=_MEASURES[measure], points=points))
        return [_joined_instruction(row, lines) for row, lines in rows.values()]


def _with_lines(condition: ColumnElement[bool]) -> Select[Any]:
    """Instructions with their lines: an outer join, one row per line or one row without a
    line, instead of one read for each: one round trip, and both from the same snapshot."""
    return (
        select(
            *(grant_instructions.c[name] for name in _INSTRUCTION_COLUMNS),
            grant_lines.c.source,
            grant_lines.c.measure,
            grant_lines.c.points,
        )
        .outerjoin(grant_lines, grant_lines.c.grant_id == grant_instructions.c.grant_id)
        .where(condition)
        .order_by(grant_instructions.c.grant_id, grant_lines.c.source, grant_lines.c.measure)
    )


_LINE_AT = len(_INSTRUCTION_COLUMNS)
_IN_MONTH = grant_instructions.c.settlement_month == bindparam("month")
_BY_SERVICE = (grant_instructions.c.operator_code, grant_instructions.c.service_code)
_POINTS = grant_instructions.c.points
_MONTH_POINTS = Query(
    select(
        *_BY_SERVICE,
        func.coalesce(func.sum(case((_POINTS >= 0, _POINTS), else_=0)), 0),
        func.coalesce(func.sum(case((_POINTS < 0, -_POINTS), else_=0)), 0),
        func.count(distinct(grant_instructions.c.person)),
    )
    .where(_IN_MONTH)
    .group_by(*_BY_SERVICE)
    .order_by(*_BY_SERVICE)
)
_MONTH_EVENTS = Query(
    select(*_BY_SERVICE, func.count(distinct(grant_lines.c.source)))
    .join(grant_lines, grant_lines.c.grant_id == grant_instructions.c.grant_id)
    .where(_IN_MONTH, grant_lines.c.source.like("event:%"))
    .group_by(*_BY_SERVICE)
)
_FOR_PERSON = Query(_with_lines(grant_instructions.c.person == bindparam("person")))
_FOR_MONTH = Query(_with_lines(grant_instructions.c.settlement_month == bindparam("month")))


def _joined_instruction(row: Sequence[Any], lines: list[GrantLine]) -> GrantInstruction:
    (
        grant_id,
        operator_code,
        service_code,
        payment_service_id,
        person,
        measure,
        points,
        grant_on,
        created_at,
        acknowledged_at,
        settlement_month,
    ) = row[:_LINE_AT]
    return GrantInstruction(
        grant_id=grant_id,
        operator_code=operator_code,
        service_code=service_code,
        payment_service_id=payment_service_id,
        person=person,
        measure=_MEASURES[measure],
        points=points,
        grant_on=grant_on,
        created_at=utc(created_at),
        settlement_month=settlement_month,
        lines=tuple(lines),
        acknowledged_at=None if acknowledged_at is None else utc(acknowledged_at),
    )


def _copy_instructions(connection: Connection, instructions: Sequence[GrantInstruction]) -> None:
    """PostgreSQL: both tables by COPY (new random grant_ids: nothing to skip or update)."""
    copy_rows(
        connection,
        grant_instructions.name,
        [grant_instructions.c[name] for name in _INSTRUCTION_COLUMNS],
        (
            (
                instruction.grant_id,
                instruction.operator_code,
                instruction.service_code,
                instruction.payment_service_id,
                instruction.person,
                instruction.measure.value,
                instruction.points,
                instruction.grant_on,
                instruction.created_at,
                instruction.acknowledged_at,
                instruction.settlement_month,
            )
            for instruction in instructions
        ),
    )
    copy_rows(
        connection,
        grant_lines.name,
        [grant_lines.c[name] for name in _LINE_COLUMNS],
        (
            (
                instruction.grant_id,
                line.source,
                line.measure.value,
                instruction.person,
                line.points,
            )
            for instruction in instructions
            for line in instruction.lines
        ),
    )


def _collect_lines(lines: dict[str, list[GrantLine]], rows: Iterable[Row[Any]]) -> None:
    for row in rows:
        lines[row.grant_id].append(
            GrantLine(source=row.source, measure=Measure(row.measure), points=row.points)
        )


def _instruction(row: Row[Any], lines: list[GrantLine]) -> GrantInstruction:
    return GrantInstruction(
        grant_id=row.grant_id,
        operator_code=row.operator_code,
        service_code=row.service_code,
        payment_service_id=row.payment_service_id,
        person=row.person,
        measure=Measure(row.measure),
        points=row.points,
        grant_on=row.grant_on,
        created_at=row.created_at,
        settlement_month=row.settlement_month,
        lines=tuple(lines),
        acknowledged_at=row.acknowledged_at,
    )
