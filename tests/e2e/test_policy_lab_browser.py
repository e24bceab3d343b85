"""The policy lab in a real browser (Debian's chromium) on the demo's generated history, as
`make run` serves it: the policy staff sign in, start a replay of `rate-20`, watch it finish
and read the result (a chart with its table, the rules diff). Each page passes axe and does
not scroll sideways at 375 and 1280 px, and is photographed at both widths
(test-artifacts/screenshots/console-policy-*)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from demo_site import DEMO_DAY
from live_server import live_server
from mynapoint.bootstrap import build_platform
from mynapoint.config import Settings
from mynapoint.db.engine import sqlite_url
from mynapoint.demo import seed_demo_staff, seed_generated_history
from mynapoint.services.clock import FixedClock

PERSONS = 600  # the demo's history, smaller: what is checked is the browser's view


@pytest.fixture(scope="module")
def site_url(tmp_path_factory):
    # SQLite only, replays run by the server itself (as `make run`); the TestClient tests run
    # the same pages on both databases.
    tmp = tmp_path_factory.mktemp("policy_lab")
    settings = Settings(
        database_url=sqlite_url(tmp / "site.db"),
        var_dir=tmp,
        demo=True,
        demo_history_persons=PERSONS,
    )
    platform = build_platform(settings, clock=FixedClock(DEMO_DAY))
    try:
        seed_generated_history(platform)
        seed_demo_staff(platform)
        with live_server(settings, platform) as url:
            yield url
    finally:
        platform.engine.dispose()


def sign_in(url, page):
    page.goto(f"{url}/ministry/sign-in")
    page.get_by_label("サインイン名").fill("mic-policy")
    page.get_by_label("パスワード", exact=True).fill("seisaku-2021")
    page.get_by_role("button", name="サインイン").click()
    page.wait_for_load_state("load")


def test_the_policy_staff_replay_rate_20_and_read_the_result(site_url, new_page, console_look):
    page = new_page()
    sign_in(site_url, page)
    expect(page.get_by_role("link", name="概況", exact=True)).to_have_count(0)
    page.get_by_role("link", name="政策ラボ", exact=True).first.click()
    expect(page.locator("h1")).to_have_text("政策ラボ")
    console_look(page, "policy-lab")

    page.get_by_label("候補のルール").select_option("rate-20")
    page.get_by_role("button", name="試算を始める").click()
    page.wait_for_load_state("load")
    expect(page.locator("h1")).to_have_text("試算: rate-20.yaml")
    # The page refreshes itself until the replay is done.
    expect(page.locator("#replay-status")).to_have_text("完了", timeout=60_000)
    expect(page.get_by_role("img", name="一人あたりのポイントの分布")).to_be_visible()
    expect(page.locator("#replay-points table")).to_be_visible()
    expect(page.locator("#totals")).to_contain_text("ポイント(円)")
    expect(page.locator("#rules-diff")).to_contain_text("マイナポイント第1弾: 還元率 25% → 20%")
    expect(page.locator("#mismatched")).to_contain_text("不一致 0 人")
    console_look(page, "policy-replay")

    page.goto(page.url + "?lang=en")
    expect(page.locator("h1")).to_have_text("Replay: rate-20.yaml")
    expect(page.locator("#rules-diff")).to_contain_text("Mynapoint phase 1: rate 25 % → 20 %")
    console_look(page, "policy-replay-en")


def test_a_bad_rules_file_is_shown_back_beside_its_field(site_url, new_page, console_look):
    page = new_page()
    sign_in(site_url, page)
    page.goto(f"{site_url}/ministry/policy?lang=ja")
    page.get_by_label("候補のルール").select_option("upload")
    page.get_by_label(re.compile("ルールのファイル")).set_input_files(
        {
            "name": "mine.yaml",
            "mimeType": "application/yaml",
            "buffer": b"extends: in-force\nmeasures: 3\n",
        }
    )
    page.get_by_role("button", name="試算を始める").click()
    page.wait_for_load_state("load")
    expect(page.locator("#file-error")).to_contain_text("invalid_rules")
    expect(page.locator("#file-error")).to_contain_text("mine.yaml")
    console_look(page, "policy-lab-error")
