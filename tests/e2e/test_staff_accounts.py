"""Staff accounts end to end: `mynapoint staff add`, sign-in, one-time password, throttled
failures that never lock an account, roles and CSRF, through the test client on SQLite and
PostgreSQL."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from mynapoint.cli import app as cli
from mynapoint.domain.staff import Role
from mynapoint.services.auth import token_hash
from mynapoint.web.csrf import CSRF_FIELD
from staff_console import STAFF, SUPERVISOR, alert, heading, staff_console

WRONG = "サインイン名またはパスワードが違います。"
EXIT_REFUSED = 1
EXIT_USAGE = 2


@pytest.fixture
def console(database_url, tmp_path):
    with staff_console(database_url, tmp_path, with_cards=False) as running:
        yield running


def _cli(database_url, tmp_path, *args):
    env = {"MYNAPOINT_DATABASE_URL": database_url, "MYNAPOINT_VAR_DIR": str(tmp_path)}
    return CliRunner().invoke(cli, ["staff", *args], env=env)


def test_staff_add_prints_a_one_time_password_that_must_be_changed_at_first_sign_in(console):
    settings = console.platform.settings
    result = _cli(
        settings.database_url, settings.var_dir,
        "add", "--name", "hakata-sato", "--role", "staff", "--corner", "hakata",
    )  # fmt: skip

    assert result.exit_code == 0, result.stderr
    password = result.stdout.strip()
    assert re.fullmatch(r"[A-Za-z0-9_-]{16}", password)
    assert "shown only this once" in result.stderr
    uow = console.platform.unit_of_work()
    with uow:
        account = uow.staff.get("hakata-sato")
    assert account is not None
    assert account.role is Role.STAFF
    assert account.corner == "hakata"
    assert password not in account.password_hash  # argon2id, never the password
    assert account.password_hash.startswith("$argon2id$")

    terminal = console.terminal()
    response = terminal.sign_in("hakata-sato", password)
    assert response.url.path == "/staff/password"
    # Every other page sends the staff member back until the password is changed.
    assert terminal.client.get("/counter").url.path == "/staff/password"
    refused = terminal.post(
        "/staff/password",
        {"current": password, "new": "short", "new_again": "short"},
    )
    assert refused.status_code == 422
    assert "10文字以上" in alert(refused.text)
    changed = terminal.post(
        "/staff/password",
        {"current": password, "new": "a-much-longer-one", "new_again": "a-much-longer-one"},
    )
    assert changed.url.path == "/counter"
    assert heading(changed.text) == "窓口の手続き"

    again = console.terminal()
    assert again.sign_in("hakata-sato", password).status_code == 401
    assert again.sign_in("hakata-sato", "a-much-longer-one").url.path == "/counter"


@pytest.mark.parametrize(
    ("args", "exit_code", "says"),
    [
        (["--role", "staff"], EXIT_USAGE, "belongs to one corner"),
        (["--role", "supervisor", "--corner", "tenjin"], EXIT_USAGE, "does not exist"),
        (["--role", "admin", "--corner", "chuo"], EXIT_USAGE, "leave out the corner"),
        (["--role", "boss", "--corner", "chuo"], EXIT_USAGE, "boss"),
    ],
)
def test_staff_add_refuses_a_role_without_its_corner_or_an_unknown_corner(
    database_url, tmp_path, args, exit_code, says
):
    result = _cli(database_url, tmp_path, "add", "--name", "someone", *args)

    assert result.exit_code == exit_code
    assert says in result.stderr


def test_staff_add_refuses_a_name_taken_and_a_malformed_name(database_url, tmp_path):
    added = ["add", "--name", "chuo-tanaka", "--role", "staff", "--corner", "chuo"]
    assert _cli(database_url, tmp_path, *added).exit_code == 0
    taken = _cli(database_url, tmp_path, *added)
    malformed = _cli(database_url, tmp_path, "add", "--name", "Tanaka Hanako", "--role", "admin")

    assert taken.exit_code == EXIT_REFUSED
    assert "exists already" in taken.stderr
    assert malformed.exit_code == EXIT_USAGE
    assert "e.g. chuo-tanaka" in malformed.stderr


def test_the_sign_in_cookie_is_httponly_samesite_and_secure_and_only_its_hash_is_stored(console):
    terminal = console.terminal()
    response = terminal.post("/staff/sign-in", {"name": STAFF[0], "password": STAFF[1]},
                             follow_redirects=False)  # fmt: skip

    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("mp_staff=")
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Secure" in cookie
    token = terminal.client.cookies["mp_staff"]
    uow = console.platform.unit_of_work()
    with uow:
        assert uow.staff_sessions.get(token_hash(token)) is not None
        assert uow.staff_sessions.get(token) is None
    assert console.actions()[-1] == "staff_signed_in"


def test_signing_out_ends_the_sign_in_on_the_server_too(console):
    terminal = console.signed_in(*STAFF)
    token = terminal.client.cookies["mp_staff"]

    signed_out = terminal.post("/staff/sign-out", {})

    assert signed_out.url.path == "/staff/sign-in"
    assert "サインアウトしました" in signed_out.text
    terminal.client.cookies.set("mp_staff", token)  # a copy of the old cookie is worthless
    assert terminal.client.get("/counter").url.path == "/staff/sign-in"


def test_wrong_passwords_never_lock_the_account_and_the_page_never_says_whether_it_exists(
    console,
):
    attacker = console.terminal("192.0.2.66")
    unknown = attacker.sign_in("no-such-person", "whatever-it-is")
    wrongs = [attacker.sign_in(STAFF[0], f"wrong-{n}") for n in range(5)]
    for response in [unknown, *wrongs]:
        assert response.status_code == 401
        assert alert(response.text) == alert(unknown.text)
        assert alert(response.text).startswith(WRONG)

    # The attacker's terminal waits, even with the right password …
    held_back = attacker.sign_in(*STAFF)
    assert held_back.status_code == 429
    assert 0 < int(held_back.headers["Retry-After"]) <= 15 * 60
    assert "短時間に操作が集中しています" in alert(held_back.text)
    # … and the staff member signs in at their own terminal as ever.
    assert console.terminal("192.0.2.10").sign_in(*STAFF).url.path == "/counter"
    assert "staff_locked" not in console.actions()


def test_twenty_failures_from_one_address_hold_it_back_whatever_the_name(console):
    attacker = console.terminal("192.0.2.66")
    for n in range(20):
        assert attacker.sign_in(f"guess-{n}", "password-1").status_code == 401
    held_back = attacker.sign_in("guess-20", "password-1")
    assert held_back.status_code == 429
    assert 0 < int(held_back.headers["Retry-After"]) <= 15 * 60
    assert console.terminal("192.0.2.10").sign_in(*STAFF).url.path == "/counter"


def test_wrong_current_passwords_count_as_failed_sign_ins_of_that_terminal(console):
    terminal = console.signed_in(*STAFF)
    for n in range(5):
        refused = terminal.post(
            "/staff/password",
            {"current": f"wrong-{n}", "new": "a-new-password-1", "new_again": "a-new-password-1"},
        )
        assert refused.status_code == 422
    held_back = terminal.post(
        "/staff/password",
        {"current": STAFF[1], "new": "a-new-password-1", "new_again": "a-new-password-1"},
    )
    assert held_back.status_code == 429
    assert "Retry-After" in held_back.headers


def test_a_supervisor_lists_the_corners_accounts_and_staff_see_none(console):
    console.add("hakata-ito", Role.STAFF, "hakata")
    console.add("chuo-kimura", Role.SUPERVISOR, "chuo")
    supervisor = console.signed_in(*SUPERVISOR)
    staff = console.signed_in(*STAFF)

    listed = supervisor.client.get("/staff/accounts").text
    assert "chuo-staff" in listed
    assert "chuo-kimura" in listed
    assert "hakata-ito" not in listed
    assert "初回のパスワード変更待ち" in listed  # chuo-kimura's one-time password
    assert "アカウントはロックされません" in listed
    # Nothing locks, so there is nothing to unlock.
    assert supervisor.post(f"/staff/accounts/{STAFF[0]}/unlock", {}).status_code in {404, 405}
    assert staff.client.get("/staff/accounts").status_code == 403


def test_roles_decide_which_records_open(console):
    admin_password = console.add("root", Role.ADMIN, None)
    admin = console.terminal()
    admin.sign_in("root", admin_password)
    admin.post("/staff/password", {"current": admin_password, "new": "administrator-1",
                                   "new_again": "administrator-1"})  # fmt: skip
    staff = console.signed_in(*STAFF)
    supervisor = console.signed_in(*SUPERVISOR)

    assert staff.client.get("/staff/log").status_code == 403
    assert supervisor.client.get("/staff/log").status_code == 200
    assert supervisor.client.get("/staff/log?corner=hakata").status_code == 403
    assert admin.client.get("/staff/log?corner=hakata").status_code == 200
    assert "博多区役所" in admin.client.get("/staff/log?corner=hakata").text
    # An administrator belongs to no corner: the counter is not theirs.
    assert admin.client.get("/counter").status_code == 403


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/staff/sign-in", {"name": STAFF[0], "password": STAFF[1]}),
        ("/staff/password", {"current": SUPERVISOR[1], "new": "x" * 12, "new_again": "x" * 12}),
        ("/counter/card", {"pin": "1234"}),
        ("/counter/end", {}),
        ("/staff/sign-out", {}),
    ],
)
def test_a_post_without_the_csrf_token_is_refused_with_the_error_page_and_changes_nothing(
    console, path, data
):
    supervisor = console.signed_in(*SUPERVISOR)
    entries = len(console.audit())

    response = supervisor.client.post(path, data=data)  # no CSRF field
    forged = supervisor.client.post(path, data={**data, CSRF_FIELD: "forged"})

    for refused in (response, forged):
        assert refused.status_code == 403
        assert refused.headers["content-type"].startswith("text/html")
        assert heading(refused.text) == "この操作を続けることができません"
    assert len(console.audit()) == entries
    uow = console.platform.unit_of_work()
    with uow:
        staff = uow.staff.get(STAFF[0])
        supervisor_account = uow.staff.get(SUPERVISOR[0])
    assert staff is not None
    assert staff.password_hash == _demo_hash(console, STAFF[0])
    assert supervisor_account is not None
    assert supervisor.client.get("/staff/accounts").status_code == 200  # still signed in
    assert supervisor_account.password_hash == _demo_hash(console, SUPERVISOR[0])


def _demo_hash(console, name):
    uow = console.platform.unit_of_work()
    with uow:
        account = uow.staff.get(name)
    return None if account is None else account.password_hash


def test_signing_in_at_a_shared_browser_signs_the_previous_staff_member_out(console):
    terminal = console.signed_in(*STAFF)
    previous = terminal.client.cookies["mp_staff"]

    terminal.sign_in(*SUPERVISOR)

    assert "chuo-supervisor" in terminal.client.get("/counter").text
    uow = console.platform.unit_of_work()
    with uow:
        ended = uow.staff_sessions.get(token_hash(previous))
    assert ended is not None
    assert ended.ended_at is not None
    assert console.terminal().client.get("/staff").url.path == "/staff/sign-in"


@pytest.mark.parametrize(
    "path",
    ["/counter/card", "/counter/mykey", "/counter/preview", "/counter/apply", "/counter/end"],
)
def test_every_counter_step_sends_a_signed_out_terminal_to_the_sign_in(console, path):
    terminal = console.terminal()
    entries = len(console.audit())

    response = terminal.post(path, {"session": "0" * 32}, follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/staff/sign-in"
    assert len(console.audit()) == entries


@pytest.mark.parametrize("path", ["/counter", "/staff/accounts", "/staff/log"])
def test_every_staff_page_sends_a_signed_out_visitor_to_the_sign_in(console, path):
    response = console.terminal().client.get(path, follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/staff/sign-in"
