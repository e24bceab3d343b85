"""Who is signed in at this browser in an area, the consoles' shared frame, and the
dependency that lets only an area's listed roles open a page."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any, Final, cast

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from sqlalchemy.exc import SQLAlchemyError

from mynapoint.domain.staff import Area, Role, StaffAccount
from mynapoint.rules.corners import UnknownCorner
from mynapoint.services.staff import SignedInStaff, signed_in
from mynapoint.web.api.support_corners import get_corner_directory
from mynapoint.web.errors import SendInstead
from mynapoint.web.i18n import N_, _, current_locale
from mynapoint.web.pages.console.areas import Console
from mynapoint.web.templating import templates

# No page of a console is kept by the browser: the back button cannot bring back a
# citizen's page once their session has ended, nor an account's one-time password.
NO_STORE: Final = {"Cache-Control": "no-store"}


def json_error(code: str, message: str, status: int) -> JSONResponse:
    """A console download's refusal in the API's error shape (INTERFACES), never cached."""
    body = {"error": {"code": code, "message": message, "details": {}}}
    return JSONResponse(body, status_code=status, headers=NO_STORE)


_STATE_KEY: Final = "signed_in_accounts"

ROLE_LABELS: Final = {
    Role.STAFF: N_("職員"),
    Role.SUPERVISOR: N_("監督者"),
    Role.ADMIN: N_("管理者"),
    Role.CITY_ADMIN: N_("市区町村管理者"),
    Role.MINISTRY_ADMIN: N_("総務省管理者"),
    Role.MINISTRY_VIEWER: N_("総務省閲覧者"),
    Role.AUDITOR: N_("監査担当"),
    Role.POLICY_ANALYST: N_("政策担当"),
    Role.OPERATOR_ADMIN: N_("決済事業者管理者"),
    Role.OPERATOR_STAFF: N_("決済事業者担当者"),
}
FORBIDDEN_TITLE: Final = N_("このページを表示する権限がありません")
NOT_YOUR_ROLE: Final = N_(
    "このページは、あなたの役割({role})では開けません。必要な場合は管理者に依頼してください。"
)


def corner_name(code: str | None) -> str:
    if code is None:
        return _("全コーナー")
    try:
        corner = get_corner_directory().get(code)
    except UnknownCorner:
        return code
    return corner.name_en if current_locale() == "en" and corner.name_en else corner.name


def city_name(code: str) -> str:
    for city in get_corner_directory().cities:
        if city.code == code:
            return city.name_en if current_locale() == "en" and city.name_en else city.name
    return code


def operator_name(request: Request, code: str) -> str:
    for operator in request.app.state.platform.catalog.operators():
        if operator.code == code:
            english = current_locale() == "en" and operator.name_en
            return str(operator.name_en if english else operator.name)
    return code


def scope_label(request: Request, account: StaffAccount) -> str:
    """Where the account belongs, as a reader says it: a corner, a city, an operator."""
    if account.city is not None:
        return city_name(account.city)
    if account.operator is not None:
        return operator_name(request, account.operator)
    if account.role.area is Area.MINISTRY:
        return _("総務省")
    return corner_name(account.corner)


def current_account(request: Request, console: Console) -> SignedInStaff | None:
    """The account signed in at this browser in the console's area, or None; asked once
    per request and area."""
    cache = cast("dict[str, SignedInStaff | None]", getattr(request.state, _STATE_KEY, {}))
    if console.prefix in cache:
        return cache[console.prefix]
    platform = request.app.state.platform
    try:
        me = signed_in(
            platform.unit_of_work(),
            request.cookies.get(console.cookie),
            platform.clock.now(),
            console.area,
        )
    except SQLAlchemyError:
        me = None  # the database is down: the error page still renders its frame
    setattr(request.state, _STATE_KEY, {**cache, console.prefix: me})
    return me


def redirect(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303, headers=NO_STORE)


def gate(
    console: Console, me: SignedInStaff | None, *, changing_password: bool = False
) -> RedirectResponse | None:
    """Where to send a visitor who may not use the page yet: the sign-in, or the password."""
    if me is None:
        return redirect(console.sign_in_path)
    if me.account.must_change_password and not changing_password:
        return redirect(console.password_path)
    return None


def member(
    console: Console, roles: Collection[Role] | None = None
) -> Callable[[Request], SignedInStaff]:
    """A dependency: the signed-in account of the area (password changed) whose role is
    listed (every role of the area when none are); else the sign-in or password page
    (303), or the forbidden page (403)."""
    allowed = frozenset(console.roles if roles is None else roles)

    def signed_in_member(request: Request) -> SignedInStaff:
        me = current_account(request, console)
        if (sent := gate(console, me)) is not None or me is None:
            raise SendInstead(sent or redirect(console.sign_in_path))
        if me.account.role not in allowed:
            role = _(ROLE_LABELS[me.account.role])
            raise SendInstead(forbidden(request, console, _(NOT_YOUR_ROLE).format(role=role)))
        return me

    return signed_in_member


def member_of(console: Console, path: str) -> Callable[[Request], SignedInStaff]:
    """The dependency of a page in the console's navigation: the roles of its entry."""
    return member(console, console.roles_of(path))


def page(
    request: Request,
    console: Console,
    template: str,
    context: Mapping[str, Any],
    status_code: int = 200,
) -> HTMLResponse:
    me = current_account(request, console)
    ready = me is not None and not me.account.must_change_password
    frame = {
        "console": console,
        "corner_name": corner_name,
        "me": me,
        "nav": console.entries_for(me.account.role) if ready and me is not None else [],
        "role_label": "" if me is None else _(ROLE_LABELS[me.account.role]),
        "corner_label": "" if me is None else scope_label(request, me.account),
    }
    return templates.TemplateResponse(
        request, template, {**frame, **context}, status_code=status_code, headers=NO_STORE
    )


def forbidden(request: Request, console: Console, text: str) -> HTMLResponse:
    """The forbidden page (403), in the console's frame; `text` says why, translated."""
    return page(
        request,
        console,
        "console/forbidden.html",
        {"title": FORBIDDEN_TITLE, "text": text},
        status_code=403,
    )
