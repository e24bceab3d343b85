from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.dialects import postgresql

from mynapoint.db.repositories.statements import (
    Query,
    matching,
    tuples,
    utc,
    written,
)
from mynapoint.db.tables import account_links, applications
from mynapoint.domain.ledger import StoredApplication
from mynapoint.domain.measures import Channel, EventKind, Measure

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from datetime import datetime

    from sqlalchemy import ColumnElement, Select, Table
    from sqlalchemy.engine import Connection, Row

ACTIVE: Final = "active"
CANCELLED: Final = "cancelled"


class SqlApplicationRepository:
    def __init__(self, connection: Callable[[], Connection]) -> None:
        self._connection = connection

    def add(self, application: StoredApplication) -> bool:
        connection = self._connection()
        # The partial unique index on (person, measure) of active applications decides
        # between concurrent requests: on a conflict the insert waits for the other
        # transaction, then does nothing if that one committed. No error is raised, so the
        # rest of the unit of work can still commit without a savepoint around the insert
        # (two round trips fewer than SAVEPOINT/RELEASE).
        inserted = written(
            connection,
            _ADD,
            {
                "new_id": application.application_id,
                "new_person": application.person,
                "new_measure": application.measure.value,
                "new_service_code": application.service_code,
                "new_payment_service_id": application.payment_service_id,
                "new_counts": None if application.counts is None else application.counts.value,
                "new_channel": application.channel.value,
                "new_representative": application.representative,
                "new_applied_at": application.applied_at,
                "new_status": ACTIVE if application.is_active else CANCELLED,
                "new_cancelled_at": application.cancelled_at,
            },
        )
        return inserted == 1

    def get(self, application_id: str) -> StoredApplication | None:
        query = select(applications).where(applications.c.application_id == application_id)
        row = self._connection().execute(query).one_or_none()
        return None if row is None else _application(row)

    def for_person(self, person: str) -> list[StoredApplication]:
        """Active and cancelled ones, oldest first."""
        # GET /me and every application ask this: a statement built and compiled once.
        rows = tuples(self._connection(), _FOR_PERSON, {"person": person})
        return [_stored(row) for row in rows]

    def for_persons(self, persons: Sequence[str]) -> dict[str, list[StoredApplication]]:
        """Active and cancelled ones, oldest first; every asked-for person is a key."""
        connection = self._connection()
        found: dict[str, list[StoredApplication]] = {person: [] for person in persons}
        for condition in matching(connection, applications.c.person, persons):
            query = _stored_select().where(condition)
            for row in tuples(connection, query):
                application = _stored(row)
                found[application.person].append(application)
        return found

    def applicants(self, after: str | None, limit: int) -> list[str]:
        query = select(applications.c.person).distinct().order_by(applications.c.person)
        if after is not None:
            query = query.where(applications.c.person > after)
        return [person for (person,) in tuples(self._connection(), query.limit(limit))]

    def applicants_through(self, after: str | None, last: str, limit: int) -> list[str]:
        query = (
            select(applications.c.person)
            .distinct()
            .where(applications.c.person <= last)
            .order_by(applications.c.person)
        )
        if after is not None:
            query = query.where(applications.c.person > after)
        return [person for (person,) in tuples(self._connection(), query.limit(limit))]

    def count_applicants(self) -> int:
        query = select(func.count(applications.c.person.distinct()))
        return int(self._connection().execute(query).scalar_one())

    def cancel(self, application_id: str, at: datetime) -> None:
        """Cancelling a cancelled (or unknown) application changes nothing."""
        self._connection().execute(
            update(applications)
            .where(
                applications.c.application_id == application_id,
                applications.c.status == ACTIVE,
            )
            .values(status=CANCELLED, cancelled_at=at)
        )

    def link_account(
        self, service_code: str, payment_service_id: str, person: str, at: datetime
    ) -> str:
        connection = self._connection()
        # The primary key decides: on PostgreSQL a concurrent link of the same
        # account makes this insert wait, then do nothing if that one committed;
        # the read below (a new snapshot at READ COMMITTED) then sees the winner.
        # An inserted row is the answer itself: no read.
        values = {
            "new_service_code": service_code,
            "new_payment_service_id": payment_service_id,
            "new_person": person,
            "new_linked_at": at,
        }
        inserted = written(connection, _LINK, values)
        if inserted == 1:
            return person
        linked = self.person_for_account(service_code, payment_service_id)
        if linked is None:  # pragma: no cover - the row was just written or found
            raise RuntimeError(f"the link of account '{payment_service_id}' vanished")
        return linked

    def unlink_account(self, service_code: str, payment_service_id: str, person: str) -> None:
        """Only the person's own link is removed; another person's stays."""
        self._connection().execute(
            delete(account_links).where(
                _link_is(service_code, payment_service_id), account_links.c.person == person
            )
        )

    def person_for_account(self, service_code: str, payment_service_id: str) -> str | None:
        return self.persons_for_accounts([(service_code, payment_service_id)]).get(
            (service_code, payment_service_id)
        )

    def persons_for_accounts(
        self, accounts: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], str]:
        connection = self._connection()
        # One IN list per service (a batch names few services): a plain list of
        # ids is portable where a list of (service, id) pairs is not, and it
        # walks the primary key's (service_code, payment_service_id) order.
        ids_by_service: dict[str, list[str]] = defaultdict(list)
        for service_code, payment_service_id in accounts:
            ids_by_service[service_code].append(payment_service_id)
        linked: dict[tuple[str, str], str] = {}
        for service_code, payment_service_ids in ids_by_service.items():
            for condition in matching(
                connection, account_links.c.payment_service_id, payment_service_ids
            ):
                query = select(account_links.c.payment_service_id, account_links.c.person).where(
                    account_links.c.service_code == service_code, condition
                )
                for payment_service_id, person in tuples(connection, query):
                    linked[service_code, payment_service_id] = person
        return linked


def _link_is(service_code: str, payment_service_id: str) -> ColumnElement[bool]:
    return (account_links.c.service_code == service_code) & (
        account_links.c.payment_service_id == payment_service_id
    )


_STORED_COLUMNS = (
    "application_id",
    "person",
    "measure",
    "service_code",
    "payment_service_id",
    "counts",
    "channel",
    "representative",
    "applied_at",
    "cancelled_at",
)  # what `_stored` reads, in this order


def _stored_select() -> Select[Any]:
    return select(*(applications.c[name] for name in _STORED_COLUMNS)).order_by(
        applications.c.applied_at, applications.c.application_id
    )


_FOR_PERSON = Query(_stored_select().where(applications.c.person == bindparam("person")))
_MEASURES = {measure.value: measure for measure in Measure}
_KINDS = {kind.value: kind for kind in EventKind}
_CHANNELS = {channel.value: channel for channel in Channel}


def _stored(row: Sequence[Any]) -> StoredApplication:
    (
        application_id,
        person,
        measure,
        service_code,
        payment_service_id,
        counts,
        channel,
        representative,
        applied_at,
        cancelled_at,
    ) = row
    return StoredApplication(
        application_id=application_id,
        person=person,
        measure=_MEASURES[measure],
        service_code=service_code,
        payment_service_id=payment_service_id,
        counts=None if counts is None else _KINDS[counts],
        channel=_CHANNELS[channel],
        applied_at=utc(applied_at),
        representative=representative,
        cancelled_at=None if cancelled_at is None else utc(cancelled_at),
    )


def _application(row: Row[Any]) -> StoredApplication:
    return StoredApplication(
        application_id=row.application_id,
        person=row.person,
        measure=Measure(row.measure),
        service_code=row.service_code,
        payment_service_id=row.payment_service_id,
        counts=None if row.counts is None else EventKind(row.counts),
        channel=Channel(row.channel),
        applied_at=row.applied_at,
        representative=row.representative,
        cancelled_at=row.cancelled_at,
    )


def _inserting(table: Table, names: Mapping[str, str]) -> Query:
    """INSERT … ON CONFLICT DO NOTHING (the same on SQLite), built and compiled once: every
    application runs these. The bindparams are not named as columns: SQLite's execute
    would take those for values to set."""
    return Query(
        postgresql.insert(table)
        .values({column: bindparam(name) for column, name in names.items()})
        .on_conflict_do_nothing()
        .execution_options(preserve_rowcount=True)
    )


_ADD = _inserting(
    applications,
    {
        "application_id": "new_id",
        **{
            column: f"new_{column}"
            for column in (
                "person",
                "measure",
                "service_code",
                "payment_service_id",
                "counts",
                "channel",
                "representative",
                "applied_at",
                "status",
                "cancelled_at",
            )
        },
    },
)
_LINK = _inserting(
    account_links,
    {
        column: f"new_{column}"
        for column in ("service_code", "payment_service_id", "person", "linked_at")
    },
)
