from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, delete, insert, or_, select, update

from mynapoint.db.repositories.statements import Query, tuples, utc, written
from mynapoint.db.tables import citizen_sessions
from mynapoint.domain.account_previews import AccountPreview
from mynapoint.domain.auth import Session
from mynapoint.domain.measures import EventKind, Measure

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from datetime import datetime

    from sqlalchemy.engine import Connection


class SqlSessionRepository:
    def __init__(self, connection: Callable[[], Connection]) -> None:
        self._connection = connection

    def add(self, session: Session) -> None:
        # Every card login writes one: a statement built and compiled once.
        written(
            self._connection(),
            _ADD,
            {
                "token_hash": session.token_hash,
                "person": session.person,
                "serial": session.serial,
                "expires_at": session.expires_at,
                "ended_at": session.ended_at,
            },
        )

    def get(self, token_hash: str) -> Session | None:
        # Every signed-in request asks this first: a statement built and compiled once.
        for person, serial, expires_at, ended_at in tuples(
            self._connection(), _SESSION, {"token_hash": token_hash}
        ):
            return Session(
                token_hash=token_hash,
                person=person,
                serial=serial,
                expires_at=utc(expires_at),
                ended_at=None if ended_at is None else utc(ended_at),
            )
        return None

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
        for row in tuples(self._connection(), _PREVIEW, {"token_hash": token_hash}):
            if row[0] is None:
                return None
            return _preview(row)
        return None

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


_ADD = Query(
    insert(citizen_sessions).values(
        {
            name: bindparam(name)
            for name in ("token_hash", "person", "serial", "expires_at", "ended_at")
        }
    )
)
_by_token = citizen_sessions.c.token_hash == bindparam("token_hash")
_SESSION = Query(
    select(
        citizen_sessions.c.person,
        citizen_sessions.c.serial,
        citizen_sessions.c.expires_at,
        citizen_sessions.c.ended_at,
    ).where(_by_token)
)
_PREVIEW_COLUMNS = (
    "preview_id",
    "preview_measure",
    "preview_service_code",
    "preview_payment_service_id",
    "preview_counts",
    "preview_holder_name_masked",
    "preview_representative_card",
    "previewed_at",
)  # what `_preview` reads, in this order
_PREVIEW = Query(select(*(citizen_sessions.c[name] for name in _PREVIEW_COLUMNS)).where(_by_token))


def _preview(row: Sequence[Any]) -> AccountPreview:
    (
        preview_id,
        measure,
        service_code,
        payment_service_id,
        counts,
        holder_name_masked,
        representative_card,
        at,
    ) = row
    return AccountPreview(
        preview_id=preview_id,
        measure=Measure(measure),
        service_code=service_code,
        payment_service_id=payment_service_id,
        counts=None if counts is None else EventKind(counts),
        holder_name_masked=holder_name_masked,
        representative_card=representative_card or "",
        at=utc(at),
    )
