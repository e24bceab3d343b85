"""The three consoles' role isolation as a table: for every page and action (GET and POST) of
/staff, /ministry and /operator, each role (and nobody signed in) is either let in or
refused, one test case per (page or action, role). An account signed in at one area is
nobody at the others: it is sent to that area's sign-in page. On SQLite and PostgreSQL.

One platform per module and database (the table has hundreds of cases); each role signs in
once, at a terminal of its own.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from ledger_factories import make_grant
from mynapoint.db.engine import sqlite_url
from mynapoint.domain.settlement_approvals import Approval, ApprovalState, StatementTotals
from mynapoint.domain.staff import Area, Role
from mynapoint.services.passwords import PasswordHasher
from staff_console import Console, Terminal, staff_console

PASSWORDS = {
    Role.STAFF: ("chuo-staff", "madoguchi-2021"),
    Role.SUPERVISOR: ("chuo-supervisor", "kantoku-2021"),
    Role.CITY_ADMIN: ("fukuoka-admin", "shiyakusho-2021"),
    Role.MINISTRY_ADMIN: ("mic-admin", "soumu-admin-2021"),
    Role.MINISTRY_VIEWER: ("mic-viewer", "soumu-view-2021"),
    Role.AUDITOR: ("mic-auditor", "kansa-2021"),
    Role.POLICY_ANALYST: ("mic-policy", "seisaku-2021"),
    Role.OPERATOR_ADMIN: ("paypay-admin", "paypay-admin-2021"),
    # Not demo accounts: added by the fixture.
    Role.ADMIN: ("corners-admin", "corners-admin-2021"),
    Role.OPERATOR_STAFF: ("paypay-tanaka", "paypay-staff-2021"),
}
SIGN_IN = {Area.STAFF: "/staff/sign-in", Area.MINISTRY: "/ministry/sign-in",
           Area.OPERATOR: "/operator/sign-in"}  # fmt: skip
# Who each area's actions act on: in the care of every manager of the area.
TARGETS = {Area.STAFF: "chuo-target", Area.MINISTRY: "mic-target", Area.OPERATOR: "paypay-target"}
NEW_ACCOUNT = {
    Area.STAFF: {"role": "staff", "corner": "chuo"},
    Area.MINISTRY: {"role": "ministry_viewer"},
    Area.OPERATOR: {"role": "operator_staff"},
}
_numbers = itertools.count()
PAID_FILE = "payment-2021-04-20210601T100000"


@dataclass(frozen=True)
class Case:
    """A page or action of an area and what each of its roles gets: (status, where to)."""

    name: str
    area: Area
    method: str
    path: str
    outcomes: dict[Role, tuple[int, str | None]]
    form: Callable[[], dict[str, str]] = dict
    public: bool = False  # open to everyone not signed in at the area (its sign-in page)


def _area_roles(area: Area) -> list[Role]:
    return [role for role in Role if role.area is area]


def _let_in(area: Area, allowed: dict[Role, tuple[int, str | None]]) -> dict[Role, Any]:
    """The area's roles not listed are refused with the forbidden page."""
    return {role: allowed.get(role, (403, None)) for role in _area_roles(area)}


def _new_account(area: Area) -> Callable[[], dict[str, str]]:
    return lambda: {"name": f"new-{next(_numbers)}", **NEW_ACCOUNT[area]}


def _cases() -> list[Case]:
    ok, password_refused = (200, None), (422, None)
    cases = [
        Case("staff home", Area.STAFF, "GET", "/staff", {
            Role.STAFF: (303, "/counter"), Role.SUPERVISOR: (303, "/counter"),
            Role.ADMIN: (303, "/staff/log"), Role.CITY_ADMIN: (303, "/staff/accounts")}),
        Case("counter", Area.STAFF, "GET", "/counter", _let_in(Area.STAFF, {
            Role.STAFF: ok, Role.SUPERVISOR: ok})),
        Case("records", Area.STAFF, "GET", "/staff/log", _let_in(Area.STAFF, {
            Role.SUPERVISOR: ok, Role.ADMIN: ok})),
    ]  # fmt: skip
    managers = {
        Area.STAFF: {Role.ADMIN, Role.CITY_ADMIN},
        Area.MINISTRY: {Role.MINISTRY_ADMIN},
        Area.OPERATOR: {Role.OPERATOR_ADMIN},
    }
    # A supervisor sees the accounts page (the corner's) but changes nothing.
    readers = {Area.STAFF: {Role.SUPERVISOR}, Area.MINISTRY: set(), Area.OPERATOR: set()}
    for area, prefix in ((Area.STAFF, "/staff"), (Area.MINISTRY, "/ministry"),
                         (Area.OPERATOR, "/operator")):  # fmt: skip
        everyone = dict.fromkeys(_area_roles(area), ok)
        target = f"{prefix}/accounts/{TARGETS[area]}"
        done = f"{prefix}/accounts?done="
        if area is not Area.STAFF:
            cases.append(Case(f"{area} home", area, "GET", prefix, everyone))
        # Signed in at the area already: sent on to where the role lands.
        landing = dict.fromkeys(_area_roles(area), (303, None))
        cases.append(Case(f"{area} sign-in page", area, "GET", SIGN_IN[area], landing,
                          public=True))  # fmt: skip
        cases += [
            Case(f"{area} password page", area, "GET", f"{prefix}/password", everyone),
            Case(f"{area} password change", area, "POST", f"{prefix}/password",
                 dict.fromkeys(_area_roles(area), password_refused),
                 lambda: {"current": "x", "new": "one-password", "new_again": "another-one"}),
            Case(f"{area} accounts", area, "GET", f"{prefix}/accounts",
                 _let_in(area, dict.fromkeys(managers[area] | readers[area], ok))),
            Case(f"{area} account created", area, "POST", f"{prefix}/accounts",
                 _let_in(area, dict.fromkeys(managers[area], ok)), _new_account(area)),
            Case(f"{area} account disabled", area, "POST", f"{target}/disable",
                 _let_in(area, dict.fromkeys(managers[area], (303, done + "disabled")))),
            Case(f"{area} account enabled", area, "POST", f"{target}/enable",
                 _let_in(area, dict.fromkeys(managers[area], (303, done + "enabled")))),
            Case(f"{area} password reset", area, "POST", f"{target}/reset-password",
                 _let_in(area, dict.fromkeys(managers[area], ok))),
        ]  # fmt: skip
    settlement = "/ministry/settlement"
    # The policy staff open the policy lab only (and the area's home, password, sign-out).
    ministry_all = _let_in(
        Area.MINISTRY, dict.fromkeys((Role.MINISTRY_ADMIN, Role.MINISTRY_VIEWER, Role.AUDITOR), ok)
    )
    acting = {Role.MINISTRY_ADMIN}
    cases += [
        Case("ministry settlement", Area.MINISTRY, "GET", settlement, ministry_all),
        Case("ministry settlement prepared", Area.MINISTRY, "POST",
             f"{settlement}/2021-06/paypay/prepare",
             _let_in(Area.MINISTRY, dict.fromkeys(acting, (303, f"{settlement}?month=2021-06")))),
        Case("ministry settlement approved", Area.MINISTRY, "POST",
             f"{settlement}/2021-06/rakuten_edy/approve",
             _let_in(Area.MINISTRY, dict.fromkeys(acting, (303, f"{settlement}?month=2021-06")))),
        Case("ministry settlement paid", Area.MINISTRY, "POST", f"{settlement}/2021-05/pay",
             _let_in(Area.MINISTRY, dict.fromkeys(acting, (303, f"{settlement}?month=2021-05")))),
        Case("ministry payment file", Area.MINISTRY, "GET",
             f"{settlement}/payment-files/{PAID_FILE}.csv", ministry_all),
    ]  # fmt: skip
    readers_of_figures = {Role.MINISTRY_ADMIN: ok, Role.MINISTRY_VIEWER: ok}
    cases += [
        Case("ministry overview", Area.MINISTRY, "GET", "/ministry/overview",
             _let_in(Area.MINISTRY, readers_of_figures)),
        Case("ministry overview csv", Area.MINISTRY, "GET", "/ministry/overview/mykeys.csv",
             _let_in(Area.MINISTRY, readers_of_figures)),
        Case("ministry budget", Area.MINISTRY, "GET", "/ministry/budget",
             _let_in(Area.MINISTRY, readers_of_figures)),
        Case("ministry forecast", Area.MINISTRY, "GET",
             "/ministry/policy/forecast?rules=rate-20",
             _let_in(Area.MINISTRY, {**readers_of_figures, Role.POLICY_ANALYST: ok})),
        Case("ministry forecast csv", Area.MINISTRY, "GET",
             "/ministry/policy/forecast.csv?rules=rate-20",
             _let_in(Area.MINISTRY, {**readers_of_figures, Role.POLICY_ANALYST: ok})),
        Case("ministry audit", Area.MINISTRY, "GET", "/ministry/audit",
             _let_in(Area.MINISTRY, {Role.AUDITOR: ok, Role.MINISTRY_ADMIN: ok})),
        Case("ministry audit verify", Area.MINISTRY, "POST", "/ministry/audit/verify",
             _let_in(Area.MINISTRY, {Role.AUDITOR: ok, Role.MINISTRY_ADMIN: ok}),
             lambda: {"head": ""}),
    ]  # fmt: skip
    lab, unknown = (
        {Role.POLICY_ANALYST, Role.MINISTRY_ADMIN},
        "/ministry/policy/replays/" + "0" * 24,
    )
    cases += [
        Case("ministry policy lab", Area.MINISTRY, "GET", "/ministry/policy",
             _let_in(Area.MINISTRY, dict.fromkeys(lab, ok))),
        # No file: the form's error (422), after the role and CSRF checks let it in.
        Case("ministry replay started", Area.MINISTRY, "POST", "/ministry/policy",
             _let_in(Area.MINISTRY, dict.fromkeys(lab, (422, None))),
             lambda: {"candidate": "upload"}),
        Case("ministry replay", Area.MINISTRY, "GET", unknown,
             _let_in(Area.MINISTRY, dict.fromkeys(lab, (404, None)))),
        Case("ministry replay json", Area.MINISTRY, "GET", unknown + ".json",
             _let_in(Area.MINISTRY, dict.fromkeys(lab, (404, None)))),
        Case("ministry replay csv", Area.MINISTRY, "GET", unknown + ".csv",
             _let_in(Area.MINISTRY, dict.fromkeys(lab, (404, None)))),
    ]  # fmt: skip
    return cases + _operator_cases()


def _operator_cases() -> list[Case]:
    """The operator's own pages: its administrator everything, its staff all but API keys.
    An unknown key (or another operator's) is not found."""
    ok, admin = (200, None), {Role.OPERATOR_ADMIN}
    area = Area.OPERATOR
    everyone = dict.fromkeys(_area_roles(area), ok)
    return [
        Case("operator grants", area, "GET", "/operator/grants", everyone),
        Case("operator statements", area, "GET", "/operator/statements", everyone),
        Case("operator event files", area, "GET", "/operator/events", everyone),
        Case("operator registered accounts", area, "GET", "/operator/payment-accounts",
             everyone),
        Case("operator registration file", area, "POST", "/operator/payment-accounts",
             dict.fromkeys(_area_roles(area), (422, None))),  # no file: the form's error
        Case("operator notices", area, "GET", "/operator/notices", everyone),
        # No file: the form's error (422), after the role and CSRF checks let it in.
        Case("operator event file uploaded", area, "POST", "/operator/events",
             dict.fromkeys(_area_roles(area), (422, None))),
        Case("operator event file status", area, "GET", "/operator/events/" + "0" * 24,
             dict.fromkeys(_area_roles(area), (404, None))),
        Case("operator statement csv", area, "GET", "/operator/statements/2021-07.csv", everyone),
        Case("operator keys", area, "GET", "/operator/keys",
             _let_in(area, dict.fromkeys(admin, ok))),
        Case("operator key created", area, "POST", "/operator/keys",
             _let_in(area, dict.fromkeys(admin, ok))),
        Case("operator key rotated", area, "POST", "/operator/keys/unknown-key/rotate",
             _let_in(area, dict.fromkeys(admin, (404, None)))),
        Case("operator key revoked", area, "POST", "/operator/keys/unknown-key/revoke",
             _let_in(area, dict.fromkeys(admin, (404, None)))),
    ]  # fmt: skip


CASES = _cases()


def _expected(case: Case, role: Role | None) -> tuple[int, str | None]:
    if role is None or role.area is not case.area:
        if case.public:
            return 200, None
        return 303, SIGN_IN[case.area]  # nobody at this area: its sign-in page
    return case.outcomes[role]


def _database_urls(request: pytest.FixtureRequest, folder: Path) -> str:
    if request.param == "sqlite":
        return sqlite_url(folder / "mynapoint.db")
    worker_engine = request.getfixturevalue("postgresql_worker_engine")
    schema = f"console_roles_{next(_numbers)}"
    with worker_engine.connect() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    url = worker_engine.url.update_query_dict({"options": f"-csearch_path={schema}"})
    return str(url.render_as_string(hide_password=False))


@dataclass
class Consoles:
    console: Console
    terminals: dict[Role, Terminal]

    def anonymous(self) -> Terminal:
        return self.console.terminal()


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def consoles(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Consoles]:
    folder = tmp_path_factory.mktemp("console_roles")
    url = _database_urls(request, folder)
    with staff_console(url, folder, with_cards=False) as console:
        hasher = PasswordHasher()
        for role in (Role.ADMIN, Role.OPERATOR_STAFF):
            name, password = PASSWORDS[role]
            scope = {"operator": "paypay"} if role is Role.OPERATOR_STAFF else {}
            console.add(name, role, **scope)
            _set_password(console, hasher, name, password)
        console.add(TARGETS[Area.STAFF], Role.STAFF, "chuo")
        console.add(TARGETS[Area.MINISTRY], Role.MINISTRY_VIEWER)
        console.add(TARGETS[Area.OPERATOR], Role.OPERATOR_STAFF, operator="paypay")
        _settlement_data(console)
        terminals = {}
        for role, (name, password) in PASSWORDS.items():
            terminal = console.terminal(f"192.0.2.{10 + len(terminals)}")
            response = terminal.post(SIGN_IN[role.area], {"name": name, "password": password})
            assert response.status_code == 200, (role, response.text)
            terminals[role] = terminal
        yield Consoles(console, terminals)


def _settlement_data(console: Console) -> None:
    """What each settlement action acts on: June closed with paypay's statement unprepared
    and rakuten_edy's prepared by another administrator, May's approved, April's paid."""
    totals = StatementTotals(2_500, 0, 2_500, events=1, persons=1)
    at = console.clock.now()
    draft = Approval("2021-06", "rakuten_edy", ApprovalState.DRAFT, totals, "mic-other", at)
    approved = Approval("2021-05", "paypay", ApprovalState.DRAFT, totals, "mic-other", at)
    approved = approved.approve("mic-another", at, totals)
    paid = Approval("2021-04", "paypay", ApprovalState.DRAFT, totals, "mic-other", at)
    paid = paid.approve("mic-another", at, totals).pay("mic-another", at, PAID_FILE)
    uow = console.platform.unit_of_work()
    with uow:
        uow.grants.add_many(
            [
                make_grant("g1", operator_code="paypay", settlement_month="2021-06"),
                make_grant(
                    "g2",
                    operator_code="rakuten_edy",
                    service_code="rakuten_edy",
                    settlement_month="2021-06",
                ),
            ]
        )
        for month in ("2021-04", "2021-05", "2021-06"):
            uow.settlements.close(month, at)
        for approval in (draft, approved, paid):
            uow.settlements.add_approval(approval)
        uow.commit()


def _set_password(console: Console, hasher: PasswordHasher, name: str, password: str) -> None:
    uow = console.platform.unit_of_work()
    with uow:
        uow.staff.set_password(
            name, hasher.hash(password), must_change=False, at=console.clock.now()
        )
        uow.commit()


@pytest.mark.parametrize("role", [None, *Role], ids=lambda r: "nobody" if r is None else r.value)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name.replace(" ", "-"))
def test_each_role_is_let_in_or_refused_at_each_page_and_action(consoles, case, role):
    terminal = consoles.anonymous() if role is None else consoles.terminals[role]
    if case.method == "GET":
        response = terminal.client.get(case.path, follow_redirects=False)
    else:
        response = terminal.post(case.path, case.form(), follow_redirects=False)

    status, where = _expected(case, role)
    assert response.status_code == status, response.text[:400]
    if where is not None:
        assert response.headers["location"].startswith(where)
    if case.public and status == 303:
        assert not response.headers["location"].endswith("/sign-in")
    assert response.headers["cache-control"] == "no-store"
    if status == 403:
        assert "このページを表示する権限がありません" in response.text


@pytest.mark.parametrize("area", list(Area), ids=str)
def test_a_page_refused_for_a_role_says_so_in_english_too(consoles, area):
    refused = {Area.STAFF: Role.STAFF, Area.MINISTRY: Role.AUDITOR,
               Area.OPERATOR: Role.OPERATOR_STAFF}[area]  # fmt: skip
    prefix = SIGN_IN[area].removesuffix("/sign-in")
    response = consoles.terminals[refused].client.get(f"{prefix}/accounts?lang=en")
    assert response.status_code == 403
    assert "You may not open this page" in response.text


def test_the_home_pages_list_only_what_the_role_may_open(consoles):
    admin = consoles.terminals[Role.MINISTRY_ADMIN].client.get("/ministry?lang=ja").text
    viewer = consoles.terminals[Role.MINISTRY_VIEWER].client.get("/ministry?lang=ja").text
    operator_staff = consoles.terminals[Role.OPERATOR_STAFF].client.get("/operator?lang=ja").text
    assert 'href="/ministry/accounts"' in admin
    assert 'href="/ministry/accounts"' not in viewer
    assert 'href="/ministry/settlement"' in admin
    assert 'href="/ministry/settlement"' in viewer
    assert 'href="/ministry/overview"' in admin
    assert 'href="/ministry/overview"' in viewer
    assert 'href="/ministry/policy/forecast"' in admin
    assert 'href="/ministry/policy/forecast"' in viewer
    auditor = consoles.terminals[Role.AUDITOR].client.get("/ministry?lang=ja").text
    assert 'href="/ministry/overview"' not in auditor
    analyst = consoles.terminals[Role.POLICY_ANALYST].client.get("/ministry?lang=ja").text
    assert 'href="/ministry/policy"' in analyst
    assert 'href="/ministry/policy"' in admin
    assert 'href="/ministry/policy"' not in viewer
    assert 'href="/ministry/policy"' not in auditor
    assert 'href="/ministry/overview"' not in analyst
    assert 'href="/ministry/settlement"' not in analyst
    assert 'href="/ministry/policy/forecast"' not in auditor
    assert 'href="/ministry/policy/forecast"' in analyst  # the lab's forecast
    assert 'href="/operator/accounts"' not in operator_staff
    assert 'href="/operator/keys"' not in operator_staff
    for page in (admin, viewer, operator_staff):
        assert "/password" in page
        assert "サインアウト" in page
