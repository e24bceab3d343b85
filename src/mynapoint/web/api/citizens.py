"""The signed-in citizen: MyKey ID and what they have applied for and earned."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel

from mynapoint.domain.calendar import to_jst
from mynapoint.domain.measures import Measure
from mynapoint.services.mykey import ensure_mykey, holder_of
from mynapoint.services.points import signed_in_overview
from mynapoint.web.dependencies import BearerDep, Citizen, ClockDep, PlatformDep
from mynapoint.web.errors import responses

router = APIRouter(prefix="/api/v1", tags=["citizen"])

AUTH = ("not_authenticated", "invalid_token", "token_expired", "rate_limited")


class MyKeyOut(BaseModel):
    mykey_id: str


class ApplicationSummaryOut(BaseModel):
    application_id: str
    measure: Measure
    service_code: str
    applied_at: datetime
    status: Literal["active", "cancelled"]


class PointsOut(BaseModel):
    total: int
    granted: int
    scheduled: int
    by_measure: dict[Measure, int]


class GrantSummaryOut(BaseModel):
    measure: Measure
    points: int
    grant_on: date
    status: Literal["granted", "scheduled"]


class MeOut(BaseModel):
    mykey_id: str | None
    applications: list[ApplicationSummaryOut]
    points: PointsOut
    grants: list[GrantSummaryOut]


@router.post(
    "/mykey",
    status_code=201,
    responses={
        200: {"model": MyKeyOut, "description": "the person's existing MyKey ID"},
        **responses(*AUTH, "budget_frame_reached"),
    },
)
def post_mykey(me: Citizen, platform: PlatformDep, clock: ClockDep, response: Response) -> MyKeyOut:
    """Set up the MyKey ID: 201 the first time for a person, 200 with the same ID afterwards."""
    result = ensure_mykey(
        platform.unit_of_work(),
        me.person,
        clock.now(),
        platform.rules,
        holder=holder_of(platform.authority, me.serial),
    )
    if not result.created:
        response.status_code = 200
    return MyKeyOut(mykey_id=result.mykey.mykey_id)


@router.get("/me", responses=responses(*AUTH))
def get_me(bearer: BearerDep, platform: PlatformDep, clock: ClockDep) -> MeOut:
    """The signed-in person's MyKey ID, applications, points and grants."""
    # The session and the three reads on one connection, outside any transaction.
    now = clock.now()
    _, overview = bearer.counting_refusals(
        platform, lambda: signed_in_overview(platform.unit_of_work(), bearer.token, now)
    )
    points = overview.points
    applications = [
        ApplicationSummaryOut(
            application_id=a.application_id,
            measure=a.measure,
            service_code=a.service_code,
            applied_at=to_jst(a.applied_at),
            status="active" if a.is_active else "cancelled",
        )
        for a in overview.applications
    ]
    return MeOut(
        mykey_id=overview.mykey.mykey_id if overview.mykey else None,
        applications=applications,
        points=PointsOut(
            total=points.total,
            granted=points.granted,
            scheduled=points.scheduled,
            by_measure=points.by_measure,
        ),
        grants=[
            GrantSummaryOut(
                measure=g.measure, points=g.points, grant_on=g.grant_on, status=g.status
            )
            for g in points.grants
        ],
    )
