"""Nobody locks anybody out, IDs cannot be enumerated, and every limit answers 429 with
Retry-After (issue 11 item 7), through the app on SQLite and PostgreSQL; the limits hold
across processes when they count in Redis."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from citizen_app import bearer, citizen_app
from mynapoint.db.tables import login_challenges
from mynapoint.services.throttling import CHALLENGES, LimitsThrottle, RateLimited

if TYPE_CHECKING:
    from citizen_app import CitizenApp
    from redis_storage import SharedStore

PAYPAY_ID = "1234567890123456"
UNKNOWN_ID = "1111222233334444"  # registered by nobody
CODE = "1234"
WRONG = "9999"
ELSEWHERE = ("192.0.2.77", 50000)  # another client address


@pytest.fixture
def app(database_url, tmp_path):
    with citizen_app(database_url, tmp_path) as running:
        registered = running.register_account(running.operator_key("paypay"), PAYPAY_ID, CODE)
        assert registered.status_code == 201, registered.text
        yield running


def preview(app: CitizenApp, token: str, payment_service_id: str = PAYPAY_ID, code: str = CODE):
    body = {"service_code": "paypay", "payment_service_id": payment_service_id}
    return app.client.post(
        "/api/v1/applications/preview", json={**body, "security_code": code}, headers=bearer(token)
    )


def apply(app: CitizenApp, token: str):
    body = {
        "measure": "phase1",
        "service_code": "paypay",
        "payment_service_id": PAYPAY_ID,
        "security_code": CODE,
        "counts": "charge",
    }
    return app.client.post("/api/v1/applications", json=body, headers=bearer(token))


def error_code(response) -> str:
    return response.json()["error"]["code"]


def assert_limited(response, longest_wait: int) -> None:
    assert response.status_code == 429, response.text
    assert error_code(response) == "rate_limited"
    wait = int(response.headers["Retry-After"])
    assert 0 < wait <= longest_wait
    assert response.json()["error"]["details"]["retry_after_seconds"] == wait


# --- security codes: the attacker locks out the attacker only --------------------------------


def test_an_attackers_wrong_codes_never_lock_the_holder_out(app):
    attacker = app.citizen(app.issue())
    holder = app.citizen(app.issue())
    answers = [preview(app, attacker, code=WRONG) for _ in range(6)]
    assert [r.status_code for r in answers] == [422, 422, 422, 422, 423, 423]

    assert preview(app, holder).json() == {"holder_name_masked": "ヤマダ タ**"}
    assert apply(app, holder).status_code == 201


def test_unknown_and_locked_ids_answer_alike_so_ids_cannot_be_enumerated(app):
    attacker = app.citizen(app.issue())

    def answers(payment_service_id: str) -> list[tuple[int, str | None, str, dict]]:
        seen = []
        for _ in range(7):
            response = preview(app, attacker, payment_service_id, WRONG)
            error = response.json()["error"]
            message = error["message"].replace(payment_service_id, "{id}")
            seen.append((response.status_code, response.headers.get("Retry-After"), message, error))
        return seen

    known, unknown = answers(PAYPAY_ID), answers(UNKNOWN_ID)

    assert [status for status, *_ in known] == [422] * 4 + [423] * 3
    for (k_status, k_wait, k_message, k_error), (u_status, u_wait, u_message, u_error) in zip(
        known, unknown, strict=True
    ):
        assert (k_status, k_wait, k_message) == (u_status, u_wait, u_message)
        assert k_error["code"] == u_error["code"]
        assert k_error["details"] == u_error["details"]


def test_a_person_may_check_thirty_accounts_an_hour_then_waits(database_url, tmp_path):
    with citizen_app(database_url, tmp_path, rate_limits={"account_checks": "3/hour"}) as app:
        registered = app.register_account(app.operator_key("paypay"), PAYPAY_ID, CODE)
        assert registered.status_code == 201
        token = app.citizen(app.issue())
        other = app.citizen(app.issue())
        for _ in range(3):
            assert preview(app, token).status_code == 200
        assert_limited(preview(app, token), 3600)
        assert_limited(apply(app, token), 3600)  # applying checks the account too
        assert preview(app, other).status_code == 200  # counted per person


# --- anonymous challenges: rows nobody asked for ----------------------------------------------


def test_an_address_may_ask_for_thirty_challenges_a_minute_and_no_more_rows(app):
    before = _challenge_rows(app)
    answers = [app.client.post("/api/v1/auth/challenges") for _ in range(35)]

    assert [r.status_code for r in answers] == [201] * 30 + [429] * 5
    assert_limited(answers[-1], 60)
    assert _challenge_rows(app) == before + 30
    elsewhere = TestClient(app.client.app, base_url="https://testserver", client=ELSEWHERE)
    assert elsewhere.post("/api/v1/auth/challenges").status_code == 201


def _challenge_rows(app: CitizenApp) -> int:
    with app.platform.engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(login_challenges)).scalar_one()


# --- refused tokens and keys: 20 a minute per address -----------------------------------------


def test_twenty_refused_tokens_a_minute_and_the_address_waits_even_with_a_good_one(app):
    token = app.citizen(app.issue())
    refused = [app.client.get("/api/v1/me", headers=bearer(f"guess-{n}")) for n in range(20)]
    assert {r.status_code for r in refused} == {401}

    assert_limited(app.client.get("/api/v1/me", headers=bearer("guess-21")), 60)
    # Checked before the token is looked at: a guess that happens to be right learns nothing.
    assert_limited(app.client.get("/api/v1/me", headers=bearer(token)), 60)
    elsewhere = TestClient(app.client.app, base_url="https://testserver", client=ELSEWHERE)
    assert elsewhere.get("/api/v1/me", headers=bearer(token)).status_code == 200


def test_operator_keys_cannot_be_guessed_at_speed_even_before_a_body_is_read(app):
    key = app.operator_key("paypay")
    guesses = [
        app.client.get("/api/v1/operator/notices", headers=bearer(f"mnp_{n:012d}.secret"))
        for n in range(20)
    ]
    assert {r.status_code for r in guesses} == {401}

    # A request with a body is refused by the body gate (web/limits_body.py) before it is read.
    batch = app.client.post(
        "/api/v1/operator/events", json={"events": []}, headers=bearer("mnp_000000000099.x")
    )
    assert_limited(batch, 60)
    assert batch.headers["Connection"] == "close"
    assert_limited(app.client.get("/api/v1/operator/notices", headers=bearer(key)), 60)


def test_requests_without_a_credential_are_not_counted_as_guesses(app):
    for _ in range(25):
        assert error_code(app.client.get("/api/v1/me")) == "not_authenticated"
    token = app.citizen(app.issue())
    assert app.client.get("/api/v1/me", headers=bearer(token)).status_code == 200


# --- across processes: the limits count in Redis ----------------------------------------------


def test_two_platforms_on_one_redis_share_the_limit(database_url, tmp_path, redis_storage):
    shared = {
        "rate_limit_storage": redis_storage.url,
        "rate_limit_namespace": redis_storage.namespace,
        "rate_limits": {CHALLENGES: "4/minute"},
    }
    with (
        citizen_app(database_url, tmp_path / "one", **shared) as one,
        citizen_app(database_url, tmp_path / "two", **shared) as two,
    ):
        assert one.client.post("/api/v1/auth/challenges").status_code == 201
        assert two.client.post("/api/v1/auth/challenges").status_code == 201
        assert one.client.post("/api/v1/auth/challenges").status_code == 201
        assert two.client.post("/api/v1/auth/challenges").status_code == 201
        assert_limited(one.client.post("/api/v1/auth/challenges"), 60)
        assert_limited(two.client.post("/api/v1/auth/challenges"), 60)


def test_a_limit_used_up_in_another_process_holds_in_this_one(redis_storage: SharedStore):
    other_process = textwrap.dedent(
        f"""
        from mynapoint.services.throttling import CHALLENGES, LimitsThrottle
        throttle = LimitsThrottle(
            {redis_storage.url!r}, {{CHALLENGES: "3/minute"}}, {redis_storage.namespace!r}
        )
        for _ in range(3):
            throttle.hit(CHALLENGES, "192.0.2.1")
        """
    )
    subprocess.run([sys.executable, "-c", other_process], check=True, timeout=60)  # noqa: S603

    here = LimitsThrottle(redis_storage.url, {CHALLENGES: "3/minute"}, redis_storage.namespace)
    with pytest.raises(RateLimited) as limited:
        here.hit(CHALLENGES, "192.0.2.1")
    assert 0 < limited.value.retry_after_seconds <= 60
    here.hit(CHALLENGES, "192.0.2.2")  # another address is not held back
