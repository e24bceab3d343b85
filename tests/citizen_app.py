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
from mynapoint.web.app import create_app

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


@contextmanager
def citizen_app(database_url: str, tmp_path: Path, at: datetime = DEMO_DAY) -> Iterator[CitizenApp]:
    settings = Settings(database_url=database_url, var_dir=tmp_path)
    clock = FixedClock(at)
    platform = build_platform(settings, clock=clock)
    try:
        with TestClient(create_app(settings, platform)) as client:
            yield CitizenApp(client, platform, clock)
    finally:
        platform.engine.dispose()
