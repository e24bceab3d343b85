"""Card login over HTTP: a challenge, the card's signature over it, a 30-minute session."""

from __future__ import annotations

import base64
from datetime import datetime

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from mynapoint.services.auth import create_challenge, log_in, log_out
from mynapoint.services.throttling import CHALLENGES
from mynapoint.web.dependencies import Citizen, ClientAddress, ClockDep, PlatformDep
from mynapoint.web.errors import responses
from mynapoint.web.inputs import Identifier, TextBlock

router = APIRouter(prefix="/api/v1/auth", tags=["citizen login"])

LOGIN_FAILURES = (
    "unknown_challenge", "challenge_expired", "challenge_used", "invalid_signature",
    "untrusted_certificate", "certificate_revoked", "certificate_expired",
    "certificate_not_yet_valid", "revocation_list_stale",
)  # fmt: skip


class ChallengeOut(BaseModel):
    challenge_id: str
    nonce: str = Field(description="32 random bytes, base64; the card signs these raw bytes")
    expires_at: datetime


class SessionIn(BaseModel):
    challenge_id: Identifier = Field(min_length=1, max_length=64)
    certificate: TextBlock = Field(
        min_length=1, max_length=20_000, description="the user certificate, PEM"
    )
    signature: Identifier = Field(
        min_length=1,
        max_length=2_000,
        description="base64 RSASSA-PKCS1-v1_5 SHA-256 over the nonce",
    )


class SessionOut(BaseModel):
    token: str
    expires_at: datetime


@router.post("/challenges", status_code=201, responses=responses("rate_limited"))
def post_challenge(platform: PlatformDep, clock: ClockDep, client: ClientAddress) -> ChallengeOut:
    """A fresh challenge: single use, valid for 5 minutes. Each is a stored row asked for
    without signing in, so an address may ask for a limited number a minute (429)."""
    platform.throttle.hit(CHALLENGES, client)
    challenge = create_challenge(platform.unit_of_work(), clock.now())
    return ChallengeOut(
        challenge_id=challenge.challenge_id,
        nonce=base64.b64encode(challenge.nonce).decode(),
        expires_at=challenge.expires_at,
    )


@router.post("/sessions", status_code=201, responses=responses(*LOGIN_FAILURES))
def post_session(body: SessionIn, platform: PlatformDep, clock: ClockDep) -> SessionOut:
    """Sign in with the card: the certificate and its signature over the challenge nonce."""
    issued = log_in(
        platform.unit_of_work(),
        platform.authority,
        platform.revocations,
        body.challenge_id,
        body.certificate,
        body.signature,
        clock.now(),
    )
    return SessionOut(token=issued.token, expires_at=issued.session.expires_at)


@router.delete(
    "/sessions/current",
    status_code=204,
    responses=responses("not_authenticated", "invalid_token", "token_expired", "rate_limited"),
)
def delete_session(me: Citizen, platform: PlatformDep, clock: ClockDep) -> Response:
    """Sign out: the token stops working at once."""
    log_out(platform.unit_of_work(), me, clock.now())
    return Response(status_code=204)
