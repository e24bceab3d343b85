"""/operator/payment-accounts and /operator/notices, for an operator's administrator and
staff: how many accounts the operator registered (per service), a registration file uploaded
with a report line by line (services/operators.py `register_accounts_file`: the fields of the
API's PUT …/accounts/{payment_service_id}, each line registered on its own), and the notices
of stopped linkages (a holder's death, a revoked card with no successor) to act on. Only the
signed-in account's operator's."""

# No `from __future__ import annotations`: FastAPI reads the routes' `Annotated` parameters.

import codecs
from collections.abc import Sequence
from typing import Annotated, Final

from fastapi import APIRouter, Depends, File, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from mynapoint.domain.errors import MynapointError
from mynapoint.services.operators import (
    REGISTRATION_HEADER,
    REGISTRATION_MAX_LINES,
    account_counts,
    notices_of,
    register_accounts_file,
)
from mynapoint.services.staff import SignedInStaff
from mynapoint.web.csrf import check_csrf
from mynapoint.web.dependencies import ClockDep, CodeHasherDep, PlatformDep
from mynapoint.web.i18n import N_, _
from mynapoint.web.pages.console.access import member_of, page
from mynapoint.web.pages.console.areas import OPERATOR_CONSOLE

ACCOUNTS: Final = "/operator/payment-accounts"
NOTICES: Final = "/operator/notices"
OUTCOMES: Final = {
    "registered": N_("登録しました"),
    "replaced": N_("置き換えました(ロックは解除)"),
    "refused": N_("受け付けませんでした"),
}
REASONS: Final = {
    "holder_deceased": N_("名義人の死亡"),
    "certificate_revoked": N_("カードの失効(後継のカードなし)"),
}
NO_FILE: Final = N_("登録ファイル(CSV)を選んでください(error: invalid_request)。")
BAD_FILE: Final = N_(
    "ファイルを読めませんでした(error: invalid_request)。UTF-8 の CSV で、1行目が見出し"
    "「{header}」、{max}行までにしてください。"
)

router = APIRouter(include_in_schema=False)
AccountsReader = Annotated[SignedInStaff, Depends(member_of(OPERATOR_CONSOLE, ACCOUNTS))]
NoticesReader = Annotated[SignedInStaff, Depends(member_of(OPERATOR_CONSOLE, NOTICES))]


def _accounts_page(
    request: Request,
    me: SignedInStaff,
    platform: PlatformDep,
    *,
    report: Sequence[tuple[object, str]] | None = None,
    error: str | None = None,
) -> Response:
    counts = account_counts(platform.unit_of_work(), me.account)
    context = {
        "page_title": N_("登録口座"),
        "counts": sorted(counts.items()),
        "total": sum(counts.values()),
        "header": ",".join(REGISTRATION_HEADER),
        "max_lines": REGISTRATION_MAX_LINES,
        "report": report,
        "error": error,
        "errors": {} if error is None else {"file": error},
    }
    status = 422 if error else 200
    return page(request, OPERATOR_CONSOLE, "operator/payment_accounts.html", context, status)


@router.get(ACCOUNTS, response_class=HTMLResponse)
def accounts_page(request: Request, me: AccountsReader, platform: PlatformDep) -> Response:
    return _accounts_page(request, me, platform)


@router.post(ACCOUNTS)
def upload_registrations(
    request: Request,
    me: AccountsReader,
    _csrf: Annotated[None, Depends(check_csrf)],
    platform: PlatformDep,
    clock: ClockDep,
    hasher: CodeHasherDep,
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    if file is None or not file.filename:
        return _accounts_page(request, me, platform, error=_(NO_FILE))
    text = codecs.iterdecode(file.file, "utf-8-sig")
    try:
        report = register_accounts_file(
            platform.unit_of_work, hasher, me.account, platform.catalog, text, clock.now()
        )
    except (MynapointError, UnicodeDecodeError):
        error = _(BAD_FILE).format(header=",".join(REGISTRATION_HEADER), max=REGISTRATION_MAX_LINES)
        return _accounts_page(request, me, platform, error=error)
    rows = [(line, _(OUTCOMES[line.outcome])) for line in report]
    return _accounts_page(request, me, platform, report=rows)


@router.get(NOTICES, response_class=HTMLResponse)
def notices_page(request: Request, me: NoticesReader, platform: PlatformDep) -> Response:
    notices = notices_of(platform.unit_of_work(), me.account)
    context = {
        "page_title": N_("連携停止のお知らせ"),
        "notices": [(n, _(REASONS.get(n.reason, n.reason))) for n in notices],
    }
    return page(request, OPERATOR_CONSOLE, "operator/notices.html", context)
