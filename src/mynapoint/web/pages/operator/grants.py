"""/operator/grants and /operator/statements: the signed-in account's operator's grant
instructions (overdue, due, upcoming and acknowledged counts; the pending ones due by today,
paged as the API pages them) and its monthly statements (each month's status, a CSV to
download). Both for the operator's administrator and staff; another operator's data is never
read (the queries take the account's operator, never one from the request)."""

# No `from __future__ import annotations`: FastAPI reads the routes' `Annotated` parameters.

import csv
import io
from typing import Annotated, Final

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from mynapoint.domain.calendar import jst_date
from mynapoint.services.grants import InvalidCursor, grant_counts, pending_grants
from mynapoint.services.settlement import operator_statement, statement_months
from mynapoint.services.staff import SignedInStaff
from mynapoint.web.dependencies import ClockDep, PlatformDep, RulesDep
from mynapoint.web.i18n import N_, _
from mynapoint.web.pages.console.access import NO_STORE, member_of, page
from mynapoint.web.pages.console.areas import OPERATOR_CONSOLE

GRANTS: Final = "/operator/grants"
STATEMENTS: Final = "/operator/statements"
PAGE: Final = 50
MONTH_PATTERN: Final = r"^\d{4}-(0[1-9]|1[0-2])$"
STATUS: Final = {"closed": N_("確定"), "provisional": N_("暫定(月の締め前)")}
BAD_CURSOR: Final = N_(
    "ページの指定が正しくありません(error: invalid_request)。最初のページから開き直してください。"
)
CSV_COLUMNS: Final = (
    "month", "status", "service_code", "points_granted", "points_clawed_back", "net_points",
    "reimbursement_yen", "events", "persons",
)  # fmt: skip

router = APIRouter(include_in_schema=False)
GrantsReader = Annotated[SignedInStaff, Depends(member_of(OPERATOR_CONSOLE, GRANTS))]
StatementsReader = Annotated[SignedInStaff, Depends(member_of(OPERATOR_CONSOLE, STATEMENTS))]


def _operator(me: SignedInStaff) -> str:
    # Operator roles always belong to an operator (domain/staff.py Scope).
    return me.account.operator or ""


@router.get(GRANTS, response_class=HTMLResponse)
def grants_page(
    request: Request,
    me: GrantsReader,
    platform: PlatformDep,
    clock: ClockDep,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    today = jst_date(clock.now())
    operator = _operator(me)
    try:
        listed = pending_grants(platform.unit_of_work(), operator, today, None, cursor, PAGE)
    except InvalidCursor:
        refused = {"title": N_("割当指示の一覧を開けません"), "text": _(BAD_CURSOR)}
        return page(request, OPERATOR_CONSOLE, "console/forbidden.html", refused, 422)
    context = {
        "page_title": N_("ポイント割当"),
        "today": today,
        "counts": grant_counts(platform.unit_of_work(), operator, today),
        "grants": listed.grants,
        "next_cursor": listed.next_cursor,
        "first_page": cursor is None,
    }
    return page(request, OPERATOR_CONSOLE, "operator/grants.html", context)


@router.get(STATEMENTS, response_class=HTMLResponse)
def statements_page(
    request: Request, me: StatementsReader, platform: PlatformDep, clock: ClockDep, rules: RulesDep
) -> Response:
    del me  # the months are the platform's; each statement is the operator's own
    today = jst_date(clock.now())
    start = rules.program_spending_start(today)
    first = None if start is None else jst_date(start)
    months = statement_months(platform.unit_of_work(), first, today)
    context = {
        "page_title": N_("月次の精算明細"),
        "months": [(month, _(STATUS[status])) for month, status in months],
    }
    return page(request, OPERATOR_CONSOLE, "operator/statements.html", context)


@router.get(f"{STATEMENTS}/{{month}}.csv")
def statement_csv(
    me: StatementsReader,
    platform: PlatformDep,
    month: Annotated[str, Path(pattern=MONTH_PATTERN)],
) -> Response:
    operator = _operator(me)
    statement = operator_statement(platform.unit_of_work(), operator, month)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for line in statement.services:
        writer.writerow([
            statement.month, statement.status, line.service_code, line.points_granted,
            line.points_clawed_back, line.net_points, line.reimbursement_yen, line.events,
            line.persons,
        ])  # fmt: skip
    name = f"mynapoint-statement-{operator}-{month}.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={**NO_STORE, "Content-Disposition": f'attachment; filename="{name}"'},
    )
