"""/ministry/settlement: each month's statements per operator on their way to payment.

Every ministry role reads the page and downloads the payment files; a ministry
administrator prepares a closed month's statement, another one approves it (the page
offers the preparer no approve button, and the service refuses one with `same_person`),
and paying writes the month's approved statements into a payment file and marks them paid
(services/settlement_approvals.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from mynapoint.domain.calendar import jst_date, to_jst
from mynapoint.domain.errors import MynapointError
from mynapoint.domain.settlement_approvals import ApprovalState
from mynapoint.services.ledger import month_of
from mynapoint.services.settlement_approvals import (
    ACTING_ROLE,
    StatementRow,
    approve_statements,
    catalog_names,
    pay_statements,
    payment_file_named,
    payment_files,
    prepare_statements,
    statement_rows,
)
from mynapoint.services.staff import SignedInStaff
from mynapoint.web.csrf import check_csrf
from mynapoint.web.dependencies import ClockDep, PlatformDep
from mynapoint.web.i18n import N_, _
from mynapoint.web.pages.console.access import (
    NO_STORE,
    member,
    member_of,
    operator_name,
    page,
    redirect,
)
from mynapoint.web.pages.console.areas import MINISTRY_CONSOLE

PATH: Final = "/ministry/settlement"
MONTH_PATTERN: Final = r"^\d{4}-(0[1-9]|1[0-2])$"
FILE_PATTERN: Final = r"^payment-\d{4}-(0[1-9]|1[0-2])-\d{8}T\d{6}$"
OPERATOR_MAX: Final = 40

Reader = Annotated[SignedInStaff, Depends(member_of(MINISTRY_CONSOLE, PATH))]
Actor = Annotated[SignedInStaff, Depends(member(MINISTRY_CONSOLE, {ACTING_ROLE}))]
Month = Annotated[str, Path(pattern=MONTH_PATTERN)]
Operator = Annotated[str, Path(max_length=OPERATOR_MAX, pattern=r"^[A-Za-z0-9_.-]+$")]

STATE_LABELS: Final = {
    "provisional": N_("暫定(月の締め前)"),
    "unprepared": N_("未作成"),
    ApprovalState.DRAFT.value: N_("作成済み・承認待ち"),
    ApprovalState.APPROVED.value: N_("承認済み・支払待ち"),
    ApprovalState.PAID.value: N_("支払済み"),
}
DONE: Final = {
    "prepared": N_("{operator} の {month} 分の精算書を作成しました。別の管理者が承認します。"),
    "approved": N_("{operator} の {month} 分の精算書を承認しました。"),
    "paid": N_("{month} 分の承認済みの精算書を支払ファイル {file} にまとめ、支払済みにしました。"),
}
# The refusals, by the service's stable code: what went wrong and what to do.
REFUSALS: Final = {
    "same_person": N_(
        "この精算書はあなたが作成したため、あなたは承認できません。別の総務省管理者が承認してください。"
    ),
    "wrong_state": N_(
        "この精算書は、その操作ができる状態にありません(承認済み・支払済みの精算書は変更できません。"
        "訂正は後の月の精算に計上されます)。"
    ),
    "totals_changed": N_(
        "作成後に精算書の金額が変わったため、承認できません。作成し直す必要があります。"
    ),
    "not_allowed": N_("精算書の作成・承認・支払は、総務省管理者だけが行えます。"),
    "nothing_to_do": N_("対象となる精算書がありません。"),
    "month_not_closed": N_(
        "この月はまだ締められていません。"
        "締めた月(mynapoint settle --month)の精算書だけを作成できます。"
    ),
    "no_statement": N_("この事業者には、この月の精算書がありません。"),
    "not_prepared": N_("この精算書はまだ作成されていません。先に作成してください。"),
    "conflict": N_("ほかの操作と重なりました。ページを読み込み直して、もう一度お試しください。"),
    "not_found": N_("その支払ファイルはありません。"),
}
REFUSAL_STATUS: Final = {"not_allowed": 403, "not_found": 404, "invalid_request": 422}


@dataclass(frozen=True)
class Row:
    statement: StatementRow
    operator: str
    state: str
    prepared_at: str
    approved_at: str
    may_prepare: bool
    may_approve: bool
    preparer_is_me: bool


def _when(at: datetime | None) -> str:
    return "" if at is None else to_jst(at).strftime("%Y-%m-%d %H:%M")


def _months(platform: PlatformDep, now: datetime) -> list[str]:
    """The closed months and the current one, newest first."""
    with platform.unit_of_work().reading() as uow:
        closed = uow.settlements.closed_months()
        prepared = {a.month for a in uow.settlements.approvals()}
    return sorted(closed | prepared | {month_of(jst_date(now))}, reverse=True)


def _default_month(platform: PlatformDep, now: datetime) -> str:
    with platform.unit_of_work().reading() as uow:
        closed = uow.settlements.closed_months()
    return max(closed) if closed else month_of(jst_date(now))


def _refusal(error: MynapointError) -> str:
    text = REFUSALS.get(error.code)
    return _(text) if text is not None else error.message


router = APIRouter(include_in_schema=False)


def _listing(
    request: Request,
    me: SignedInStaff,
    platform: PlatformDep,
    clock: ClockDep,
    month: str,
    *,
    notice: str | None = None,
    error: MynapointError | None = None,
) -> Response:
    uow = platform.unit_of_work()
    acting = me.account.role is ACTING_ROLE
    rows = []
    for statement in statement_rows(uow, month):
        approval = statement.approval
        preparer_is_me = approval is not None and approval.prepared_by == me.account.name
        rows.append(
            Row(
                statement=statement,
                operator=operator_name(request, statement.operator_code),
                state=_(STATE_LABELS[statement.state]),
                prepared_at=_when(None if approval is None else approval.prepared_at),
                approved_at=_when(None if approval is None else approval.approved_at),
                may_prepare=acting and statement.state == "unprepared",
                may_approve=acting
                and statement.state == ApprovalState.DRAFT.value
                and not preparer_is_me,
                preparer_is_me=preparer_is_me,
            )
        )
    approved = [r for r in rows if r.statement.state == ApprovalState.APPROVED.value]
    context = {
        "page_title": N_("精算"),
        "month": month,
        "months": _months(platform, clock.now()),
        "rows": rows,
        "acting": acting,
        "approved_yen": sum(r.statement.totals.amount_yen for r in approved),
        "may_pay": acting and bool(approved),
        "files": payment_files(uow, month),
        "notice": notice,
        "error": None if error is None else _refusal(error),
        "error_code": None if error is None else error.code,
    }
    status = 200
    if error is not None:
        status = REFUSAL_STATUS.get(error.code, 409)
    return page(request, MINISTRY_CONSOLE, "ministry/settlement.html", context, status)


@router.get(PATH, response_class=HTMLResponse)
def settlement_page(
    request: Request,
    me: Reader,
    platform: PlatformDep,
    clock: ClockDep,
    month: Annotated[str | None, Query(pattern=MONTH_PATTERN)] = None,
    done: Annotated[str | None, Query(max_length=16)] = None,
    operator: Annotated[str | None, Query(max_length=OPERATOR_MAX)] = None,
    file: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    month = month or _default_month(platform, clock.now())
    notice = None
    if done in DONE:
        name = "" if operator is None else operator_name(request, operator)
        notice = _(DONE[done]).format(operator=name, month=month, file=file or "")
    return _listing(request, me, platform, clock, month, notice=notice)


def _back(month: str, done: str, **more: str) -> Response:
    return redirect(f"{PATH}?{urlencode({'month': month, 'done': done, **more})}")


@router.post(f"{PATH}/{{month}}/{{operator}}/prepare", dependencies=[Depends(check_csrf)])
def prepare(
    request: Request,
    me: Actor,
    platform: PlatformDep,
    clock: ClockDep,
    month: Month,
    operator: Operator,
) -> Response:
    try:
        prepare_statements(platform.unit_of_work(), month, operator, me.account.name, clock.now())
    except MynapointError as exc:
        return _listing(request, me, platform, clock, month, error=exc)
    return _back(month, "prepared", operator=operator)


@router.post(f"{PATH}/{{month}}/{{operator}}/approve", dependencies=[Depends(check_csrf)])
def approve(
    request: Request,
    me: Actor,
    platform: PlatformDep,
    clock: ClockDep,
    month: Month,
    operator: Operator,
) -> Response:
    try:
        approve_statements(platform.unit_of_work(), month, operator, me.account.name, clock.now())
    except MynapointError as exc:
        return _listing(request, me, platform, clock, month, error=exc)
    return _back(month, "approved", operator=operator)


@router.post(f"{PATH}/{{month}}/pay", dependencies=[Depends(check_csrf)])
def pay(
    request: Request, me: Actor, platform: PlatformDep, clock: ClockDep, month: Month
) -> Response:
    names = catalog_names({o.code: o.name for o in platform.catalog.operators()})
    try:
        paid = pay_statements(
            platform.unit_of_work(), month, None, me.account.name, clock.now(), names
        )
    except MynapointError as exc:
        return _listing(request, me, platform, clock, month, error=exc)
    return _back(month, "paid", file=paid.name)


@router.get(f"{PATH}/payment-files/{{name}}.csv")
def payment_file_download(
    request: Request,
    me: Reader,
    platform: PlatformDep,
    clock: ClockDep,
    name: Annotated[str, Path(pattern=FILE_PATTERN)],
) -> Response:
    names = catalog_names({o.code: o.name for o in platform.catalog.operators()})
    try:
        found = payment_file_named(platform.unit_of_work(), name, names)
    except MynapointError as exc:
        return _listing(request, me, platform, clock, name[8:15], error=exc)
    return Response(
        found.csv.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={**NO_STORE, "Content-Disposition": f'attachment; filename="{name}.csv"'},
    )
