"""A running app on a real database with a fixed platform clock, and a card holder's moves."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from mynapoint.bootstrap import Platform, build_platform
from mynapoint.config import Settings
from mynapoint.domain.calendar import JST
from mynapoint.jpki.card import VirtualCard
from mynapoint.services.clock import FixedClock
from mynapoint.services.operators import issue_operator_key
from mynapoint.web.app import create_app
from stale_revocations import with_stuck_revocation_list

DEMO_DAY = datetime(2021, 7, 19, 10, 0, tzinfo=JST)
PIN = "1234"


@dataclass
class CitizenApp:
    client: TestClient
    platform: Platform
    clock: FixedClock

    def issue(
        self,
        *,
        pin: str = PIN,
        birth_date: date = date(1980, 4, 1),
        issued_at: datetime | None = None,
    ) -> VirtualCard:
        return self.platform.authority.issue_card(
            pin,
            birth_date=birth_date,
            card_applied_on=date(2021, 1, 10),
            issued_at=issued_at or datetime(2021, 3, 1, 9, 0, tzinfo=JST),
        )

    def challenge(self) -> dict[str, str]:
        response = self.client.post("/api/v1/auth/challenges")
        assert response.status_code == 201, response.text
        body: dict[str, str] = response.json()
        return body

    def login_response(
        self,
        card: VirtualCard,
        *,
        pin: str = PIN,
        challenge: dict[str, str] | None = None,
        certificate: str | None = None,
    ) -> Any:
        challenge = challenge or self.challenge()
        signature = self.platform.authority.sign_challenge(
            card, pin, base64.b64decode(challenge["nonce"])
        )
        return self.client.post(
            "/api/v1/auth/sessions",
            json={
                "challenge_id": challenge["challenge_id"],
                "certificate": certificate or card.certificate_pem,
                "signature": base64.b64encode(signature).decode(),
            },
        )

    def token(self, card: VirtualCard, *, pin: str = PIN) -> str:
        response = self.login_response(card, pin=pin)
        assert response.status_code == 201, response.text
        token: str = response.json()["token"]
        return token

    # --- applying: MyKey ID, operators' keys and accounts, representatives ------------------

    def issue_person(
        self,
        *,
        pin: str = PIN,
        birth_date: date = date(1980, 4, 1),
        card_applied_on: date = date(2021, 1, 10),
        issued_at: datetime | None = None,
        representative_of: VirtualCard | None = None,
        adult_ward: bool = False,
    ) -> VirtualCard:
        """`issue` with the rest of the card authority's facts."""
        return self.platform.authority.issue_card(
            pin,
            birth_date=birth_date,
            card_applied_on=card_applied_on,
            issued_at=issued_at or datetime(2021, 3, 1, 9, 0, tzinfo=JST),
            representative_of=representative_of.serial if representative_of else None,
            adult_ward=adult_ward,
        )

    def mykey(self, token: str) -> str:
        response = self.client.post("/api/v1/mykey", headers=bearer(token))
        assert response.status_code in {200, 201}, response.text
        mykey_id: str = response.json()["mykey_id"]
        return mykey_id

    def citizen(self, card: VirtualCard, *, pin: str = PIN) -> str:
        """Sign in with the card and set up the MyKey ID; the session token."""
        token = self.token(card, pin=pin)
        self.mykey(token)
        return token

    def operator_key(self, operator_code: str) -> str:
        return issue_operator_key(
            self.platform.unit_of_work(), operator_code, self.platform.catalog, self.clock.now()
        )

    def register_account(
        self,
        key: str,
        payment_service_id: str,
        security_code: str,
        holder_name: str = "ヤマダ タロウ",
        service_code: str = "paypay",
    ) -> Any:
        return self.client.put(
            f"/api/v1/operator/services/{service_code}/accounts/{payment_service_id}",
            json={"security_code": security_code, "holder_name": holder_name},
            headers=bearer(key),
        )

    def representative(self, card: VirtualCard, *, pin: str = PIN) -> dict[str, str]:
        """The `representative` of an application: the card signs a fresh challenge."""
        challenge = self.challenge()
        signature = self.platform.authority.sign_challenge(
            card, pin, base64.b64decode(challenge["nonce"])
        )
        return {
            "challenge_id": challenge["challenge_id"],
            "certificate": card.certificate_pem,
            "signature": base64.b64encode(signature).decode(),
        }


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@contextmanager
def citizen_app(
    database_url: str,
    tmp_path: Path,
    at: datetime = DEMO_DAY,
    *,
    stuck_revocations: bool = False,
    rate_limits: dict[str, str] | None = None,
    rate_limit_storage: str = "memory://",
    rate_limit_namespace: str = "mynapoint",
    inprocess_worker: bool = True,
) -> Iterator[CitizenApp]:
    """`stuck_revocations`: the card authority never issues a newer revocation list;
    `rate_limits` replace the default limits (services/throttling.py); `inprocess_worker`
    False: on PostgreSQL the app only queues its jobs, for `mynapoint worker`."""
    settings = Settings(
        database_url=database_url,
        var_dir=tmp_path,
        rate_limits=rate_limits or {},
        rate_limit_storage=rate_limit_storage,
        rate_limit_namespace=rate_limit_namespace,
        inprocess_worker=inprocess_worker,
    )
    clock = FixedClock(at)
    platform = build_platform(settings, clock=clock)
    if stuck_revocations:
        platform = with_stuck_revocation_list(platform)
    try:
        with TestClient(create_app(settings, platform)) as client:
            yield CitizenApp(client, platform, clock)
    finally:
        platform.engine.dispose()
