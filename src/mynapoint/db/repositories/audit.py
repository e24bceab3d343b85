from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, NoReturn

from sqlalchemy import func, insert, select, text

from mynapoint.db.tables import audit_heads, audit_log
from mynapoint.domain.audit import (
    GENESIS_HASH,
    AuditEntry,
    AuditSearch,
    ChainHead,
    PublishedHead,
    SealedEntry,
    canonical_details,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy.engine import Connection, Row

# Stands in for stored details that are no longer a JSON object: the entry then
# hashes to something else and verifying reports it, instead of failing to read it.
UNREADABLE_DETAILS = "unreadable_stored_details"


class SqlAuditRepository:
    """Appends are serialised: on PostgreSQL by a table lock taken in `lock_tip`, on SQLite by
    the unit of work's BEGIN IMMEDIATE, which already holds the database's one write lock."""

    def __init__(self, connection: Callable[[], Connection]) -> None:
        self._connection = connection

    def lock_tip(self) -> ChainHead:
        connection = self._connection()
        if connection.dialect.name == "postgresql":
            # SHARE ROW EXCLUSIVE conflicts with itself and with every INSERT, UPDATE and
            # DELETE on the table, but not with plain reads: the second of two appends waits
            # here until the first commits, and at READ COMMITTED its next statement then sees
            # the first one's entry. Two processes therefore extend one chain, never fork it.
            table = connection.dialect.identifier_preparer.format_table(audit_log)
            connection.execute(text(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE"))
        row = connection.execute(
            select(audit_log.c.seq, audit_log.c.entry_hash)
            .order_by(audit_log.c.seq.desc())
            .limit(1)
        ).first()
        if row is None:
            return ChainHead(0, GENESIS_HASH)
        return ChainHead(row.seq, row.entry_hash)

    def lock_heads(self) -> None:
        connection = self._connection()
        if connection.dialect.name == "postgresql":
            # Conflicts with itself and with writes to audit_heads only: a second publisher
            # waits here, and its next statement (READ COMMITTED) sees the first one's head.
            # On SQLite the unit of work's BEGIN IMMEDIATE already serialises writers.
            table = connection.dialect.identifier_preparer.format_table(audit_heads)
            connection.execute(text(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE"))

    def add(self, entry: SealedEntry) -> None:
        content = entry.entry
        self._connection().execute(
            insert(audit_log).values(
                seq=content.seq,
                at=content.at,
                actor=content.actor,
                role=content.role,
                corner=content.corner,
                mykey_id=content.mykey_id,
                action=content.action,
                details=canonical_details(content.details),
                previous_hash=entry.previous_hash,
                entry_hash=entry.entry_hash,
            )
        )

    def entries(self) -> list[SealedEntry]:
        rows = self._connection().execute(select(audit_log).order_by(audit_log.c.seq))
        return [_sealed(row) for row in rows]

    def add_head(self, head: PublishedHead) -> None:
        self._connection().execute(
            insert(audit_heads).values(
                entry_count=head.head.count,
                head_hash=head.head.hash,
                published_at=head.published_at,
                signature=head.signature,
            )
        )

    def latest_head(self) -> PublishedHead | None:
        row = (
            self._connection()
            .execute(
                select(audit_heads)
                .order_by(audit_heads.c.published_at.desc(), audit_heads.c.head_id.desc())
                .limit(1)
            )
            .first()
        )
        if row is None:
            return None
        return _head(row)

    def heads(self) -> list[PublishedHead]:
        rows = self._connection().execute(select(audit_heads).order_by(audit_heads.c.head_id))
        return [_head(row) for row in rows]

    def recent(self, corner: str | None, limit: int) -> list[SealedEntry]:
        query = select(audit_log).order_by(audit_log.c.seq.desc()).limit(max(limit, 0))
        if corner is not None:
            query = query.where(audit_log.c.corner == corner)
        return [_sealed(row) for row in self._connection().execute(query)]

    def search(
        self, criteria: AuditSearch, offset: int, limit: int
    ) -> tuple[int, list[SealedEntry]]:
        conditions = []
        if criteria.action is not None:
            conditions.append(audit_log.c.action == criteria.action)
        if criteria.actor is not None:
            conditions.append(audit_log.c.actor == criteria.actor)
        if criteria.since is not None:
            conditions.append(audit_log.c.at >= criteria.since)
        if criteria.before is not None:
            conditions.append(audit_log.c.at < criteria.before)
        connection = self._connection()
        total = connection.execute(
            select(func.count()).select_from(audit_log).where(*conditions)
        ).scalar_one()
        rows = connection.execute(
            select(audit_log)
            .where(*conditions)
            .order_by(audit_log.c.seq.desc())
            .offset(max(offset, 0))
            .limit(max(limit, 0))
        )
        return total, [_sealed(row) for row in rows]

    def actions(self) -> list[str]:
        query = select(audit_log.c.action).distinct().order_by(audit_log.c.action)
        return list(self._connection().execute(query).scalars())


def _head(row: Row[Any]) -> PublishedHead:
    return PublishedHead(ChainHead(row.entry_count, row.head_hash), row.published_at, row.signature)


def _sealed(row: Row[Any]) -> SealedEntry:
    return SealedEntry(
        entry=AuditEntry(
            seq=row.seq,
            at=row.at,
            actor=row.actor,
            role=row.role,
            corner=row.corner,
            mykey_id=row.mykey_id,
            action=row.action,
            details=_details(row.details),
        ),
        previous_hash=row.previous_hash,
        entry_hash=row.entry_hash,
    )


def _details(stored: str) -> dict[str, Any]:
    try:
        details = json.loads(stored, parse_constant=_refuse_constant)
    except ValueError:
        return {UNREADABLE_DETAILS: stored}
    if not isinstance(details, dict):
        return {UNREADABLE_DETAILS: stored}
    return details


def _refuse_constant(name: str) -> NoReturn:
    # NaN and Infinity are not JSON; canonical form refuses them.
    raise ValueError(f"{name} is not JSON")
