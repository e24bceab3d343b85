"""Accounts managed on the consoles' pages, end to end on SQLite and PostgreSQL: created with a
one-time password shown once, disabled (its sessions end, it cannot sign in), enabled and
reset, each in the audit log with who did what to whom; an account signs in only at its own
area; `mynapoint staff add` with the new roles and their scope."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from mynapoint.cli import app as cli
from mynapoint.domain.staff import Role
from mynapoint.web.csrf import CSRF_FIELD
from staff_console import alert, heading, staff_console

MINISTRY_ADMIN = ("mic-admin", "soumu-admin-2021")
CITY_ADMIN = ("fukuoka-admin", "shiyakusho-2021")
OPERATOR_ADMIN = ("paypay-admin", "paypay-admin-2021")
WRONG = "サインイン名またはパスワードが違います。"
_PASSWORD = re.compile(r"<dt>一時パスワード</dt><dd><code>([A-Za-z0-9_-]{16})</code>")
EXIT_USAGE = 2


@pytest.fixture
def console(database_url, tmp_path):
    with staff_console(database_url, tmp_path, with_cards=False) as running:
        yield running


def signed_in_at(console, prefix, name, password):
    terminal = console.terminal()
    response = terminal.post(f"{prefix}/sign-in", {"name": name, "password": password})
    assert response.status_code == 200, alert(response.text)
    return terminal


def one_time_password(text):
    match = _PASSWORD.search(text)
    assert match is not None, "no one-time password on the page"
    return match[1]


def test_the_ministry_creates_a_city_admin_who_signs_in_at_the_staff_console(console):
    ministry = signed_in_at(console, "/ministry", *MINISTRY_ADMIN)

    created = ministry.post(
        "/ministry/accounts", {"name": "kitakyushu-admin", "role": "city_admin", "city": "fukuoka"}
    )

    assert created.status_code == 200
    assert created.headers["cache-control"] == "no-store"
    password = one_time_password(created.text)
    new = console.terminal()
    assert (
        new.post(
            "/ministry/sign-in", {"name": "kitakyushu-admin", "password": password}
        ).status_code
        == 401
    )
    first = new.post("/staff/sign-in", {"name": "kitakyushu-admin", "password": password})
    assert first.url.path == "/staff/password"
    changed = new.post("/staff/password", {"current": password, "new": "city-admin-pass",
                                           "new_again": "city-admin-pass"})  # fmt: skip
    assert changed.url.path == "/staff/accounts"
    # The city's corners' accounts, and no other city's or area's.
    assert "chuo-staff" in changed.text
    assert "mic-admin" not in changed.text
    entry = console.audit()[-3].entry  # added, signed in, password changed
    assert (entry.actor, entry.role, entry.action) == ("mic-admin", "ministry_admin", "staff_added")
    assert entry.details == {"staff": "kitakyushu-admin", "staff_role": "city_admin",
                             "staff_city": "fukuoka"}  # fmt: skip


def test_a_city_admin_disables_a_staff_member_whose_sign_in_ends_at_once(console):
    city = signed_in_at(console, "/staff", *CITY_ADMIN)
    staff = signed_in_at(console, "/staff", "chuo-staff", "madoguchi-2021")
    assert staff.client.get("/counter").status_code == 200

    disabled = city.post("/staff/accounts/chuo-staff/disable", {})

    assert disabled.url.path == "/staff/accounts"
    assert "chuo-staff を停止しました" in disabled.text
    assert "停止中" in disabled.text
    assert staff.client.get("/counter", follow_redirects=False).headers["location"] == (
        "/staff/sign-in"
    )
    again = console.terminal().sign_in("chuo-staff", "madoguchi-2021")
    assert again.status_code == 401
    assert alert(again.text).startswith(WRONG)  # as a wrong password: nothing told

    city.post("/staff/accounts/chuo-staff/enable", {})
    assert console.terminal().sign_in("chuo-staff", "madoguchi-2021").url.path == "/counter"
    changes = [
        (e.entry.actor, e.entry.action, e.entry.details["staff"])
        for e in console.audit()
        if e.entry.action in {"staff_disabled", "staff_enabled"}
    ]
    assert changes == [("fukuoka-admin", "staff_disabled", "chuo-staff"),
                       ("fukuoka-admin", "staff_enabled", "chuo-staff")]  # fmt: skip
    # The corner's supervisor reads it in the corner's log.
    log = signed_in_at(console, "/staff", "chuo-supervisor", "kantoku-2021").client.get(
        "/staff/log"
    )
    assert "アカウントを停止" in log.text
    assert "アカウントを再開" in log.text


def test_an_operator_admin_resets_a_password_and_the_old_one_stops_working(console):
    console.add("paypay-sato", Role.OPERATOR_STAFF, operator="paypay")
    console.add("rakuten-ito", Role.OPERATOR_STAFF, operator="rakuten_payment")
    operator = signed_in_at(console, "/operator", *OPERATOR_ADMIN)
    listed = operator.client.get("/operator/accounts").text
    assert "paypay-sato" in listed
    assert "rakuten-ito" not in listed

    reset = operator.post("/operator/accounts/paypay-sato/reset-password", {})
    password = one_time_password(reset.text)
    other = operator.post("/operator/accounts/rakuten-ito/reset-password", {})
    own = operator.post("/operator/accounts/paypay-admin/disable", {})

    assert other.status_code == 403
    assert own.status_code == 403
    assert "管理できる範囲にありません" in own.text
    staff = console.terminal()
    signed = staff.post("/operator/sign-in", {"name": "paypay-sato", "password": password})
    assert signed.url.path == "/operator/password"
    last = console.audit()[-1].entry
    assert last.action == "staff_signed_in"
    assert [e.entry.action for e in console.audit()].count("staff_password_reset") == 1


@pytest.mark.parametrize(
    ("form", "field", "says"),
    [
        ({"name": "Bad Name", "role": "staff", "corner": "chuo"}, "name", "2〜64文字"),
        ({"name": "hakata-new", "role": "boss"}, "role", "役割を一覧から"),
        ({"name": "hakata-new", "role": "staff", "corner": ""}, "corner", "コーナーを一覧から"),
        ({"name": "chuo-staff", "role": "staff", "corner": "chuo"}, "name", "すでに使われています"),
    ],
)
def test_a_wrong_new_account_form_says_what_to_mend_and_adds_nothing(console, form, field, says):
    city = signed_in_at(console, "/staff", *CITY_ADMIN)
    entries = len(console.audit())

    refused = city.post("/staff/accounts", form)

    assert refused.status_code == 422
    assert says in alert(refused.text)
    assert f'id="{field}-error"' in refused.text or says in refused.text
    assert len(console.audit()) == entries


def test_a_city_admin_cannot_create_an_account_at_another_citys_corner_nor_an_admin(console):
    city = signed_in_at(console, "/staff", *CITY_ADMIN)
    admin = city.post("/staff/accounts", {"name": "new-admin", "role": "admin"})
    assert admin.status_code == 403
    assert heading(admin.text) == "このページを表示する権限がありません"


def test_a_post_without_the_csrf_token_changes_no_account(console):
    ministry = signed_in_at(console, "/ministry", *MINISTRY_ADMIN)
    entries = len(console.audit())
    for path in ("/ministry/accounts/mic-viewer/disable", "/ministry/accounts"):
        refused = ministry.client.post(path, data={"name": "x-y", "role": "auditor"})
        forged = ministry.client.post(path, data={CSRF_FIELD: "forged"})
        assert refused.status_code == forged.status_code == 403
    assert len(console.audit()) == entries


def _cli(console, *args):
    settings = console.platform.settings
    env = {
        "MYNAPOINT_DATABASE_URL": settings.database_url,
        "MYNAPOINT_VAR_DIR": str(settings.var_dir),
    }
    return CliRunner().invoke(cli, ["staff", "add", *args], env=env)


@pytest.mark.parametrize(
    ("args", "role", "scope"),
    [
        (["--role", "ministry_admin"], Role.MINISTRY_ADMIN, {}),
        (["--role", "auditor"], Role.AUDITOR, {}),
        (["--role", "city_admin", "--city", "fukuoka"], Role.CITY_ADMIN, {"city": "fukuoka"}),
        (["--role", "operator_staff", "--operator", "paypay"], Role.OPERATOR_STAFF,
         {"operator": "paypay"}),
    ],
)  # fmt: skip
def test_staff_add_creates_each_new_role_with_its_scope(console, args, role, scope):
    result = _cli(console, "--name", "new-one", *args)

    assert result.exit_code == 0, result.stderr
    uow = console.platform.unit_of_work()
    with uow:
        account = uow.staff.get("new-one")
    assert account is not None
    assert account.role is role
    assert {"city": account.city, "operator": account.operator} == {
        "city": scope.get("city"), "operator": scope.get("operator")
    }  # fmt: skip


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--role", "city_admin"], "a city_admin belongs to one city; give its code"),
        (["--role", "city_admin", "--city", "osaka"], "city 'osaka' has no support corners"),
        (["--role", "operator_admin"], "an operator_admin belongs to one operator"),
        (["--role", "operator_admin", "--operator", "nopay"], "'nopay' is not in the service"),
        (["--role", "ministry_viewer", "--city", "fukuoka"], "belongs to no city"),
    ],
)
def test_staff_add_refuses_a_role_without_its_scope_or_with_one_it_has_not(console, args, says):
    result = _cli(console, "--name", "new-one", *args)

    assert result.exit_code == EXIT_USAGE
    assert says in result.stderr


def test_each_console_has_its_own_cookie_and_signing_out_of_one_leaves_the_other(console):
    browser = console.terminal()
    ministry = browser.post("/ministry/sign-in", {"name": MINISTRY_ADMIN[0],
                                                  "password": MINISTRY_ADMIN[1]},
                            follow_redirects=False)  # fmt: skip
    assert ministry.headers["set-cookie"].startswith("mp_ministry=")
    assert "HttpOnly" in ministry.headers["set-cookie"]
    browser.post("/staff/sign-in", {"name": CITY_ADMIN[0], "password": CITY_ADMIN[1]})
    assert {"mp_ministry", "mp_staff"} <= set(browser.client.cookies.keys())

    signed_out = browser.post("/ministry/sign-out", {})

    assert signed_out.url.path == "/ministry/sign-in"
    assert browser.client.get("/ministry", follow_redirects=False).headers["location"] == (
        "/ministry/sign-in"
    )
    assert browser.client.get("/staff/accounts").status_code == 200
    assert [e.entry.action for e in console.audit()][-1] == "staff_signed_out"
