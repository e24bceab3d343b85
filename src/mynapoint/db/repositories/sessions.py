from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, insert, or_, select, update

from mynapoint.db.tables import citizen_sessions
from mynapoint.domain.account_previews import AccountPreview
from mynapoint.domain.auth import Session
from mynapoint.domain.measures import EventKind, Measure

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from sqlalchemy.engine import Connection, Row


class SqlSessionRepository:
    def __init__(self, connection: Callable[[], Connection]) -> None:
        self._connection = connection

    def add(self, session: Session) -> None:
        self._connection().execute(
            insert(citizen_sessions).values(
                token_hash=session.token_hash,
                person=session.person,
                serial=session.serial,
                expires_at=session.expires_at,
                ended_at=session.ended_at,
            )
        )

    def get(self, token_hash: str) -> Session | None:
        query = select(citizen_sessions).where(citizen_sessions.c.token_hash == token_hash)
        row = self._connection().execute(query).one_or_none()
        if row is None:
            return None
        return Session(
            token_hash=row.token_hash,
            person=row.person,
            serial=row.serial,
            expires_at=row.expires_at,
            ended_at=row.ended_at,
        )

    def end(self, token_hash: str, at: datetime) -> None:
        """Ending an ended or unknown session changes nothing: signing out twice is harmless."""
        self._connection().execute(
            update(citizen_sessions)
            .where(
                citizen_sessions.c.token_hash == token_hash,
                citizen_sessions.c.ended_at.is_(None),
            )
            .values(ended_at=at)
        )

    def keep_preview(self, token_hash: str, preview: AccountPreview) -> None:
        self._connection().execute(
            update(citizen_sessions)
            .where(citizen_sessions.c.token_hash == token_hash)
            .values(
                preview_id=preview.preview_id,
                preview_measure=preview.measure.value,
                preview_service_code=preview.service_code,
                preview_payment_service_id=preview.payment_service_id,
                preview_counts=None if preview.counts is None else preview.counts.value,
                preview_holder_name_masked=preview.holder_name_masked,
                preview_representative_card=preview.representative_card,
                previewed_at=preview.at,
            )
        )

    def preview(self, token_hash: str) -> AccountPreview | None:
        query = select(citizen_sessions).where(citizen_sessions.c.token_hash == token_hash)
        row = self._connection().execute(query).one_or_none()
        if row is None or row.preview_id is None:
            return None
        return _preview(row)

    def forget_preview(self, token_hash: str, preview_id: str) -> bool:
        forgotten = self._connection().execute(
            update(citizen_sessions)
            .where(
                citizen_sessions.c.token_hash == token_hash,
                citizen_sessions.c.preview_id == preview_id,
            )
            .values(dict.fromkeys(_PREVIEW_COLUMNS))
        )
        return forgotten.rowcount == 1

    def purge(self, before: datetime) -> int:
        sessions = citizen_sessions.c
        statement = delete(citizen_sessions).where(
            or_(sessions.expires_at < before, sessions.ended_at < before)
        )
        return self._connection().execute(statement).rowcount


_PREVIEW_COLUMNS = (
    "preview_id",
    "preview_measure",
    "preview_service_code",
    "preview_payment_service_id",
    "preview_counts",
    "preview_holder_name_masked",
    "preview_representative_card",
    "previewed_at",
)


def _preview(row: Row[Any]) -> AccountPreview:
    return AccountPreview(
        preview_id=row.preview_id,
        measure=Measure(row.preview_measure),
        service_code=row.preview_service_code,
        payment_service_id=row.preview_payment_service_id,
        counts=None if row.preview_counts is None else EventKind(row.preview_counts),
        holder_name_masked=row.preview_holder_name_masked,
        representative_card=row.preview_representative_card or "",
        at=row.previewed_at,
    )
