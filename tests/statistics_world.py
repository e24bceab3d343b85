"""A generated history for the statistics' tests: cardholders in several wards (and none),
MyKey IDs, applications (some cancelled), grant instructions and clawbacks (some acknowledged),
assisted sessions, at instants around JST midnight; and the figures counted straight from
those rows in Python, the oracle the summary tables must equal."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import insert, select

from ledger_factories import make_application, make_grant, make_line
from mynapoint.db.authority_store import SqlAuthorityStore
from mynapoint.db.tables import (
    applications,
    assisted_sessions,
    cardholders,
    grant_instructions,
    mykeys,
    staff_accounts,
)
from mynapoint.db.unit_of_work import SqlUnitOfWork
from mynapoint.domain.assist import AssistedSession, EndReason
from mynapoint.domain.calendar import JST, jst_date
from mynapoint.domain.ledger import PersonSnapshot
from mynapoint.domain.measures import Channel, Measure
from mynapoint.domain.municipalities import UNKNOWN
from mynapoint.domain.mykey import MyKey
from mynapoint.jpki.ports import PersonRecord

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

WARDS = ("401315", "401323", "401331", None)
SERVICES = (("paypay", "paypay-corp"), ("waon", "aeon-corp"), ("suica", "jr-east"))
CORNERS = ("fukuoka-higashi", "fukuoka-hakata")
MEASURES = (Measure.PHASE1, Measure.PHASE2_SPENDING, Measure.PHASE2_HEALTH_INSURANCE)
# 2021-07-19 00:00 JST is 2021-07-18 15:00 UTC: instants are drawn around that boundary.
START = datetime(2021, 7, 18, 15, 0, tzinfo=UTC)

Key = tuple[str, date, tuple[str, ...]]


@dataclass
class World:
    engine: Engine
    rng: random.Random
    persons: list[str] = field(default_factory=list)
    serial: int = 0

    def _next(self, prefix: str) -> str:
        self.serial += 1
        return f"{prefix}{self.serial:06d}"

    def moment(self, day: int) -> datetime:
        """An instant on the `day`-th JST day from 2021-07-19, often a second either side of
        a JST midnight."""
        base = START + timedelta(days=day)
        if self.rng.random() < 0.3:
            return base + timedelta(seconds=self.rng.choice((-1, 0, 1)))
        return base + timedelta(seconds=self.rng.randrange(86_400))

    def add_people(self, count: int, day: int) -> None:
        store = SqlAuthorityStore(self.engine)
        added = []
        for _ in range(count):
            person = self._next("anchor-")
            record = PersonRecord(
                anchor=person,
                birth_date=date(1980, 1, 1),
                card_applied_on=date(2021, 1, 1),
                municipality=self.rng.choice(WARDS),
            )
            store.add_person(record)
            added.append(record)
        with SqlUnitOfWork(self.engine) as uow:
            for record in added:
                at = self.moment(day)
                uow.mykeys.add(MyKey(self._next("K"), record.anchor, at))
                # What ensure_mykey keeps of the card authority's answer (services/mykey.py).
                uow.persons.save(
                    PersonSnapshot(
                        person=record.anchor,
                        birth_date=record.birth_date,
                        card_applied_on=record.card_applied_on,
                        card_applied_online=False,
                        died_on=None,
                        adult_ward=False,
                        certificate_issued_at=at,
                        municipality=record.municipality,
                    ),
                    at,
                )
            uow.commit()
        self.persons.extend(record.anchor for record in added)

    def apply_some(self, count: int, day: int) -> list[str]:
        made = []
        with SqlUnitOfWork(self.engine) as uow:
            for _ in range(count):
                service, _operator = self.rng.choice(SERVICES)
                application_id = self._next("app-")
                added = uow.applications.add(
                    make_application(
                        application_id,
                        person=self.rng.choice(self.persons),
                        measure=self.rng.choice(MEASURES),
                        service_code=service,
                        payment_service_id=self._next("acct-"),
                        channel=self.rng.choice((Channel.APP, Channel.SUPPORT_CORNER)),
                        applied_at=self.moment(day),
                    )
                )
                if added:  # not when the person has an active application for the measure
                    made.append(application_id)
            uow.commit()
        return made

    def cancel_some(self, application_ids: list[str], count: int, day: int) -> None:
        with SqlUnitOfWork(self.engine) as uow:
            for application_id in self.rng.sample(application_ids, count):
                application = uow.applications.get(application_id)
                assert application is not None
                if application.cancelled_at is None:
                    uow.applications.cancel(application_id, self.moment(day))
            uow.commit()

    def grant_some(self, count: int, day: int, *, grant_days: range) -> list[str]:
        made = []
        with SqlUnitOfWork(self.engine) as uow:
            instructions = []
            for _ in range(count):
                service, operator = self.rng.choice(SERVICES)
                points = self.rng.choice((500, 2_500, 5_000, -500, -2_500))
                measure = self.rng.choice(MEASURES)
                grant = make_grant(
                    self._next("g"),
                    operator_code=operator,
                    service_code=service,
                    person=self.rng.choice(self.persons),
                    measure=measure,
                    grant_on=date(2021, 7, 19) + timedelta(days=self.rng.choice(grant_days)),
                    lines=(make_line(f"event:{self._next('e')}", measure=measure, points=points),),
                )
                instructions.append(replace(grant, created_at=self.moment(day)))
                made.append(grant.grant_id)
            uow.grants.add_many(instructions)
            uow.commit()
        return made

    def acknowledge_some(self, grant_ids: list[str], count: int, day: int) -> None:
        chosen = self.rng.sample(grant_ids, count)
        with SqlUnitOfWork(self.engine) as uow:
            for operator in {o for _, o in SERVICES}:
                uow.grants.acknowledge(operator, chosen, self.moment(day))
            uow.commit()

    def add_staff(self) -> None:
        with self.engine.begin() as connection:
            for corner in CORNERS:
                connection.execute(
                    insert(staff_accounts).values(
                        name=f"clerk-{corner}",
                        role="staff",
                        corner=corner,
                        password_hash="$argon2id$not-a-real-hash",  # noqa: S106 - no sign-in
                        first_sign_in_pending=False,
                        created_at=START,
                        updated_at=START,
                    )
                )

    def assist_some(self, count: int, day: int) -> None:
        with SqlUnitOfWork(self.engine) as uow:
            for _ in range(count):
                corner = self.rng.choice(CORNERS)
                started = self.moment(day)
                ended = started + timedelta(minutes=self.rng.choice((1, 30, 600)))
                reason = self.rng.choice(
                    (EndReason.APPLIED, EndReason.APPLIED, EndReason.INACTIVITY)
                )
                session = AssistedSession(
                    session_id=self._next("s"),
                    staff=f"clerk-{corner}",
                    corner=corner,
                    card_serial="SERIAL",
                    person=self.rng.choice(self.persons),
                    mykey_id=None,
                    started_at=started,
                    last_activity_at=ended,
                )
                uow.assisted.add(session)
                uow.assisted.save(replace(session, ended_at=ended, end_reason=reason))
            uow.commit()


def oracle(
    engine: Engine,
) -> tuple[Counter[Key], Counter[Key], dict[tuple[str, date], tuple[int, int]]]:
    """(counts, points, pending) straight from the live rows, with the days taken in Python."""
    counts: Counter[Key] = Counter()
    points: Counter[Key] = Counter()
    pending: dict[tuple[str, date], tuple[int, int]] = {}
    with engine.connect() as connection:
        # The card authority's register: the truth the platform's copy must give.
        wards = dict(
            connection.execute(select(cardholders.c.anchor, cardholders.c.municipality)).all()
        )
        for person, created in connection.execute(select(mykeys.c.person, mykeys.c.created_at)):
            counts["mykeys", _day(created), (wards.get(person) or UNKNOWN,)] += 1
        rows = connection.execute(select(applications)).mappings().all()
        for row in rows:
            keys = (
                row["measure"],
                row["service_code"],
                row["channel"],
                wards.get(row["person"]) or UNKNOWN,
            )
            counts["applications", _day(row["applied_at"]), keys] += 1
            if row["cancelled_at"] is not None:
                counts["cancellations", _day(row["cancelled_at"]), keys] += 1
        for row in connection.execute(select(grant_instructions)).mappings():
            keys = (row["operator_code"], row["service_code"], row["measure"])
            metric = "points_granted" if row["points"] > 0 else "points_clawed_back"
            counts[metric, row["grant_on"], keys] += 1
            points[metric, row["grant_on"], keys] += abs(row["points"])
            if row["acknowledged_at"] is None:
                key = (row["operator_code"], row["grant_on"])
                count, total = pending.get(key, (0, 0))
                pending[key] = (count + 1, total + row["points"])
        for row in connection.execute(select(assisted_sessions)).mappings():
            if row["end_reason"] == "applied":
                counts["assisted_applications", _day(row["ended_at"]), (row["corner"],)] += 1
    return counts, points, pending


def _day(at: datetime) -> date:
    if at.tzinfo is None:  # SQLite, read without the column's type
        at = at.replace(tzinfo=UTC)
    return jst_date(at.astimezone(JST))
