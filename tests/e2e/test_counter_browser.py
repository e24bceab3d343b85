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
from playwright.sync_api import expect

from browser import no_horizontal_scroll
from demo_site import demo_site
from mynapoint.domain.calendar import to_jst
from mynapoint.domain.staff import KnownScopes, Role, Scope
from mynapoint.services.passwords import PasswordHasher
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
        self.submitted()

    def submitted(self):
        """After a click or key that sent a form: the answer's page, loaded.

        Playwright returns from the action once the navigation has committed: the new
        document exists, but its body may still be arriving (the response's headers and body
        are separate writes), so an immediate look can find an empty page. This waits for
        the new document's load event, which the committed navigation makes current.
        """
        self.page.wait_for_load_state("load")

    def read_card(self, card, pin=None, prefix=""):
        self.page.set_input_files(f"#{prefix}card", str(self.site.cards[card].path))
        self.page.locator(f"#{prefix}pin").fill(pin or self.site.cards[card].card.pin)
        self.page.locator(f"#{prefix}pin").press("Enter")
        self.submitted()

    def start(self, card):
        """Read the card and set up the MyKey ID if the citizen has none."""
        self.read_card(card)
        set_up = self.page.get_by_role("button", name="この方のマイキーIDを設定する")
        if set_up.count():
            set_up.click()
            self.submitted()

    def account(self, account, counts="charge"):
        self.page.get_by_label("決済サービス(サポートコーナーで申し込めるもの)").select_option(
            "paypay"
        )
        self.page.get_by_label("ポイントの対象(選択制のサービスのみ)").select_option(counts)
        self.page.get_by_label("決済サービスID").fill(account[0])
        self.page.get_by_label("セキュリティコード").fill(account[1])
        self.page.get_by_role("button", name="口座の名義を確認する").click()
        self.submitted()

    def commit(self, card):
        self.page.get_by_label("はい、表示された名義は自分").check()
        self.page.set_input_files("#card", str(self.site.cards[card].path))
        self.page.locator("#pin").fill(self.site.cards[card].card.pin)
        self.page.get_by_role("button", name="申込みを確定する").click()
        self.submitted()

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
    expect(page.get_by_text("この方はまだマイキーIDを設定していません")).to_be_visible()
    counter.check("counter-citizen")
    page.get_by_role("button", name="この方のマイキーIDを設定する").click()
    counter.submitted()
    assert page.locator(".mykey").inner_text().isalnum()

    counter.account(PARENT_ACCOUNT)
    assert counter.h1() == "口座名義の確認"
    assert page.locator(".holder-name").inner_text() == "ヤマダ タ**"
    # The ID the citizen checks is shown as large and bold as the masked name (issue 12 §3).
    assert font(page, ".account-id code") == font(page, ".holder-name")
    counter.check("counter-confirm")
    counter.commit("parent")

    assert counter.h1() == "申込みが完了しました"
    counter.check("counter-done")
    [application] = _applications(site, "parent")
    assert application.payment_service_id == PARENT_ACCOUNT[0]
    page.get_by_role("link", name="次の方の受付へ").click()
    counter.submitted()
    expect(page.get_by_label("カード(カードファイルを選択)")).to_be_visible()


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
    first_session = next_citizen.page.locator(".session-number").inner_text()
    first_mykey = next_citizen.page.locator(".mykey").inner_text()
    next_citizen.read_card("late", prefix="next-")
    # The next citizen's own session (CI once looked before the new page had arrived).
    expect(next_citizen.page.locator(".session-number")).not_to_have_text(first_session)
    expect(next_citizen.page.get_by_text("手続き中").first).to_be_visible()
    expect(next_citizen.page.get_by_text(first_mykey)).to_have_count(0)
    expect(next_citizen.page.get_by_text("ヤマダ")).to_have_count(0)

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
    counter.submitted()
    expect(
        counter.page.get_by_text("名義がご本人のものでないため、申し込みませんでした")
    ).to_be_visible()
    assert counter.page.get_by_label("決済サービスID").input_value() == ""
    assert _applications(site, "late") == []
    assert _audit(site)[-1].entry.action == "preview_rejected"


def test_inactivity_ends_the_session_and_the_citizens_data_goes_with_it(site, new_page):
    counter = _staff(site, new_page)
    counter.read_card("late")
    mykey = counter.page.locator(".mykey")
    shown = mykey.inner_text() if mykey.count() else None
    expect(counter.page.get_by_text("手続き中").first).to_be_visible()

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
    counter.submitted()
    expect(counter.page.get_by_text("職員が終了", exact=False)).to_be_visible()

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
    expect(supervisor.page.get_by_text("手続き開始(カード読み取り)").first).to_be_visible()
    supervisor.go("/staff/log?corner=hakata")
    assert supervisor.h1() == "このページを表示する権限がありません"


def test_a_one_time_password_is_changed_at_the_first_sign_in(site, new_page, axe, screenshot):
    added = add_staff(
        site.platform.unit_of_work(),
        PasswordHasher(time_cost=1, memory_cost_kib=8, parallelism=1),
        name="chuo-new",
        role=Role.STAFF,
        scope=Scope(corner="chuo"),
        known=KnownScopes({"chuo": "fukuoka"}, {"paypay"}),
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
    counter.submitted()
    assert counter.h1() == "窓口の手続き"


# --- issue 12: typing is activity, the idle warning, refusals, the staff screen -----------------


def test_typing_in_the_form_keeps_the_session_and_what_was_typed(site, new_page):
    counter = _staff(site, new_page)
    counter.start("senior")
    page = counter.page
    expect(page.locator(".idle-text")).to_contain_text(_ends_at(site))
    site.clock.advance(timedelta(seconds=90))

    page.get_by_label("決済サービスID").fill(SENIOR_ACCOUNT[0])  # the clerk types

    expect(page.locator(".idle-text")).to_contain_text(_ends_at(site))  # the end moved
    site.clock.advance(timedelta(seconds=60))  # past the first end, not the moved one
    page.get_by_label("セキュリティコード").fill(SENIOR_ACCOUNT[1])
    expect(page.locator(".idle-text")).to_contain_text(_ends_at(site))
    counter.account(SENIOR_ACCOUNT)
    assert counter.h1() == "口座名義の確認"
    assert page.locator(".holder-name").inner_text() == "サトウ イ***"


def _ends_at(site):
    """The idle end 2 minutes from now by the platform clock, as the counter writes it."""
    return f"{to_jst(site.clock.now() + timedelta(minutes=2)):%H:%M} まで"


def test_the_counter_warns_before_the_idle_end_and_a_click_keeps_the_session(
    site, new_page, axe, screenshot
):
    page = new_page()
    page.clock.install()  # the page's timers, fast-forwarded below; the server's clock apart
    counter = Counter(site, page)
    counter.sign_in(*STAFF)
    counter.start("senior")
    warning = page.locator(".idle-warning")
    expect(warning).to_be_hidden()

    page.clock.fast_forward("01:35")  # 25 s before the 2-minute end

    expect(warning).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("まもなくこの手続きは自動的に終了します")
    _looks_right(page, axe, screenshot, "counter-idle-warning")
    page.get_by_role("button", name="手続きを続ける").click()
    expect(warning).to_be_hidden()

    page.clock.fast_forward("01:40")
    expect(warning).to_be_visible()
    site.clock.advance(timedelta(minutes=2))  # nobody came back: the end, by the platform clock
    page.clock.fast_forward("00:30")
    expect(page.get_by_text("一定時間操作がなかったため")).to_be_visible()
    expect(page.get_by_text("手続き中")).to_have_count(0)


def test_a_page_of_a_session_ended_elsewhere_says_so_as_soon_as_it_is_touched(site, new_page):
    counter = _staff(site, new_page)
    counter.start("child")
    other_tab = Counter(site, counter.page.context.new_page())
    other_tab.go("/counter")
    other_tab.page.get_by_role("button", name="この方の手続きを終了する").click()
    other_tab.submitted()

    counter.page.get_by_label("決済サービスID").fill(CHILD_ACCOUNT[0])

    expect(counter.page.get_by_role("alert")).to_contain_text("この手続きはすでに終了しています")


def test_a_full_width_id_is_read_and_a_wrong_one_is_marked_next_to_its_field(
    site, new_page, axe, screenshot
):
    counter = _staff(site, new_page)
    counter.start("senior")
    page = counter.page

    counter.account(("３４５６７８９０１２", "３４５６"))  # full-width, and too short

    field = page.get_by_label("決済サービスID")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#payment_service_id-error")).to_contain_text("16桁の数字")
    expect(page.get_by_role("alert")).to_contain_text("16桁の数字")
    expect(page.get_by_role("alert").get_by_role("button")).to_have_count(0)  # typing mends it
    _looks_right(page, axe, screenshot, "counter-field-error")

    counter.account(("３４５６ ７８９０ １２３４ ５６７８", "３４５６"))  # full-width, in groups
    assert counter.h1() == "口座名義の確認"
    assert page.locator(".holder-name").inner_text() == "サトウ イ***"


def test_after_a_refusal_the_counter_offers_to_end_the_session(site, new_page, axe, screenshot):
    counter = _staff(site, new_page)
    counter.start("late")  # card applied for after the 2021-04-30 cut-off
    counter.account(("2345678901234567", "2345"))
    counter.commit("late")

    alert = counter.page.get_by_role("alert")
    expect(alert).to_contain_text("2021年4月30日(金)までにマイナンバーカードを申請した方が対象です")
    _looks_right(counter.page, axe, screenshot, "counter-refusal")
    alert.get_by_role("button", name="この方の手続きを終了する").click()
    counter.submitted()
    expect(counter.page.get_by_text("職員が終了", exact=False)).to_be_visible()
    assert _applications(site, "late") == []


def test_the_staff_console_is_unmistakably_a_staff_screen(site, new_page):
    citizen = new_page()
    citizen.goto(site.url + "/")
    counter = _staff(site, new_page)
    page = counter.page

    header = page.locator("header.site")
    expect(header.get_by_text("職員用")).to_be_visible()
    expect(header).to_contain_text("chuo-staff(職員・中央区役所)")
    expect(header.locator(".staff-clock")).to_contain_text(
        f"プラットフォーム時刻: 2021年7月19日(月) {to_jst(site.clock.now()):%H:%M}"
    )
    background = "getComputedStyle(document.querySelector('header.site')).backgroundColor"
    assert page.evaluate(background) != citizen.evaluate(background)
    expect(page.locator("footer.site")).to_contain_text("職員用画面")

    page.goto(site.url + "/counter?lang=en")
    expect(header).to_contain_text("chuo-staff (Staff, Chuo Ward Office)")
    expect(header.get_by_text("Staff only")).to_be_visible()
    expect(header.locator(".staff-clock")).to_contain_text("Platform time")


def font(page, selector: str) -> tuple[float, int]:
    """The rendered font size (px) and weight of the first element matching `selector`."""
    size, weight = page.eval_on_selector(
        selector,
        "e => [parseFloat(getComputedStyle(e).fontSize), parseInt(getComputedStyle(e).fontWeight)]",
    )
    return size, weight
