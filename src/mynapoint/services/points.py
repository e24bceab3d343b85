"""A person's points as the platform has instructed them: granted so far and still to come."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from mynapoint.domain.calendar import jst_date
from mynapoint.domain.measures import Measure
from mynapoint.services.auth import session_of
from mynapoint.services.ports import UnitOfWork

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

    from mynapoint.domain.auth import Session
    from mynapoint.domain.ledger import GrantInstruction, StoredApplication
    from mynapoint.domain.mykey import MyKey


@dataclass(frozen=True)
class GrantSummary:
    measure: Measure
    points: int
    grant_on: date
    status: str  # granted (grant day reached) | scheduled


@dataclass(frozen=True)
class PointsSummary:
    total: int
    granted: int
    scheduled: int
    by_measure: dict[Measure, int]
    grants: list[GrantSummary]


@dataclass(frozen=True)
class CitizenOverview:
    """What a signed-in person sees of themselves: MyKey ID, applications, points."""

    mykey: MyKey | None
    applications: list[StoredApplication]  # oldest first, cancelled ones included
    points: PointsSummary


def overview_of(uow: UnitOfWork, person: str, today: date) -> CitizenOverview:
    """The person's MyKey ID, applications and points: reads only, on one connection."""
    with uow.reading():
        return _overview(uow, person, today)


def signed_in_overview(
    uow: UnitOfWork, token: str | None, now: datetime
) -> tuple[Session, CitizenOverview]:
    """The session of `token` (as `authenticate` checks it) and its person's overview, read on
    one connection: GET /me checks out one instead of two (issue 13)."""
    with uow.reading():
        session = session_of(uow, token, now)
        return session, _overview(uow, session.person, jst_date(now))


def _overview(uow: UnitOfWork, person: str, today: date) -> CitizenOverview:
    mykey = uow.mykeys.for_person(person)
    applications = uow.applications.for_person(person)
    instructions = uow.grants.for_person(person)
    return CitizenOverview(
        mykey=mykey,
        applications=sorted(applications, key=lambda a: (a.applied_at, a.application_id)),
        points=summarize_points(instructions, today),
    )


def points_of(uow: UnitOfWork, person: str, today: date) -> PointsSummary:
    """Instructions for the person, one line per measure and grant day (clawbacks netted)."""
    with uow.reading():
        instructions = uow.grants.for_person(person)
    return summarize_points(instructions, today)


def summarize_points(instructions: Iterable[GrantInstruction], today: date) -> PointsSummary:
    by_day: dict[tuple[Measure, date], int] = defaultdict(int)
    for instruction in instructions:
        by_day[instruction.measure, instruction.grant_on] += instruction.points
    grants = [
        GrantSummary(measure, points, grant_on, "granted" if grant_on <= today else "scheduled")
        for (measure, grant_on), points in sorted(
            by_day.items(), key=lambda kv: (kv[0][1], kv[0][0])
        )
        if points != 0
    ]
    by_measure: dict[Measure, int] = defaultdict(int)
    for grant in grants:
        by_measure[grant.measure] += grant.points
    granted = sum(g.points for g in grants if g.status == "granted")
    total = sum(by_measure.values())
    return PointsSummary(
        total=total,
        granted=granted,
        scheduled=total - granted,
        by_measure={m: by_measure[m] for m in Measure if m in by_measure},
        grants=grants,
    )
