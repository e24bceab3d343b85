"""Operators report events, the engine grants points, operators pull instructions (both DBs)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from citizen_app import citizen_app
from ledger_setup import link_person, operator_key
from mynapoint.domain.calendar import JST
from mynapoint.domain.measures import EventKind

NOW = datetime(2021, 7, 19, 10, 0, tzinfo=JST)
APPLIED = datetime(2021, 5, 10, 10, 0, tzinfo=JST)


@pytest.fixture
def app(database_url, tmp_path):
    with citizen_app(database_url, tmp_path, at=NOW) as running:
        yield running


@pytest.fixture
def paypay(app):
    return {
        "Authorization": "Bearer "
        + operator_key(app.platform.unit_of_work(), "paypay", app.platform.catalog, NOW)
    }


def event(
    event_id,
    psid,
    amount=4000,
    at="2021-06-01T12:00:00+09:00",
    kind="charge",
    service="paypay",
    refund_of=None,
):
    body = {
        "event_id": event_id,
        "service_code": service,
        "payment_service_id": psid,
        "kind": kind,
        "amount": amount,
        "occurred_at": at,
    }
    if refund_of is not None:
        body["refund_of"] = refund_of
    return body


def post(app, headers, *events):
    response = app.client.post(
        "/api/v1/operator/events", json={"events": list(events)}, headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json()


def grants(app, headers, **params):
    params.setdefault("due_by", "2099-12-31")
    response = app.client.get("/api/v1/operator/grants", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_charge_after_the_application_becomes_a_grant_instruction(app, paypay):
    _, psid = link_person(app.platform.unit_of_work(), applied_at=APPLIED)
    result = post(
        app,
        paypay,
        event("e1", psid, 30_000),
        event("e0", psid, 3000, at="2021-05-09T12:00:00+09:00"),
    )
    assert result == {
        "accepted": 2,
        "duplicates": 0,
        "rejected": [],
        "events": [
            {"index": 0, "event_id": "e1", "counted": True, "reason": None},
            {"index": 1, "event_id": "e0", "counted": False, "reason": "before_application"},
        ],
    }
    body = grants(app, paypay)
    assert [(g["points"], g["grant_on"], g["event_ids"], g["measure"]) for g in body["grants"]] == [
        (5000, "2021-06-01", ["e1"], "phase1")
    ]
    assert body["next_cursor"] is None


def test_the_same_batch_again_is_all_duplicates_and_changes_nothing(app, paypay):
    _, psid = link_person(app.platform.unit_of_work(), applied_at=APPLIED)
    batch = [event("a", psid, 4000), event("b", psid, 8000, at="2021-06-02T12:00:00+09:00")]
    post(app, paypay, *batch)
    before = grants(app, paypay)["grants"]
    assert post(app, paypay, *batch) == {
        "accepted": 0,
        "duplicates": 2,
        "rejected": [],
        "events": [
            {"index": 0, "event_id": "a", "counted": True, "reason": None},
            {"index": 1, "event_id": "b", "counted": True, "reason": None},
        ],
    }
    assert grants(app, paypay)["grants"] == before


def test_the_same_event_id_with_other_content_is_a_conflict(app, paypay):
    _, psid = link_person(app.platform.unit_of_work(), applied_at=APPLIED)
    post(app, paypay, event("x", psid, 4000))
    result = post(app, paypay, event("x", psid, 5000), event("y", psid, 1000))
    assert result["accepted"] == 1
    assert [(r["index"], r["code"], r["field"]) for r in result["rejected"]] == [
        (0, "event_id_conflict", "event_id")
    ]


def test_every_bad_row_is_reported_and_every_good_row_kept(app, paypay):
    _, psid = link_person(app.platform.unit_of_work(), applied_at=APPLIED)
    rows = [
        event("ok1", psid),
        event("no-offset", psid, at="2021-06-01T12:00:00"),
        event("negative", psid, amount=-5),
        event("unknown", psid, service="nosuch"),
        event("theirs", psid, service="waon"),
        event("unlinked", "9999999999999999"),
        event("future", psid, at="2021-07-19T10:06:00+09:00"),
        {"event_id": "missing"},
        event("ok2", psid, at="2021-07-19T10:04:00+09:00"),
        event("refund-no-original", psid, kind="refund", amount=100),
    ]
    result = post(app, paypay, *rows)
    assert result["accepted"] == 2
    assert [(r["index"], r["event_id"], r["code"]) for r in result["rejected"]] == [
        (1, "no-offset", "invalid_request"),
        (2, "negative", "invalid_request"),
        (3, "unknown", "unknown_service"),
        (4, "theirs", "not_your_service"),
        (5, "unlinked", "account_not_linked"),
        (6, "future", "occurred_in_future"),
        (7, "missing", "invalid_request"),
        (9, "refund-no-original", "invalid_request"),
    ]
    fields = {r["event_id"]: r["field"] for r in result["rejected"]}
    assert fields["no-offset"] == "occurred_at"
    assert fields["negative"] == "amount"
    assert "no UTC offset" in result["rejected"][0]["message"]


def test_a_refund_claws_back_with_a_negative_instruction(app, paypay):
    _, psid = link_person(
        app.platform.unit_of_work(), applied_at=APPLIED, counts=EventKind.PURCHASE
    )
    post(app, paypay, event("buy", psid, 20_000, kind="purchase", at="2021-06-05T12:00:00+09:00"))
    post(
        app,
        paypay,
        event("back", psid, 8000, kind="refund", refund_of="buy", at="2021-06-20T12:00:00+09:00"),
    )
    found = [(g["points"], g["grant_on"], g["event_ids"]) for g in grants(app, paypay)["grants"]]
    assert sorted(found) == [(-2000, "2021-07-21", ["back"]), (5000, "2021-07-06", ["buy"])]


def test_a_refund_that_arrives_before_its_original_is_held_until_it_does(app, paypay):
    _, psid = link_person(app.platform.unit_of_work(), applied_at=APPLIED)
    post(
        app,
        paypay,
        event("back", psid, 2000, kind="refund", refund_of="orig", at="2021-06-10T12:00:00+09:00"),
    )
    assert grants(app, paypay)["grants"] == []
    post(app, paypay, event("orig", psid, 8000))
    assert sorted(g["points"] for g in grants(app, paypay)["grants"]) == [-500, 2000]


def test_acknowledged_instructions_never_change_and_corrections_are_new(app, paypay):
    _, psid = link_person(app.platform.unit_of_work(), applied_at=APPLIED)
    post(app, paypay, event("late", psid, 20_000, at="2021-06-10T12:00:00+09:00"))
    first = grants(app, paypay)["grants"]
    ack = app.client.post(
        "/api/v1/operator/grants/ack",
        json={"grant_ids": [g["grant_id"] for g in first]},
        headers=paypay,
    )
    assert ack.json() == {"acknowledged": 1}
    assert grants(app, paypay)["grants"] == []
    # An earlier event arrives late: it takes the cap first, the later one gives some back.
    post(app, paypay, event("early", psid, 20_000, at="2021-06-01T12:00:00+09:00"))
    corrections = sorted((g["points"], g["event_ids"]) for g in grants(app, paypay)["grants"])
    assert corrections == [(-5000, ["late"]), (5000, ["early"])]


def test_grants_page_with_a_cursor_and_stop_at_due_by(app, paypay):
    psids = [link_person(app.platform.unit_of_work(), applied_at=APPLIED)[1] for _ in range(3)]
    post(app, paypay, *(event(f"e{i}", psid, 400) for i, psid in enumerate(psids)))
    post(app, paypay, event("later", psids[0], 400, at="2021-07-19T09:00:00+09:00"))
    assert len(grants(app, paypay, due_by="2021-06-30")["grants"]) == 3
    # Without due_by: everything due by platform today (2021-07-19).
    default = app.client.get("/api/v1/operator/grants", headers=paypay).json()
    assert len(default["grants"]) == 4
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        body = app.client.get("/api/v1/operator/grants", params=params, headers=paypay).json()
        seen.extend(g["grant_id"] for g in body["grants"])
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 2
    assert len(seen) == len(set(seen)) == 4
    bad = app.client.get("/api/v1/operator/grants", params={"cursor": "!!"}, headers=paypay)
    assert bad.status_code == 422


def test_an_operator_sees_only_its_own_grants(app, paypay):
    _, psid = link_person(app.platform.unit_of_work(), applied_at=APPLIED)
    post(app, paypay, event("e1", psid, 4000))
    waon = {
        "Authorization": "Bearer "
        + operator_key(app.platform.unit_of_work(), "aeon_retail", app.platform.catalog, NOW)
    }
    assert grants(app, waon)["grants"] == []
    theirs = [g["grant_id"] for g in grants(app, paypay)["grants"]]
    ack = app.client.post("/api/v1/operator/grants/ack", json={"grant_ids": theirs}, headers=waon)
    assert ack.json() == {"acknowledged": 0}


def test_a_batch_of_more_than_10000_events_is_too_large(app, paypay):
    rows = [event(f"e{i}", "1") for i in range(10_001)]
    response = app.client.post("/api/v1/operator/events", json={"events": rows}, headers=paypay)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "batch_too_large"


def test_the_cap_holds_across_batches_for_one_person(app, paypay):
    _, psid = link_person(app.platform.unit_of_work(), applied_at=APPLIED)
    for i in range(6):
        post(app, paypay, event(f"c{i}", psid, 7000, at=f"2021-06-0{i + 1}T12:00:00+09:00"))
    assert sum(g["points"] for g in grants(app, paypay)["grants"]) == 5000


def test_the_monthly_statement_is_provisional_then_closed_and_later_corrections_move_on(
    app, paypay
):
    _, psid = link_person(app.platform.unit_of_work(), applied_at=APPLIED)
    post(app, paypay, event("june", psid, 8000))
    june = app.client.get("/api/v1/operator/settlements/2021-06", headers=paypay).json()
    assert june["status"] == "provisional"
    assert june["services"][0]["net_points"] == 2000
    from mynapoint.services.settlement import close_month  # noqa: PLC0415

    close_month(app.platform.unit_of_work(), "2021-06", app.clock.now())
    post(
        app,
        paypay,
        event(
            "refund", psid, 8000, kind="refund", refund_of="june", at="2021-06-20T12:00:00+09:00"
        ),
    )
    closed = app.client.get("/api/v1/operator/settlements/2021-06", headers=paypay).json()
    assert closed == june | {"status": "closed"}
    july = app.client.get("/api/v1/operator/settlements/2021-07", headers=paypay).json()
    assert july["services"][0]["points_clawed_back"] == 2000
    assert july["services"][0]["net_points"] == -2000


def test_a_month_cannot_be_closed_before_it_is_over(app):
    from mynapoint.domain.errors import MynapointError  # noqa: PLC0415
    from mynapoint.services.settlement import close_month  # noqa: PLC0415

    with pytest.raises(MynapointError, match="not over"):
        close_month(app.platform.unit_of_work(), "2021-07", app.clock.now())


def test_events_from_the_day_of_death_earn_nothing(app, paypay):
    _, psid = link_person(
        app.platform.unit_of_work(), applied_at=APPLIED, died_on=date(2021, 6, 15)
    )
    post(
        app,
        paypay,
        event("before", psid, 4000, at="2021-06-14T12:00:00+09:00"),
        event("after", psid, 4000, at="2021-06-15T00:00:00+09:00"),
    )
    assert [g["event_ids"] for g in grants(app, paypay)["grants"]] == [["before"]]


def test_platform_time_decides_what_is_in_the_future(app, paypay):
    _, psid = link_person(app.platform.unit_of_work(), applied_at=APPLIED)
    app.clock.advance(timedelta(days=1))
    result = post(app, paypay, event("tomorrow", psid, at="2021-07-20T10:00:00+09:00"))
    assert result["accepted"] == 1
