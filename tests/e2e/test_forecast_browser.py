"""The budget forecast page (/ministry/policy/forecast) in a real browser (Debian's chromium) on
the demo site with a generated history: with a candidate chosen in the form it shows the
rules' diff, a chart per frame and side and their tables; axe-clean and not scrolling sideways
at 375 and 1280 px, photographed at both (test-artifacts/screenshots/console-ministry-
forecast-*)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from demo_site import demo_site
from mynapoint.history.writer import load_history
from mynapoint.services.statistics import refresh

PERSONS = 400


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    # SQLite only: tests/e2e/test_ministry_forecast.py runs the page on both databases.
    from mynapoint.db.engine import sqlite_url  # noqa: PLC0415

    tmp = tmp_path_factory.mktemp("forecast")
    with demo_site(sqlite_url(tmp / "site.db"), tmp) as running:
        platform = running.platform
        load_history(platform, 16, PERSONS)
        refresh(platform.statistics, platform.clock.now(), full=True)
        yield running


def _sign_in(site, page) -> None:
    page.goto(f"{site.url}/ministry/sign-in")
    page.get_by_label("サインイン名").fill("mic-viewer")
    page.get_by_label("パスワード", exact=True).fill("soumu-view-2021")
    page.get_by_role("button", name="サインイン").click()
    page.wait_for_load_state("load")


def test_the_viewer_forecasts_the_budget_under_a_candidate(site, new_page, console_look):
    page = new_page()
    _sign_in(site, page)
    page.get_by_role("link", name="予算の見通し", exact=True).first.click()
    expect(page.locator("h1")).to_have_text("予算の見通し")
    expect(
        page.get_by_role("img", name="第1弾 の金額(付与したポイント): 累計と見通し")
    ).to_be_visible()
    console_look(page, "ministry-forecast")

    page.get_by_label("ルールの候補").select_option("phase1-extended-3-months")
    page.get_by_role("button", name="表示").click()
    page.wait_for_load_state("load")
    expect(page.locator("#changes")).to_contain_text("2021-12-31 → 2022-03-31")
    expect(page.locator("#phase1-yen-candidate-difference")).to_contain_text("+")
    expect(page.locator("svg.chart .band.candidate").first).to_be_attached()
    page.locator("#chart-phase1-yen + p + details summary").click()
    expect(page.locator("#table-phase1-yen")).to_be_visible()
    console_look(page, "ministry-forecast-candidate")

    page.goto(f"{site.url}/ministry/policy/forecast?rules=phase1-extended-3-months&lang=en")
    expect(page.locator("h1")).to_have_text("Budget forecast")
    console_look(page, "ministry-forecast-candidate-en")


def test_a_bad_day_is_refused_with_the_form(site, new_page, console_look):
    page = new_page()
    _sign_in(site, page)
    page.goto(f"{site.url}/ministry/policy/forecast?as_of=2030-01-01")
    expect(page.get_by_role("alert")).to_contain_text("forecast_day_out_of_range")
    console_look(page, "ministry-forecast-bad-day")
