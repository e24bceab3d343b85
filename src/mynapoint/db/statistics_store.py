"""The summary tables' refresh and reads (services/statistics.py is the use case).

Which days a refresh recomputes, and why no change is missed (rows are never deleted, and no
update moves one to another day or changes what is counted, except cancellation):

- MyKey IDs, applications, cancellations and assisted applications are written with the
  platform time of a short transaction (a request: mykeys.created_at, applications.applied_at
  and cancelled_at, assisted_sessions.ended_at). A row the previous refresh did not see
  carries a time at or after that refresh's `computed_at`, or a little before it when its
  transaction took `now` before the refresh began and committed after it read:
  REFRESH_OVERLAP covers that. The days of the rows stamped since (computed_at -
  REFRESH_OVERLAP) are recomputed.
- Grant instructions are not: an upload's evaluation may stamp them with a `now` taken
  minutes before they commit. Their writer marks each grant day in stale_grant_days in the
  same transaction, and the refresh takes (deletes) the marks it recomputes: a mark committed
  meanwhile stays for the next refresh.

Each day recomputed is recomputed whole, from the live tables. A refresh is full (everything
recomputed) when there is no previous one, when the platform clock was set anew (timestamps
may then go back in time), when platform now is before the previous refresh, or when asked
(`mynapoint stats refresh --full`: after rows were written with past timestamps by hand).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import (
    Date,
    and_,
    cast,
    delete,
    func,
    insert,
    literal_column,
    or_,
    select,
    true,
)

from mynapoint.db.engine import WRITE_LOCK, reading
from mynapoint.db.tables import (
    applications,
    assisted_sessions,
    daily_statistics,
    grant_instructions,
    mykeys,
    pending_grant_statistics,
    platform_clock,
    platform_persons,
    stale_grant_days,
    statistics_refreshes,
)
from mynapoint.domain.assist import EndReason
from mynapoint.domain.calendar import start_of_jst_day
from mynapoint.domain.municipalities import UNKNOWN
from mynapoint.domain.statistics import Dimension, Figure, Metric, Refresh

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement
    from sqlalchemy.engine import Connection, Engine
    from sqlalchemy.sql import Select

# Longer than any transaction that writes the summarised tables takes between reading the
# clock and committing (an intake batch, an application: well under a second; a slow batch
# under load, seconds).
REFRESH_OVERLAP: Final = timedelta(minutes=15)

_ROW_ID = 1
# pg_advisory_xact_lock's key: two refreshes (the worker's, the server's, the command's) run
# one after the other, each seeing the other's result.
_LOCK_KEY = 7_151_515

# The metrics recomputed together, from one source table: (metrics, how to find the days).
_Family = tuple[tuple[Metric, ...], str]
_MYKEYS: Final = ((Metric.MYKEYS,), "mykeys")
_APPLIED: Final = ((Metric.APPLICATIONS,), "applied")
_CANCELLED: Final = ((Metric.CANCELLATIONS,), "cancelled")
_GRANTS: Final = ((Metric.POINTS_GRANTED, Metric.POINTS_CLAWED_BACK), "grants")
_ASSISTED: Final = ((Metric.ASSISTED_APPLICATIONS,), "assisted")
FAMILIES: Final = (_MYKEYS, _APPLIED, _CANCELLED, _GRANTS, _ASSISTED)


class SqlStatisticsStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._postgres = engine.dialect.name == "postgresql"

    # --- the refresh ----------------------------------------------------------------------

    def refresh(self, now: datetime, *, full: bool = False) -> Refresh:
        with self._writing() as connection:
            if self._postgres:
                connection.execute(select(func.pg_advisory_xact_lock(_LOCK_KEY)))
            previous = connection.execute(
                select(statistics_refreshes).where(statistics_refreshes.c.id == _ROW_ID)
            ).one_or_none()
            clock = connection.execute(
                select(platform_clock.c.started_at, platform_clock.c.recorded_real_at)
            ).one_or_none()
            anchor = (None, None) if clock is None else (clock.started_at, clock.recorded_real_at)
            full = (
                full
                or previous is None
                or (previous.clock_started_at, previous.clock_recorded_real_at) != anchor
                or now < previous.computed_at
            )
            if full:
                days = self._recompute_all(connection)
            else:
                assert previous is not None  # noqa: S101 - narrowed by `full` above
                days = self._recompute_since(connection, previous.computed_at - REFRESH_OVERLAP)
            self._snapshot_pending(connection)
            values = {
                "computed_at": now,
                "full_refresh": full,
                "days": days,
                "clock_started_at": anchor[0],
                "clock_recorded_real_at": anchor[1],
            }
            if previous is None:
                connection.execute(insert(statistics_refreshes).values(id=_ROW_ID, **values))
            else:
                connection.execute(
                    statistics_refreshes.update()
                    .where(statistics_refreshes.c.id == _ROW_ID)
                    .values(**values)
                )
        return Refresh(now, full, days)

    def _recompute_all(self, connection: Connection) -> int:
        connection.execute(delete(stale_grant_days))
        connection.execute(delete(daily_statistics))
        for family in FAMILIES:
            for statement in self._summaries(family, None):
                connection.execute(statement)
        return connection.execute(
            select(func.count()).select_from(
                select(daily_statistics.c.metric, daily_statistics.c.day).distinct().subquery()
            )
        ).scalar_one()

    def _recompute_since(self, connection: Connection, since: datetime) -> int:
        recomputed = 0
        for family in FAMILIES:
            days = sorted(self._days_touched(connection, family, since))
            if not days:
                continue
            metrics, _ = family
            for chunk in _chunks(days, 500):
                connection.execute(
                    delete(daily_statistics).where(
                        daily_statistics.c.metric.in_([str(m) for m in metrics]),
                        daily_statistics.c.day.in_(chunk),
                    )
                )
                for statement in self._summaries(family, chunk):
                    connection.execute(statement)
            recomputed += len(days) * len(metrics)
        return recomputed

    def _days_touched(self, connection: Connection, family: _Family, since: datetime) -> set[date]:
        _, source = family
        query: Select[Any]
        if source == "mykeys":
            query = select(self._jst_day(mykeys.c.created_at)).where(mykeys.c.created_at >= since)
        elif source == "applied":
            query = select(self._jst_day(applications.c.applied_at)).where(
                applications.c.applied_at >= since
            )
        elif source == "cancelled":
            query = select(self._jst_day(applications.c.cancelled_at)).where(
                applications.c.cancelled_at >= since
            )
        elif source == "grants":
            taken = connection.execute(
                delete(stale_grant_days).returning(stale_grant_days.c.grant_on)
            )
            return {_as_date(day) for (day,) in taken}
        else:
            query = select(self._jst_day(assisted_sessions.c.ended_at)).where(
                assisted_sessions.c.ended_at >= since,
                assisted_sessions.c.end_reason == str(EndReason.APPLIED),
            )
        return {_as_date(day) for (day,) in connection.execute(query.distinct())}

    def _summaries(self, family: _Family, days: Sequence[date] | None) -> list[Any]:
        """The INSERT … SELECTs of the family's daily rows, for `days` (None: every day)."""
        if family is _GRANTS:
            return self._grant_summaries(days)
        return [self._summary(family, days)]

    def _summary(self, family: _Family, days: Sequence[date] | None) -> Any:  # noqa: ANN401 - an INSERT … SELECT
        _, source = family
        if source == "assisted":
            ended = assisted_sessions.c.ended_at
            day = self._jst_day(ended)
            query = (
                select(
                    _text(Metric.ASSISTED_APPLICATIONS),
                    day,
                    *_blank(5),
                    assisted_sessions.c.corner,
                    func.count(),
                    literal_column("0"),
                )
                .where(assisted_sessions.c.end_reason == str(EndReason.APPLIED))
                .where(_within(ended, days))
                .group_by(day, assisted_sessions.c.corner)
            )
            return _insert_rows(query)
        municipality = func.coalesce(platform_persons.c.municipality, _text(UNKNOWN))
        if source == "mykeys":
            created = mykeys.c.created_at
            day = self._jst_day(created)
            query = (
                select(
                    _text(Metric.MYKEYS),
                    day,
                    *_blank(4),
                    municipality,
                    _text(""),
                    func.count(),
                    literal_column("0"),
                )
                .select_from(
                    mykeys.outerjoin(platform_persons, platform_persons.c.person == mykeys.c.person)
                )
                .where(_within(created, days))
                .group_by(day, municipality)
            )
            return _insert_rows(query)
        metric, stamp = (
            (Metric.APPLICATIONS, applications.c.applied_at)
            if source == "applied"
            else (Metric.CANCELLATIONS, applications.c.cancelled_at)
        )
        day = self._jst_day(stamp)
        keys = (applications.c.measure, applications.c.service_code)
        query = (
            select(
                _text(metric),
                day,
                *keys,
                _text(""),
                applications.c.channel,
                municipality,
                _text(""),
                func.count(),
                literal_column("0"),
            )
            .select_from(
                applications.outerjoin(
                    platform_persons, platform_persons.c.person == applications.c.person
                )
            )
            .where(stamp.is_not(None), _within(stamp, days))
            .group_by(day, *keys, applications.c.channel, municipality)
        )
        return _insert_rows(query)

    def _grant_summaries(self, days: Sequence[date] | None) -> list[Any]:
        """The INSERT … SELECTs of the grant metrics: points granted (> 0) and clawed back
        (< 0, summed as a positive number)."""
        grants = grant_instructions.c
        keys = (grants.grant_on, grants.measure, grants.service_code, grants.operator_code)
        statements = []
        for metric, sign in ((Metric.POINTS_GRANTED, 1), (Metric.POINTS_CLAWED_BACK, -1)):
            query = (
                select(
                    _text(metric),
                    *keys,
                    *_blank(3),
                    func.count(),
                    func.sum(grants.points) * sign,
                )
                .where(grants.points > 0 if sign > 0 else grants.points < 0)
                .group_by(*keys)
            )
            if days is not None:
                query = query.where(grants.grant_on.in_(days))
            statements.append(_insert_rows(query))
        return statements

    def _snapshot_pending(self, connection: Connection) -> None:
        grants = grant_instructions.c
        connection.execute(delete(pending_grant_statistics))
        connection.execute(
            insert(pending_grant_statistics).from_select(
                ["operator_code", "grant_on", "count", "points"],
                select(grants.operator_code, grants.grant_on, func.count(), func.sum(grants.points))
                .where(grants.acknowledged_at.is_(None))
                .group_by(grants.operator_code, grants.grant_on),
            )
        )

    def _jst_day(self, stamp: ColumnElement[Any]) -> ColumnElement[Any]:
        if self._postgres:
            return cast(func.timezone(_text("Asia/Tokyo"), stamp), Date)
        # SQLite keeps UTC as 'YYYY-MM-DD HH:MM:SS…' text (db/types.py); Japan has no DST.
        return func.date(stamp, _text("+9 hours"))

    # --- reads ----------------------------------------------------------------------------

    def last_refresh(self) -> Refresh | None:
        with reading(self._engine) as connection:
            row = connection.execute(
                select(statistics_refreshes).where(statistics_refreshes.c.id == _ROW_ID)
            ).one_or_none()
        return None if row is None else Refresh(row.computed_at, row.full_refresh, row.days)

    def figures(
        self,
        metric: Metric,
        by: Sequence[Dimension],
        *,
        start: date | None = None,
        end: date | None = None,
        per_day: bool = False,
    ) -> list[Figure]:
        """Sums of `metric` over [start, end] (inclusive days), grouped by `by` (and the day)."""
        table = daily_statistics.c
        groups = [table[str(dimension)] for dimension in by]
        if per_day:
            groups.insert(0, table.day)
        query = (
            select(*groups, func.sum(table.count), func.sum(table.points))
            .where(table.metric == str(metric))
            .group_by(*groups)
            .order_by(*groups)
        )
        if start is not None:
            query = query.where(table.day >= start)
        if end is not None:
            query = query.where(table.day <= end)
        with reading(self._engine) as connection:
            rows = connection.execute(query).all()
        figures = []
        for row in rows:
            values = tuple(row)
            if values[-2] is None:  # no row at all: SUM without GROUP BY gives one of NULLs
                continue
            day = _as_date(values[0]) if per_day else None
            keys = values[1:-2] if per_day else values[:-2]
            figures.append(
                Figure(tuple(str(k) for k in keys), int(values[-2]), int(values[-1]), day)
            )
        return figures

    def pending(self) -> list[tuple[str, date, int, int]]:
        """(operator_code, grant_on, instructions, points) not yet acknowledged, at the refresh."""
        table = pending_grant_statistics.c
        query = select(table.operator_code, table.grant_on, table.count, table.points).order_by(
            table.operator_code, table.grant_on
        )
        with reading(self._engine) as connection:
            return [
                (operator, _as_date(due), int(count), int(points))
                for operator, due, count, points in connection.execute(query)
            ]

    # --- plumbing -------------------------------------------------------------------------

    @contextmanager
    def _writing(self) -> Iterator[Connection]:
        with (
            self._engine.connect().execution_options(**{WRITE_LOCK: True}) as connection,
            connection.begin(),
        ):
            yield connection


_COLUMNS: Final = (
    "metric",
    "day",
    "measure",
    "service_code",
    "operator_code",
    "channel",
    "municipality",
    "corner",
    "count",
    "points",
)


def _text(value: str) -> ColumnElement[str]:
    """A constant written into the SQL, not a bound parameter: PostgreSQL takes an expression
    in GROUP BY for the one in the select list only when both are spelled the same, and two
    bound parameters are two different spellings. The values are the platform's own codes."""
    if "'" in value:  # pragma: no cover - the codes are plain words
        raise ValueError(f"constant {value!r} has a quote")
    return literal_column(f"'{value}'")


def _blank(n: int) -> list[Any]:
    return [_text("") for _ in range(n)]


def _insert_rows(query: Select[Any]) -> Any:  # noqa: ANN401 - an INSERT … SELECT
    return insert(daily_statistics).from_select(list(_COLUMNS), query)


def _within(stamp: ColumnElement[Any], days: Sequence[date] | None) -> ColumnElement[bool]:
    """`stamp` falls on one of `days` (JST), as half-open UTC ranges an index on it can serve."""
    if days is None:
        return true()
    return or_(
        *(
            and_(stamp >= start_of_jst_day(first), stamp < start_of_jst_day(last + timedelta(1)))
            for first, last in _runs(days)
        )
    )


def _runs(days: Iterable[date]) -> Iterator[tuple[date, date]]:
    """Consecutive days as (first, last) runs."""
    ordered = sorted(set(days))
    if not ordered:
        return
    first = last = ordered[0]
    for day in ordered[1:]:
        if day == last + timedelta(1):
            last = day
            continue
        yield first, last
        first = last = day
    yield first, last


def _chunks(days: Sequence[date], size: int) -> Iterator[Sequence[date]]:
    for offset in range(0, len(days), size):
        yield days[offset : offset + size]


def _as_date(value: date | str) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value
