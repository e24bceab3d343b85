"""Logs never carry identifiers: the access log writes route templates, the database layer
never writes bound parameters."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, StatementError

from citizen_app import DEMO_DAY, bearer, citizen_app
from mynapoint.db.engine import create_engine_for
from mynapoint.logs import JsonFormatter, logged_path

if TYPE_CHECKING:
    from collections.abc import Iterator

    from citizen_app import CitizenApp

PAYMENT_SERVICE_ID = "1234567890123456"


@pytest.fixture
def site(database_url, tmp_path) -> Iterator[CitizenApp]:
    with citizen_app(database_url, tmp_path, DEMO_DAY) as app:
        yield app


def access_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    formatter = JsonFormatter()
    return [formatter.format(r) for r in caplog.records if r.name == "mynapoint.access"]


def test_the_access_log_writes_the_route_template_not_the_payment_service_id(site, caplog):
    key = site.operator_key("paypay")
    with caplog.at_level(logging.INFO, logger="mynapoint.access"):
        site.register_account(key, PAYMENT_SERVICE_ID, "1234")
        site.client.post(
            f"/api/v1/operator/services/paypay/accounts/{PAYMENT_SERVICE_ID}/unlock",
            headers=bearer(key),
        )
    lines = access_lines(caplog)
    assert len(lines) == 2
    assert all(PAYMENT_SERVICE_ID not in line for line in lines)
    assert "/api/v1/operator/services/{code}/accounts/{payment_service_id}" in lines[0]


def test_an_unrouted_path_is_logged_with_its_identifiers_masked(site, caplog):
    with caplog.at_level(logging.INFO, logger="mynapoint.access"):
        site.client.get(f"/api/v1/nowhere/{PAYMENT_SERVICE_ID}/abcdef0123456789abcdef")
    (line,) = access_lines(caplog)
    assert PAYMENT_SERVICE_ID not in line
    assert "************3456" in line
    assert "abcdef0123456789abcdef" not in line


@pytest.mark.parametrize(
    ("path", "template", "logged"),
    [
        ("/api/v1/applications/abc", "/api/v1/applications/{application_id}", None),
        ("/x/1234567890123456", None, "/x/************3456"),
        ("/x/12345", None, "/x/*2345"),
        ("/x/1234", None, "/x/1234"),
        ("/static/vendor/swagger-ui/swagger-ui-bundle.js", None, None),
    ],
)
def test_logged_path(path, template, logged):
    assert logged_path(path, template) == (logged or template or path)


def test_a_database_error_does_not_carry_its_bound_parameters(database_url):
    engine = create_engine_for(database_url)
    try:
        with pytest.raises((DBAPIError, StatementError)) as raised, engine.connect() as connection:
            connection.execute(
                text("SELECT * FROM no_such_table WHERE name = :name"),
                {"name": "chuo-staff-secret-name"},
            )
        assert "chuo-staff-secret-name" not in str(raised.value)
        assert "hidden due to hide_parameters" in str(raised.value)
    finally:
        engine.dispose()


def test_an_unexpected_error_is_logged_with_the_route_template(site, caplog, monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr("mynapoint.web.api.operator_accounts.unlock_account", broken)
    key = site.operator_key("paypay")
    client = TestClient(site.client.app, raise_server_exceptions=False)
    with caplog.at_level(logging.ERROR, logger="mynapoint.web"):
        response = client.post(
            f"/api/v1/operator/services/paypay/accounts/{PAYMENT_SERVICE_ID}/unlock",
            headers=bearer(key),
        )
    assert response.status_code == 500
    (record,) = [r for r in caplog.records if r.name == "mynapoint.web"]
    line = JsonFormatter().format(record)
    assert PAYMENT_SERVICE_ID not in line
    assert "{payment_service_id}/unlock" in line
