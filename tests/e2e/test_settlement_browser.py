"""/ministry/settlement in a real browser (Debian's chromium): one ministry administrator
prepares, the page offers them no approval, a second approves, the first pays; each state
passes axe and does not scroll sideways at 375 and 1280 px, and is photographed at both
widths (test-artifacts/screenshots/settlement-*)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from demo_site import demo_site
from ledger_factories import make_grant, make_line
from mynapoint.domain.staff import Role, StaffAccount
from mynapoint.services.passwords import PasswordHasher

SECOND = ("mic-second", "soumu-second-2021")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    # SQLite only: the TestClient tests run the same pages on both databases.
    from mynapoint.db.engine import sqlite_url  # noqa: PLC0415

    tmp = tmp_path_factory.mktemp("settlement")
    with demo_site(sqlite_url(tmp / "site.db"), tmp) as running:
        uow = running.platform.unit_of_work()
        now = running.clock.now()
        with uow:
            uow.staff.add(
                StaffAccount(SECOND[0], Role.MINISTRY_ADMIN, None,
                             PasswordHasher().hash(SECOND[1]), now, must_change_password=False)
            )  # fmt: skip
            uow.grants.add_many(
                [
                    make_grant("s1", operator_code="paypay", settlement_month="2021-06"),
                    make_grant(
                        "s2",
                        operator_code="paypay",
                        person="person-2",
                        settlement_month="2021-06",
                        lines=(make_line("event:paypay:e9", points=-700),),
                    ),
                    make_grant("s3", operator_code="rakuten_edy", settlement_month="2021-06"),
                ]
            )
            uow.settlements.close("2021-06", now)
            uow.commit()
        yield running


def sign_in(site, page, name, password):
    page.goto(f"{site.url}/ministry/sign-in")
    page.get_by_label("サインイン名").fill(name)
    page.get_by_label("パスワード", exact=True).fill(password)
    page.get_by_role("button", name="サインイン").click()
    page.wait_for_load_state("load")


def test_prepared_by_one_approved_by_another_paid_in_a_file(site, new_page, console_look):
    admin = new_page()
    sign_in(site, admin, "mic-admin", "soumu-admin-2021")
    admin.get_by_role("link", name="精算", exact=True).first.click()
    expect(admin.locator("h1")).to_have_text("精算")
    expect(admin.locator("h2").first).to_have_text("2021-06 分の精算書")
    console_look(admin, "settlement-unprepared")

    admin.get_by_role("button", name="PayPay株式会社 の精算書を作成する").click()
    admin.wait_for_load_state("load")
    expect(admin.get_by_role("status")).to_contain_text("別の管理者が承認します")
    admin.get_by_role("button", name="楽天Edy株式会社 の精算書を作成する").click()
    admin.wait_for_load_state("load")
    expect(admin.get_by_role("button", name="PayPay株式会社 の精算書を承認する")).to_have_count(0)
    console_look(admin, "settlement-prepared")

    second = new_page()
    sign_in(site, second, *SECOND)
    second.goto(f"{site.url}/ministry/settlement?month=2021-06")
    second.get_by_role("button", name="PayPay株式会社 の精算書を承認する").click()
    second.wait_for_load_state("load")
    expect(second.get_by_role("status")).to_contain_text("承認しました")
    console_look(second, "settlement-approved")

    admin.goto(f"{site.url}/ministry/settlement?month=2021-06")
    with admin.expect_navigation():
        admin.get_by_role("button", name="支払ファイルを作成する").click()
    expect(admin.get_by_role("status")).to_contain_text("支払済みにしました")
    expect(admin.get_by_role("link", name="payment-2021-06-", exact=False).first).to_be_visible()
    console_look(admin, "settlement-paid")

    admin.goto(f"{site.url}/ministry/settlement?month=2021-06&lang=en")
    expect(admin.locator("h1")).to_have_text("Settlement")
    console_look(admin, "settlement-paid-en")


def test_a_viewer_reads_without_actions(site, new_page, console_look):
    page = new_page()
    sign_in(site, page, "mic-viewer", "soumu-view-2021")
    page.goto(f"{site.url}/ministry/settlement?month=2021-06")
    expect(page.locator("h1")).to_have_text("精算")
    expect(page.get_by_role("button", name="作成する")).to_have_count(0)
    console_look(page, "settlement-viewer")
