"""/staff/accounts: a supervisor sees the corner's accounts and unlocks its staff; an
administrator sees and unlocks every account."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Final

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, Response

from mynapoint.domain.staff import StaffAccount, StaffForbidden
from mynapoint.services.staff import SignedInStaff, unlock, visible_accounts
from mynapoint.web.csrf import check_csrf
from mynapoint.web.dependencies import ClockDep, PlatformDep
from mynapoint.web.i18n import N_, _
from mynapoint.web.pages.staff.access import (
    ROLE_LABELS,
    Staff,
    corner_name,
    forbidden,
    page,
    redirect,
)

router = APIRouter(include_in_schema=False)

NOT_YOURS: Final = N_(
    "職員アカウントの一覧とロックの解除は、監督者と管理者だけが行えます。"
    "監督者は自分のコーナーの職員のロックを解除できます。"
)


@dataclass(frozen=True)
class AccountRow:
    account: StaffAccount
    role: str
    corner: str
    status: str
    may_unlock: bool


def _rows(me: SignedInStaff, accounts: list[StaffAccount]) -> list[AccountRow]:
    rows = []
    for account in accounts:
        if account.is_locked:
            status = _("ロック中")
        elif account.must_change_password:
            status = _("初回のパスワード変更待ち")
        else:
            status = _("利用可")
        rows.append(
            AccountRow(
                account=account,
                role=_(ROLE_LABELS[account.role]),
                corner=corner_name(account.corner),
                status=status,
                may_unlock=account.is_locked and me.account.may_unlock(account),
            )
        )
    return rows


@router.get("/staff/accounts", response_class=HTMLResponse)
def accounts_page(request: Request, me: Staff, platform: PlatformDep) -> Response:
    try:
        accounts = visible_accounts(platform.unit_of_work(), me)
    except StaffForbidden:
        return forbidden(request, NOT_YOURS)
    unlocked = request.query_params.get("unlocked")
    return page(
        request,
        "staff/accounts.html",
        {"rows": _rows(me, accounts), "unlocked": unlocked},
    )


@router.post("/staff/accounts/{name}/unlock", dependencies=[Depends(check_csrf)])
def unlock_post(
    request: Request,
    name: Annotated[str, Path(max_length=64)],
    me: Staff,
    platform: PlatformDep,
    clock: ClockDep,
) -> Response:
    try:
        unlock(platform.unit_of_work(), me, name, clock.now())
    except StaffForbidden:
        return forbidden(request, NOT_YOURS)
    return redirect(f"/staff/accounts?unlocked={name}")
