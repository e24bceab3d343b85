"""/operator/grants and /operator/statements end to end on SQLite and PostgreSQL: the counts
of overdue, due, upcoming and acknowledged instructions, the pending ones paged, each month's
statement as CSV; PayPay's administrator and staff see PayPay's only, never AEON's, not even
by guessing URLs; bad input is refused without a 500."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta

import pytest

from ledger_factories import make_grant, make_line
from mynapoint.domain.staff import Role
from staff_console import heading, staff_console

PAYPAY_ADMIN = ("paypay-admin", "paypay-admin-2021")
PAYPAY_STAFF = ("paypay-tanaka", "paypay-staff-2021")
AEON_ADMIN = ("aeon-admin", "aeon-admin-2021")
TODAY = date(2021, 7, 19)  # the console's platform day (JST)
_COUNT = re.compile(r"<dt>([^<]+)</dt><dd>(\d+)</dd>")


@pytest.fixture
def console(database_url, tmp_path):
    with staff_console(database_url, tmp_path, with_cards=False) as running:
        running.add_signed_up(*PAYPAY_STAFF, Role.OPERATOR_STAFF, operator="paypay")
        running.add_signed_up(*AEON_ADMIN, Role.OPERATOR_ADMIN, operator="aeon_retail")
        paypay = [
            make_grant("pp1", operator_code="paypay", service_code="paypay",
                       grant_on=TODAY - timedelta(days=3), lines=(make_line(source="event:e1"),)),
            make_grant("pp2", operator_code="paypay", service_code="paypay", grant_on=TODAY,
                       lines=(make_line(source="event:e2"),)),
            make_grant("pp3", operator_code="paypay", service_code="paypay",
                       grant_on=TODAY + timedelta(days=2), lines=(make_line(source="event:e3"),)),
            make_grant("pp4", operator_code="paypay", service_code="paypay",
                       acknowledged_at=running.clock.now(), lines=(make_line(source="event:e4"),)),
        ]  # fmt: skip
        aeon = make_grant("aeon1", operator_code="aeon_retail", service_code="waon",
                          payment_service_id="9999000011112222",
                          lines=(make_line(source="event:a1"),))  # fmt: skip
        uow = running.platform.unit_of_work()
        with uow:
            uow.grants.add_many([*paypay, aeon])
            uow.commit()
        yield running


@pytest.mark.parametrize("who", [PAYPAY_ADMIN, PAYPAY_STAFF], ids=["admin", "staff"])
def test_the_operator_sees_its_grants_counted_and_the_pending_ones_listed(console, who):
    reader = console.signed_in_at("/operator", *who)

    response = reader.client.get("/operator/grants?lang=ja")

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    counts = dict(_COUNT.findall(response.text))
    assert counts == {"期限切れ(受領なし)": "1", "本日が付与日": "1", "付与日が先のもの": "1",
                      "受領済み": "1"}  # fmt: skip
    assert "pp1" in response.text
    assert "pp2" in response.text
    assert "pp3" not in response.text  # not due yet
    assert "pp4" not in response.text  # acknowledged
    assert "aeon1" not in response.text
    assert "期限切れ" in response.text


def test_the_pending_grants_are_paged(console, monkeypatch):
    monkeypatch.setattr("mynapoint.web.pages.operator.grants.PAGE", 1)
    reader = console.signed_in_at("/operator", *PAYPAY_STAFF)

    first = reader.client.get("/operator/grants")
    cursor = re.search(r'href="/operator/grants\?cursor=([^"]+)"', first.text)
    assert cursor is not None
    second = reader.client.get(f"/operator/grants?cursor={cursor[1]}")

    assert "pp1" in first.text
    assert "pp2" not in first.text
    assert "pp2" in second.text
    bad = reader.client.get("/operator/grants?cursor=%21%21")
    assert bad.status_code == 422
    assert "invalid_request" in bad.text


def test_another_operator_sees_none_of_paypays_grants_nor_statements(console):
    aeon = console.signed_in_at("/operator", *AEON_ADMIN)

    grants = aeon.client.get("/operator/grants?lang=ja")
    statement = aeon.client.get("/operator/statements/2021-07.csv")

    assert "aeon1" in grants.text
    assert not any(f"pp{n}" in grants.text for n in range(1, 5))
    rows = list(csv.DictReader(io.StringIO(statement.text)))
    assert [row["service_code"] for row in rows] == ["waon"]


def test_a_months_statement_downloads_as_csv(console):
    reader = console.signed_in_at("/operator", *PAYPAY_STAFF)

    listing = reader.client.get("/operator/statements?lang=ja")
    download = reader.client.get("/operator/statements/2021-07.csv")

    assert listing.status_code == 200
    assert 'href="/operator/statements/2021-07.csv"' in listing.text
    assert "暫定" in listing.text
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    assert download.headers["cache-control"] == "no-store"
    assert "mynapoint-statement-paypay-2021-07.csv" in download.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert len(rows) == 1
    assert rows[0]["service_code"] == "paypay"
    assert rows[0]["status"] == "provisional"
    assert int(rows[0]["points_granted"]) > 0
    assert int(rows[0]["reimbursement_yen"]) == int(rows[0]["net_points"])


@pytest.mark.parametrize("month", ["2021-13", "nope", "..%2F..%2Fetc"])
def test_a_bad_month_is_refused_without_a_500(console, month):
    reader = console.signed_in_at("/operator", *PAYPAY_STAFF)
    assert reader.client.get(f"/operator/statements/{month}.csv").status_code in {404, 422}


def test_the_pages_read_in_english(console):
    reader = console.signed_in_at("/operator", *PAYPAY_ADMIN)
    assert heading(reader.client.get("/operator/grants?lang=en").text) == "Point grants"
    assert heading(reader.client.get("/operator/statements?lang=en").text) == "Monthly statements"
