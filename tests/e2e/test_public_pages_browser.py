"""The public pages in a real browser: both languages, 375 px and 1280 px, axe, keyboard, no JS.

One demo site for the module (the clock fixed on 2021-07-19 10:00 JST, a Monday: the corners
are open). Screenshots go to test-artifacts/screenshots/public-<page>-<lang>-<width>.png.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from browser import no_horizontal_scroll
from demo_site import DEMO_DAY, demo_site
from mynapoint.domain.calendar import JST
from public_pages import RAW_ERRORS

PAGES = [
    ("/", "top"),
    ("/services", "services"),
    ("/services/paypay", "service"),
    ("/support-corners", "corners"),
    ("/help", "help"),
    ("/open-data", "open-data"),
]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    # SQLite only: what is checked here is the browser's view, not the database.
    from mynapoint.db.engine import sqlite_url  # noqa: PLC0415

    tmp = tmp_path_factory.mktemp("public-site")
    with demo_site(sqlite_url(tmp / "site.db"), tmp) as running:
        yield running


@pytest.mark.parametrize("lang", ["ja", "en"])
@pytest.mark.parametrize(("path", "name"), PAGES)
def test_a_public_page_fits_reads_and_passes_axe_at_375_and_1280_px(
    site, new_page, axe, screenshot, path, name, lang
):
    page = new_page(width=375)
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    response = page.goto(f"{site.url}{path}?lang={lang}")
    assert response.status == 200
    assert page.locator("html").get_attribute("lang") == lang
    assert page.get_by_role("heading", level=1).count() == 1
    assert RAW_ERRORS.search(page.locator("main").inner_text()) is None
    # One page, two widths: the same document laid out for a phone, then a desktop.
    for width in (375, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        assert no_horizontal_scroll(page), f"the page scrolls sideways at {width} px"
        assert axe(page) == [], f"at {width} px"
        screenshot(page, f"public-{name}-{lang}-{width}")
    assert all(url.startswith(site.url) for url in requested), "a page loaded from elsewhere"


def test_the_search_follows_the_typing_and_updates_the_address(site, new_page):
    page = new_page(width=375)
    page.goto(f"{site.url}/services")
    assert page.locator(".service-card").count() == 12
    page.get_by_label("サービス名・キーワード").fill("すいか")
    page.wait_for_url("**/services?q=*")
    page.wait_for_function("() => document.querySelectorAll('.service-card').length === 1")
    assert page.locator(".service-card h3").inner_text() == "Suica"
    assert page.locator("#result-count").inner_text() == "1件のサービスが見つかりました(全12件)"
    # The language switch follows the search, so English shows the same results.
    page.get_by_role("link", name="English").click()
    assert page.locator(".service-card h3").all_inner_texts() == ["Suica"]
    assert page.get_by_label("Service name or keyword").input_value() == "すいか"
    page.get_by_role("link", name="日本語").click()
    page.get_by_label("種類").select_option("qr_code")
    page.wait_for_function("() => document.querySelectorAll('.service-card').length === 0")
    assert "条件に合うサービスはありません" in page.locator("#results").inner_text()


def test_the_search_works_with_the_keyboard_alone(site, new_page):
    page = new_page()
    page.goto(f"{site.url}/services")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "本文へ移動"
    for _ in range(20):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "q":
            break
    assert page.evaluate("document.activeElement.id") == "q"
    page.keyboard.type("ワオン")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelectorAll('.service-card').length === 1")
    page.keyboard.press("Tab")  # on to the category, in the order the form reads
    assert page.evaluate("document.activeElement.id") == "category"


def test_the_search_works_without_javascript(site, browser):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 375, "height": 800})
    try:
        page = context.new_page()
        page.goto(f"{site.url}/services")
        page.get_by_label("申込みできる場所").select_option("store")
        page.get_by_label("事前登録").select_option("yes")
        page.get_by_role("button", name="検索").click()
        page.wait_for_url("**/services?*channel=store*")
        assert page.locator(".service-card h3").all_inner_texts() == ["WAON"]
        page.get_by_role("link", name="WAON").click()
        assert page.get_by_role("heading", level=1).inner_text() == "WAON"
        apply = page.get_by_role("link", name="WAONで申し込む")
        assert apply.get_attribute("href") == "/apply/waon"
    finally:
        context.close()


def test_the_corner_finder_filters_by_ward_and_shows_open_now(site, new_page):
    page = new_page(width=375)
    page.goto(f"{site.url}/support-corners")
    page.get_by_label("区", exact=True).select_option("早良区")
    page.get_by_label("いま受付中のサポートコーナーだけ").check()
    page.get_by_role("button", name="絞り込む").click()
    rows = page.locator("table.corners tbody tr")
    assert rows.count() == 2
    assert rows.nth(0).locator("th").inner_text() == "早良区役所"
    assert "受付中" in rows.nth(1).inner_text()
    assert "午後0時まで" in rows.nth(1).inner_text()  # 入部 closes for lunch


def test_in_the_evening_the_finder_says_closed_and_when_each_corner_opens_next(site, new_page):
    site.clock.set(datetime(2021, 7, 19, 18, 0, tzinfo=JST))
    try:
        page = new_page(width=1280)
        page.goto(f"{site.url}/support-corners")
        rows = page.locator("table.corners tbody tr")
        assert rows.count() == 9
        for text in rows.all_inner_texts():
            assert "受付時間外" in text
            assert "次回 2021年7月20日(火) 午前8時45分から" in text
        assert "受付時間外" not in page.locator("#help-line-title + p").inner_text()
    finally:
        site.clock.set(DEMO_DAY)
