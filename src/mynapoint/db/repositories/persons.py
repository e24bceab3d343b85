from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import postgresql

from mynapoint.db.repositories.statements import (
    Query,
    dialect_insert,
    in_chunks,
    is_postgresql,
    matching,
    tuples,
    utc,
    written,
)
from mynapoint.db.tables import platform_persons
from mynapoint.domain.ledger import PersonSnapshot

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from datetime import datetime

    from sqlalchemy.engine import Connection


class SqlPersonRepository:
    def __init__(self, connection: Callable[[], Connection]) -> None:
        self._connection = connection

    def save(self, snapshot: PersonSnapshot, at: datetime) -> None:
        """Insert or refresh the facts; ledger_version is left as it is."""
        connection = self._connection()
        facts = {
            "birth_date": snapshot.birth_date,
            "card_applied_on": snapshot.card_applied_on,
            "card_applied_online": snapshot.card_applied_online,
            "died_on": snapshot.died_on,
            "adult_ward": snapshot.adult_ward,
            "certificate_issued_at": snapshot.certificate_issued_at,
            "municipality": snapshot.municipality,
            "updated_at": at,
        }
        connection.execute(
            dialect_insert(connection, platform_persons)
            .values(person=snapshot.person, **facts)
            .on_conflict_do_update(index_elements=[platform_persons.c.person], set_=facts)
        )

    def save_locked(self, snapshot: PersonSnapshot, at: datetime) -> None:
        # One statement for `save` then `lock([person])`: INSERT … ON CONFLICT DO UPDATE
        # locks the row it updates (or holds the unique key of the row it inserts) until the
        # transaction ends, and leaves ledger_version as save-then-lock would: 1 for a new
        # row, one more for a known one. Built and compiled once: every application runs it.
        written(self._connection(), _SAVE_LOCKED, _facts(snapshot, at))

    def get(self, person: str) -> PersonSnapshot | None:
        return self.get_many([person]).get(person)

    def get_many(self, persons: Sequence[str]) -> dict[str, PersonSnapshot]:
        """Those of the persons the platform has a snapshot of."""
        connection = self._connection()
        found: dict[str, PersonSnapshot] = {}
        for condition in matching(connection, platform_persons.c.person, persons):
            query = select(
                platform_persons.c.person,
                platform_persons.c.birth_date,
                platform_persons.c.card_applied_on,
                platform_persons.c.card_applied_online,
                platform_persons.c.died_on,
                platform_persons.c.adult_ward,
                platform_persons.c.certificate_issued_at,
                platform_persons.c.municipality,
            ).where(condition)
            for (
                person,
                birth_date,
                card_applied_on,
                card_applied_online,
                died_on,
                adult_ward,
                certificate_issued_at,
                municipality,
            ) in tuples(connection, query):
                found[person] = PersonSnapshot(
                    person=person,
                    birth_date=birth_date,
                    card_applied_on=card_applied_on,
                    card_applied_online=card_applied_online,
                    died_on=died_on,
                    adult_ward=adult_ward,
                    certificate_issued_at=utc(certificate_issued_at),
                    municipality=municipality,
                )
        return found

    def lock(self, persons: Sequence[str]) -> None:
        """Persons without a snapshot have no row to lock and are passed over."""
        connection = self._connection()
        if is_postgresql(connection):
            # One statement: the rows are locked in person order (the CTE, materialised,
            # locks them as its sorted rows are read), then their version is bumped.
            for condition in matching(connection, platform_persons.c.person, sorted(persons)):
                locked = (
                    select(platform_persons.c.person)
                    .where(condition)
                    .order_by(platform_persons.c.person)
                    .with_for_update()
                    .cte("locked")
                    .prefix_with("MATERIALIZED", dialect="postgresql")
                )
                connection.execute(
                    update(platform_persons)
                    .where(platform_persons.c.person == locked.c.person)
                    .values(ledger_version=platform_persons.c.ledger_version + 1)
                )
            return
        # Sorted before chunking, so every transaction takes the row locks in the
        # same global order and two overlapping batches cannot deadlock.
        for chunk in in_chunks(connection, sorted(persons)):
            if connection.dialect.name == "postgresql":
                # The UPDATE below would lock the rows too, but in no stated order.
                connection.execute(
                    select(platform_persons.c.person)
                    .where(platform_persons.c.person.in_(chunk))
                    .order_by(platform_persons.c.person)
                    .with_for_update()
                ).all()
            # On SQLite the unit of work's BEGIN IMMEDIATE already holds the
            # database's one write lock; the bump records the re-evaluation.
            connection.execute(
                update(platform_persons)
                .where(platform_persons.c.person.in_(chunk))
                .values(ledger_version=platform_persons.c.ledger_version + 1)
            )


_FACT_COLUMNS = (
    "birth_date",
    "card_applied_on",
    "card_applied_online",
    "died_on",
    "adult_ward",
    "certificate_issued_at",
    "municipality",
    "updated_at",
)
_upsert = postgresql.insert(platform_persons).values(
    person=bindparam("who"),
    ledger_version=1,
    **{name: bindparam(f"new_{name}") for name in _FACT_COLUMNS},
)
# ON CONFLICT DO UPDATE compiles the same on SQLite. The bindparams are not named as columns:
# SQLite's execute would take those for values to set.
_SAVE_LOCKED = Query(
    _upsert.on_conflict_do_update(
        index_elements=[platform_persons.c.person],
        set_={
            **{name: _upsert.excluded[name] for name in _FACT_COLUMNS},
            "ledger_version": platform_persons.c.ledger_version + 1,
        },
    )
)


def _facts(snapshot: PersonSnapshot, at: datetime) -> dict[str, Any]:
    return {
        "who": snapshot.person,
        "new_birth_date": snapshot.birth_date,
        "new_card_applied_on": snapshot.card_applied_on,
        "new_card_applied_online": snapshot.card_applied_online,
        "new_died_on": snapshot.died_on,
        "new_adult_ward": snapshot.adult_ward,
        "new_certificate_issued_at": snapshot.certificate_issued_at,
        "new_municipality": snapshot.municipality,
        "new_updated_at": at,
    }
