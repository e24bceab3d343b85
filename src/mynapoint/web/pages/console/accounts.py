"""{prefix}/accounts of every console: the accounts in the reader's care, and (for those who
manage accounts) creating one, disabling and enabling it, and resetting its password.

Who manages whom is the domain's (domain/staff.py `MANAGES`, `may_manage`): the corners'
administrator the corners' accounts, a city administrator its city's corners' staff and
supervisors, the ministry's administrator the ministry's accounts and city administrators,
an operator's administrator its own operator's accounts. A name outside the reader's care
is refused as an unknown one (403). A one-time password is shown once, on a page no
browser keeps (Cache-Control: no-store), and only its hash is stored.
"""

# No `from __future__ import annotations`: the routes are made inside a function, and FastAPI
# reads their parameters' local `Annotated` types when the route is added.

from dataclasses import dataclass
from typing import Annotated, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from mynapoint.domain.staff import (
    CORNER_ROLES,
    MANAGES,
    NAME_MAX_LENGTH,
    OPERATOR_ROLES,
    InvalidStaffInput,
    KnownScopes,
    Role,
    Scope,
    StaffAccount,
    StaffForbidden,
    StaffNameTaken,
)
from mynapoint.services.staff import (
    SignedInStaff,
    add_staff,
    known_scopes,
    reset_password,
    set_disabled,
    visible_accounts,
)
from mynapoint.web.api.support_corners import get_corner_directory
from mynapoint.web.csrf import check_csrf
from mynapoint.web.dependencies import ClockDep, PasswordHasherDep, PlatformDep
from mynapoint.web.i18n import N_, _
from mynapoint.web.inputs import Text
from mynapoint.web.pages.console.access import (
    ROLE_LABELS,
    city_name,
    corner_name,
    forbidden,
    member_of,
    operator_name,
    page,
    redirect,
    scope_label,
)
from mynapoint.web.pages.console.areas import Console
from mynapoint.web.typed_input import plain

NOT_YOURS: Final = N_(
    "アカウントの一覧は、アカウントを管理する役割(管理者)と、コーナーの監督者だけが見られます。"
)
NOT_IN_YOUR_CARE: Final = N_(
    "そのアカウントは、あなたが管理できる範囲にありません"
    "(ご自身のアカウントを停止・再設定することもできません)。"
)
MAY_NOT_CREATE: Final = N_("その役割・所属のアカウントは、あなたの役割では作成できません。")
FIELD_ERRORS: Final = {
    "name": N_(
        "サインイン名は、半角の英小文字・数字と . _ - で2〜64文字にしてください"
        "(先頭は英小文字か数字。例: chuo-tanaka)。"
    ),
    "role": N_("役割を一覧から選んでください。"),
    "corner": N_("職員・監督者のコーナーを一覧から選んでください。"),
    "city": N_("市区町村管理者の市区町村を一覧から選んでください。"),
    "operator": N_("決済事業者を選んでください。"),
    "taken": N_("そのサインイン名はすでに使われています。別の名前にしてください。"),
}
DONE: Final = {
    "disabled": N_("{name} を停止しました。このアカウントではサインインできません。"),
    "enabled": N_("{name} を再開しました。"),
}
_SCOPE_MAX = 40


@dataclass(frozen=True)
class AccountRow:
    account: StaffAccount
    role: str
    scope: str
    status: str
    manageable: bool


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


def _known(platform: PlatformDep) -> KnownScopes:
    return known_scopes(get_corner_directory(), platform.catalog)


KnownDep = Annotated[KnownScopes, Depends(_known)]


def _field_error(field: str) -> str:
    message = FIELD_ERRORS.get(field) or FIELD_ERRORS["name"]
    return _(message)


def _status(account: StaffAccount) -> str:
    if account.disabled:
        return _("停止中")
    return _("初回のパスワード変更待ち") if account.must_change_password else _("利用可")


def _form_choices(me: StaffAccount, known: KnownScopes) -> dict[str, list[Choice]]:
    """What the create form offers the reader: the roles it manages, and the corners or
    cities those roles may belong to within the reader's scope."""
    roles = [role for role in Role if role in MANAGES.get(me.role, frozenset())]
    corners = [
        Choice(code, corner_name(code))
        for code in known.corner_cities
        if any(me.may_create(role, Scope(corner=code), known) for role in CORNER_ROLES)
    ]
    cities = [
        Choice(code, city_name(code))
        for code in sorted(known.cities)
        if me.may_create(Role.CITY_ADMIN, Scope(city=code), known)
    ]
    return {
        "roles": [Choice(role.value, _(ROLE_LABELS[role])) for role in roles],
        "corners": corners,
        "cities": cities,
    }


def _scope_for(me: StaffAccount, role: Role, corner: str, city: str) -> Scope:
    """The scope the chosen role needs, from the form's fields; an operator account belongs
    to the reader's own operator."""
    return Scope(
        corner=(corner or None) if role in CORNER_ROLES else None,
        city=(city or None) if role is Role.CITY_ADMIN else None,
        operator=me.operator if role in OPERATOR_ROLES else None,
    )


def accounts_routes(console: Console) -> APIRouter:  # noqa: C901 - one closure per route
    """The accounts page and its actions for one console."""
    router = APIRouter(include_in_schema=False)
    path = console.accounts_path
    title = next(entry.label for entry in console.nav if entry.path == path)
    reader = Annotated[SignedInStaff, Depends(member_of(console, path))]

    def listing(
        request: Request,
        me: SignedInStaff,
        platform: PlatformDep,
        known: KnownScopes,
        *,
        form: dict[str, str] | None = None,
        errors: dict[str, str] | None = None,
        notice: str | None = None,
        status_code: int = 200,
    ) -> Response:
        try:
            accounts = visible_accounts(platform.unit_of_work(), me, known)
        except StaffForbidden:
            return forbidden(request, console, _(NOT_YOURS))
        rows = [
            AccountRow(
                account=account,
                role=_(ROLE_LABELS[account.role]),
                scope=scope_label(request, account),
                status=_status(account),
                manageable=me.account.may_manage(account, known),
            )
            for account in accounts
        ]
        errors = errors or {}
        context = {
            "page_title": title,
            "rows": rows,
            "choices": _form_choices(me.account, known),
            "operator_label": (
                "" if me.account.operator is None else operator_name(request, me.account.operator)
            ),
            "form": form or {"name": "", "role": "", "corner": "", "city": ""},
            "errors": errors,
            "error": next(iter(errors.values()), None),
            "notice": notice,
        }
        return page(request, console, "console/accounts.html", context, status_code)

    @router.get(path, response_class=HTMLResponse)
    def accounts_page(
        request: Request,
        me: reader,
        platform: PlatformDep,
        known: KnownDep,
        done: Annotated[str | None, Query(max_length=16)] = None,
        name: Annotated[str | None, Query(max_length=NAME_MAX_LENGTH)] = None,
    ) -> Response:
        notice = None
        if done in DONE and name:
            notice = _(DONE[done]).format(name=name)
        return listing(request, me, platform, known, notice=notice)

    @router.post(path, dependencies=[Depends(check_csrf)])
    def create(
        request: Request,
        me: reader,
        platform: PlatformDep,
        clock: ClockDep,
        hasher: PasswordHasherDep,
        known: KnownDep,
        name: Annotated[Text, Form(max_length=200)] = "",
        role: Annotated[Text, Form(max_length=_SCOPE_MAX)] = "",
        corner: Annotated[Text, Form(max_length=_SCOPE_MAX)] = "",
        city: Annotated[Text, Form(max_length=_SCOPE_MAX)] = "",
    ) -> Response:
        name = plain(name).strip().lower()
        form = {"name": name, "role": role, "corner": corner, "city": city}
        try:
            chosen = Role(role)
        except ValueError:
            errors = {"role": _field_error("role")}
            return listing(request, me, platform, known, form=form, errors=errors, status_code=422)
        try:
            added = add_staff(
                platform.unit_of_work(),
                hasher,
                name=name,
                role=chosen,
                scope=_scope_for(me.account, chosen, corner, city),
                known=known,
                now=clock.now(),
                by=me.account,
            )
        except InvalidStaffInput as exc:
            field = str(exc.details.get("field", "name"))
            errors = {field: _field_error(field)}
            return listing(request, me, platform, known, form=form, errors=errors, status_code=422)
        except StaffNameTaken:
            errors = {"name": _field_error("taken")}
            return listing(request, me, platform, known, form=form, errors=errors, status_code=422)
        except StaffForbidden:
            return forbidden(request, console, _(MAY_NOT_CREATE))
        return _one_time_password(request, added.account, added.one_time_password, created=True)

    def _one_time_password(
        request: Request, account: StaffAccount, password: str, *, created: bool
    ) -> Response:
        context = {
            "page_title": N_("一時パスワード"),
            "account": account,
            "role": _(ROLE_LABELS[account.role]),
            "scope": scope_label(request, account),
            "password": password,
            "created": created,
        }
        return page(request, console, "console/one_time_password.html", context)

    @router.post(f"{path}/{{name}}/disable", dependencies=[Depends(check_csrf)])
    def disable(
        request: Request,
        me: reader,
        platform: PlatformDep,
        clock: ClockDep,
        known: KnownDep,
        name: Annotated[str, Path(max_length=NAME_MAX_LENGTH)],
    ) -> Response:
        return _set(request, me, platform, clock, known, name, disabled=True)

    @router.post(f"{path}/{{name}}/enable", dependencies=[Depends(check_csrf)])
    def enable(
        request: Request,
        me: reader,
        platform: PlatformDep,
        clock: ClockDep,
        known: KnownDep,
        name: Annotated[str, Path(max_length=NAME_MAX_LENGTH)],
    ) -> Response:
        return _set(request, me, platform, clock, known, name, disabled=False)

    def _set(
        request: Request,
        me: SignedInStaff,
        platform: PlatformDep,
        clock: ClockDep,
        known: KnownScopes,
        name: str,
        *,
        disabled: bool,
    ) -> Response:
        try:
            set_disabled(
                platform.unit_of_work(), me, name, disabled=disabled, known=known, now=clock.now()
            )
        except StaffForbidden:
            return forbidden(request, console, _(NOT_IN_YOUR_CARE))
        done = "disabled" if disabled else "enabled"
        return redirect(f"{path}?{urlencode({'done': done, 'name': name})}")

    @router.post(f"{path}/{{name}}/reset-password", dependencies=[Depends(check_csrf)])
    def reset(
        request: Request,
        me: reader,
        platform: PlatformDep,
        clock: ClockDep,
        hasher: PasswordHasherDep,
        known: KnownDep,
        name: Annotated[str, Path(max_length=NAME_MAX_LENGTH)],
    ) -> Response:
        try:
            new = reset_password(
                platform.unit_of_work(), hasher, me, name, known=known, now=clock.now()
            )
        except StaffForbidden:
            return forbidden(request, console, _(NOT_IN_YOUR_CARE))
        return _one_time_password(request, new.account, new.one_time_password, created=False)

    return router
