"""The support-corner counter in a real browser (Debian's chromium), as `make run` serves it.

The incident scenarios of RULES.md §6: an abandoned session followed by another citizen's
card commits nothing to the first citizen; a mistyped ID is caught at the masked-name
confirmation; inactivity ends the session; after a session ends the staff member reaches
neither the citizen's data nor another corner's records; and a full assisted application
for a demo card completes. Every console page is checked with axe and photographed at
1280 px, and the flow runs again at 375 px without horizontal scrolling.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from browser import no_horizontal_scroll
from demo_site import demo_site
from mynapoint.domain.staff import Role
from mynapoint.services.codes import CodeHasher
from mynapoint.services.staff import add_staff
from staff_console import CHILD_ACCOUNT, PARENT_ACCOUNT, SENIOR_ACCOUNT, STAFF, SUPERVISOR


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    # SQLite only: what is checked here is the browser's view; the TestClient tests run the
    # same steps on both databases.
    from mynapoint.db.engine import sqlite_url  # noqa: PLC0415

    tmp = tmp_path_factory.mktemp("counter")
    with demo_site(sqlite_url(tmp / "site.db"), tmp) as running:
        yield running


def _applications(site, card):
    facts = site.platform.authority.facts(site.cards[card].serial)
    uow = site.platform.unit_of_work()
    with uow:
        return uow.applications.for_person(facts.person)


class Counter:
    """One staff member's browser at the counter."""

    def __init__(self, site, page, check=None):
        self.site = site
        self.page = page
        self.check = check or (lambda _name: None)

    def go(self, path):
        self.page.goto(self.site.url + path)

    def sign_in(self, name, password):
        self.go("/staff/sign-in")
        self.check("staff-sign-in")
        self.page.get_by_label("サインイン名").fill(name)
        self.page.get_by_label("パスワード", exact=True).fill(password)
        self.page.get_by_role("button", name="サインイン").click()

    def read_card(self, card, pin=None, prefix=""):
        self.page.set_input_files(f"#{prefix}card", str(self.site.cards[card].path))
        self.page.locator(f"#{prefix}pin").fill(pin or self.site.cards[card].card.pin)
        self.page.locator(f"#{prefix}pin").press("Enter")

    def start(self, card):
        """Read the card and set up the MyKey ID if the citizen has none."""
        self.read_card(card)
        set_up = self.page.get_by_role("button", name="この方のマイキーIDを設定する")
        if set_up.count():
            set_up.click()

    def account(self, account, counts="charge"):
        self.page.get_by_label("決済サービス(サポートコーナーで申し込めるもの)").select_option(
            "paypay"
        )
        self.page.get_by_label("ポイントの対象(選択制のサービスのみ)").select_option(counts)
        self.page.get_by_label("決済サービスID").fill(account[0])
        self.page.get_by_label("セキュリティコード").fill(account[1])
        self.page.get_by_role("button", name="口座の名義を確認する").click()

    def commit(self, card):
        self.page.get_by_label("はい、表示された名義は自分").check()
        self.page.set_input_files("#card", str(self.site.cards[card].path))
        self.page.locator("#pin").fill(self.site.cards[card].card.pin)
        self.page.get_by_role("button", name="申込みを確定する").click()

    def h1(self):
        return self.page.get_by_role("heading", level=1).inner_text()

    def alert(self):
        return self.page.get_by_role("alert").inner_text()


def _staff(site, new_page):
    counter = Counter(site, new_page())
    counter.sign_in(*STAFF)
    return counter


def _looks_right(page, axe, screenshot, name):
    """No serious axe violation at 1280 px; no horizontal scroll at 1280 and 375 px; both
    photographed."""
    assert axe(page) == [], name
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 900})
        assert no_horizontal_scroll(page), f"{name} at {width} px"
        screenshot(page, f"{name}-{width}")
    page.set_viewport_size({"width": 1280, "height": 900})


def test_a_staff_member_completes_an_assisted_application_for_a_demo_card(
    site, new_page, axe, screenshot
):
    counter = Counter(site, new_page(), lambda name: _looks_right(page, axe, screenshot, name))
    page = counter.page
    counter.sign_in(*STAFF)
    assert counter.h1() == "窓口の手続き"
    counter.check("counter-start")

    counter.read_card("parent")
    assert page.get_by_text("この方はまだマイキーIDを設定していません").is_visible()
    counter.check("counter-citizen")
    page.get_by_role("button", name="この方のマイキーIDを設定する").click()
    assert page.locator(".mykey").inner_text().isalnum()

    counter.account(PARENT_ACCOUNT)
    assert counter.h1() == "口座名義の確認"
    assert page.locator(".holder-name").inner_text() == "ヤマダ タ**"
    counter.check("counter-confirm")
    counter.commit("parent")

    assert counter.h1() == "申込みが完了しました"
    counter.check("counter-done")
    [application] = _applications(site, "parent")
    assert application.payment_service_id == PARENT_ACCOUNT[0]
    page.get_by_role("link", name="次の方の受付へ").click()
    assert page.get_by_label("カード(カードファイルを選択)").is_visible()


def test_an_abandoned_session_then_another_citizens_card_commits_nothing_for_the_first(
    site, new_page
):
    counter = _staff(site, new_page)
    counter.start("child")
    counter.account(CHILD_ACCOUNT)
    assert counter.h1() == "口座名義の確認"  # then the staff member walks away from this tab

    # The next citizen comes; the staff member reads their card in another tab.
    next_citizen = Counter(site, counter.page.context.new_page())
    next_citizen.go("/counter")
    next_citizen.page.get_by_text("次の方のカードを読み取る").click()
    next_citizen.read_card("late", prefix="next-")
    assert next_citizen.page.get_by_text("手続き中").first.is_visible()
    assert "ヤマダ" not in next_citizen.page.content()

    # The abandoned confirmation, answered with the next citizen's card and PIN.
    counter.commit("late")

    assert "この手続きはすでに終了しています" in counter.alert()
    assert _applications(site, "child") == []
    assert _applications(site, "late") == []
    assert _audit(site)[-1].entry.action == "step_refused"


def _audit(site):
    uow = site.platform.unit_of_work()
    with uow:
        return uow.audit.entries()


def test_a_mistyped_id_is_caught_at_the_masked_name_confirmation(site, new_page):
    counter = _staff(site, new_page)
    counter.start("late")

    counter.account(SENIOR_ACCOUNT)  # the staff member typed someone else's ID

    assert counter.page.locator(".holder-name").inner_text() == "サトウ イ***"
    counter.page.get_by_role("button", name="いいえ、自分の名義ではありません").click()
    assert "名義がご本人のものでないため、申し込みませんでした" in counter.page.content()
    assert counter.page.get_by_label("決済サービスID").input_value() == ""
    assert _applications(site, "late") == []
    assert _audit(site)[-1].entry.action == "preview_rejected"


def test_inactivity_ends_the_session_and_the_citizens_data_goes_with_it(site, new_page):
    counter = _staff(site, new_page)
    counter.read_card("late")
    mykey = counter.page.locator(".mykey")
    shown = mykey.inner_text() if mykey.count() else None
    assert counter.page.get_by_text("手続き中").first.is_visible()

    site.clock.advance(timedelta(minutes=2))
    counter.page.reload()

    assert "一定時間操作がなかったため" in counter.page.content()
    assert counter.page.get_by_text("手続き中").count() == 0
    if shown:
        assert shown not in counter.page.content()


def test_after_the_session_ends_the_staff_member_reaches_no_citizen_data_nor_other_records(
    site, new_page, axe, screenshot
):
    counter = _staff(site, new_page)
    counter.read_card("late")
    citizen_page = counter.page.url
    counter.page.get_by_role("button", name="この方の手続きを終了する").click()
    assert "職員が終了" in counter.page.content()

    counter.page.go_back()  # the browser keeps no copy: the page is asked for again
    assert counter.page.url == citizen_page
    assert counter.page.get_by_text("手続き中").count() == 0
    counter.go("/staff/log")
    assert counter.h1() == "このページを表示する権限がありません"
    _looks_right(counter.page, axe, screenshot, "staff-forbidden")
    counter.go("/staff/log?corner=hakata")
    assert counter.h1() == "このページを表示する権限がありません"


def test_a_supervisor_sees_the_corners_log_and_accounts_but_not_another_corners(
    site, new_page, axe, screenshot
):
    supervisor = Counter(site, new_page())
    supervisor.sign_in(*SUPERVISOR)
    for path, name in [("/staff/log", "staff-log"), ("/staff/accounts", "staff-accounts")]:
        supervisor.go(path)
        _looks_right(supervisor.page, axe, screenshot, name)
    supervisor.go("/staff/log")
    assert "中央区役所" in supervisor.h1()
    assert supervisor.page.get_by_text("手続き開始(カード読み取り)").first.is_visible()
    supervisor.go("/staff/log?corner=hakata")
    assert supervisor.h1() == "このページを表示する権限がありません"


def test_a_one_time_password_is_changed_at_the_first_sign_in(site, new_page, axe, screenshot):
    added = add_staff(
        site.platform.unit_of_work(),
        CodeHasher(time_cost=1, memory_cost_kib=8, parallelism=1),
        name="chuo-new",
        role=Role.STAFF,
        corner="chuo",
        corners={"chuo"},
        now=site.clock.now(),
    )
    counter = Counter(site, new_page())
    counter.sign_in("chuo-new", added.one_time_password)
    assert counter.h1() == "パスワードの変更"
    _looks_right(counter.page, axe, screenshot, "staff-password")
    counter.page.get_by_label("今のパスワード").fill(added.one_time_password)
    counter.page.get_by_label("新しいパスワード", exact=True).fill("my-own-password")
    counter.page.get_by_label("新しいパスワード(確認のためもう一度)").fill("my-own-password")
    counter.page.get_by_role("button", name="変更する").click()
    assert counter.h1() == "窓口の手続き"
