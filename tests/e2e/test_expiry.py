"""Rows nobody asked for do not pile up (issue 11 item 8): expired challenges, sign-ins and
wrong security codes are purged, at the server's start and every 10 minutes, and live ones
stay; on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from citizen_app import DEMO_DAY, bearer, citizen_app
from mynapoint.bootstrap import build_platform
from mynapoint.cli import app as cli
from mynapoint.config import Settings
from mynapoint.db.tables import account_code_tries, citizen_sessions, login_challenges
from mynapoint.services.auth import create_challenge
from mynapoint.services.clock import FixedClock
from mynapoint.services.expiry import EXPIRED_KEPT, purge_expired
from mynapoint.web.app import create_app
from unit_of_work_contract import race

PAYPAY_ID = "1234567890123456"


def _rows(app, table) -> int:
    return _count(app.platform, table)


def _count(platform, table) -> int:
    with platform.engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(table)).scalar_one()


def _preview(app, token, code):
    body = {"service_code": "paypay", "payment_service_id": PAYPAY_ID, "security_code": code}
    return app.client.post("/api/v1/applications/preview", json=body, headers=bearer(token))


def test_expired_challenges_sessions_and_code_tries_go_and_live_ones_stay(database_url, tmp_path):
    with citizen_app(database_url, tmp_path) as app:
        app.register_account(app.operator_key("paypay"), PAYPAY_ID, "1234")
        old_token = app.citizen(app.issue())  # its challenge was used; its session expires
        for _ in range(10):  # asked for anonymously, never used
            app.challenge()
        for _ in range(5):  # locked out for 15 minutes
            _preview(app, old_token, "9999")
        assert _rows(app, account_code_tries) == 1

        app.clock.advance(timedelta(minutes=30) + EXPIRED_KEPT + timedelta(seconds=1))
        live_token = app.citizen(app.issue())
        live_challenge = app.challenge()
        purge_expired(app.platform.unit_of_work(), app.clock.now())

        assert _rows(app, login_challenges) == 2  # the live token's login and live_challenge
        assert _rows(app, citizen_sessions) == 1
        assert _rows(app, account_code_tries) == 0
        assert app.client.get("/api/v1/me", headers=bearer(live_token)).status_code == 200
        assert app.login_response(app.issue(), challenge=live_challenge).status_code == 201


def test_a_session_expired_within_the_hour_still_says_it_expired(database_url, tmp_path):
    with citizen_app(database_url, tmp_path) as app:
        token = app.citizen(app.issue())
        app.clock.advance(timedelta(minutes=30) + EXPIRED_KEPT - timedelta(seconds=1))
        purge_expired(app.platform.unit_of_work(), app.clock.now())
        expired = app.client.get("/api/v1/me", headers=bearer(token))
        assert expired.json()["error"]["code"] == "token_expired"


def test_the_server_purges_what_expired_while_it_was_down_when_it_starts(database_url, tmp_path):
    settings = Settings(database_url=database_url, var_dir=tmp_path)
    clock = FixedClock(DEMO_DAY)
    platform = build_platform(settings, clock=clock)
    try:
        for _ in range(3):
            create_challenge(platform.unit_of_work(), DEMO_DAY - EXPIRED_KEPT - timedelta(hours=1))
        create_challenge(platform.unit_of_work(), DEMO_DAY)
        assert _count(platform, login_challenges) == 4

        with TestClient(create_app(settings, platform)):
            deadline = time.monotonic() + 10
            while _count(platform, login_challenges) > 1 and time.monotonic() < deadline:
                time.sleep(0.05)
        assert _count(platform, login_challenges) == 1
    finally:
        platform.engine.dispose()


def test_workers_purging_at_once_delete_each_expired_row_once(database_url, tmp_path):
    # Every worker process of every server purges (web/app.py): the deletes are idempotent.
    platform = build_platform(Settings(database_url=database_url, var_dir=tmp_path))
    try:
        long_ago = DEMO_DAY - EXPIRED_KEPT - timedelta(hours=1)
        for _ in range(20):
            create_challenge(platform.unit_of_work(), long_ago)
        create_challenge(platform.unit_of_work(), DEMO_DAY)

        purged = race(lambda _: purge_expired(platform.unit_of_work(), DEMO_DAY))

        assert sum(p.challenges for p in purged) == 20
        assert _count(platform, login_challenges) == 1
    finally:
        platform.engine.dispose()


def test_mynapoint_purge_deletes_what_expired_and_says_how_much(database_url, tmp_path):
    with citizen_app(database_url, tmp_path) as app:
        # Long expired by the command's clock (real time), not by the app's (2021): the app's
        # own purge leaves them to the command.
        for _ in range(2):
            create_challenge(app.platform.unit_of_work(), app.clock.now())
        env = {"MYNAPOINT_DATABASE_URL": database_url, "MYNAPOINT_VAR_DIR": str(tmp_path)}
        result = CliRunner().invoke(cli, ["purge"], env=env)

        assert result.exit_code == 0, result.output
        assert result.stdout.startswith("purged 2 challenges, 0 citizen sessions")
        assert _rows(app, login_challenges) == 0
