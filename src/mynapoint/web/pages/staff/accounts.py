"""/staff/accounts: a supervisor sees the corner's accounts; an administrator sees every one.

Accounts never lock (services/staff.py throttles failed sign-ins per terminal instead), so
there is nothing to unlock: the page lists who may sign in and who has a one-time password
still to change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from mynapoint.domain.staff import StaffAccount, StaffForbidden
from mynapoint.services.staff import visible_accounts
from mynapoint.web.dependencies import PlatformDep
from mynapoint.web.i18n import N_, _
from mynapoint.web.pages.staff.access import (
    ROLE_LABELS,
    Staff,
    corner_name,
    forbidden,
    page,
)

router = APIRouter(include_in_schema=False)

NOT_YOURS: Final = N_("職員アカウントの一覧は、監督者と管理者だけが見られます。")


@dataclass(frozen=True)
class AccountRow:
    account: StaffAccount
    role: str
    corner: str
    status: str


def _rows(accounts: list[StaffAccount]) -> list[AccountRow]:
    return [
        AccountRow(
            account=account,
            role=_(ROLE_LABELS[account.role]),
            corner=corner_name(account.corner),
            status=_("初回のパスワード変更待ち") if account.must_change_password else _("利用可"),
        )
        for account in accounts
    ]


@router.get("/staff/accounts", response_class=HTMLResponse)
def accounts_page(request: Request, me: Staff, platform: PlatformDep) -> Response:
    try:
        accounts = visible_accounts(platform.unit_of_work(), me)
    except StaffForbidden:
        return forbidden(request, NOT_YOURS)
    return page(request, "staff/accounts.html", {"rows": _rows(accounts)})
