from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from mynapoint.db.tables import assisted_sessions
from mynapoint.domain.assist import AssistedSession, EndReason, Preview
from mynapoint.domain.measures import EventKind, Measure

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy import Select
    from sqlalchemy.engine import Connection, Row


class SqlAssistedSessionRepository:
    def __init__(self, connection: Callable[[], Connection]) -> None:
        self._connection = connection

    def add(self, session: AssistedSession) -> bool:
        connection = self._connection()
        # The partial unique index on (staff) WHERE ended_at IS NULL keeps one open session
        # per staff member; the savepoint confines a refused insert.
        try:
            with connection.begin_nested():
                connection.execute(
                    insert(assisted_sessions).values(
                        session_id=session.session_id,
                        staff=session.staff,
                        corner=session.corner,
                        card_serial=session.card_serial,
                        person=session.person,
                        started_at=session.started_at,
                        **_changes(session),
                    )
                )
        except IntegrityError:
            return False
        return True

    def get(self, session_id: str, *, lock: bool = False) -> AssistedSession | None:
        return self._one(
            select(assisted_sessions).where(assisted_sessions.c.session_id == session_id),
            lock=lock,
        )

    def open_for(self, staff: str, *, lock: bool = False) -> AssistedSession | None:
        return self._one(
            select(assisted_sessions).where(
                assisted_sessions.c.staff == staff, assisted_sessions.c.ended_at.is_(None)
            ),
            lock=lock,
        )

    def save(self, session: AssistedSession) -> None:
        self._connection().execute(
            update(assisted_sessions)
            .where(assisted_sessions.c.session_id == session.session_id)
            .values(**_changes(session))
        )

    def recent(self, corner: str | None, limit: int) -> list[AssistedSession]:
        query = (
            select(assisted_sessions)
            .order_by(assisted_sessions.c.started_at.desc(), assisted_sessions.c.session_id)
            .limit(max(limit, 0))
        )
        if corner is not None:
            query = query.where(assisted_sessions.c.corner == corner)
        return [_session(row) for row in self._connection().execute(query)]

    def open_sessions(self, corner: str | None) -> list[AssistedSession]:
        query = (
            select(assisted_sessions)
            .where(assisted_sessions.c.ended_at.is_(None))
            .order_by(assisted_sessions.c.started_at, assisted_sessions.c.session_id)
        )
        if corner is not None:
            query = query.where(assisted_sessions.c.corner == corner)
        return [_session(row) for row in self._connection().execute(query)]

    def _one(self, query: Select[Any], *, lock: bool) -> AssistedSession | None:
        # SQLite has no FOR UPDATE (SQLAlchemy leaves it out): there the unit of work's
        # BEGIN IMMEDIATE already holds the one write lock for the whole block.
        row = self._connection().execute(query.with_for_update() if lock else query).one_or_none()
        return None if row is None else _session(row)


def _changes(session: AssistedSession) -> dict[str, Any]:
    preview = session.preview
    return {
        "mykey_id": session.mykey_id,
        "last_activity_at": session.last_activity_at,
        "ended_at": session.ended_at,
        "end_reason": None if session.end_reason is None else session.end_reason.value,
        "preview_id": None if preview is None else preview.preview_id,
        "preview_measure": None if preview is None else preview.measure.value,
        "preview_service_code": None if preview is None else preview.service_code,
        "preview_payment_service_id": None if preview is None else preview.payment_service_id,
        "preview_counts": None
        if preview is None or preview.counts is None
        else preview.counts.value,
        "preview_holder_name_masked": None if preview is None else preview.holder_name_masked,
        "preview_with_representative": None if preview is None else preview.with_representative,
        "previewed_at": None if preview is None else preview.at,
    }


def _session(row: Row[Any]) -> AssistedSession:
    preview = None
    if row.preview_id is not None:
        preview = Preview(
            preview_id=row.preview_id,
            measure=Measure(row.preview_measure),
            service_code=row.preview_service_code,
            payment_service_id=row.preview_payment_service_id,
            counts=None if row.preview_counts is None else EventKind(row.preview_counts),
            holder_name_masked=row.preview_holder_name_masked,
            with_representative=bool(row.preview_with_representative),
            at=row.previewed_at,
        )
    return AssistedSession(
        session_id=row.session_id,
        staff=row.staff,
        corner=row.corner,
        card_serial=row.card_serial,
        person=row.person,
        mykey_id=row.mykey_id,
        started_at=row.started_at,
        last_activity_at=row.last_activity_at,
        ended_at=row.ended_at,
        end_reason=None if row.end_reason is None else EndReason(row.end_reason),
        preview=preview,
    )
