"""A new user's whole journey in a real browser, from what `make run` prints: the top page,
sign in with a demo card (a wrong PIN first), a MyKey ID, /services, PayPay, apply, see the
masked holder name, confirm, see the application; the operator reports charges; see the
points and their grant days; a second application says "already applied"; sign out.

Every page on the way is looked at as everyone would see it: at 375 px and 1280 px with no
sideways scrolling (a screenshot of each), with no serious or critical axe violation, in
Japanese and in English, and never with an error code or a stack trace.
"""

from __future__ import annotations

import re

import httpx
import pytest

from browser import no_horizontal_scroll
from demo_site import demo_site
from mynapoint.web.errors import STATUS_BY_CODE

PAYPAY_ID, CODE = "1234567890123456", "1234"
# Error codes are snake_case; plain words such as "forbidden" may be part of a sentence.
CODES = sorted(code for code in STATUS_BY_CODE if "_" in code)
CJK = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    # SQLite: what is checked here is what the browser shows; the TestClient tests of
    # test_citizen_pages.py run the same pages on PostgreSQL too.
    from mynapoint.db.engine import sqlite_url  # noqa: PLC0415

    tmp = tmp_path_factory.mktemp("citizen")
    with demo_site(sqlite_url(tmp / "site.db"), tmp) as running:
        yield running


def assert_words_only(page, name: str) -> None:
    text = page.inner_text("body")
    assert not [code for code in CODES if code in text], f"{name} shows an error code"
    assert "Traceback" not in text, name


def in_english(page, screenshot, name: str) -> None:
    """The same page in English (the switch in the header), then back to Japanese."""
    page.get_by_role("link", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    heading = page.get_by_role("heading", level=1).inner_text()
    assert not CJK.search(heading), f"{name}: {heading!r} is not in English"
    assert_words_only(page, name)
    page.set_viewport_size({"width": 375, "height": 900})
    assert no_horizontal_scroll(page), f"{name} (English) scrolls sideways"
    screenshot(page, f"citizen-{name}-en-375")
    page.get_by_role("link", name="日本語").click()
    assert page.locator("html").get_attribute("lang") == "ja"


def report(site, *events: dict[str, object]) -> None:
    """The operator's side: PayPay reports charges with its API key (INTERFACES intake)."""
    answer = httpx.post(
        f"{site.url}/api/v1/operator/events",
        json={"events": list(events)},
        headers={"Authorization": f"Bearer {site.operator_key}"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["accepted"] == len(events), answer.text


def charge(event_id: str, amount: int, at: str) -> dict[str, object]:
    return {
        "event_id": event_id,
        "service_code": "paypay",
        "payment_service_id": PAYPAY_ID,
        "kind": "charge",
        "amount": amount,
        "occurred_at": at,
    }


def test_a_new_user_signs_in_gets_a_mykey_id_applies_and_sees_the_points(
    site, new_page, look, screenshot
):
    page = new_page(width=1280)
    page.goto(site.url + "/")
    page.get_by_role("navigation", name="サイト内").get_by_role("link", name="ログイン").click()
    sign_in_after_a_wrong_pin(page, look, screenshot)
    mykey = set_up_the_mykey_id(page, look, screenshot)
    choose_paypay_and_apply(page, look, screenshot)
    see_the_application(site, page, look, mykey)
    see_the_points_once_the_operator_reports_charges(site, page, look, screenshot)
    sign_out(site, page, look)


def sign_in_after_a_wrong_pin(page, look, screenshot) -> None:
    """The login page: a simulated card reader, said to be one; a wrong PIN first."""
    assert page.get_by_role("heading", level=1).inner_text() == "マイナンバーカードでログイン"
    assert page.get_by_text("これはシミュレーションです。").is_visible()
    look(page, "login")
    in_english(page, screenshot, "login")
    card = page.get_by_role("radio", name=re.compile(r"parent\.json"))
    card.check()
    # Keyboard order: the card choice, then the PIN, then the button.
    card.focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "pin"
    page.keyboard.type("1111")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.type") == "submit"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    pin_error = page.locator("#pin-error")
    assert "暗証番号が違います。あと2回間違えるとカードがロックされます。" in pin_error.inner_text()
    assert "pin-error" in page.get_by_label("暗証番号(数字4桁)").get_attribute("aria-describedby")
    assert page.get_by_role("radio", name=re.compile(r"parent\.json")).is_checked()
    look(page, "login-wrong-pin")
    page.get_by_label("暗証番号(数字4桁)").fill("1234")
    page.get_by_role("button", name="カードを読み取ってログイン").click()


def set_up_the_mykey_id(page, look, screenshot) -> str:
    """The MyKey ID: explained, set up, shown."""
    assert page.url.endswith("/mykey")
    nav = page.get_by_role("navigation", name="サイト内")
    assert nav.get_by_role("link", name="マイページ").is_visible()
    assert nav.get_by_role("button", name="ログアウト").is_visible()
    look(page, "mykey")
    in_english(page, screenshot, "mykey")
    page.get_by_role("button", name="マイキーIDを設定する").click()
    mykey = page.locator(".mykey-id").inner_text()
    assert re.fullmatch(r"[A-Z0-9]{8}", mykey)
    look(page, "mykey-set")
    return mykey


def choose_paypay_and_apply(page, look, screenshot) -> None:
    """PayPay among the services (the public pages), a mistake, the confirmation, the commit."""
    page.get_by_role("link", name="キャッシュレス決済サービスを選ぶ").click()
    assert page.url.endswith("/services")
    page.get_by_role("link", name="PayPay", exact=True).first.click()
    page.get_by_role("link", name="PayPayで申し込む").click()
    assert page.url.endswith("/apply/paypay")
    look(page, "apply")
    in_english(page, screenshot, "apply")

    # A mistyped security code: the sentence stands next to the field.
    page.get_by_label("チャージ").check()
    page.get_by_label("決済サービスID").fill(PAYPAY_ID)
    page.get_by_label("セキュリティコード").fill("12")
    page.get_by_role("button", name="確認画面へ進む").click()
    assert "4桁の数字" in page.locator("#security_code-error").inner_text()
    assert page.get_by_role("alert").is_visible()
    look(page, "apply-error")

    # The confirmation in English first (the language is remembered), then in Japanese.
    page.get_by_role("link", name="English").click()
    page.get_by_label("Charges").check()
    page.get_by_label("Payment service ID").fill(PAYPAY_ID)
    page.get_by_label("Security code").fill(CODE)
    page.get_by_role("button", name="Continue to confirm").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Confirm your application"
    assert page.locator(".holder-name").inner_text() == "ヤマダ タ**"
    assert_words_only(page, "confirm (English)")
    page.set_viewport_size({"width": 375, "height": 900})
    assert no_horizontal_scroll(page)
    screenshot(page, "citizen-confirm-en-375")
    # The confirmation is a page of its own (post/redirect/get): the switch shows it again,
    # in Japanese, never an error; 入力し直す goes back to the form.
    page.get_by_role("link", name="日本語").click()
    assert page.url.endswith("/apply/paypay/confirm?lang=ja")
    assert page.get_by_role("heading", level=1).inner_text() == "申込み内容の確認"
    page.get_by_role("link", name="入力し直す").click()
    assert page.url.endswith("/apply/paypay")

    # Keyboard only: choose, type and send the form without the mouse.
    page.get_by_label("チャージ").focus()
    page.keyboard.press("Space")
    page.get_by_label("決済サービスID").focus()
    page.keyboard.type(PAYPAY_ID)
    page.keyboard.press("Tab")
    page.keyboard.type(CODE)
    with page.expect_navigation():
        page.keyboard.press("Enter")

    # The operator's masked holder name, to confirm it is one's own account.
    assert page.get_by_role("heading", level=1).inner_text() == "申込み内容の確認"
    assert page.locator(".holder-name").inner_text() == "ヤマダ タ**"
    look(page, "confirm")
    page.get_by_role("button", name="申し込む").click()
    assert page.locator("#confirm_account-error").is_visible()
    look(page, "confirm-error")
    page.get_by_label(re.compile("私の口座です")).check()
    page.get_by_label(re.compile("変更できないことを確認しました")).check()
    page.get_by_role("button", name="申し込む").click()


def see_the_application(site, page, look, mykey: str) -> None:
    """The completion page, then my page lists it; a second application for the same measure
    is "already applied"."""
    assert re.search(r"/me/applications/[0-9a-f]+$", page.url)
    assert page.get_by_role("heading", level=1).inner_text() == "申込みが完了しました"
    assert page.get_by_role("status").inner_text() == (
        "PayPayで「マイナポイント第1弾」を申し込みました。"
    )
    number = page.locator(".application-id").inner_text()
    assert page.url.endswith(number)
    look(page, "applied")
    page.get_by_role("link", name="マイページでポイントを確認する").click()
    applications = page.locator(".applications").inner_text()
    assert "PayPay" in applications
    assert "2021年7月19日(月) 10:00" in applications
    assert "チャージ" in applications
    assert mykey in page.locator("main").inner_text()
    look(page, "me-applied")

    page.goto(site.url + "/apply/paypay")
    assert page.get_by_text(
        "このマイナポイントはすでに申し込まれています。申込みは1人1回で、変更はできません。"
    ).is_visible()
    look(page, "apply-already-applied")


def see_the_points_once_the_operator_reports_charges(site, page, look, screenshot) -> None:
    report(
        site,
        charge("j1", 8000, "2021-07-19T10:00:00+09:00"),
        charge("j2", 4000, "2021-07-19T10:03:00+09:00"),
    )
    page.goto(site.url + "/me")
    assert "3,000ポイント" in page.locator(".points-total").inner_text()
    grants = page.locator("table.stack").inner_text()
    assert "2021年7月19日(月)" in grants  # PayPay grants points for charges on their day
    assert "付与済み" in grants
    assert "あと 2,000ポイント" in page.locator(".measures").inner_text()
    look(page, "me-points")
    in_english(page, screenshot, "me-points")


def sign_out(site, page, look) -> None:
    """The session ends and my page asks for the card again."""
    nav = page.get_by_role("navigation", name="サイト内")
    nav.get_by_role("button", name="ログアウト").click()
    assert page.get_by_role("status").inner_text() == "ログアウトしました。"
    assert nav.get_by_role("link", name="ログイン").is_visible()
    look(page, "signed-out")
    page.goto(site.url + "/me")
    assert "/login?next=" in page.url
