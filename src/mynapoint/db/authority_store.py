"""The simulated card authority's storage over SQLAlchemy (implements jpki.ports.AuthorityStore).

Each method is its own short transaction: the authority is called between the
platform's units of work (a PIN check, an issuance), never inside one. The reads, one
SELECT each, run without a transaction (engine.reading): no BEGIN/ROLLBACK round trips.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from mynapoint.db.engine import WRITE_LOCK, reading
from mynapoint.db.repositories.statements import Query, tuples, utc
from mynapoint.db.tables import (
    authority_keys,
    cardholders,
    cards,
    certificates,
    legal_representatives,
)
from mynapoint.domain.cards import PIN_TRIES
from mynapoint.jpki.ports import AuthorityKey, CardRecord, CertificateRecord, PersonRecord

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence
    from datetime import date, datetime
    from typing import Any

    from sqlalchemy import Table
    from sqlalchemy.dialects.postgresql import Insert as PostgresqlInsert
    from sqlalchemy.dialects.sqlite import Insert as SqliteInsert
    from sqlalchemy.engine import Connection, Engine

_KEY_ROW_ID = 1


class SqlAuthorityStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    # --- the root key ---------------------------------------------------------

    def authority_key(self) -> AuthorityKey | None:
        with reading(self._engine) as connection:
            return _read_authority_key(connection)

    def save_authority_key(self, key: AuthorityKey) -> AuthorityKey:
        values = {
            "id": _KEY_ROW_ID,
            "certificate_pem": key.certificate_pem.decode("ascii"),
            "private_key_pem": key.private_key_pem.decode("ascii"),
            "created_at": key.created_at,
        }
        with self._writing() as connection:
            # Processes generating a key at the same moment all keep the first one.
            connection.execute(self._insert_if_absent(authority_keys, values))
            stored = _read_authority_key(connection)
        if stored is None:  # pragma: no cover - the row was just written in this transaction
            raise RuntimeError("the authority key vanished right after it was stored")
        return stored

    # --- persons ----------------------------------------------------------------

    def add_person(self, person: PersonRecord) -> None:
        with self._writing() as connection:
            connection.execute(
                insert(cardholders).values(
                    anchor=person.anchor,
                    birth_date=person.birth_date,
                    card_applied_on=person.card_applied_on,
                    card_applied_online=person.card_applied_online,
                    died_on=person.died_on,
                    adult_ward=person.adult_ward,
                    municipality=person.municipality,
                )
            )

    def person(self, anchor: str) -> PersonRecord | None:
        # Every card login and application reads this and the certificate: statements built
        # and compiled once.
        with reading(self._engine) as connection:
            rows = tuples(connection, _PERSON, {"anchor": anchor})
        return _person(rows[0]) if rows else None

    def record_death(self, anchor: str, died_on: date) -> None:
        statement = (
            update(cardholders).where(cardholders.c.anchor == anchor).values(died_on=died_on)
        )
        with self._writing() as connection:
            if connection.execute(statement).rowcount != 1:
                raise LookupError(f"no cardholder with anchor '{anchor}'; add the person first")

    def add_representative(self, holder: str, representative: str) -> None:
        """Idempotent: recording the same representative again changes nothing."""
        values = {"holder": holder, "representative": representative}
        with self._writing() as connection:
            connection.execute(self._insert_if_absent(legal_representatives, values))

    def representatives_of(self, holder: str) -> tuple[str, ...]:
        query = (
            select(legal_representatives.c.representative)
            .where(legal_representatives.c.holder == holder)
            .order_by(legal_representatives.c.representative)
        )
        with reading(self._engine) as connection:
            return tuple(connection.execute(query).scalars())

    # --- cards and their PIN counters -------------------------------------------

    def add_card(self, card: CardRecord) -> None:
        with self._writing() as connection:
            connection.execute(
                insert(cards).values(
                    card_id=card.card_id,
                    person=card.person,
                    issued_at=card.issued_at,
                    wrong_pins=card.wrong_pins,
                )
            )

    def card(self, card_id: str) -> CardRecord | None:
        with reading(self._engine) as connection:
            return _read_card(connection, card_id)

    def record_pin_attempt(self, card_id: str, *, correct: bool) -> CardRecord:
        # One UPDATE that reads and writes the counter, so concurrent attempts
        # are counted one after the other and can never push it past PIN_TRIES;
        # a locked card matches no row and stays locked.
        statement = (
            update(cards)
            .where(cards.c.card_id == card_id, cards.c.wrong_pins < PIN_TRIES)
            .values(wrong_pins=0 if correct else cards.c.wrong_pins + 1)
        )
        with self._writing() as connection:
            connection.execute(statement)
            card = _read_card(connection, card_id)
        if card is None:
            raise LookupError(f"no card '{card_id}'; issue the card before checking its PIN")
        return card

    def reset_pins(self, card_id: str) -> None:
        statement = update(cards).where(cards.c.card_id == card_id).values(wrong_pins=0)
        with self._writing() as connection:
            if connection.execute(statement).rowcount != 1:
                raise LookupError(f"no card '{card_id}' to reset")

    # --- certificates and revocation ----------------------------------------------

    def add_certificate(self, certificate: CertificateRecord) -> None:
        with self._writing() as connection:
            connection.execute(
                insert(certificates).values(
                    serial=certificate.serial,
                    person=certificate.person,
                    card_id=certificate.card_id,
                    certificate_pem=certificate.certificate_pem,
                    issued_at=certificate.issued_at,
                    not_after=certificate.not_after,
                    predecessor=certificate.predecessor,
                    revoked_at=certificate.revoked_at,
                )
            )

    def certificate(self, serial: str) -> CertificateRecord | None:
        with reading(self._engine) as connection:
            rows = tuples(connection, _CERTIFICATE, {"serial": serial})
        return _certificate(rows[0]) if rows else None

    def certificate_holder(self, serial: str) -> tuple[CertificateRecord, PersonRecord] | None:
        # One read (a join) where `certificate` then `person` took two connections.
        with reading(self._engine) as connection:
            rows = tuples(connection, _CERTIFICATE_HOLDER, {"serial": serial})
        if not rows:
            return None
        row = rows[0]
        return _certificate(row[: len(_CERTIFICATE_COLUMNS)]), _person(
            row[len(_CERTIFICATE_COLUMNS) :]
        )

    def latest_certificate(self, person: str) -> CertificateRecord | None:
        query = (
            select(certificates)
            .where(certificates.c.person == person)
            # The serial breaks a tie so that the answer never depends on row order.
            .order_by(certificates.c.issued_at.desc(), certificates.c.serial.desc())
            .limit(1)
        )
        with reading(self._engine) as connection:
            row = connection.execute(query).one_or_none()
        return None if row is None else _certificate(row)

    def revoke(self, serial: str, at: datetime) -> None:
        """Revoking twice keeps the first revocation time, as a published CRL would."""
        with self._writing() as connection:
            revoked = connection.execute(
                update(certificates)
                .where(certificates.c.serial == serial, certificates.c.revoked_at.is_(None))
                .values(revoked_at=at)
            ).rowcount
            if revoked == 0 and not _certificate_exists(connection, serial):
                raise LookupError(f"no certificate with serial '{serial}' to revoke")

    def revocations(self) -> tuple[tuple[str, datetime], ...]:
        query = (
            select(certificates.c.serial, certificates.c.revoked_at)
            .where(certificates.c.revoked_at.is_not(None))
            .order_by(certificates.c.revoked_at, certificates.c.serial)
        )
        with reading(self._engine) as connection:
            return tuple((row.serial, row.revoked_at) for row in connection.execute(query))

    # --- plumbing ---------------------------------------------------------------

    @contextmanager
    def _writing(self) -> Iterator[Connection]:
        with (
            self._engine.connect().execution_options(**{WRITE_LOCK: True}) as connection,
            connection.begin(),
        ):
            yield connection

    def _insert_if_absent(
        self, table: Table, values: Mapping[str, object]
    ) -> PostgresqlInsert | SqliteInsert:
        if self._engine.dialect.name == "postgresql":
            return postgresql.insert(table).values(values).on_conflict_do_nothing()
        return sqlite.insert(table).values(values).on_conflict_do_nothing()


def _read_authority_key(connection: Connection) -> AuthorityKey | None:
    query = select(authority_keys).where(authority_keys.c.id == _KEY_ROW_ID)
    row = connection.execute(query).one_or_none()
    if row is None:
        return None
    return AuthorityKey(
        certificate_pem=row.certificate_pem.encode("ascii"),
        private_key_pem=row.private_key_pem.encode("ascii"),
        created_at=row.created_at,
    )


def _read_card(connection: Connection, card_id: str) -> CardRecord | None:
    row = connection.execute(select(cards).where(cards.c.card_id == card_id)).one_or_none()
    if row is None:
        return None
    return CardRecord(
        card_id=row.card_id, person=row.person, issued_at=row.issued_at, wrong_pins=row.wrong_pins
    )


def _certificate_exists(connection: Connection, serial: str) -> bool:
    query = select(certificates.c.serial).where(certificates.c.serial == serial)
    return connection.execute(query).first() is not None


_PERSON_COLUMNS = (
    "anchor",
    "birth_date",
    "card_applied_on",
    "card_applied_online",
    "died_on",
    "adult_ward",
    "municipality",
)  # what `_person` reads, in this order
_PERSON = Query(
    select(*(cardholders.c[name] for name in _PERSON_COLUMNS)).where(
        cardholders.c.anchor == bindparam("anchor")
    )
)
_CERTIFICATE_COLUMNS = (
    "serial",
    "person",
    "card_id",
    "certificate_pem",
    "issued_at",
    "not_after",
    "predecessor",
    "revoked_at",
)  # what `_certificate` reads, in this order
_CERTIFICATE = Query(
    select(*(certificates.c[name] for name in _CERTIFICATE_COLUMNS)).where(
        certificates.c.serial == bindparam("serial")
    )
)
_CERTIFICATE_HOLDER = Query(
    select(
        *(certificates.c[name] for name in _CERTIFICATE_COLUMNS),
        *(cardholders.c[name] for name in _PERSON_COLUMNS),
    )
    .join_from(certificates, cardholders, certificates.c.person == cardholders.c.anchor)
    .where(certificates.c.serial == bindparam("serial"))
)


def _person(row: Sequence[Any]) -> PersonRecord:
    anchor, birth_date, card_applied_on, card_applied_online, died_on, adult_ward, city = row
    return PersonRecord(
        anchor=anchor,
        birth_date=birth_date,
        card_applied_on=card_applied_on,
        card_applied_online=card_applied_online,
        died_on=died_on,
        adult_ward=adult_ward,
        municipality=city,
    )


def _certificate(row: Sequence[Any]) -> CertificateRecord:
    serial, person, card_id, pem, issued_at, not_after, predecessor, revoked_at = row
    return CertificateRecord(
        serial=serial,
        person=person,
        card_id=card_id,
        certificate_pem=pem,
        issued_at=utc(issued_at),
        not_after=utc(not_after),
        predecessor=predecessor,
        revoked_at=None if revoked_at is None else utc(revoked_at),
    )
