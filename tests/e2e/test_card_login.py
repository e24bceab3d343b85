"""Card login, MyKey ID and sign-out through the HTTP API, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta

import pytest

from citizen_app import DEMO_DAY, PIN, citizen_app
from mynapoint.domain.auth import CardLocked, WrongPin
from mynapoint.domain.calendar import JST
from mynapoint.domain.mykey import is_mykey_id
from mynapoint.jpki.authority import SimulatedCardAuthority
from mynapoint.jpki.memory import InMemoryAuthorityStore


@pytest.fixture
def app(database_url, tmp_path):
    with citizen_app(database_url, tmp_path) as running:
        yield running


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def error_code(response) -> str:
    return response.json()["error"]["code"]


def test_a_good_card_logs_in_and_gets_one_mykey_id(app):
    card = app.issue()
    token = app.token(card)
    first = app.client.post("/api/v1/mykey", headers=bearer(token))
    again = app.client.post("/api/v1/mykey", headers=bearer(token))
    assert first.status_code == 201
    assert again.status_code == 200
    mykey = first.json()["mykey_id"]
    assert is_mykey_id(mykey)
    assert again.json()["mykey_id"] == mykey
    me = app.client.get("/api/v1/me", headers=bearer(token)).json()
    assert me["mykey_id"] == mykey
    assert me["points"]["total"] == 0


def test_a_challenge_has_32_random_bytes_and_lasts_5_minutes(app):
    challenge = app.challenge()
    assert len(base64.b64decode(challenge["nonce"])) == 32
    expires = datetime.fromisoformat(challenge["expires_at"])
    assert expires - DEMO_DAY == timedelta(minutes=5)
    assert app.challenge()["nonce"] != challenge["nonce"]


def test_a_certificate_from_another_ca_with_the_same_subject_is_untrusted(app):
    # An impostor authority: same names, its own root key.
    impostor = SimulatedCardAuthority(InMemoryAuthorityStore(), now=app.clock.now)
    fake = impostor.issue_card(
        PIN,
        birth_date=date(1980, 4, 1),
        card_applied_on=date(2021, 1, 10),
        issued_at=datetime(2021, 3, 1, tzinfo=JST),
    )
    challenge = app.challenge()
    signature = impostor.sign_challenge(fake, PIN, base64.b64decode(challenge["nonce"]))
    response = app.client.post(
        "/api/v1/auth/sessions",
        json={
            "challenge_id": challenge["challenge_id"],
            "certificate": fake.certificate_pem,
            "signature": base64.b64encode(signature).decode(),
        },
    )
    assert response.status_code == 401
    assert error_code(response) == "untrusted_certificate"


def test_a_revoked_certificate_is_refused_within_60_seconds(app):
    card = app.issue()
    app.token(card)  # the CRL is now cached
    app.platform.authority.revoke(card.serial, app.clock.now())
    app.clock.advance(timedelta(seconds=61))
    response = app.login_response(card)
    assert response.status_code == 401
    assert error_code(response) == "certificate_revoked"


@pytest.mark.parametrize(
    ("issued_at", "now", "code"),
    [
        # Issued for a holder born 1980-04-01 on 2016-01-05: valid until 2020-04-01 23:59:59 JST.
        (datetime(2016, 1, 5, tzinfo=JST), DEMO_DAY, "certificate_expired"),
        (datetime(2021, 8, 1, tzinfo=JST), DEMO_DAY, "certificate_not_yet_valid"),
    ],
)
def test_expired_and_not_yet_valid_certificates_are_refused(app, issued_at, now, code):
    card = app.issue(issued_at=issued_at)
    app.clock.set(now)
    response = app.login_response(card)
    assert response.status_code == 401
    assert error_code(response) == code


def test_a_signature_over_other_bytes_is_invalid(app):
    card = app.issue()
    challenge = app.challenge()
    signature = app.platform.authority.sign_challenge(card, PIN, b"something else")
    response = app.client.post(
        "/api/v1/auth/sessions",
        json={
            "challenge_id": challenge["challenge_id"],
            "certificate": card.certificate_pem,
            "signature": base64.b64encode(signature).decode(),
        },
    )
    assert response.status_code == 401
    assert error_code(response) == "invalid_signature"


def test_a_replayed_challenge_is_refused(app):
    card = app.issue()
    challenge = app.challenge()
    assert app.login_response(card, challenge=challenge).status_code == 201
    replay = app.login_response(card, challenge=challenge)
    assert replay.status_code == 401
    assert error_code(replay) == "challenge_used"


def test_an_expired_challenge_is_refused(app):
    card = app.issue()
    challenge = app.challenge()
    app.clock.advance(timedelta(minutes=5))
    response = app.login_response(card, challenge=challenge)
    assert response.status_code == 401
    assert error_code(response) == "challenge_expired"


def test_an_unknown_challenge_is_refused(app):
    card = app.issue()
    response = app.login_response(
        card, challenge={"challenge_id": "nope", "nonce": base64.b64encode(b"x").decode()}
    )
    assert response.status_code == 401
    assert error_code(response) == "unknown_challenge"


def test_a_token_expires_after_30_minutes(app):
    token = app.token(app.issue())
    app.clock.advance(timedelta(minutes=29, seconds=59))
    assert app.client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    app.clock.advance(timedelta(seconds=1))
    response = app.client.get("/api/v1/me", headers=bearer(token))
    assert response.status_code == 401
    assert error_code(response) == "token_expired"


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "not_authenticated"),
        ({"Authorization": "Basic abc"}, "not_authenticated"),
        ({"Authorization": "Bearer not-a-token"}, "invalid_token"),
    ],
)
def test_requests_without_a_valid_token_are_refused(app, headers, code):
    response = app.client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert error_code(response) == code


def test_a_tampered_token_is_invalid(app):
    token = app.token(app.issue())
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    response = app.client.get("/api/v1/me", headers=bearer(tampered))
    assert error_code(response) == "invalid_token"


def test_sign_out_ends_the_session_at_once(app):
    token = app.token(app.issue())
    assert (
        app.client.delete("/api/v1/auth/sessions/current", headers=bearer(token)).status_code == 204
    )
    response = app.client.get("/api/v1/me", headers=bearer(token))
    assert error_code(response) == "invalid_token"


def test_three_wrong_pins_lock_the_card_until_it_is_reset(app):
    card = app.issue()
    tries = []
    for _ in range(3):
        with pytest.raises(WrongPin) as wrong:
            app.login_response(card, pin="9999")
        tries.append(wrong.value.tries_left)
    assert tries == [2, 1, 0]
    with pytest.raises(CardLocked):
        app.login_response(card, pin=PIN)
    # The next day it is still locked: the counter lives with the card, not with a session.
    app.clock.advance(timedelta(days=1))
    with pytest.raises(CardLocked):
        app.login_response(card, pin=PIN)
    app.platform.authority.reset_pin(card.serial)
    assert app.login_response(card, pin=PIN).status_code == 201


@pytest.mark.parametrize("how", ["renew", "reissue"])
def test_a_renewed_or_reissued_card_keeps_the_mykey_id(app, how):
    card = app.issue()
    first = app.client.post("/api/v1/mykey", headers=bearer(app.token(card))).json()["mykey_id"]
    app.clock.advance(timedelta(hours=1))
    replace = getattr(app.platform.authority, how)
    new_card = replace(card, PIN, issued_at=app.clock.now())
    response = app.client.post("/api/v1/mykey", headers=bearer(app.token(new_card)))
    assert response.status_code == 200
    assert response.json()["mykey_id"] == first
    # The old certificate is revoked with the renewal or reissue.
    app.clock.advance(timedelta(seconds=61))
    assert error_code(app.login_response(card)) == "certificate_revoked"


def test_two_concurrent_mykey_requests_for_one_person_give_one_id(app):
    card = app.issue()
    tokens = [app.token(card), app.token(card)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        responses = list(
            pool.map(lambda t: app.client.post("/api/v1/mykey", headers=bearer(t)), tokens)
        )
    assert sorted(r.status_code for r in responses) == [200, 201]
    assert len({r.json()["mykey_id"] for r in responses}) == 1


def test_bad_login_bodies_are_clear_errors(app):
    malformed = app.client.post(
        "/api/v1/auth/sessions", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert malformed.status_code == 400
    assert error_code(malformed) == "malformed_request"
    missing = app.client.post("/api/v1/auth/sessions", json={"challenge_id": "x"})
    assert missing.status_code == 422
    fields = {f["field"] for f in missing.json()["error"]["details"]["fields"]}
    assert fields == {"certificate", "signature"}
    challenge = app.challenge()
    not_base64 = app.client.post(
        "/api/v1/auth/sessions",
        json={"challenge_id": challenge["challenge_id"], "certificate": "x", "signature": "%%%"},
    )
    assert not_base64.status_code == 401
    assert error_code(not_base64) in {"invalid_signature", "untrusted_certificate"}
