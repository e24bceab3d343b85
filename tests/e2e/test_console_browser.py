"""The ministry's, the payment operators' and the city's console pages in a real browser
(Debian's chromium), as `make run` serves them with its demo accounts: each new page passes
axe and does not scroll sideways at 375 and 1280 px, and is photographed at both widths
(test-artifacts/screenshots/console-*)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from demo_site import demo_site


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    # SQLite only: what is checked here is the browser's view; the TestClient tests run the
    # same pages on both databases.
    from mynapoint.db.engine import sqlite_url  # noqa: PLC0415

    tmp = tmp_path_factory.mktemp("consoles")
    with demo_site(sqlite_url(tmp / "site.db"), tmp) as running:
        yield running


def sign_in(site, page, prefix, name, password):
    page.goto(f"{site.url}{prefix}/sign-in")
    page.get_by_label("サインイン名").fill(name)
    page.get_by_label("パスワード", exact=True).fill(password)
    page.get_by_role("button", name="サインイン").click()
    page.wait_for_load_state("load")


def test_the_ministry_admin_signs_in_and_creates_an_auditor(site, new_page, console_look):
    page = new_page()
    page.goto(f"{site.url}/ministry/sign-in")
    expect(page.locator("h1")).to_have_text("総務省サインイン")
    console_look(page, "ministry-sign-in")

    sign_in(site, page, "/ministry", "mic-admin", "soumu-admin-2021")
    expect(page.locator("h1")).to_have_text("マイナポイント 総務省")
    console_look(page, "ministry-home")

    page.get_by_role("link", name="アカウント", exact=True).first.click()
    expect(page.locator("h1")).to_have_text("アカウント")
    console_look(page, "ministry-accounts")

    page.get_by_label("サインイン名").fill("mic-auditor-2")
    page.get_by_label("役割").select_option("auditor")
    page.get_by_role("button", name="作成する").click()
    page.wait_for_load_state("load")
    expect(page.locator("h1")).to_have_text("一時パスワード")
    expect(page.locator("dl.one-time-password code").nth(1)).to_have_text(
        re.compile(r"[A-Za-z0-9_-]{16}")
    )
    console_look(page, "ministry-one-time-password")

    page.goto(f"{site.url}/ministry/password")
    expect(page.locator("h1")).to_have_text("パスワードの変更")
    console_look(page, "ministry-password")


def test_a_viewer_sees_the_forbidden_page_in_japanese_and_english(site, new_page, console_look):
    page = new_page()
    sign_in(site, page, "/ministry", "mic-viewer", "soumu-view-2021")
    expect(page.get_by_role("link", name="アカウント", exact=True)).to_have_count(0)

    page.goto(f"{site.url}/ministry/accounts")
    expect(page.locator("h1")).to_have_text("このページを表示する権限がありません")
    console_look(page, "ministry-forbidden")
    page.goto(f"{site.url}/ministry/accounts?lang=en")
    expect(page.locator("h1")).to_have_text("You may not open this page")
    console_look(page, "ministry-forbidden-en")


def test_the_operator_admin_sees_its_own_operators_accounts(site, new_page, console_look):
    page = new_page()
    page.goto(f"{site.url}/operator/sign-in")
    console_look(page, "operator-sign-in")
    sign_in(site, page, "/operator", "paypay-admin", "paypay-admin-2021")
    expect(page.locator("h1")).to_have_text("マイナポイント 決済事業者")
    console_look(page, "operator-home")

    page.goto(f"{site.url}/operator/accounts")
    expect(page.get_by_role("row", name=re.compile("paypay-admin"))).to_be_visible()
    console_look(page, "operator-accounts")
    page.goto(f"{site.url}/operator/accounts?lang=en")
    expect(page.locator("h1")).to_have_text("Accounts")
    console_look(page, "operator-accounts-en")
    page.goto(f"{site.url}/operator/password?lang=ja")
    expect(page.locator("h1")).to_have_text("パスワードの変更")
    console_look(page, "operator-password")


def test_the_city_admin_disables_and_enables_a_staff_member(site, new_page, console_look):
    page = new_page()
    sign_in(site, page, "/staff", "fukuoka-admin", "shiyakusho-2021")
    expect(page.locator("h1")).to_have_text("職員アカウント")
    console_look(page, "city-accounts")

    page.get_by_role("button", name="chuo-staff を停止する").click()
    page.wait_for_load_state("load")
    expect(page.get_by_role("status")).to_contain_text("chuo-staff を停止しました")
    console_look(page, "city-accounts-disabled")
    page.get_by_role("button", name="chuo-staff を再開する").click()
    page.wait_for_load_state("load")
    expect(page.get_by_role("status")).to_contain_text("chuo-staff を再開しました")


def test_the_ministry_viewer_reads_the_overview_in_both_languages(site, new_page, console_look):
    page = new_page()
    sign_in(site, page, "/ministry", "mic-viewer", "soumu-view-2021")
    page.get_by_role("link", name="概況", exact=True).first.click()
    expect(page.locator("h1")).to_have_text("概況")
    expect(page.locator("svg.chart").first).to_be_visible()
    expect(page.get_by_role("img", name="マイキーIDの発行数(日別)")).to_be_visible()
    expect(page.locator("#mykeys table")).to_be_visible()
    console_look(page, "ministry-overview")

    page.get_by_label("開始日").fill("2021-07-20")
    page.get_by_label("終了日").fill("2021-07-01")
    page.get_by_role("button", name="表示").click()
    expect(page.get_by_role("alert")).to_contain_text("invalid_date_range")
    console_look(page, "ministry-overview-bad-range")

    page.goto(f"{site.url}/ministry/overview?lang=en")
    expect(page.locator("h1")).to_have_text("Overview")
    expect(page.get_by_role("img", name="MyKey IDs issued per day")).to_be_visible()
    console_look(page, "ministry-overview-en")


def test_the_ministry_admin_reads_the_budget_frames(site, new_page, console_look):
    page = new_page()
    sign_in(site, page, "/ministry", "mic-admin", "soumu-admin-2021")
    page.get_by_role("link", name="予算の枠", exact=True).first.click()
    expect(page.locator("h1")).to_have_text("予算の枠")
    expect(page.locator("#frame-phase1 table")).to_be_visible()
    expect(page.locator("#pace")).to_contain_text("直近14日間")
    console_look(page, "ministry-budget")
    page.goto(f"{site.url}/ministry/budget?lang=en")
    expect(page.locator("h1")).to_have_text("Budget frames")
    console_look(page, "ministry-budget-en")


def test_the_auditor_browses_and_verifies_the_audit_log(site, new_page, console_look):
    page = new_page()
    sign_in(site, page, "/ministry", "mic-auditor", "kansa-2021")
    page.get_by_role("link", name="監査ログ", exact=True).first.click()
    expect(page.locator("h1")).to_have_text("監査ログ")
    expect(page.locator("table.audit")).to_be_visible()
    console_look(page, "ministry-audit")

    page.get_by_role("button", name="検証する").click()
    expect(page.locator("#verify-result")).to_contain_text("検証に成功しました")
    console_look(page, "ministry-audit-verified")

    page.get_by_label("公表されたヘッド").fill("not a head")
    page.get_by_role("button", name="検証する").click()
    expect(page.get_by_role("alert")).to_contain_text("invalid_head")
    console_look(page, "ministry-audit-bad-head")

    page.goto(f"{site.url}/ministry/audit?lang=en&actor=mic-auditor")
    expect(page.locator("h1")).to_have_text("Audit log")
    console_look(page, "ministry-audit-en")
