"""The public pages through the app (fast): what the city's page told citizens, from live data.

Top page, payment-service search and facts, the support-corner finder and the help page, in
Japanese and English, at the demo moment (2021-07-19 10:00 JST, a Monday: corners open) and
at other moments. The same pages in a real browser: test_public_pages_browser.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime

import pytest
from fastapi.testclient import TestClient

from mynapoint.bootstrap import build_platform
from mynapoint.config import Settings
from mynapoint.db.engine import sqlite_url
from mynapoint.domain.calendar import JST
from mynapoint.rules.corners import load_corner_directory
from mynapoint.services.clock import FixedClock
from mynapoint.web.app import create_app
from public_pages import PUBLIC_PAGES, RAW_ERRORS, japanese_not_marked, main_text

DEMO = datetime(2021, 7, 19, 10, 0, tzinfo=JST)
CAUTIONS = [
    "申込み前に、チャージやお買い物をしていただいても、マイナポイントは付与されません。",
    "キャッシュレス決済サービスによって、ポイント付与のタイミングや付与されるポイントの有効期限が異なります。",
    "一度申し込んだキャッシュレス決済サービスを変更することはできません。慎重にサービスを選択してください。",
]
ALL_SERVICES = {
    "paypay",
    "waon",
    "suica",
    "icoca",
    "nanaco",
    "rakuten_edy",
    "d_barai",
    "au_pay",
    "rakuten_pay",
    "merpay",
    "rakuten_card",
    "sony_bank_wallet",
}


@pytest.fixture(scope="module")
def clock() -> FixedClock:
    return FixedClock(DEMO)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, clock: FixedClock) -> Iterator[TestClient]:
    tmp = tmp_path_factory.mktemp("public-pages")
    settings = Settings(database_url=sqlite_url(tmp / "pages.db"), var_dir=tmp)
    platform = build_platform(settings, clock=clock)
    with TestClient(create_app(settings, platform)) as client:
        yield client
    platform.engine.dispose()


@pytest.fixture
def moment(clock: FixedClock) -> Iterator[FixedClock]:
    """Moves the platform clock for one test, then back to the demo moment."""
    yield clock
    clock.set(DEMO)


def page(client: TestClient, path: str, **params: str) -> str:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    return response.text


def found_services(html: str) -> set[str]:
    results = html[html.index('id="results"') :] if 'id="results"' in html else html
    return set(re.findall(r'href="/services/([a-z_]+)"', results))


def corner_rows(html: str) -> set[str]:
    return set(re.findall(r'<tr id="corner-([a-z_]+)">', html))


def row_of(html: str, code: str) -> str:
    row = html[html.index(f'<tr id="corner-{code}">') :]
    return row[: row.index("</tr>")]


# --- every page --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", PUBLIC_PAGES)
@pytest.mark.parametrize("lang", ["ja", "en"])
def test_a_public_page_answers_in_the_language_asked_without_raw_errors(client, path, lang):
    html = page(client, path, lang=lang)
    assert f'<html lang="{lang}">' in html
    assert RAW_ERRORS.search(main_text(html)) is None
    if lang == "en":
        assert japanese_not_marked(html) == []


# --- the top page ------------------------------------------------------------------------------


def test_the_top_page_says_what_the_city_page_said(client):
    html = page(client, "/")
    text = main_text(html)
    for fact in (
        "25%",
        "5,000円",
        "20,000円",
        # the deadlines in force on the demo day, and the cut-off
        "2021年4月30日(金)までにマイナンバーカードを申請した方は",
        "2021年9月30日(木)までにチャージまたはお買い物をすることで",
        # what changed when
        "2019年12月5日(木)発表",
        "申込みと対象のチャージ・お買い物の期限は2021年3月31日(水)まで",
        "2021年3月26日(金)発表",
        "2021年9月30日(木)まで延長",
        "2021年4月1日(木)から適用",
        "※すでにマイナンバーカードを取得されている方も期間延長の対象となります。",
        # the three steps
        "マイナンバーカードの取得",
        "マイナポイントの予約(マイキーIDの設定)",
        "マイナポイントの申込み",
        "8桁の英数字",
        *CAUTIONS,
        # the support corners in short
        "2021年4月1日(木)から2021年9月30日(木)まで",
        "月曜日から金曜日(祝休日を除く) 午前8時45分から午後5時15分まで",
        "早良区入部出張所は午後0時から午後1時まで休止",
        "西区西部出張所(さいとぴあ内)",
        "市役所本庁舎では受け付けておりません",
        "数字4桁の暗証番号",
        "9か所中9か所で受付中",
        "楽天ペイ(アプリ決済)",
        "メルペイ",
        # the help line, open now
        "0120-95-0178",
        "050-3627-0952",
        "「5番」",
        "平日 午前9時30分から午後8時まで",
        "土日祝 午前9時30分から午後5時30分まで",
        "受付中",
        # the city's contact
        "総務企画局 ICT戦略室 ICT推進課",
        "福岡市中央区天神1丁目8の1",
        "092-711-4105",
        "092-733-5582",
        "ictpromotion.GAPB@city.fukuoka.lg.jp",
    ):
        assert fact in text, fact
    for link in ("/mykey", "/services", "/me", "/login", "/support-corners", "/help"):
        assert f'href="{link}"' in html, link


def test_the_top_page_on_the_source_page_day_knows_only_the_first_extension(client, moment):
    moment.set(datetime(2021, 4, 5, 10, 0, tzinfo=JST))
    text = main_text(page(client, "/"))
    assert "2021年9月30日(木)まで延長" in text
    assert "2021年12月31日" not in text


def test_the_top_page_after_the_second_extension_shows_it_and_when_it_was_announced(client, moment):
    moment.set(datetime(2021, 8, 10, 10, 0, tzinfo=JST))
    text = main_text(page(client, "/"))
    assert "2021年8月6日(金)発表" in text
    assert "2021年12月31日(金)までにチャージまたはお買い物をすることで" in text
    assert "2021年10月1日(金)から適用" in text


def test_the_top_page_in_phase_2_shows_measure_1_and_the_card_deadline(client, moment):
    moment.set(datetime(2022, 10, 1, 10, 0, tzinfo=JST))
    text = main_text(page(client, "/"))
    assert "マイナポイント第2弾 施策1" in text
    assert "2022年12月31日(土)までにマイナンバーカードを申請した方は" in text
    assert "2022年9月20日(火)発表" in text
    # The corners closed on 2021-09-30.
    assert "受付は終了しました。" in text


def test_the_top_page_in_english(client):
    text = main_text(page(client, "/", lang="en"))
    for fact in (
        "25%",
        "¥5,000",
        "¥20,000",
        "Thu, Sep 30, 2021",
        "Fri, Apr 30, 2021",
        "Announced Fri, Mar 26, 2021",
        "Charges and purchases made before you apply earn no Mynapoint points.",
        "Once you have applied, you cannot change the cashless payment service.",
        "Monday to Friday (except national holidays), 8:45–17:15",
        "Sawara Ward Irube Branch Office: closed 12:00–13:00",
        "The city hall main building does not take applications.",
        "Open (until 20:00)",
        "ICT Promotion Section",
    ):
        assert fact in text, fact


# --- the payment-service search ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ALL_SERVICES),
        ({"q": "すいか"}, {"suica"}),
        ({"q": "ペイペイ"}, {"paypay"}),
        ({"q": "paypay"}, {"paypay"}),
        ({"q": "楽天"}, {"rakuten_edy", "rakuten_pay", "rakuten_card"}),
        ({"q": "楽天 カード"}, {"rakuten_card"}),
        ({"category": "qr_code"}, {"paypay", "d_barai", "au_pay", "rakuten_pay", "merpay"}),
        ({"category": "credit_card"}, {"rakuten_card"}),
        ({"category": "debit_card"}, {"sony_bank_wallet"}),
        ({"counts": "purchase"},
         {"paypay", "d_barai", "rakuten_pay", "merpay", "rakuten_card", "sony_bank_wallet"}),
        ({"counts": "charge", "category": "qr_code"}, {"paypay", "d_barai", "au_pay"}),
        ({"preregistration": "yes"},
         {"waon", "suica", "icoca", "rakuten_card", "sony_bank_wallet"}),
        ({"preregistration": "no", "category": "e_money"}, {"nanaco", "rakuten_edy"}),
        ({"channel": "store"}, {"waon", "nanaco"}),
        ({"channel": "app", "counts": "purchase", "category": "qr_code"},
         {"paypay", "d_barai", "rakuten_pay", "merpay"}),
        ({"channel": "support_corner", "category": "qr_code"}, {"paypay", "d_barai", "au_pay"}),
        ({"q": "該当なし"}, set()),
        # An empty or unknown choice is "any", never an error page.
        ({"category": "", "counts": "", "preregistration": "", "channel": ""}, ALL_SERVICES),
        ({"category": "cash", "counts": "pick", "channel": "fax"}, ALL_SERVICES),
    ],
)  # fmt: skip
def test_the_search_finds_services_by_keyword_category_counts_and_channel(client, params, expected):
    html = page(client, "/services", **params)
    assert found_services(html) == expected
    count = f"{len(expected)}件のサービスが見つかりました(全12件)"
    assert count in main_text(html)
    if not expected:
        assert "条件に合うサービスはありません。" in main_text(html)


def test_the_search_keeps_what_was_chosen_in_the_form(client):
    html = page(client, "/services", q="すいか", category="e_money", preregistration="yes")
    assert 'value="すいか"' in html
    assert '<option value="e_money" selected>' in html
    assert '<option value="yes" selected>' in html


def test_an_htmx_request_gets_the_results_alone_with_the_count_out_of_band(client):
    response = client.get("/services", params={"q": "スイカ"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "<html" not in response.text
    assert found_services(response.text) == {"suica"}
    assert '<p id="result-count" hx-swap-oob="innerHTML">' in response.text
    restore = client.get(
        "/services",
        params={"q": "スイカ"},
        headers={"HX-Request": "true", "HX-History-Restore-Request": "true"},
    )
    assert "<html" in restore.text


def test_the_search_form_works_without_javascript_and_loads_htmx_from_the_app(client):
    html = page(client, "/services")
    assert '<form class="finder" method="get" action="/services"' in html
    assert '<script src="http://testserver/static/vendor/htmx/htmx.min.js">' in html


def test_a_service_page_gives_its_facts_and_the_way_to_apply(client):
    html = page(client, "/services/paypay")
    text = main_text(html)
    for fact in (
        "PayPay株式会社",
        "QRコード決済",
        "チャージまたはお買い物(申込み時に選択)",
        "選んだ対象は変更できません",
        "チャージ: 当日に付与",
        "お買い物: 翌日から30日後に付与",
        "例: 2021年7月19日(月)のお買い物は2021年8月19日(木)に付与",
        "PayPayボーナス(有効期限なし)",
        "不要",
        "このサイト(ご自身のスマートフォン・パソコン)",
        "マイナポイント・サポートコーナー",
        "PayPayアプリの「マイナポイント」画面に表示される16桁の数字",
        "マイナポイント第1弾",
        "一度申し込んだキャッシュレス決済サービスを変更することはできません。",
    ):
        assert fact in text, fact
    assert 'href="/apply/paypay"' in html
    assert 'aria-describedby="final-warning"' in html


def test_a_service_with_pre_registration_and_a_monthly_grant_says_so(client):
    text = main_text(page(client, "/services/waon"))
    assert "チャージ: 1か月分をまとめて翌月28日に付与" in text
    assert "例: 2021年7月19日(月)のチャージは2021年8月28日(土)に付与" in text
    assert "申込みの前に、この決済サービスでの事前登録が必要です。" in text
    assert "WAONステーション" in text


def test_an_app_only_service_cannot_be_applied_for_here_and_says_where(client):
    html = page(client, "/services/merpay")
    text = main_text(html)
    assert 'href="/apply/merpay"' not in html
    assert "このサービスは決済サービスのアプリからのみ申込みができます。" in text
    assert "サポートコーナーでは申込みができません。" in text


def test_an_unknown_service_is_a_page_that_says_so_in_words(client):
    response = client.get("/services/cash")
    assert response.status_code == 404
    assert "ページが見つかりません" in response.text
    assert RAW_ERRORS.search(main_text(response.text)) is None


def test_a_service_page_in_english_uses_the_catalog_english(client):
    text = main_text(page(client, "/services/suica", lang="en"))
    assert "granted as JRE POINT" in text
    assert "Suica ID number" in text
    assert "a month's total granted on day 14 of the next month" in text
    assert "Apply with Suica" in text


# --- the support-corner finder -----------------------------------------------------------------


def test_the_finder_shows_every_corner_open_at_the_demo_moment(client):
    html = page(client, "/support-corners")
    assert len(corner_rows(html)) == 9
    for corner in load_corner_directory().corners():
        row = row_of(html, corner.code)
        assert corner.address in row
        assert "受付中" in row
    assert "午後0時まで" in row_of(html, "sawara_irube")
    assert "午後5時15分まで" in row_of(html, "chuo")


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"ward": "早良区"}, {"sawara", "sawara_irube"}),
        ({"ward": "西区"}, {"nishi", "nishi_seibu"}),
        ({"ward": "博多区"}, {"hakata"}),
        ({"ward": "天神"}, None),  # an unknown ward: every corner
        ({"ward": ""}, None),
    ],
)
def test_the_finder_filters_by_ward(client, params, expected):
    html = page(client, "/support-corners", **params)
    every = {c.code for c in load_corner_directory().corners()}
    assert corner_rows(html) == (expected or every)
    if expected:
        assert f"9か所中{len(expected)}か所を表示" in main_text(html)


def test_open_now_leaves_out_the_corner_closed_over_lunch(client, moment):
    moment.set(datetime(2021, 7, 21, 12, 30, tzinfo=JST))
    html = page(client, "/support-corners", open_now="1")
    assert len(corner_rows(html)) == 8
    assert "sawara_irube" not in corner_rows(html)
    both = page(client, "/support-corners", open_now="1", ward="早良区")
    assert corner_rows(both) == {"sawara"}


def test_in_the_evening_every_corner_is_closed_and_says_when_it_opens_next(client, moment):
    moment.set(datetime(2021, 7, 19, 18, 0, tzinfo=JST))
    html = page(client, "/support-corners")
    for code in corner_rows(html):
        row = row_of(html, code)
        assert "受付時間外" in row
        assert "次回 2021年7月20日(火) 午前8時45分から" in row
    assert corner_rows(page(client, "/support-corners", open_now="1")) == set()
    assert "条件に合うサポートコーナーはありません。" in main_text(
        page(client, "/support-corners", open_now="1")
    )
    home = main_text(page(client, "/"))
    assert "受付時間外です。次回は2021年7月20日(火) 午前8時45分から受け付けます。" in home


def test_before_the_olympic_holidays_the_next_opening_skips_them(client, moment):
    moment.set(datetime(2021, 7, 21, 17, 30, tzinfo=JST))
    html = page(client, "/support-corners")
    assert "次回 2021年7月26日(月) 午前8時45分から" in row_of(html, "chuo")


def test_the_calendar_shows_this_month_and_its_holidays(client):
    text = main_text(page(client, "/support-corners"))
    assert "2021年7月の受付日(受付日 20日)" in text
    assert "2021年7月22日(木) 海の日" in text
    assert "2021年7月23日(金) スポーツの日" in text
    html = page(client, "/support-corners")
    assert 'aria-current="date"' in html
    assert 'href="/support-corners?month=2021-08#calendar-fukuoka"' in html
    assert 'href="/support-corners?month=2021-06#calendar-fukuoka"' in html


@pytest.mark.parametrize(
    ("month", "title"),
    [
        ("2021-08", "2021年8月の受付日(受付日 21日)"),  # 8/9 振替休日 closed, 8/11 open
        ("2021-09", "2021年9月の受付日(受付日 20日)"),
        ("2021-12", "2021年9月の受付日"),  # after the period: its last month
        ("next", "2021年7月の受付日"),
    ],
)
def test_another_month_of_the_calendar_can_be_asked_for(client, month, title):
    assert title in main_text(page(client, "/support-corners", month=month))


def test_the_finder_lists_what_to_bring_and_the_services_a_corner_cannot_apply_for(client):
    html = page(client, "/support-corners")
    text = main_text(html)
    assert "マイナンバーカードの受取り時に設定した数字4桁の暗証番号" in text
    assert "「決済サービスID」と「セキュリティコード」" in text
    assert "市役所本庁舎では受け付けておりません。" in text
    assert "決済サービスアプリからのみ申込みができるため" in text
    assert 'href="/services?channel=support_corner"' in html


def test_the_finder_in_english_names_the_corners_and_their_addresses_in_english(client):
    html = page(client, "/support-corners", lang="en", ward="早良区")
    assert '<th scope="row" lang="en">' not in html
    assert "Sawara Ward Irube Branch Office" in html
    # Romanised, as the glossary writes addresses (the ward's name was left Japanese before).
    assert '<span lang="en">2-14-8 Higashi-Irube, Sawara Ward, Fukuoka City</span>' in html
    assert "福岡市早良区東入部二丁目14-8" not in html
    text = main_text(html)
    assert "Open (until 12:00)" in text
    assert "Open days in July 2021 (20 days)" in text
    assert "showing 2 of 9" in text


# --- the help page -----------------------------------------------------------------------------


def test_the_help_page_says_the_line_is_open_with_its_numbers_and_hours(client):
    text = main_text(page(client, "/help"))
    assert "現在(2021年7月19日(月) 午前10時): 受付中(午後8時まで)" in text
    assert "0120-95-0178 (通話料無料)" in text
    assert "050-3627-0952" in text
    assert "平日 午前9時30分から午後8時まで" in text
    assert "092-711-4105" in text


def test_the_help_line_at_night_says_when_it_answers_again(client, moment):
    moment.set(datetime(2021, 7, 19, 20, 30, tzinfo=JST))
    text = main_text(page(client, "/help"))
    assert "受付時間外(次回 2021年7月20日(火) 午前9時30分から)" in text
    moment.set(datetime(2021, 7, 21, 21, 0, tzinfo=JST))  # the next day is 海の日
    assert "次回 2021年7月22日(木) 午前9時30分から" in main_text(page(client, "/help"))
