"""Past the revocation list's next update, with a card authority that cannot issue a newer one,
every certificate check is refused with revocation_list_stale (503): the API login, the
pages' card login, the counter's card read and a representative's signature."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from citizen_app import bearer, citizen_app
from staff_console import STAFF, alert, staff_console

# The simulated authority's lists hold for a day (jpki/certificates.py CRL_LIFETIME).
PAST_NEXT_UPDATE = timedelta(days=1, minutes=1)
STALE_JA = "電子証明書の失効情報を確認できないため"
STALE_EN = "the list of revoked certificates could not be brought up to date"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def app(database_url, tmp_path):
    with citizen_app(database_url, tmp_path, stuck_revocations=True) as running:
        yield running


@pytest.fixture
def console(database_url, tmp_path):
    with staff_console(database_url, tmp_path, stuck_revocations=True) as running:
        yield running


def error(response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


def test_the_api_login_is_refused_once_the_list_is_past_its_next_update(app):
    card = app.issue()
    assert app.login_response(card).status_code == 201
    app.clock.advance(timedelta(days=1) - timedelta(seconds=1))
    assert app.login_response(card).status_code == 201

    app.clock.advance(timedelta(seconds=1))
    refused = app.login_response(card)

    assert error(refused) == (503, "revocation_list_stale")
    assert refused.json()["error"]["details"]["next_update"] == "2021-07-20T01:00:00Z"


def test_a_representatives_signature_is_refused_once_the_list_is_past_its_next_update(app):
    key = app.operator_key("paypay")
    assert app.register_account(key, "1234567890123456", "1234").status_code == 201
    child = app.issue_person(birth_date=date(2012, 6, 1))
    parent = app.issue_person(birth_date=date(1985, 5, 15), representative_of=child)
    app.clock.advance(timedelta(days=1) - timedelta(minutes=1))
    token = app.citizen(child)

    app.clock.advance(timedelta(minutes=1))
    body = {
        "measure": "phase1",
        "service_code": "paypay",
        "payment_service_id": "1234567890123456",
        "security_code": "1234",
        "counts": "charge",
        "representative": app.representative(parent),
    }
    refused = app.client.post("/api/v1/applications", json=body, headers=bearer(token))

    assert error(refused) == (503, "revocation_list_stale")


def test_the_pages_card_login_says_cards_cannot_be_checked_now(console):
    citizen = console.terminal()
    console.clock.advance(PAST_NEXT_UPDATE)
    page = citizen.client.get("/login").text
    token = CSRF.search(page)
    assert token is not None

    refused = citizen.client.post(
        "/login", data={"csrf_token": token[1], "card": "parent", "pin": "1234"}
    )
    english = citizen.client.post(
        "/login?lang=en", data={"csrf_token": token[1], "card": "parent", "pin": "1234"}
    )

    assert refused.status_code == 503
    assert STALE_JA in refused.text
    assert "mp_session" not in refused.cookies
    assert STALE_EN in english.text


def test_the_counters_card_read_is_refused_and_recorded(console):
    console.clock.advance(PAST_NEXT_UPDATE)
    staff = console.signed_in(*STAFF)

    refused = staff.read_card("senior")

    assert refused.status_code == 503
    assert STALE_JA in alert(refused.text)
    failure = console.audit()[-1].entry
    assert failure.action == "card_read_failed"
    assert failure.details["code"] == "revocation_list_stale"
