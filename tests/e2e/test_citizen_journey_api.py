"""The whole loop through the API: card, MyKey ID, application, events, points (both DBs)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from citizen_app import bearer, citizen_app
from mynapoint.domain.calendar import JST

NOW = datetime(2021, 7, 19, 10, 0, tzinfo=JST)


@pytest.fixture
def app(database_url, tmp_path):
    with citizen_app(database_url, tmp_path, at=NOW) as running:
        yield running


def test_a_citizen_sees_points_granted_and_scheduled_after_the_operator_reports(app):
    key = app.operator_key("paypay")
    assert app.register_account(key, "1234567890123456", "1234").status_code == 201
    card = app.issue_person()
    token = app.citizen(card)
    applied = app.client.post(
        "/api/v1/applications",
        headers=bearer(token),
        json={
            "measure": "phase1",
            "service_code": "paypay",
            "payment_service_id": "1234567890123456",
            "security_code": "1234",
            "counts": "purchase",
        },
    )
    assert applied.status_code == 201, applied.text
    assert applied.json()["holder_name_masked"] == "ヤマダ タ**"

    events = [
        {
            "event_id": "p1",
            "service_code": "paypay",
            "payment_service_id": "1234567890123456",
            "kind": "purchase",
            "amount": 8000,
            "occurred_at": "2021-07-19T10:30:00+09:00",
        },
        {
            "event_id": "c1",
            "service_code": "paypay",
            "payment_service_id": "1234567890123456",
            "kind": "charge",
            "amount": 8000,
            "occurred_at": "2021-07-19T10:31:00+09:00",
        },
    ]
    app.clock.advance(timedelta(hours=1))
    posted = app.client.post(
        "/api/v1/operator/events", json={"events": events}, headers=bearer(key)
    )
    assert posted.json()["accepted"] == 2

    # An hour later the first session (30 minutes) has ended: sign in again.
    me = app.client.get("/api/v1/me", headers=bearer(app.token(card))).json()
    # Purchases with PayPay are granted 30 days after the day following the payment.
    assert me["points"] == {
        "total": 2000,
        "granted": 0,
        "scheduled": 2000,
        "by_measure": {"phase1": 2000},
    }
    assert me["grants"] == [
        {"measure": "phase1", "points": 2000, "grant_on": "2021-08-19", "status": "scheduled"}
    ]
    assert [a["status"] for a in me["applications"]] == ["active"]

    # Another person signed in sees only their own (empty) page.
    stranger = app.token(app.issue_person())
    page = app.client.get("/api/v1/me", headers=bearer(stranger))
    assert page.status_code == 200, page.text
    assert page.json()["points"]["total"] == 0


def test_points_for_a_charge_are_granted_on_the_charge_day(app):
    key = app.operator_key("paypay")
    app.register_account(key, "2234567890123456", "4321")
    card = app.issue_person()
    token = app.citizen(card)
    app.client.post(
        "/api/v1/applications",
        headers=bearer(token),
        json={
            "measure": "phase1",
            "service_code": "paypay",
            "payment_service_id": "2234567890123456",
            "security_code": "4321",
            "counts": "charge",
        },
    )
    app.clock.set(datetime(2021, 7, 19, 12, 0, tzinfo=JST))
    posted = app.client.post(
        "/api/v1/operator/events",
        headers=bearer(key),
        json={
            "events": [
                {
                    "event_id": "c",
                    "service_code": "paypay",
                    "payment_service_id": "2234567890123456",
                    "kind": "charge",
                    "amount": 20_000,
                    "occurred_at": "2021-07-19T11:00:00+09:00",
                }
            ]
        },
    )
    assert posted.json()["accepted"] == 1
    me = app.client.get("/api/v1/me", headers=bearer(app.token(card))).json()
    assert me["points"]["granted"] == 5000
    assert me["grants"][0]["status"] == "granted"
