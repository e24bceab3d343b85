"""The signed-in citizen pages through the app (TestClient), on SQLite and PostgreSQL:
the sign-in cookie, CSRF, the simulated card reader only in demo mode, locked cards,
same-day cancellation, legal representatives, errors in words next to their field."""

from __future__ import annotations

import hashlib
import itertools
import re
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import timedelta
from functools import cache
from http.cookies import SimpleCookie

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from demo_site import DEMO_DAY
from mynapoint.bootstrap import Platform, build_platform
from mynapoint.config import Settings
from mynapoint.db.authority_store import SqlAuthorityStore
from mynapoint.db.tables import account_code_tries, citizen_sessions
from mynapoint.demo import DEMO_ACCOUNTS, DEMO_OPERATOR, seed_demo_cards, seed_demo_operator
from mynapoint.jpki.authority import SimulatedCardAuthority
from mynapoint.jpki.certificates import generate_key
from mynapoint.jpki.revocation import CachedRevocationList
from mynapoint.services.clock import FixedClock
from mynapoint.services.operators import register_account
from mynapoint.web.app import create_app

PARENT_ID, PARENT_CODE = "1234567890123456", "1234"
CHILD_ID, CHILD_CODE = "1234567890120009", "0009"
PINS = {"child": "3456", "parent": "1234", "late": "2345", "senior": "4567"}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PREVIEW = re.compile(r'name="preview" value="([0-9a-f]+)"')
FIELD_ERROR = re.compile(
    r'<p class="field-error" id="([^"]+)-error">.*?</span>(.*?)</p>', re.DOTALL
)


@dataclass
class Pages:
    client: TestClient
    platform: Platform
    clock: FixedClock

    def csrf(self) -> str:
        """The browser's CSRF secret, as a page's form carries it."""
        found = CSRF.search(self.client.get("/login").text)
        if found is None:  # no form on the page: the secret of a browser that had one
            self.client.cookies.set("mp_csrf", "a-secret-from-an-earlier-page")
            return "a-secret-from-an-earlier-page"
        return found.group(1)

    def post(self, path: str, data: dict[str, str], **kwargs):
        return self.client.post(path, data={"csrf_token": self.csrf(), **data}, **kwargs)

    def login(self, card: str = "parent", pin: str | None = None, **kwargs):
        return self.post("/login", {"card": card, "pin": pin or PINS[card]}, **kwargs)

    def signed_in(self, card: str = "parent") -> None:
        assert self.login(card).status_code == 200
        assert self.post("/mykey", {}).status_code == 200

    def confirm(self, *, follow_redirects: bool = True, **fields: str):
        return self.post(
            "/apply/paypay/confirm", _application(**fields), follow_redirects=follow_redirects
        )

    def commit(self, representative_pin: str = "", **fields: str):
        """Confirm, then apply for the account the confirmation shows; the refusal of the
        confirmation instead if it shows none."""
        confirm = self.confirm(**fields)
        found = PREVIEW.search(confirm.text)
        if found is None:
            return confirm
        return self.commit_preview(found[1], representative_pin=representative_pin)

    def commit_preview(self, preview: str, **fields: str):
        data = {"preview": preview, "confirm_account": "yes", "confirm_final": "yes", **fields}
        return self.post("/apply/paypay", data)


def _application(**fields: str) -> dict[str, str]:
    return {
        "measure": "phase1",
        "counts": "charge",
        "payment_service_id": PARENT_ID,
        "security_code": PARENT_CODE,
        **fields,
    }


def set_cookie(response, name: str):
    """The cookie `name` a response sets (a sign-in sets more than one)."""
    for header in response.headers.get_list("set-cookie"):
        parsed = SimpleCookie(header)
        if name in parsed:
            return parsed[name]
    raise AssertionError(f"{name} is not set")


def field_errors(html: str) -> dict[str, str]:
    return {field: text.strip() for field, text in FIELD_ERROR.findall(html)}


@cache
def _keys() -> itertools.cycle:
    # Eight keys per test (the root and the seven demo cards), all distinct within a test:
    # about 0.5 s of RSA key generation saved per test.
    return itertools.cycle([generate_key() for _ in range(8)])


def _quick_platform(settings: Settings, clock: FixedClock) -> Platform:
    """The platform `make run` wires, with pre-generated card keys."""
    platform = build_platform(settings, clock=clock)
    authority = SimulatedCardAuthority(
        SqlAuthorityStore(platform.engine), now=clock.now, new_key=lambda: next(_keys())
    )
    platform = replace(
        platform,
        authority=authority,
        revocations=CachedRevocationList(authority.revocation_list, clock.now),
    )
    for account in DEMO_ACCOUNTS:
        register_account(
            platform.unit_of_work(), platform.code_hasher, DEMO_OPERATOR, platform.catalog,
            account.service_code, account.payment_service_id, account.security_code,
            account.holder_name, clock.now(),
        )  # fmt: skip
    return platform


@contextmanager
def pages_app(database_url, tmp_path, *, demo: bool = True, rate_limits=None):
    settings = Settings(
        database_url=database_url, var_dir=tmp_path, demo=demo, rate_limits=rate_limits or {}
    )
    clock = FixedClock(DEMO_DAY)
    platform = _quick_platform(settings, clock)
    try:
        seed_demo_cards(platform)
        seed_demo_operator(platform)
        # Secure cookies travel over https only: the test client must look like https.
        app = create_app(settings, platform)
        with TestClient(app, base_url="https://testserver") as client:
            yield Pages(client, platform, clock)
    finally:
        platform.engine.dispose()


@pytest.fixture
def pages(database_url, tmp_path):
    with pages_app(database_url, tmp_path) as running:
        yield running


# --- signing in and out ----------------------------------------------------------------------


def test_the_sign_in_cookie_is_httponly_secure_lax_and_the_database_keeps_only_its_hash(pages):
    response = pages.login(follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/mykey"  # no MyKey ID yet: set it up first
    cookie = set_cookie(response, "mp_session")
    assert cookie["httponly"] is True
    assert cookie["secure"] is True
    assert cookie["samesite"].lower() == "lax"
    assert cookie["path"] == "/"
    assert int(cookie["max-age"]) == 30 * 60
    # The cookie that lets the login page say a session ended holds nothing but "1".
    before = set_cookie(response, "mp_signed_in_before")
    assert before.value == "1"
    assert before["httponly"] is True
    token = cookie.value
    uow = pages.platform.unit_of_work()
    with uow:
        stored = uow.sessions.get(hashlib.sha256(token.encode()).hexdigest())
    assert stored is not None
    with pages.platform.engine.connect() as connection:
        dumped = "\n".join(
            str(row) for row in connection.exec_driver_sql("SELECT * FROM citizen_sessions")
        )
    assert token not in dumped


def test_a_signed_out_visitor_is_sent_to_the_login_page_and_back_afterwards(pages):
    response = pages.client.get("/me", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fme"
    form = pages.client.get(response.headers["location"])
    assert 'name="next" value="/me"' in form.text
    signed = pages.post(
        "/login", {"card": "parent", "pin": "1234", "next": "/me"}, follow_redirects=False
    )
    assert signed.headers["location"] == "/me"


def test_a_session_that_timed_out_is_said_to_have_ended_and_leads_back(pages):
    pages.signed_in()
    pages.clock.advance(timedelta(minutes=31))
    sent = pages.client.get("/apply/paypay?lang=ja", follow_redirects=False)
    assert sent.status_code == 303
    assert sent.headers["location"] == "/login?next=%2Fapply%2Fpaypay%3Flang%3Dja&ended=1"
    login = pages.client.get(sent.headers["location"])
    assert "ログインの有効期限が切れたか、ログアウトしたため" in login.text
    assert 'name="next" value="/apply/paypay?lang=ja"' in login.text
    signed = pages.post(
        "/login",
        {"card": "parent", "pin": "1234", "next": "/apply/paypay?lang=ja"},
        follow_redirects=False,
    )
    assert signed.headers["location"] == "/apply/paypay?lang=ja"


def test_a_form_sent_after_the_session_ended_leads_back_to_its_page(pages):
    pages.signed_in()
    pages.post("/logout", {})
    sent = pages.confirm(follow_redirects=False)
    assert sent.status_code == 303
    assert sent.headers["location"] == "/login?next=%2Fapply%2Fpaypay%2Fconfirm&ended=1"
    signed = pages.post(
        "/login", {"card": "parent", "pin": "1234", "next": "/apply/paypay/confirm"}
    )
    assert signed.url.path == "/apply/paypay"  # the form again: the code is typed anew
    assert 'name="payment_service_id"' in signed.text


@pytest.mark.parametrize("next_page", ["//evil.example/", "https://evil.example/", "/\\evil"])
def test_a_next_page_on_another_site_is_never_followed(pages, next_page):
    login = pages.client.get("/login", params={"next": next_page, "ended": "1"})
    assert 'name="next" value=""' in login.text
    signed = pages.post(
        "/login", {"card": "parent", "pin": "1234", "next": next_page}, follow_redirects=False
    )
    assert signed.headers["location"] == "/mykey"


def test_a_next_page_on_another_site_is_ignored(pages):
    signed = pages.post(
        "/login",
        {"card": "parent", "pin": "1234", "next": "//evil.example/"},
        follow_redirects=False,
    )
    assert signed.headers["location"] == "/mykey"


def test_signing_out_ends_the_session_on_the_server(pages):
    token = set_cookie(pages.login(follow_redirects=False), "mp_session")
    out = pages.post("/logout", {}, follow_redirects=False)
    assert out.status_code == 303
    assert 'mp_session=""' in out.headers["set-cookie"]
    # The same token, replayed by someone who kept it, no longer works anywhere.
    api = pages.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token.value}"})
    assert api.json()["error"]["code"] == "invalid_token"
    pages.client.cookies.set("mp_session", token.value)
    assert pages.client.get("/me", follow_redirects=False).status_code == 303
    assert "ログアウトしました。" in pages.client.get("/login?signed_out=1").text


def test_the_navigation_says_login_or_my_page_and_logout(pages):
    assert ">ログイン</a>" in pages.client.get("/support-corners").text
    pages.signed_in()
    page = pages.client.get("/support-corners").text
    assert 'href="/me"' in page
    assert ">ログアウト</button>" in page
    assert ">ログイン</a>" not in page


# --- CSRF ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/login", "/logout", "/mykey", "/apply/paypay/confirm"])
def test_a_page_post_without_the_csrf_field_is_refused_with_a_page_in_words(pages, path):
    pages.signed_in()
    response = pages.client.post(path, data={"card": "parent", "pin": "1234"})
    assert response.status_code == 403
    assert "この操作を続けることができません" in response.text
    assert "csrf" not in response.text.lower().replace("csrf_token", "")


def test_a_post_from_another_site_does_nothing(pages):
    pages.login()
    forged = pages.client.post("/mykey", data={"csrf_token": "guessed"})
    assert forged.status_code == 403
    assert "マイキーIDがまだ設定されていません" in pages.client.get("/me").text
    assert pages.client.post("/logout", data={"csrf_token": "guessed"}).status_code == 403
    # Nor does a link (an image, a prefetch) sign anyone out.
    assert pages.client.get("/logout", follow_redirects=False).status_code == 303
    assert pages.client.get("/me", follow_redirects=False).status_code == 200


# --- the simulated card reader ---------------------------------------------------------------


def test_demo_mode_lists_the_demo_cards_with_their_notes_and_says_it_is_a_simulation(pages):
    page = pages.client.get("/login").text
    assert "これはシミュレーションです。" in page
    for name in PINS:
        assert f'value="{name}"' in page
    assert "9歳の子ども" in page
    english = pages.client.get("/login?lang=en").text
    assert "a child of 9; the parent may apply" in english
    assert "This is a simulation." in english


def test_outside_demo_mode_the_simulated_reader_is_not_offered_and_its_post_is_refused(
    database_url, tmp_path
):
    with pages_app(database_url, tmp_path, demo=False) as pages:
        page = pages.client.get("/login").text
        assert 'name="pin"' not in page
        assert "JPKI" in page or "利用者クライアントソフト" in page
        refused = pages.login(follow_redirects=False)
        assert refused.status_code == 403
        assert "set-cookie" not in {k.lower() for k in refused.headers if k.lower() != "set-cookie"}
        assert "mp_session" not in refused.headers.get("set-cookie", "")
        assert "シミュレーションは使えません" in refused.text


def test_the_card_reader_stores_challenges_under_the_apis_limit(database_url, tmp_path):
    with pages_app(database_url, tmp_path, rate_limits={"challenges": "2/minute"}) as pages:
        for _ in range(2):
            assert pages.login(follow_redirects=False).status_code == 303
        limited = pages.login(follow_redirects=False)
    assert limited.status_code == 429
    assert 0 < int(limited.headers["Retry-After"]) <= 60
    assert "短時間に操作が集中しています" in limited.text
    assert "mp_session" not in limited.headers.get("set-cookie", "")


def test_wrong_pins_say_the_tries_left_and_the_third_locks_the_card(pages):
    first = pages.login(pin="0000")
    assert first.status_code == 401
    assert field_errors(first.text)["pin"] == (
        "暗証番号が違います。あと2回間違えるとカードがロックされます。"
    )
    second = pages.login(pin="0001")
    assert "あと1回" in field_errors(second.text)["pin"]
    third = pages.login(pin="0002")
    assert "カードがロックされました" in field_errors(third.text)["pin"]
    # Locked: even the right PIN is refused now, and no session is made.
    locked = pages.login(pin="1234", follow_redirects=False)
    assert locked.status_code == 401
    assert "mp_session" not in locked.headers.get("set-cookie", "")
    assert "市区町村の窓口" in field_errors(locked.text)["card"]
    english = pages.client.post(
        "/login?lang=en", data={"csrf_token": pages.csrf(), "card": "parent", "pin": "1234"}
    )
    assert "locked" in english.text
    assert "card_locked" not in english.text


def test_a_pin_that_is_not_4_digits_is_not_counted(pages):
    response = pages.login(pin="12a")
    assert response.status_code == 422
    assert field_errors(response.text)["pin"] == "暗証番号は数字4桁で入力してください。"
    # Still 3 tries: a wrong PIN now leaves 2.
    assert "あと2回" in field_errors(pages.login(pin="0000").text)["pin"]


def test_an_unknown_card_name_reads_no_file(pages):
    response = pages.login(card="../mynapoint", pin="1234")
    assert response.status_code == 422
    assert "カードを選び直してください" in field_errors(response.text)["card"]


# --- MyKey ID ---------------------------------------------------------------------------------


def test_the_mykey_id_is_set_up_once_and_shown(pages):
    pages.login()
    before = pages.client.get("/mykey").text
    assert "マイキーIDを設定する" in before
    shown = pages.post("/mykey", {})
    mykey = re.search(r'class="mykey-id">([A-Z0-9]{8})<', shown.text)
    assert mykey
    assert "マイキーIDを設定しました。" in shown.text
    again = pages.post("/mykey", {})
    assert mykey.group(1) in again.text
    assert mykey.group(1) in pages.client.get("/me").text


# --- applying ---------------------------------------------------------------------------------


def test_applying_needs_a_mykey_id_first(pages):
    pages.login()
    page = pages.client.get("/apply/paypay").text
    assert "先にマイキーIDを設定してください。" in page
    assert 'href="/mykey"' in page


def test_the_confirmation_shows_the_masked_holder_name_and_nothing_is_applied_yet(pages):
    pages.signed_in()
    confirm = pages.confirm()
    assert confirm.status_code == 200
    assert "ヤマダ タ**" in confirm.text
    assert "ヤマダ タロウ" not in confirm.text
    assert "まだ申込みはありません。" in pages.client.get("/me").text


def test_both_confirmations_must_be_ticked(pages):
    pages.signed_in()
    preview = PREVIEW.search(pages.confirm().text)
    assert preview is not None
    response = pages.post("/apply/paypay", {"preview": preview[1], "confirm_account": "yes"})
    assert response.status_code == 422
    assert set(field_errors(response.text)) == {"confirm_final"}
    assert 'aria-describedby="confirm_final-error"' in response.text


def test_the_confirmation_page_carries_no_security_code(pages):
    pages.signed_in()
    confirm = pages.confirm(payment_service_id=CHILD_ID, security_code=CHILD_CODE)

    assert confirm.status_code == 200
    form = confirm.text.split('<form method="post" action="/apply/paypay"', 1)[1]
    form = form.split("</form>", 1)[0]
    assert set(re.findall(r'name="([^"]+)"', form)) == {
        "csrf_token", "preview", "confirm_account", "confirm_final",
    }  # fmt: skip
    assert "security_code" not in confirm.text
    assert f'value="{CHILD_CODE}"' not in confirm.text
    assert pages.commit_preview(PREVIEW.findall(confirm.text)[0]).status_code == 200


def test_the_checked_account_is_kept_with_the_session_without_its_code(pages):
    pages.signed_in()
    pages.confirm()
    uow = pages.platform.unit_of_work()
    with uow:
        [token_hash] = [
            t for t in _session_hashes(pages.platform) if uow.sessions.preview(t) is not None
        ]
        kept = uow.sessions.preview(token_hash)

    assert kept is not None
    assert (kept.service_code, kept.payment_service_id) == ("paypay", PARENT_ID)
    assert (kept.measure.value, kept.counts.value if kept.counts else None) == ("phase1", "charge")
    assert kept.holder_name_masked == "ヤマダ タ**"
    with pages.platform.engine.connect() as connection:
        row = connection.execute(
            select(citizen_sessions).where(citizen_sessions.c.token_hash == token_hash)
        ).one()
    assert PARENT_CODE not in {str(value) for value in row}


def _session_hashes(platform: Platform) -> list[str]:
    with platform.engine.connect() as connection:
        return list(connection.execute(select(citizen_sessions.c.token_hash)).scalars())


def test_a_confirmation_that_is_not_the_sessions_latest_does_nothing(pages):
    pages.signed_in()
    first = PREVIEW.findall(pages.confirm().text)[0]
    second = PREVIEW.findall(pages.confirm(counts="purchase").text)[0]

    older = pages.commit_preview(first)
    made_up = pages.commit_preview("0" * 32)

    assert older.status_code == made_up.status_code == 409
    assert "この確認画面は最新ではないか、すでに使われています。" in older.text
    assert "まだ申込みはありません。" in pages.client.get("/me").text
    done = pages.commit_preview(second)
    assert done.status_code == 200
    assert "お買い物" in done.text
    assert pages.commit_preview(second).status_code == 409  # used up


def test_another_sessions_confirmation_does_nothing(pages):
    pages.signed_in()
    shown = PREVIEW.findall(pages.confirm().text)[0]
    pages.post("/logout", {})
    pages.signed_in()  # the same person, a new session

    refused = pages.commit_preview(shown)

    assert refused.status_code == 409
    assert "まだ申込みはありません。" in pages.client.get("/me").text


def test_an_account_the_person_locked_after_the_preview_is_refused_at_the_commit(pages):
    pages.signed_in()
    shown = PREVIEW.findall(pages.confirm().text)[0]
    with TestClient(pages.client.app, base_url="https://testserver") as other_tab:
        # The same person, in another tab, types five wrong codes for the same account.
        same_person = Pages(other_tab, pages.platform, pages.clock)
        same_person.signed_in("parent")
        for _ in range(5):
            same_person.confirm(security_code="9999")

    refused = pages.commit_preview(shown)

    assert refused.status_code == 423
    assert int(refused.headers["Retry-After"]) == 15 * 60
    assert "しばらくお受けできません" in field_errors(refused.text)["payment_service_id"]
    assert "まだ申込みはありません。" in pages.client.get("/me").text


def test_another_persons_wrong_codes_do_not_stop_the_holder_at_the_commit(pages):
    pages.signed_in()
    shown = PREVIEW.findall(pages.confirm().text)[0]
    with TestClient(pages.client.app, base_url="https://testserver") as other_tab:
        attacker = Pages(other_tab, pages.platform, pages.clock)
        attacker.signed_in("senior")
        for _ in range(6):
            attacker.confirm(security_code="9999")

    done = pages.commit_preview(shown)

    assert done.status_code == 200, field_errors(done.text)
    assert "まだ申込みはありません。" not in pages.client.get("/me").text


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"payment_service_id": "12345"}, "payment_service_id", "16桁の数字"),
        ({"payment_service_id": ""}, "payment_service_id", "決済サービスIDを入力してください。"),
        ({"security_code": "9999"}, "security_code", "セキュリティコードが違います"),
        ({"security_code": "12"}, "security_code", "4桁の数字"),
        ({"counts": ""}, "counts", "チャージかお買い物"),
        ({"measure": ""}, "measure", "申し込むマイナポイントを選んでください。"),
        ({"payment_service_id": "9999999999999999"}, "security_code", "決済サービスID"),
    ],
)
def test_an_error_stands_next_to_its_field_in_words(pages, fields, field, words):
    pages.signed_in()
    response = pages.confirm(**fields)
    assert response.status_code in {409, 422}
    errors = field_errors(response.text)
    assert field in errors, errors
    assert words in errors[field]
    assert f'aria-describedby="{field}-hint {field}-error"' in response.text or (
        f'aria-describedby="{field}-error"' in response.text
    )
    assert "invalid_" not in response.text
    assert 'name="security_code" value' not in response.text  # a secret is typed again


def test_five_wrong_security_codes_lock_the_person_out_and_the_page_says_for_how_long(pages):
    pages.signed_in()
    for _ in range(4):
        pages.confirm(security_code="9999")
    locked = pages.confirm(security_code="9999")
    assert locked.status_code == 423
    assert int(locked.headers["Retry-After"]) == 15 * 60
    words = field_errors(locked.text)["payment_service_id"]
    assert "しばらくお受けできません" in words
    assert "約15分後にもう一度お試しください。" in words
    pages.clock.advance(timedelta(minutes=15))
    assert PREVIEW.search(pages.confirm().text) is not None  # the lock has ended by itself


def test_a_second_application_for_the_same_measure_says_already_applied(pages):
    pages.signed_in()
    done = pages.commit()
    assert done.status_code == 200
    assert "PayPayで「マイナポイント第1弾」を申し込みました。" in done.text
    # The form no longer offers phase 1 …
    form = pages.client.get("/apply/paypay").text
    assert "このマイナポイントはすでに申し込まれています。" in form
    assert 'name="measure"' not in form
    # … and a form still open in another tab is refused with the same words.
    again = pages.commit()
    assert again.status_code == 422
    summary = again.text.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    assert "このマイナポイントはすでに申し込まれています。" in summary


CUT_OFF = (
    "2021年4月30日(金)までにマイナンバーカードを申請した方が対象です。"
    "このカードの申請日は2021年5月10日(月)のため、申し込めません。"
)


def test_a_card_applied_for_after_the_cut_off_is_told_why_it_cannot_apply(pages):
    pages.signed_in("late")
    page = pages.client.get("/apply/paypay").text
    assert CUT_OFF in page  # the rule, with its date and the card's
    assert "お住まいの市区町村の窓口にお問い合わせください" in page  # what to do instead
    assert 'name="measure"' not in page


def test_a_card_that_cannot_apply_hears_why_right_after_signing_in_before_any_input(pages):
    landed = pages.login("late")  # no MyKey ID yet: the sign-in lands on /mykey
    assert landed.url.path == "/mykey"
    assert CUT_OFF in landed.text
    assert landed.text.index(CUT_OFF) < landed.text.index('action="/mykey"')
    # The application form says it too, instead of asking for a MyKey ID first.
    form = pages.client.get("/apply/paypay").text
    assert CUT_OFF in form
    assert "先にマイキーIDを設定してください。" not in form
    assert CUT_OFF in pages.client.get("/me").text


def test_a_person_who_applied_is_not_told_so_again_on_my_page_but_on_the_form(pages):
    pages.signed_in()
    pages.commit()
    assert "このカードでは、現在申し込めるマイナポイントはありません" not in (
        pages.client.get("/me").text
    )
    form = pages.client.get("/apply/paypay").text
    assert "申し込んだ当日であれば、マイページで取り消して" in form


def test_a_service_that_takes_applications_only_in_its_app_says_so_and_links_nowhere(pages):
    pages.signed_in()
    page = pages.client.get("/apply/rakuten_pay").text
    assert "決済サービスのアプリまたは店頭でお申し込みください" in page
    assert "<form" not in page.split("<main", 1)[1]
    main = page.split("<main", 1)[1].split("</main>", 1)[0]
    assert re.findall(r'href="([^"]+)"', main) == ["/services"]


def test_an_unknown_service_is_a_page_not_found(pages):
    pages.signed_in()
    response = pages.client.get("/apply/no-such-pay")
    assert response.status_code == 404
    assert "ページが見つかりません" in response.text


# --- same-day cancellation ---------------------------------------------------------------------


def _application_id(done) -> str:
    """The application a commit made: the commit ends on its page, /me/applications/{id}."""
    found = re.fullmatch(r"/me/applications/([0-9a-f]+)", done.url.path)
    assert found, f"the commit ends on the application's page, not {done.url}"
    return found.group(1)


def test_an_application_is_cancelled_on_its_day_and_the_account_is_free_again(pages):
    pages.signed_in()
    application = _application_id(pages.commit())
    assert f'action="/me/applications/{application}/cancel"' in pages.client.get("/me").text
    cancelled = pages.post(f"/me/applications/{application}/cancel", {})
    assert cancelled.status_code == 200
    assert "申込みを取り消しました。" in cancelled.text
    assert "取消し済み" in cancelled.text
    assert pages.commit().status_code == 200  # the same account and measure again


def test_a_cancellation_the_next_day_is_refused_with_the_message(pages):
    pages.signed_in()
    application = _application_id(pages.commit())
    pages.clock.advance(timedelta(days=1))
    pages.signed_in()  # the session of yesterday has expired
    page = pages.client.get("/me").text
    assert f"/me/applications/{application}/cancel" not in page  # no button on later days
    refused = pages.post(f"/me/applications/{application}/cancel", {})
    assert refused.status_code == 409
    assert field_errors(refused.text)[f"application-{application}"] == (
        "申込みの取消しは、申し込んだ当日のみできます。"
    )
    assert "申込み済み" in refused.text


def test_someone_elses_application_cannot_be_cancelled(pages):
    pages.signed_in()
    application = _application_id(pages.commit())
    pages.post("/logout", {})
    pages.signed_in("senior")
    refused = pages.post(f"/me/applications/{application}/cancel", {})
    assert refused.status_code == 404
    assert "お探しの情報は見つかりませんでした。" in refused.text


# --- post/redirect/get and the completion page ----------------------------------------------


def test_every_successful_post_of_the_application_answers_with_a_redirect(pages):
    pages.signed_in()
    checked = pages.confirm(follow_redirects=False)
    assert checked.status_code == 303
    assert checked.headers["location"] == "/apply/paypay/confirm"
    confirmation = pages.client.get("/apply/paypay/confirm")
    assert confirmation.status_code == 200
    assert "ヤマダ タ**" in confirmation.text
    preview = PREVIEW.search(confirmation.text)
    assert preview is not None
    # A reload of the confirmation shows the same one, and sends nothing.
    assert PREVIEW.search(pages.client.get("/apply/paypay/confirm").text)[1] == preview[1]
    data = {"preview": preview[1], "confirm_account": "yes", "confirm_final": "yes"}
    committed = pages.post("/apply/paypay", data, follow_redirects=False)
    assert committed.status_code == 303
    application = committed.headers["location"].rsplit("/", 1)[1]
    assert committed.headers["location"] == f"/me/applications/{application}"
    # Back to the confirmation after applying: the form, which says it is applied for.
    back = pages.client.get("/apply/paypay/confirm")
    assert back.url.path == "/apply/paypay"
    assert "このマイナポイントはすでに申し込まれています。" in back.text


def test_the_completion_page_gives_the_application_number_and_what_happens_next(pages):
    pages.signed_in()
    done = pages.commit()
    application = _application_id(done)
    text = re.sub(r"<[^>]+>", "", done.text)
    assert "申込みが完了しました" in text
    assert application in text
    assert "申込番号" in text
    # Which charges count and until when, when PayPay grants, where to see it, cancelling.
    assert (
        "2021年7月19日(月)の申込み以降、2021年9月30日(木)までにPayPayでしたチャージの25%が"
        "ポイントになります(1人あたり上限5,000ポイント)。"
    ) in text
    assert "当日に付与" in text
    assert "マイページに表示されます" in text
    assert "本日(2021年7月19日(月))中のみ、マイページでできます。" in text
    assert "Cache-Control" in done.headers
    assert done.headers["Cache-Control"] == "no-store"
    # The page is the person's own: someone else is told it does not exist.
    pages.post("/logout", {})
    pages.signed_in("senior")
    assert pages.client.get(f"/me/applications/{application}").status_code == 404


# --- legal representatives (RULES.md R14) ---------------------------------------------------------


def test_a_parent_applies_for_the_child_with_their_own_card_and_account(pages):
    pages.signed_in("child")
    form = pages.client.get("/apply/paypay").text
    assert 'name="representative_card"' in form
    assert (
        'value="child"' not in form.split('name="representative_card"', 1)[1].split("</select>")[0]
    )
    fields = {"payment_service_id": CHILD_ID, "security_code": CHILD_CODE}
    confirm = pages.confirm(representative_card="parent", **fields)
    assert 'name="representative_pin"' in confirm.text
    preview = PREVIEW.search(confirm.text)
    assert preview is not None
    wrong = pages.commit_preview(preview[1], representative_pin="0000")
    assert wrong.status_code == 401
    assert "あと2回" in field_errors(wrong.text)["representative_pin"]
    assert PREVIEW.search(wrong.text) is not None  # the same confirmation, to try again
    done = pages.commit_preview(preview[1], representative_pin="1234")
    assert done.status_code == 200
    assert "法定代理人による申込み" in done.text


def test_a_child_is_told_first_that_the_representative_applies_and_cannot_apply_alone(pages):
    pages.signed_in("child")
    form = pages.client.get("/apply/paypay").text
    told = "15歳未満の方は、ご本人だけでは申し込めません。"
    # Said before the form, and the card list offers no "without a representative".
    assert told in form
    assert form.index(told) < form.index('name="payment_service_id"')
    assert "使わない(ご本人が申し込む)" not in form
    # Alone, even with a wrong security code: refused next to the representative's card,
    # before the account is checked (the wrong code costs no try).
    alone = pages.confirm(payment_service_id=CHILD_ID, security_code="9999")
    assert alone.status_code == 422
    choose = "法定代理人のカードを選んでください。"
    assert field_errors(alone.text) == {"representative_card": choose}
    uow = pages.platform.unit_of_work()
    with uow:
        account = uow.accounts.get("paypay", CHILD_ID)
    assert account is not None
    with pages.platform.engine.connect() as connection:
        tries = connection.execute(
            select(account_code_tries).where(account_code_tries.c.payment_service_id == CHILD_ID)
        ).all()
    assert tries == []  # nobody's wrong code was counted for the account
    assert "まだ申込みはありません。" in pages.client.get("/me").text


def test_a_card_that_is_not_the_childs_representative_is_refused(pages):
    pages.signed_in("child")
    fields = {"payment_service_id": CHILD_ID, "security_code": CHILD_CODE}
    refused = pages.commit(representative_card="senior", representative_pin="4567", **fields)
    assert refused.status_code == 403
    assert field_errors(refused.text)["representative_pin"] == (
        "法定代理人であることを確認できませんでした。"
    )


def test_an_adult_is_not_offered_a_representative(pages):
    pages.signed_in("parent")
    assert 'name="representative_card"' not in pages.client.get("/apply/paypay").text


# --- my points ----------------------------------------------------------------------------------


def test_my_page_shows_points_grant_dates_and_what_is_left_to_the_cap(pages):
    pages.signed_in()
    pages.commit(counts="purchase")
    events = [
        {"event_id": "p1", "service_code": "paypay", "payment_service_id": PARENT_ID,
         "kind": "purchase", "amount": 8000, "occurred_at": "2021-07-19T10:05:00+09:00"},
    ]  # fmt: skip
    key = pages.platform.settings.var_dir / "demo-operator.json"
    import json  # noqa: PLC0415

    operator_key = json.loads(key.read_text())["key"]
    pages.clock.advance(timedelta(minutes=10))
    accepted = pages.client.post(
        "/api/v1/operator/events",
        json={"events": events},
        headers={"Authorization": f"Bearer {operator_key}"},
    )
    assert accepted.json()["accepted"] == 1
    page = pages.client.get("/me").text
    assert "2,000ポイント" in page
    assert "2021年8月19日(木)" in page  # 30 days after the day following the purchase
    assert "付与予定" in page
    assert "あと 3,000ポイント" in page
    english = pages.client.get("/me?lang=en").text
    assert "Thu, Aug 19, 2021" in english
    assert "2,000 points" in english
    assert "Scheduled" in english


# --- what `make run` prints ---------------------------------------------------------------------


def test_make_run_tells_a_new_user_to_sign_in_in_the_browser_with_a_demo_card(
    tmp_path, monkeypatch
):
    import uvicorn  # noqa: PLC0415
    from typer.testing import CliRunner  # noqa: PLC0415

    import mynapoint.logs  # noqa: PLC0415
    from mynapoint.cli import app  # noqa: PLC0415
    from mynapoint.db.engine import sqlite_url  # noqa: PLC0415

    # Print the banner, then neither serve nor take over the test run's logging.
    monkeypatch.setattr(uvicorn, "run", lambda *_, **__: None)
    monkeypatch.setattr(mynapoint.logs, "configure_logging", lambda *_, **__: None)
    monkeypatch.setenv("MYNAPOINT_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("MYNAPOINT_DATABASE_URL", sqlite_url(tmp_path / "run.db"))
    monkeypatch.setenv("MYNAPOINT_DEMO", "true")
    monkeypatch.setenv("MYNAPOINT_CLOCK_START", DEMO_DAY.isoformat())
    result = CliRunner().invoke(app, ["serve", "--port", "8123"])
    assert result.exit_code == 0, result.output
    assert (
        "in the browser: open http://127.0.0.1:8123/login, pick a demo card and type its PIN"
        in result.output
    )
    assert "parent.json  PIN 1234" in result.output
