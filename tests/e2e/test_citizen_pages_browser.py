"""The rough edges a citizen met (issue 12), in a real browser: refusals said before any input,
Back after applying, a session that ended in another tab, the 決済サービスID on the holder's
confirmation, the header and footer, and the top page on a phone.

Each page looked at is checked at 375 and 1280 px (no sideways scrolling, a screenshot of
each in test-artifacts/screenshots/citizen-*.png) and with axe (no serious or critical
violation). Each test signs in with its own demo card, so the tests share one demo site.
"""

from __future__ import annotations

import re

import pytest

from demo_site import demo_site

PINS = {"child": "3456", "parent": "1234", "late": "2345", "senior": "4567"}
SENIOR_ID, SENIOR_CODE = "3456789012345678", "3456"
PARENT_ID, PARENT_CODE = "1234567890123456", "1234"
CUT_OFF = (
    "2021年4月30日(金)までにマイナンバーカードを申請した方が対象です。"
    "このカードの申請日は2021年5月10日(月)のため、申し込めません。"
)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    # SQLite: what is checked here is what the browser shows; the TestClient tests of
    # test_citizen_pages.py run the same pages on PostgreSQL too.
    from mynapoint.db.engine import sqlite_url  # noqa: PLC0415

    tmp = tmp_path_factory.mktemp("citizen-edges")
    with demo_site(sqlite_url(tmp / "site.db"), tmp) as running:
        yield running


def sign_in(page, site, card: str) -> None:
    page.goto(site.url + "/login")
    page.get_by_role("radio", name=re.compile(rf"^{card}\.json")).check()
    page.get_by_label("暗証番号(数字4桁)").fill(PINS[card])
    page.get_by_role("button", name="カードを読み取ってログイン").click()


def fill_the_form(page, payment_service_id: str, code: str) -> None:
    page.get_by_label("チャージ").check()
    page.get_by_label("決済サービスID").fill(payment_service_id)
    page.get_by_label("セキュリティコード").fill(code)


# --- refusals come first -------------------------------------------------------------------


def test_a_card_applied_after_the_cut_off_hears_why_before_any_input(site, new_page, look):
    page = new_page()
    sign_in(page, site, "late")
    # Right after the card and the PIN, before the MyKey ID button: why, with the rule.
    assert page.url.endswith("/mykey")
    notice = page.locator("section.standing")
    assert notice.is_visible()
    assert CUT_OFF in notice.inner_text()
    assert "お住まいの市区町村の窓口にお問い合わせください" in notice.inner_text()
    button = page.get_by_role("button", name="マイキーIDを設定する").bounding_box()
    assert notice.bounding_box()["y"] < button["y"]
    look(page, "mykey-cut-off")
    # The application form says so instead of asking for a MyKey ID first.
    page.goto(site.url + "/apply/paypay")
    assert CUT_OFF in page.locator("main").inner_text()
    assert page.locator("input[name=payment_service_id]").count() == 0
    look(page, "apply-cut-off")


def test_a_child_is_told_first_that_the_legal_representative_applies(site, new_page, look):
    page = new_page()
    sign_in(page, site, "child")
    page.get_by_role("button", name="マイキーIDを設定する").click()
    page.goto(site.url + "/apply/paypay")
    told = page.get_by_role("region", name="法定代理人が申し込みます")
    assert "15歳未満の方は、ご本人だけでは申し込めません。" in told.inner_text()
    id_box = page.get_by_label("決済サービスID").bounding_box()
    assert told.bounding_box()["y"] < id_box["y"]
    look(page, "apply-child")
    # Alone: refused next to the representative's card, before the account is checked.
    fill_the_form(page, "1234567890120009", "0009")
    page.get_by_role("button", name="確認画面へ進む").click()
    assert (
        page.locator("#representative_card-error")
        .inner_text()
        .endswith("法定代理人のカードを選んでください。")
    )
    look(page, "apply-child-alone")


# --- post/redirect/get and the completion page ---------------------------------------------


def test_back_after_applying_never_asks_to_send_the_form_again(site, new_page, look):
    page = new_page()
    sign_in(page, site, "senior")
    page.get_by_role("button", name="マイキーIDを設定する").click()
    page.goto(site.url + "/apply/paypay")
    fill_the_form(page, SENIOR_ID, SENIOR_CODE)
    page.get_by_role("button", name="確認画面へ進む").click()
    assert page.url.endswith("/apply/paypay/confirm")
    page.reload()  # a reload of the confirmation sends nothing either
    assert page.locator(".holder-name").inner_text() == "サトウ イ***"
    page.get_by_label(re.compile("私の口座です")).check()
    page.get_by_label(re.compile("変更できないことを確認しました")).check()
    page.get_by_role("button", name="申し込む").click()

    # The completion page: the number and what happens next.
    assert re.search(r"/me/applications/[0-9a-f]{16}$", page.url)
    number = page.locator(".application-id").inner_text()
    assert page.url.endswith(number)
    assert page.get_by_role("heading", level=1).inner_text() == "申込みが完了しました"
    steps = page.get_by_role("region", name="これからのこと").inner_text()
    assert "2021年9月30日(木)まで" in steps
    assert "当日に付与" in steps
    assert "マイページ" in steps
    look(page, "applied")
    page.reload()
    assert page.locator(".application-id").inner_text() == number

    # Back: the confirmation's address, which shows the form now (applied already); never
    # the browser's "Confirm Form Resubmission" (a POST's answer taken from history).
    answer = page.go_back()
    assert answer is not None
    assert answer.request.method == "GET"
    assert page.url.endswith("/apply/paypay")
    assert "このマイナポイントはすでに申し込まれています。" in page.locator("main").inner_text()
    answer = page.go_back()
    assert answer is not None
    assert answer.request.method == "GET"
    page.go_forward()
    page.go_forward()
    assert page.locator(".application-id").inner_text() == number
    # The same page in English, every word translated.
    page.get_by_role("link", name="English").click()
    assert page.get_by_role("heading", level=1).inner_text() == "The application is complete"
    steps = page.get_by_role("region", name="What happens next").inner_text()
    assert "Thu, Sep 30, 2021" in steps
    assert not re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", page.locator("main").inner_text())
    look(page, "applied-en")


# --- a session that ended ------------------------------------------------------------------


def test_a_session_ended_in_another_tab_is_said_and_the_person_comes_back_to_the_form(
    site, new_page, look
):
    page = new_page()
    sign_in(page, site, "parent")
    page.get_by_role("button", name="マイキーIDを設定する").click()
    page.goto(site.url + "/apply/paypay")
    fill_the_form(page, PARENT_ID, PARENT_CODE)
    other = page.context.new_page()  # another tab of the same browser signs out
    other.goto(site.url + "/me")
    other.get_by_role("navigation", name="サイト内").get_by_role(
        "button", name="ログアウト"
    ).click()
    page.get_by_role("button", name="確認画面へ進む").click()

    # Not silently on the login page: it says the session ended and that nothing was sent.
    assert "/login" in page.url
    said = page.get_by_role("status").inner_text()
    assert "ログインの有効期限が切れたか、ログアウトしたため" in said
    assert "入力中の内容は送信されていません" in said
    look(page, "login-session-ended")
    page.get_by_role("radio", name=re.compile(r"parent\.json")).check()
    page.get_by_label("暗証番号(数字4桁)").fill(PINS["parent"])
    page.get_by_role("button", name="カードを読み取ってログイン").click()
    # Back on the page they were on, the form (the security code is typed again).
    assert page.url.endswith("/apply/paypay")
    assert page.get_by_label("決済サービスID").is_visible()


def test_a_first_visit_to_a_signed_in_page_does_not_speak_of_an_ended_session(site, new_page):
    page = new_page()
    page.goto(site.url + "/me")
    assert "/login?next=%2Fme" in page.url
    assert page.get_by_role("status").count() == 0


# --- the holder's confirmation ---------------------------------------------------------------


def font(page, selector: str) -> tuple[float, int]:
    """The rendered font size (px) and weight of the first element matching `selector`."""
    size, weight = page.eval_on_selector(
        selector,
        "e => [parseFloat(getComputedStyle(e).fontSize), parseInt(getComputedStyle(e).fontWeight)]",
    )
    return size, weight


def test_the_payment_service_id_to_check_is_as_prominent_as_the_masked_name(site, new_page, look):
    page = new_page()
    sign_in(page, site, "parent")
    if page.url.endswith("/mykey"):
        page.get_by_role("button", name="マイキーIDを設定する").click()
    page.goto(site.url + "/apply/paypay")
    fill_the_form(page, PARENT_ID, PARENT_CODE)
    page.get_by_role("button", name="確認画面へ進む").click()
    holder = page.get_by_role("region", name=re.compile("口座"))
    # The ID to check stands beside the name it belongs to, in the same box …
    assert PARENT_ID in holder.inner_text()
    assert "ヤマダ タ**" in holder.inner_text()
    # … and is no smaller nor lighter than the name (it was the smallest text of the page).
    id_size, id_weight = font(page, ".holder .account-id")
    name_size, name_weight = font(page, ".holder .holder-name")
    assert page.locator(".holder .account-id").inner_text().replace(" ", "") == PARENT_ID
    assert id_size >= name_size
    assert id_weight >= name_weight
    body_size, _ = font(page, "main p")
    assert id_size > body_size
    look(page, "confirm-account")


# --- the header and the footer ---------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/login", "/services"])
def test_citizens_see_the_date_only_and_who_runs_the_program(site, new_page, path):
    page = new_page(width=375)
    page.goto(site.url + path)
    header = page.locator("header.site").inner_text()
    assert "2021年7月19日(月)" in header
    assert "プラットフォーム時刻" not in header
    assert "10:00" not in header  # the date, not the platform's clock
    assert "総務省" in header
    footer = page.get_by_role("contentinfo").inner_text()
    assert "総務省" in footer
    assert "福岡市" in footer
    page.get_by_role("link", name="English").click()
    header = page.locator("header.site").inner_text()
    assert "Mon, Jul 19, 2021" in header
    assert "platform" not in header.lower()
    footer = page.get_by_role("contentinfo").inner_text()
    assert "Ministry of Internal Affairs and Communications" in footer
    assert "Fukuoka City" in footer


# --- the top page on a phone ---------------------------------------------------------------

# The top page was 6,840 px tall at 375 px; what a first-time visitor must read (the offer,
# the deadline, the three steps, the cautions, the corners) fits in half of it, the rest (the
# history of the deadlines, the corners' places, the contacts) one click away.
TOP_PAGE_MOST_PX_AT_375 = 6840 // 2


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_the_top_page_has_one_primary_action_and_says_each_step_once(site, new_page, look, lang):
    page = new_page(width=375)
    page.goto(f"{site.url}/?lang={lang}")
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height <= TOP_PAGE_MOST_PX_AT_375, f"the top page is {height} px tall at 375 px"
    main = page.locator("main")
    # One filled button, no outlined ones: the other ways on are plain links.
    primary = main.locator("a.button, button.primary, a.primary")
    assert primary.count() == 1
    assert main.locator("nav.tasks").count() == 0
    # The three steps once, in one list; the card cut-off said once.
    assert main.locator("ol.steps > li").count() == 3
    assert main.locator("a[href='/mykey']").count() == 1
    if lang == "ja":
        assert primary.inner_text() == "マイナンバーカードでログインして申し込む"
        for step in ("マイナンバーカードの取得", "マイナポイントの予約(マイキーIDの設定)"):
            assert main.get_by_text(step, exact=True).count() == 1, step
        assert main.get_by_text("マイキーIDを設定する").count() == 0  # no second call to act
        assert main.inner_text().count("2021年4月30日(金)までにマイナンバーカードを申請") == 1
    look(page, f"top-{lang}")
