"""The operator console's own pages in a real browser (Debian's chromium), as `make run`
serves them with its demo PayPay administrator: API keys (created and rotated), grants,
statements and event files (uploaded, its status page), each axe-clean without sideways
scrolling at 375 and 1280 px and photographed at both (test-artifacts/screenshots/console-*)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from demo_site import demo_site


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    # SQLite only: the TestClient tests run the same pages on both databases.
    from mynapoint.db.engine import sqlite_url  # noqa: PLC0415

    tmp = tmp_path_factory.mktemp("operator_console")
    with demo_site(sqlite_url(tmp / "site.db"), tmp) as running:
        yield running


@pytest.fixture
def admin_page(site, new_page):
    page = new_page()
    page.goto(f"{site.url}/operator/sign-in")
    page.get_by_label("サインイン名").fill("paypay-admin")
    page.get_by_label("パスワード", exact=True).fill("paypay-admin-2021")
    page.get_by_role("button", name="サインイン").click()
    page.wait_for_load_state("load")
    return page


def test_the_admin_creates_and_rotates_an_api_key(site, admin_page, console_look):
    page = admin_page
    page.goto(f"{site.url}/operator/keys?lang=ja")
    console_look(page, "operator-keys")
    page.get_by_role("button", name="作成する").click()
    expect(page.locator("h1")).to_have_text("新しいAPIキー")
    expect(page.locator("code.api-key")).to_have_text(re.compile(r"^mnp_"))
    console_look(page, "operator-key-created")
    page.get_by_role("link", name="APIキーの一覧へ戻る").click()
    page.get_by_role("button", name=re.compile("を更新する$")).first.click()
    expect(page.get_by_role("status")).to_contain_text("まで使えます")
    console_look(page, "operator-key-rotated")
    page.goto(f"{site.url}/operator/keys?lang=en")
    expect(page.locator("h1")).to_have_text("API keys")
    console_look(page, "operator-keys-en")


def test_the_grants_and_statements_pages(site, admin_page, console_look):
    page = admin_page
    page.goto(f"{site.url}/operator/grants?lang=ja")
    expect(page.locator("h1")).to_have_text("ポイント割当")
    console_look(page, "operator-grants")
    page.goto(f"{site.url}/operator/statements?lang=ja")
    expect(page.get_by_role("link", name=re.compile("のCSV$")).first).to_be_visible()
    console_look(page, "operator-statements")
    page.goto(f"{site.url}/operator/statements?lang=en")
    console_look(page, "operator-statements-en")


def test_an_event_file_is_uploaded_and_followed(site, admin_page, console_look):
    page = admin_page
    page.goto(f"{site.url}/operator/events?lang=ja")
    console_look(page, "operator-events")
    content = (
        b"event_id,service_code,payment_service_id,kind,amount,occurred_at,refund_of\r\n"
        b"b1,paypay,0000000000000000,charge,lots,2021-06-01T12:00:00+09:00,\r\n"
    )
    page.get_by_label("イベントファイル").set_input_files(
        {"name": "browser.csv", "mimeType": "text/csv", "buffer": content}
    )
    page.get_by_role("button", name="アップロードする").click()
    expect(page.locator("h1")).to_have_text("イベントファイルの読み込み")
    expect(page.get_by_role("status")).to_contain_text("browser.csv: 完了", timeout=20_000)
    expect(page.get_by_role("link", name="受け付けなかった行のCSV")).to_be_visible()
    console_look(page, "operator-event-file")


def test_registered_accounts_and_notices(site, admin_page, console_look):
    page = admin_page
    page.goto(f"{site.url}/operator/payment-accounts?lang=ja")
    console_look(page, "operator-payment-accounts")
    content = (
        "service_code,payment_service_id,security_code,holder_name\r\n"
        "paypay,1234567890128881,4321,ヤマダ ハナコ\r\n"
        "paypay,1234567890128882,12,ヤマダ ジロウ\r\n"
    ).encode()
    page.get_by_label("登録ファイル", exact=True).set_input_files(
        {"name": "accounts.csv", "mimeType": "text/csv", "buffer": content}
    )
    page.get_by_role("button", name="アップロードする").click()
    expect(page.get_by_role("status")).to_contain_text("2行を処理しました")
    console_look(page, "operator-payment-accounts-report")
    page.goto(f"{site.url}/operator/notices?lang=ja")
    expect(page.locator("h1")).to_have_text("連携停止のお知らせ")
    console_look(page, "operator-notices")
    page.goto(f"{site.url}/operator/notices?lang=en")
    console_look(page, "operator-notices-en")
