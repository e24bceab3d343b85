"""/ministry/settlement: the demo's closed months' statements prepared by one ministry
administrator, approved by another (never by the preparer), paid into a payment file whose
total is the statements'; viewers read; on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import re
from typing import TYPE_CHECKING

import pytest

from ledger_factories import make_grant, make_line
from mynapoint.domain.staff import Role, StaffAccount
from mynapoint.services.passwords import PasswordHasher
from mynapoint.services.settlement import statements
from mynapoint.services.settlement_approvals import totals_of
from staff_console import Console, Terminal, alert, staff_console

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

ADMIN = ("mic-admin", "soumu-admin-2021")
SECOND = ("mic-second", "soumu-second-2021")
VIEWER = ("mic-viewer", "soumu-view-2021")
_PREPARE = re.compile(r'action="/ministry/settlement/(\d{4}-\d{2})/([a-z0-9_.-]+)/prepare"')
_FILE = re.compile(r'href="/ministry/settlement/payment-files/(payment-[0-9T-]+)\.csv"')


@pytest.fixture
def console(database_url: str, tmp_path: Path) -> Iterator[Console]:
    with staff_console(database_url, tmp_path) as console:
        with console.platform.unit_of_work() as uow:
            uow.staff.add(
                StaffAccount(
                    SECOND[0],
                    Role.MINISTRY_ADMIN,
                    None,
                    PasswordHasher().hash(SECOND[1]),
                    console.clock.now(),
                    must_change_password=False,
                )
            )
            # Two operators' June grants (a clawback too), and June closed.
            uow.grants.add_many(
                [
                    make_grant("g1", operator_code="paypay", settlement_month="2021-06"),
                    make_grant(
                        "g2",
                        operator_code="paypay",
                        person="person-2",
                        settlement_month="2021-06",
                        lines=(make_line("event:paypay:e9", points=-700),),
                    ),
                    make_grant(
                        "g3",
                        operator_code="rakuten_edy",
                        service_code="rakuten_edy",
                        settlement_month="2021-06",
                    ),
                ]
            )
            uow.settlements.close("2021-06", console.clock.now())
            uow.commit()
        yield console


def _signed_in(console: Console, who: tuple[str, str]) -> Terminal:
    terminal = console.terminal()
    response = terminal.post("/ministry/sign-in", {"name": who[0], "password": who[1]})
    assert response.status_code == 200, alert(response.text)
    return terminal


def test_four_eyes_on_the_page_then_the_payment_file_matches_the_statements(
    console: Console,
) -> None:
    admin, second = _signed_in(console, ADMIN), _signed_in(console, SECOND)
    listing = admin.client.get("/ministry/settlement")
    assert listing.status_code == 200
    assert listing.headers["cache-control"] == "no-store"
    month, operator = _PREPARE.findall(listing.text)[0]

    prepared = admin.post(f"/ministry/settlement/{month}/{operator}/prepare", {})
    assert prepared.status_code == 200
    assert "別の管理者が承認します" in prepared.text
    assert f"/ministry/settlement/{month}/{operator}/approve" not in prepared.text

    same = admin.post(f"/ministry/settlement/{month}/{operator}/approve", {})
    assert same.status_code == 409
    assert "same_person" in same.text
    assert "あなたは承認できません" in alert(same.text)

    assert (
        f"/ministry/settlement/{month}/{operator}/approve"
        in second.client.get(f"/ministry/settlement?month={month}").text
    )
    approved = second.post(f"/ministry/settlement/{month}/{operator}/approve", {})
    assert approved.status_code == 200, alert(approved.text)
    again = second.post(f"/ministry/settlement/{month}/{operator}/approve", {})
    assert again.status_code == 409
    assert "wrong_state" in again.text

    paid = admin.post(f"/ministry/settlement/{month}/pay", {})
    assert paid.status_code == 200, alert(paid.text)
    [name] = set(_FILE.findall(paid.text))
    download = _signed_in(console, VIEWER).client.get(
        f"/ministry/settlement/payment-files/{name}.csv"
    )
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(download.text)))
    with console.platform.unit_of_work() as uow:
        statement = statements(uow, month)[operator]
    assert rows[1][0] == operator
    assert int(rows[1][-1]) == totals_of(statement).amount_yen
    assert rows[-1] == ["TOTAL", "1", "", "", "", "", "", rows[1][-1]]
    actions = [action for action in console.actions() if action.startswith("settlement_")]
    assert actions == ["settlement_prepared", "settlement_approved", "settlement_paid"]


def test_a_viewer_reads_the_page_without_actions_and_is_refused_any(console: Console) -> None:
    viewer = _signed_in(console, VIEWER)
    listing = viewer.client.get("/ministry/settlement?lang=en")
    assert listing.status_code == 200
    assert "/prepare" not in listing.text
    assert "Settlement" in listing.text

    refused = viewer.post("/ministry/settlement/2021-06/paypay/prepare", {})
    assert refused.status_code == 403


@pytest.mark.parametrize(
    "path",
    [
        "/ministry/settlement?month=2021-13",
        "/ministry/settlement/payment-files/payment-2021-06-20210701T000000.csv",
        "/ministry/settlement/payment-files/..%2Fetc.csv",
        "/ministry/settlement/payment-files/payment-2021-13-20210701T000000.csv",
    ],
)
def test_bad_input_is_refused_clearly_without_a_server_error(console: Console, path: str) -> None:
    viewer = _signed_in(console, VIEWER)
    response = viewer.client.get(path)
    assert response.status_code in {404, 422}


@pytest.mark.parametrize(
    ("path", "status", "says"),
    [
        ("/ministry/settlement/2021-13/paypay/prepare", 422, None),
        ("/ministry/settlement/2021-06/no-such-operator/prepare", 409, "no_statement"),
        ("/ministry/settlement/2021-07/paypay/prepare", 409, "month_not_closed"),
        ("/ministry/settlement/2021-06/rakuten_edy/approve", 409, "not_prepared"),
        ("/ministry/settlement/2021-06/pay", 409, "nothing_to_do"),
    ],
)
def test_an_action_that_cannot_be_done_says_why_with_its_code(
    console: Console, path: str, status: int, says: str | None
) -> None:
    response = _signed_in(console, ADMIN).post(path, {})
    assert response.status_code == status
    if says is not None:
        assert says in response.text
        assert alert(response.text)
