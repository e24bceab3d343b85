"""The three consoles: their paths, cookie, titles and navigation.

A page of an area is opened by the roles of its navigation entry, so adding a page to an
area's navigation is one `nav(...)` line in the area's `Console`, and the route asks
`console.roles_of(path)` for who may open it. E.g. a statistics page of the ministry:

    nav("/ministry/statistics", N_("統計"), Role.MINISTRY_ADMIN, Role.MINISTRY_VIEWER),

in MINISTRY_CONSOLE's `nav`, and in web/pages/ministry/statistics.py:

    Reader = Annotated[SignedInStaff, Depends(member_of(MINISTRY_CONSOLE, "/ministry/statistics"))]

    @router.get("/ministry/statistics", response_class=HTMLResponse)
    def statistics_page(request: Request, me: Reader) -> Response:
        return page(request, MINISTRY_CONSOLE, "ministry/statistics.html", {...})

(`member_of` and `page` in web/pages/console/access.py; the template extends
"console/base.html" and fills `{% block console %}`.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from mynapoint.domain.staff import OPERATOR_ROLES, Area, Role, StaffAccount
from mynapoint.web.i18n import N_


@dataclass(frozen=True)
class NavEntry:
    path: str
    label: str  # Japanese; translated on the page
    roles: frozenset[Role]


def nav(path: str, label: str, *roles: Role) -> NavEntry:
    return NavEntry(path, label, frozenset(roles))


@dataclass(frozen=True)
class Console:
    area: Area
    prefix: str  # "/ministry": the home page; every page of the area is under it
    cookie: str
    title: str  # the brand in the header
    badge: str
    sign_in_title: str
    sign_in_intro: str
    footer: str
    nav: tuple[NavEntry, ...]
    # Where a signed-in account goes (its password changed): the home page unless given.
    home_of: Callable[[StaffAccount], str] | None = None

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(role for role in Role if role.area is self.area)

    @property
    def sign_in_path(self) -> str:
        return f"{self.prefix}/sign-in"

    @property
    def sign_out_path(self) -> str:
        return f"{self.prefix}/sign-out"

    @property
    def password_path(self) -> str:
        return f"{self.prefix}/password"

    @property
    def accounts_path(self) -> str:
        return f"{self.prefix}/accounts"

    def landing(self, account: StaffAccount) -> str:
        if account.must_change_password:
            return self.password_path
        return self.prefix if self.home_of is None else self.home_of(account)

    def entries_for(self, role: Role) -> list[NavEntry]:
        return [entry for entry in self.nav if role in entry.roles]

    def roles_of(self, path: str) -> frozenset[Role]:
        """Who may open the page of a navigation entry."""
        for entry in self.nav:
            if entry.path == path:
                return entry.roles
        message = f"{path} is in no navigation entry of {self.prefix}; add a nav(...) line"
        raise LookupError(message)


def _staff_home(account: StaffAccount) -> str:
    if account.runs_counter:
        return "/counter"
    return "/staff/accounts" if account.role is Role.CITY_ADMIN else "/staff/log"


STAFF_CONSOLE: Final = Console(
    area=Area.STAFF,
    prefix="/staff",
    cookie="mp_staff",
    title=N_("マイナポイント 支援窓口"),
    badge=N_("職員用"),
    sign_in_title=N_("職員サインイン"),
    sign_in_intro=N_(
        "マイナポイント・サポートコーナーの職員・監督者・管理者、市区町村の管理者の方は、"
        "サインイン名とパスワードを入力してください。"
    ),
    footer=N_("マイナポイント・サポートコーナー 職員用画面"),
    nav=(
        nav("/counter", N_("窓口の手続き"), Role.STAFF, Role.SUPERVISOR),
        nav("/staff/log", N_("記録"), Role.SUPERVISOR, Role.ADMIN),
        nav("/staff/accounts", N_("職員アカウント"), Role.SUPERVISOR, Role.ADMIN, Role.CITY_ADMIN),
    ),
    home_of=_staff_home,
)

MINISTRY_CONSOLE: Final = Console(
    area=Area.MINISTRY,
    prefix="/ministry",
    cookie="mp_ministry",
    title=N_("マイナポイント 総務省"),
    badge=N_("総務省用"),
    sign_in_title=N_("総務省サインイン"),
    sign_in_intro=N_(
        "総務省の管理者・閲覧者・監査担当・政策担当の方は、サインイン名とパスワードを"
        "入力してください。"
    ),
    footer=N_("マイナポイント 総務省用画面"),
    nav=(
        nav("/ministry/overview", N_("概況"), Role.MINISTRY_ADMIN, Role.MINISTRY_VIEWER),
        nav("/ministry/budget", N_("予算の枠"), Role.MINISTRY_ADMIN, Role.MINISTRY_VIEWER),
        nav(
            "/ministry/policy/forecast",
            N_("予算の見通し"),
            Role.MINISTRY_ADMIN,
            Role.MINISTRY_VIEWER,
            Role.POLICY_ANALYST,
        ),
        nav(
            "/ministry/settlement",
            N_("精算"),
            Role.MINISTRY_ADMIN,
            Role.MINISTRY_VIEWER,
            Role.AUDITOR,
        ),
        nav("/ministry/audit", N_("監査ログ"), Role.AUDITOR, Role.MINISTRY_ADMIN),
        nav("/ministry/policy", N_("政策ラボ"), Role.POLICY_ANALYST, Role.MINISTRY_ADMIN),
        nav("/ministry/accounts", N_("アカウント"), Role.MINISTRY_ADMIN),
    ),
)

OPERATOR_CONSOLE: Final = Console(
    area=Area.OPERATOR,
    prefix="/operator",
    cookie="mp_operator",
    title=N_("マイナポイント 決済事業者"),
    badge=N_("決済事業者用"),
    sign_in_title=N_("決済事業者サインイン"),
    sign_in_intro=N_(
        "キャッシュレス決済事業者の管理者・担当者の方は、サインイン名とパスワードを"
        "入力してください。"
    ),
    footer=N_("マイナポイント 決済事業者用画面"),
    nav=(
        nav("/operator/accounts", N_("アカウント"), Role.OPERATOR_ADMIN),
        nav("/operator/keys", N_("APIキー"), Role.OPERATOR_ADMIN),
        nav("/operator/grants", N_("ポイント割当"), *OPERATOR_ROLES),
        nav("/operator/events", N_("イベントファイル"), *OPERATOR_ROLES),
        nav("/operator/payment-accounts", N_("登録口座"), *OPERATOR_ROLES),
        nav("/operator/notices", N_("連携停止のお知らせ"), *OPERATOR_ROLES),
        nav("/operator/statements", N_("月次の精算明細"), *OPERATOR_ROLES),
    ),
)

CONSOLES: Final = (STAFF_CONSOLE, MINISTRY_CONSOLE, OPERATOR_CONSOLE)
