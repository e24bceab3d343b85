"""A payment operator registers the accounts the platform accepts at application."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, Field

from mynapoint.domain.calendar import to_jst
from mynapoint.services.operators import HOLDER_NAME_MAX, register_account, unlock_account
from mynapoint.web.dependencies import ClockDep, CodeHasherDep, Operator, PlatformDep
from mynapoint.web.errors import responses
from mynapoint.web.inputs import Identifier, Text

router = APIRouter(prefix="/api/v1/operator/services/{code}/accounts", tags=["payment operator"])

AUTH = ("not_authenticated", "invalid_token", "rate_limited")

ServiceCode = Annotated[Identifier, Path(min_length=1, max_length=40, description="a catalog code")]
PaymentServiceId = Annotated[
    Identifier, Path(min_length=1, max_length=64, description="the account's 決済サービスID")
]


class AccountIn(BaseModel):
    security_code: Identifier = Field(
        min_length=1,
        max_length=64,
        description="in the service's format; several codes joined with '-' in the catalog's "
        "order (e.g. 1234-0825). Stored only as a hash",
        examples=["1234"],
    )
    holder_name: Text = Field(
        min_length=1,
        max_length=HOLDER_NAME_MAX,
        description="shown masked to the person at application (ヤマダ タ**)",
        examples=["ヤマダ タロウ"],
    )


class AccountOut(BaseModel):
    service_code: str
    payment_service_id: str
    created: bool
    registered_at: datetime


class UnlockOut(BaseModel):
    unlocked: bool


@router.put(
    "/{payment_service_id}",
    status_code=201,
    responses={
        200: {"model": AccountOut, "description": "an existing account replaced"},
        **responses(*AUTH, "unknown_service", "not_your_service"),
    },
)
def put_account(
    code: ServiceCode,
    payment_service_id: PaymentServiceId,
    body: AccountIn,
    operator: Operator,
    platform: PlatformDep,
    hasher: CodeHasherDep,
    clock: ClockDep,
    response: Response,
) -> AccountOut:
    """Register (201) or replace (200) an account; replacing clears its lock."""
    now = clock.now()
    created = register_account(
        platform.unit_of_work(),
        hasher,
        operator,
        platform.catalog,
        code,
        payment_service_id,
        body.security_code,
        body.holder_name,
        now,
    )
    if not created:
        response.status_code = 200
    return AccountOut(
        service_code=code,
        payment_service_id=payment_service_id,
        created=created,
        registered_at=to_jst(now),
    )


@router.post(
    "/{payment_service_id}/unlock",
    responses=responses(*AUTH, "unknown_service", "not_your_service", "not_found"),
)
def post_unlock(
    code: ServiceCode,
    payment_service_id: PaymentServiceId,
    operator: Operator,
    platform: PlatformDep,
) -> UnlockOut:
    """Clear the lock left by 5 wrong security codes in a row."""
    unlock_account(platform.unit_of_work(), operator, platform.catalog, code, payment_service_id)
    return UnlockOut(unlocked=True)
