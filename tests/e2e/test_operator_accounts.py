"""Operators' API keys and accounts through the HTTP API and `mynapoint operator key`."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import stat

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from citizen_app import bearer, citizen_app
from mynapoint.cli import app as cli_app
from mynapoint.db.tables import operator_keys, payment_accounts
from mynapoint.demo import DEMO_ACCOUNTS, seed_demo_cards, seed_demo_operator
from mynapoint.jpki.card import VirtualCard

PAYPAY_ID = "1234567890123456"
ACCOUNTS = "/api/v1/operator/services/{service}/accounts/{id}"


@pytest.fixture
def app(database_url, tmp_path):
    with citizen_app(database_url, tmp_path) as running:
        yield running


def error_code(response) -> str:
    return response.json()["error"]["code"]


def put_account(app, key, *, service="paypay", payment_service_id=PAYPAY_ID, **body):
    document = {"security_code": "1234", "holder_name": "ヤマダ タロウ", **body}
    return app.client.put(
        ACCOUNTS.format(service=service, id=payment_service_id),
        json=document,
        headers=bearer(key) if key else {},
    )


def test_an_account_is_created_then_replaced(app):
    key = app.operator_key("paypay")
    created = put_account(app, key)
    assert created.status_code == 201, created.text
    assert created.json()["created"] is True
    assert created.json()["payment_service_id"] == PAYPAY_ID
    replaced = put_account(app, key, security_code="5678", holder_name="ヤマダ ハナコ")
    assert replaced.status_code == 200
    assert replaced.json()["created"] is False
    token = app.citizen(app.issue())
    preview = app.client.post(
        "/api/v1/applications/preview",
        json={"service_code": "paypay", "payment_service_id": PAYPAY_ID, "security_code": "5678"},
        headers=bearer(token),
    )
    assert preview.json() == {"holder_name_masked": "ヤマダ ハ**"}


def test_the_security_code_is_kept_only_as_a_keyed_hmac_and_the_key_as_a_sha256(app):
    key = app.operator_key("paypay")
    assert put_account(app, key, security_code="8642").status_code == 201
    with app.platform.engine.connect() as connection:
        account = connection.execute(select(payment_accounts)).one()
        stored_key = connection.execute(select(operator_keys)).one()
    code_key = app.platform.settings.code_key_path
    secret_of_the_hmac = base64.b64decode(code_key.read_bytes())
    expected = hmac.new(secret_of_the_hmac, b"8642", hashlib.sha256).digest()
    assert account.security_code_hash == "$hmac-sha256$v=1$" + base64.urlsafe_b64encode(
        expected
    ).decode().rstrip("=")
    # The HMAC's secret is a file outside the database, readable by its owner only.
    assert stat.S_IMODE(code_key.stat().st_mode) == 0o600
    secret = key.split(".", 1)[1]
    assert secret not in repr(stored_key)
    assert len(stored_key.secret_hash) == 64


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "not_authenticated"),
        ({"Authorization": "Bearer mnp_abcdefghijkl.not-a-real-secret"}, "invalid_token"),
        ({"Authorization": "Bearer something-else"}, "invalid_token"),
    ],
)
def test_operator_routes_need_a_valid_api_key(app, headers, code):
    response = app.client.put(
        ACCOUNTS.format(service="paypay", id=PAYPAY_ID),
        json={"security_code": "1234", "holder_name": "ヤマダ タロウ"},
        headers=headers,
    )
    assert response.status_code == 401
    assert error_code(response) == code


def test_a_key_with_a_wrong_secret_is_invalid(app):
    key = app.operator_key("paypay")
    tampered = key[:-2] + ("AA" if not key.endswith("AA") else "BB")
    assert error_code(put_account(app, tampered)) == "invalid_token"
    # A citizen's session token is no operator key either.
    token = app.token(app.issue())
    assert error_code(put_account(app, token)) == "invalid_token"


def test_an_operator_cannot_register_an_account_of_another_operators_service(app):
    waon_key = app.operator_key("aeon_retail")
    response = put_account(app, waon_key)
    assert response.status_code == 403
    assert error_code(response) == "not_your_service"
    unlock = app.client.post(
        ACCOUNTS.format(service="paypay", id=PAYPAY_ID) + "/unlock", headers=bearer(waon_key)
    )
    assert error_code(unlock) == "not_your_service"


def test_a_service_not_in_the_catalog_is_unknown(app):
    response = put_account(app, app.operator_key("paypay"), service="paypal")
    assert response.status_code == 404
    assert error_code(response) == "unknown_service"


@pytest.mark.parametrize(
    ("service", "payment_service_id", "body", "field"),
    [
        ("paypay", "12345", {}, "payment_service_id"),
        ("paypay", PAYPAY_ID, {"security_code": "12345"}, "security_code"),
        ("paypay", PAYPAY_ID, {"holder_name": "ア" * 101}, "holder_name"),
        ("paypay", PAYPAY_ID, {"holder_name": "   "}, "holder_name"),
        ("rakuten_card", "RC1234567890", {"security_code": "1234"}, "security_code"),
        ("rakuten_card", "RC1234567890", {"security_code": "1234-1325"}, "security_code"),
    ],
)
def test_ids_codes_and_names_out_of_format_are_invalid_request(
    app, service, payment_service_id, body, field
):
    operator = app.platform.catalog.get(service).operator.code
    response = put_account(
        app,
        app.operator_key(operator),
        service=service,
        payment_service_id=payment_service_id,
        **body,
    )
    assert response.status_code == 422, response.text
    assert error_code(response) == "invalid_request"
    assert [f["field"] for f in response.json()["error"]["details"]["fields"]] == [field]


def test_a_service_with_two_security_codes_takes_them_joined_with_a_hyphen(app):
    key = app.operator_key("rakuten_card")
    response = put_account(
        app, key, service="rakuten_card", payment_service_id="RC1234567890", security_code="1"
    )
    assert "joined with '-', e.g. 1234-0825" in response.json()["error"]["message"]
    joined = put_account(
        app,
        key,
        service="rakuten_card",
        payment_service_id="RC1234567890",
        security_code="1234-0825",
    )
    assert joined.status_code == 201, joined.text


def test_unlocking_an_unknown_account_is_not_found(app):
    response = app.client.post(
        ACCOUNTS.format(service="paypay", id=PAYPAY_ID) + "/unlock",
        headers=bearer(app.operator_key("paypay")),
    )
    assert response.status_code == 404
    assert error_code(response) == "not_found"


def test_two_keys_of_one_operator_both_work(app):
    first, second = app.operator_key("paypay"), app.operator_key("paypay")
    assert first != second
    assert put_account(app, first).status_code == 201
    assert put_account(app, second).status_code == 200


# --- `mynapoint operator key` ------------------------------------------------------------------


def test_the_cli_prints_a_key_once_that_the_api_accepts(app, database_url, tmp_path):
    env = {"MYNAPOINT_DATABASE_URL": database_url, "MYNAPOINT_VAR_DIR": str(tmp_path)}
    result = CliRunner().invoke(cli_app, ["operator", "key", "paypay"], env=env)
    assert result.exit_code == 0, result.stderr
    key = result.stdout.strip()
    assert key.startswith("mnp_")
    assert "only this once" in result.stderr
    assert put_account(app, key).status_code == 201


def test_the_cli_refuses_an_unknown_operator_and_lists_the_known_ones(database_url, tmp_path):
    env = {"MYNAPOINT_DATABASE_URL": database_url, "MYNAPOINT_VAR_DIR": str(tmp_path)}
    result = CliRunner().invoke(cli_app, ["operator", "key", "paypal"], env=env)
    assert result.exit_code == 1
    assert "paypal" in result.stderr
    assert "paypay" in result.stderr
    assert "aeon_retail" in result.stderr
    assert result.stdout == ""


# --- the demo ------------------------------------------------------------------------------------


def test_the_demo_operator_key_is_issued_once_and_its_accounts_work(app, tmp_path):
    cards = {s.card.name: s for s in seed_demo_cards(app.platform)}
    operator, key, accounts = seed_demo_operator(app.platform)
    again = seed_demo_operator(app.platform)
    assert (operator, key) == ("paypay", again[1])
    assert accounts == DEMO_ACCOUNTS
    document = json.loads((tmp_path / "demo-operator.json").read_text(encoding="utf-8"))
    assert document["key"] == key
    assert stat.S_IMODE((tmp_path / "demo-operator.json").stat().st_mode) == 0o600
    assert put_account(app, key).status_code == 200  # the parent's demo account exists
    parent = cards["parent"]
    token = app.citizen(VirtualCard.read(parent.path), pin=parent.card.pin)
    account = next(a for a in accounts if a.card == "parent")
    preview = app.client.post(
        "/api/v1/applications/preview",
        json={
            "service_code": account.service_code,
            "payment_service_id": account.payment_service_id,
            "security_code": account.security_code,
        },
        headers=bearer(token),
    )
    assert preview.json() == {"holder_name_masked": "ヤマダ タ**"}
