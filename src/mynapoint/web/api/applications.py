"""A signed-in citizen applies: preview the account's holder, apply, cancel on the same day."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, Field

from mynapoint.domain.calendar import to_jst
from mynapoint.domain.measures import EventKind, Measure
from mynapoint.services.account_checks import AccountCredentials
from mynapoint.services.applications import (
    Applicant,
    NewApplication,
    RepresentativeProof,
    apply,
    cancel,
    preview,
)
from mynapoint.web.dependencies import ApplicationDeskDep, Citizen, ClockDep, PlatformDep
from mynapoint.web.errors import responses
from mynapoint.web.inputs import Identifier, TextBlock

router = APIRouter(prefix="/api/v1/applications", tags=["citizen"])

AUTH = ("not_authenticated", "invalid_token", "token_expired", "rate_limited")
ACCOUNT = ("invalid_account_credentials", "account_locked", "rate_limited")
REPRESENTATIVE = (
    "unknown_challenge", "challenge_expired", "challenge_used", "invalid_signature",
    "untrusted_certificate", "certificate_revoked", "certificate_expired",
    "certificate_not_yet_valid", "not_legal_representative", "representative_not_allowed",
    "representative_required", "revocation_list_stale",
)  # fmt: skip
APPLY_ERRORS = (
    *AUTH, "unknown_service", "mykey_required", "invalid_counts", "channel_not_allowed",
    *ACCOUNT, "account_taken", "already_applied", "application_window_closed",
    "service_not_accepting", "not_eligible", "waiting_period", *REPRESENTATIVE,
)  # fmt: skip


class AccountIn(BaseModel):
    service_code: Identifier = Field(min_length=1, max_length=40, examples=["paypay"])
    payment_service_id: Identifier = Field(
        min_length=1,
        max_length=64,
        description="the service's 決済サービスID, in its format (see the payment service)",
        examples=["1234567890123456"],
    )
    security_code: Identifier = Field(
        min_length=1,
        max_length=64,
        description="the service's セキュリティコード; several codes joined with '-' in the "
        "catalog's order, e.g. 1234-0825",
        examples=["1234"],
    )

    def credentials(self) -> AccountCredentials:
        return AccountCredentials(self.service_code, self.payment_service_id, self.security_code)


class RepresentativeIn(BaseModel):
    challenge_id: Identifier = Field(min_length=1, max_length=64)
    certificate: TextBlock = Field(
        min_length=1, max_length=20_000, description="the representative's user certificate, PEM"
    )
    signature: Identifier = Field(
        min_length=1,
        max_length=2_000,
        description="the representative's card signature over the challenge nonce, base64",
    )


class ApplicationIn(AccountIn):
    measure: Measure
    counts: EventKind | None = Field(
        default=None,
        description="charge or purchase, for a service where the person picks; final",
    )
    representative: RepresentativeIn | None = Field(
        default=None,
        description="a legal representative's card signature (RULES.md R14): required for a "
        "holder under 15 or an adult ward (else 403 representative_required), possible for a "
        "holder of 15-17; the account may then be the representative's",
    )


class PreviewOut(BaseModel):
    holder_name_masked: str


class ApplicationOut(BaseModel):
    application_id: str
    measure: Measure
    service_code: str
    holder_name_masked: str
    applied_at: datetime


@router.post(
    "/preview",
    responses=responses(
        *AUTH, "unknown_service", "mykey_required", "channel_not_allowed", *ACCOUNT
    ),
)
def post_preview(
    body: AccountIn, me: Citizen, platform: PlatformDep, desk: ApplicationDeskDep, clock: ClockDep
) -> PreviewOut:
    """The account holder's masked name, to confirm the account before applying.

    A wrong security code counts toward your lock of the account, as at application: the 5th
    in a row keeps you (and nobody else) from it for a while (423, Retry-After). Account
    checks are limited per person and hour (429, Retry-After).
    """
    masked = preview(platform.unit_of_work(), desk, me.person, body.credentials(), clock.now())
    return PreviewOut(holder_name_masked=masked)


@router.post("", status_code=201, responses=responses(*APPLY_ERRORS))
def post_application(
    body: ApplicationIn,
    me: Citizen,
    platform: PlatformDep,
    desk: ApplicationDeskDep,
    clock: ClockDep,
) -> ApplicationOut:
    """Apply for a measure with one payment account: final, but for a same-day cancellation."""
    representative = (
        RepresentativeProof(
            body.representative.challenge_id,
            body.representative.certificate,
            body.representative.signature,
        )
        if body.representative is not None
        else None
    )
    applied = apply(
        platform.unit_of_work(),
        desk,
        Applicant(me.person, me.serial),
        NewApplication(body.measure, body.credentials(), body.counts, representative),
        clock.now(),
    )
    application = applied.application
    return ApplicationOut(
        application_id=application.application_id,
        measure=application.measure,
        service_code=application.service_code,
        holder_name_masked=applied.holder_name_masked,
        applied_at=to_jst(application.applied_at),
    )


@router.delete(
    "/{application_id}",
    status_code=204,
    responses=responses(*AUTH, "not_found", "cancellation_not_allowed"),
)
def delete_application(
    application_id: Annotated[Identifier, Path(min_length=1, max_length=32)],
    me: Citizen,
    platform: PlatformDep,
    clock: ClockDep,
) -> Response:
    """Cancel on the day of the application (JST) only; the account is free again."""
    cancel(
        platform.unit_of_work(),
        platform.rules,
        platform.catalog,
        me.person,
        application_id,
        clock.now(),
    )
    return Response(status_code=204)
