"""Writes a generated history (`mynapoint.history.generate`) into a platform's database: the
demo's (`make run`) on SQLite or PostgreSQL, by SQLAlchemy core bulk inserts.

Idempotent like the rest of the demo seeding: persons already in the database are left as
they are, the missing ones are generated and written (so a larger size adds persons); the
shape's closed settlement months are closed (once; a month closed earlier keeps its time).
Every generated person is also a cardholder of the card authority (no card file: nobody
signs in as them), with the same facts.

A counter application comes with the assisted session that made it, run by its corner's
history clerk (`history-<corner>`): a staff account added, when the history first needs it,
as `mynapoint staff add` adds one (a one-time password nobody is shown; its "staff_added"
entry in the audit log at platform now). The sessions' own steps are not written into the
audit log: it is a hash chain appended in time order, the entries of a real step are written
in the step's transaction, and a history written (or grown) after the log has entries of
platform now would append entries dated months before them; the corners' records therefore
show the history's sessions and no audit entries of them.
"""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from mynapoint.db.tables import (
    account_links,
    applications,
    assisted_sessions,
    cardholders,
    grant_instructions,
    grant_lines,
    mykey_reservation_shards,
    mykeys,
    payment_accounts,
    platform_persons,
    spending_events,
)
from mynapoint.domain.errors import MynapointError
from mynapoint.domain.mykey import RESERVATION_SHARDS
from mynapoint.domain.staff import Role, Scope, StaffNameTaken
from mynapoint.history.generate import PersonRows, generate, history_clerk, ids
from mynapoint.history.story import Timeline
from mynapoint.rules.corners import load_corner_directory
from mynapoint.services.passwords import PasswordHasher
from mynapoint.services.staff import add_staff, known_scopes

if TYPE_CHECKING:
    from collections.abc import Iterable

    from sqlalchemy import Connection, Table

    from mynapoint.bootstrap import Platform

CHUNK = 500  # persons a transaction


class HistoryClash(MynapointError):
    code = "history_clash"


_TABLES: dict[str, Table] = {
    "platform_persons": platform_persons,
    "mykeys": mykeys,
    "payment_accounts": payment_accounts,
    "account_links": account_links,
    "applications": applications,
    "assisted_sessions": assisted_sessions,
    "spending_events": spending_events,
    "grant_instructions": grant_instructions,
    "grant_lines": grant_lines,
}


@dataclass(frozen=True)
class Loaded:
    persons: int  # the history's size
    written: int  # persons written now (0: all were there)
    rows: dict[str, int]  # rows written now, by table
    closed_months: tuple[str, ...]  # the shape's closed months (closed now or before)
    seconds: float


def existing(platform: Platform, seed: int, persons: int) -> set[str]:
    """Which of the history's persons the database holds."""
    wanted = [ids(seed, n)[0] for n in range(persons)]
    found: set[str] = set()
    with platform.engine.connect() as connection:
        for start in range(0, len(wanted), CHUNK):
            part = wanted[start : start + CHUNK]
            found.update(
                connection.execute(
                    select(platform_persons.c.person).where(platform_persons.c.person.in_(part))
                ).scalars()
            )
    return found


def load_history(platform: Platform, seed: int, persons: int) -> Loaded:
    """Write the history of `seed` with `persons` persons at platform now (module docs)."""
    began = time.perf_counter()
    nothing = Loaded(persons=0, written=0, rows={}, closed_months=(), seconds=0.0)
    if persons == 0:
        return nothing
    try:
        timeline = Timeline(platform.rules, platform.catalog, platform.clock.now())
    except ValueError:
        return nothing  # platform time before the program: nothing had happened yet
    closures = timeline.closures()
    uow = platform.unit_of_work()
    with uow:
        # Months closed in the database by other means (`mynapoint settle`) count as closed
        # all along: a closed month never changes.
        closed = frozenset(uow.settlements.closed_months() - {month for month, _ in closures})
        for month, at in closures:
            uow.settlements.close(month, at)
        uow.commit()
    known = existing(platform, seed, persons)
    hashes: dict[str, str] = {}
    counts: Counter[str] = Counter()
    clerks: set[str] = set()  # the corners whose clerk is known to exist
    written = 0
    batch: list[PersonRows] = []
    for person in generate(seed, persons, timeline, extra_closed=closed, skip=known):
        batch.append(person)
        if len(batch) >= CHUNK:
            written += _write(platform, batch, hashes, counts, clerks)
            batch = []
    written += _write(platform, batch, hashes, counts, clerks)
    return Loaded(
        persons=persons,
        written=written,
        rows=dict(counts),
        closed_months=tuple(month for month, _ in closures),
        seconds=time.perf_counter() - began,
    )


def ensure_clerks(platform: Platform, corners: Iterable[str]) -> None:
    """Add the history clerk of each corner that has none (module docs), at platform now."""
    missing = []
    uow = platform.unit_of_work()
    with uow:
        for corner in sorted(corners):
            found = uow.staff.get(history_clerk(corner))
            if found is None:
                missing.append(corner)
            elif found.corner != corner or not found.runs_counter:
                msg = (
                    f"the account '{found.name}' is not a counter account of corner '{corner}' "
                    "(it runs the corner's generated sessions): rename it, or start from a "
                    "fresh database"
                )
                raise HistoryClash(msg)
    if not missing:
        return
    hasher = PasswordHasher()
    known = known_scopes(load_corner_directory(), platform.catalog)
    for corner in missing:
        with contextlib.suppress(StaffNameTaken):  # added meanwhile by another load
            add_staff(
                platform.unit_of_work(),
                hasher,
                name=history_clerk(corner),
                role=Role.STAFF,
                scope=Scope(corner=corner),
                known=known,
                now=platform.clock.now(),
            )


def _write(
    platform: Platform,
    batch: list[PersonRows],
    hashes: dict[str, str],
    counts: Counter[str],
    clerks: set[str],
) -> int:
    """Write a batch of persons in one transaction (their sessions' clerks first); their
    number."""
    if not batch:
        return 0
    corners = {person.corner for person in batch if person.corner is not None} - clerks
    ensure_clerks(platform, corners)
    clerks.update(corners)
    by_table: dict[str, list[dict[str, Any]]] = {table: [] for table in _TABLES}
    holders = []
    for person in batch:
        for table, rows in person.rows.items():
            if table == "payment_accounts" and rows and person.security_code:
                code = person.security_code
                if code not in hashes:
                    hashes[code] = platform.code_hasher.hash(code)
                by_table[table].extend(row | {"security_code_hash": hashes[code]} for row in rows)
            else:
                by_table[table].extend(rows)
        facts = person.rows["platform_persons"][0]
        holders.append({
            "anchor": person.person, "birth_date": facts["birth_date"],
            "card_applied_on": facts["card_applied_on"],
            "card_applied_online": facts["card_applied_online"],
            "died_on": facts["died_on"], "adult_ward": facts["adult_ward"],
            "municipality": person.municipality,
        })  # fmt: skip
    try:
        with platform.engine.begin() as connection:
            connection.execute(cardholders.insert(), holders)
            for table, rows in by_table.items():
                if rows:
                    connection.execute(_TABLES[table].insert(), rows)
                    counts[table] += len(rows)
            _count_reservations(connection, len(batch))
    except IntegrityError:
        raise HistoryClash(
            "the database holds rows of another generated history (another "
            "MYNAPOINT_DEMO_HISTORY_SEED?) whose ids meet this one's: start from a fresh "
            "database (delete var/ for the demo's SQLite file)"
        ) from None
    return len(batch)


def _count_reservations(connection: Connection, added: int) -> None:
    """The MyKey IDs written count against the budget frame like any reservation (spread
    over the shards as the platform's own are)."""
    share, extra = divmod(added, RESERVATION_SHARDS)
    shards = mykey_reservation_shards.c
    for shard in range(RESERVATION_SHARDS):
        more = share + (shard < extra)
        if more:
            connection.execute(
                update(mykey_reservation_shards)
                .where(shards.shard == shard)
                .values(reserved=shards.reserved + more)
            )
