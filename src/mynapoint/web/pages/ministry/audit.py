"""/ministry/audit: the audit log for the auditor and the ministry's administrator: its entries
newest first, filtered by action, actor and JST days, 50 a page; and verifying the hash chain
against a published head from the page (services/audit.py `verify`, as `mynapoint audit verify`
does: the head given, or the stored genuine head that counts most)."""

# No `from __future__ import annotations`: FastAPI reads the routes' `Annotated` parameters.

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Annotated, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse

from mynapoint.bootstrap import Platform
from mynapoint.domain.audit import AuditSearch, ChainHead, PublishedHead, parse_any_head
from mynapoint.domain.calendar import JST, to_jst
from mynapoint.domain.staff import Role
from mynapoint.services.audit import AuditPage, AuditReport, browse, verify
from mynapoint.services.staff import SignedInStaff
from mynapoint.services.statistics import InvalidDateRange
from mynapoint.web.csrf import check_csrf
from mynapoint.web.dependencies import PlatformDep
from mynapoint.web.i18n import N_, _, date_time
from mynapoint.web.pages.console.access import ROLE_LABELS, corner_name, member_of, page
from mynapoint.web.pages.console.areas import MINISTRY_CONSOLE
from mynapoint.web.pages.ministry.overview import explain, parse_period

PATH: Final = "/ministry/audit"
PER_PAGE: Final = 50
Auditor = Annotated[SignedInStaff, Depends(member_of(MINISTRY_CONSOLE, PATH))]

router = APIRouter(include_in_schema=False)

BAD_HEAD: Final = N_(
    "公表されたヘッドは「件数:ハッシュ」(例: 12:ab34…)か、署名付きの"
    "「件数:ハッシュ,公表日時,署名」の形で入力してください。"
)


@dataclass(frozen=True)
class Row:
    seq: int
    at: str
    at_iso: str
    actor: str
    role: str
    corner: str
    mykey_id: str
    action: str
    details: str


@dataclass(frozen=True)
class Filters:
    action: str
    actor: str
    start: str
    end: str

    def query(self, page_number: int | None = None) -> str:
        given = {
            key: value
            for key, value in (
                ("action", self.action),
                ("actor", self.actor),
                ("from", self.start),
                ("to", self.end),
                ("page", str(page_number) if page_number and page_number > 1 else ""),
            )
            if value
        }
        return "?" + urlencode(given) if given else ""


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=JST)


def criteria_of(filters: Filters) -> AuditSearch:
    """The search the form asks for (InvalidDateRange for a bad range)."""
    period = parse_period(filters.start, filters.end)
    return AuditSearch(
        action=filters.action or None,
        actor=filters.actor or None,
        since=None if period.start is None else _midnight(period.start),
        before=None if period.end is None else _midnight(period.end + timedelta(days=1)),
    )


def _role(code: str) -> str:
    try:
        return _(ROLE_LABELS[Role(code)])
    except (ValueError, KeyError):
        return code


def _rows(found: AuditPage) -> list[Row]:
    return [
        Row(
            seq=sealed.seq,
            at=date_time(sealed.entry.at),
            at_iso=to_jst(sealed.entry.at).isoformat(timespec="seconds"),
            actor=sealed.entry.actor,
            role=_role(sealed.entry.role),
            corner="" if sealed.entry.corner is None else corner_name(sealed.entry.corner),
            mykey_id=sealed.entry.mykey_id or "",
            action=sealed.entry.action,
            details=json.dumps(sealed.entry.details, ensure_ascii=False, sort_keys=True),
        )
        for sealed in found.entries
    ]


def _render(
    request: Request,
    platform: Platform,
    filters: Filters,
    page_number: int,
    extra: Mapping[str, object],
    status_code: int = 200,
) -> HTMLResponse:
    context: dict[str, object] = {
        "page_title": N_("監査ログ"),
        "filters": filters,
        "error": "",
        "error_code": "",
        "report": None,
        "head_text": "",
        "head_error": "",
        "found": None,
        "rows": [],
    }
    try:
        criteria = criteria_of(filters)
    except InvalidDateRange as error:
        context |= {"error": explain(error), "error_code": error.code}
        context |= extra
        return page(request, MINISTRY_CONSOLE, "ministry/audit.html", context, 422)
    found = browse(platform.unit_of_work(), criteria, page_number, PER_PAGE)
    context |= {
        "found": found,
        "rows": _rows(found),
        "previous": filters.query(found.page - 1) if found.page > 1 else None,
        "next": filters.query(found.page + 1) if found.page < found.pages else None,
    }
    context |= extra
    return page(request, MINISTRY_CONSOLE, "ministry/audit.html", context, status_code)


Short = Annotated[str, Query(max_length=64)]


@router.get(PATH, response_class=HTMLResponse)
def audit_page(
    request: Request,
    me: Auditor,
    platform: PlatformDep,
    action: Short = "",
    actor: Short = "",
    start: Annotated[str, Query(alias="from", max_length=40)] = "",
    end: Annotated[str, Query(alias="to", max_length=40)] = "",
    page_number: Annotated[int, Query(alias="page", ge=1, le=10_000_000)] = 1,
) -> HTMLResponse:
    del me
    filters = Filters(action.strip(), actor.strip(), start.strip(), end.strip())
    return _render(request, platform, filters, page_number, {})


def _report(report: AuditReport) -> dict[str, object]:
    against = report.checked_against
    return {
        "ok": report.ok,
        "entries": report.entries,
        "head": str(report.head),
        "against": None if against is None else str(against),
        "published_at": None if report.published_at is None else date_time(report.published_at),
        "signed": report.signed,
        "problems": [str(problem) for problem in report.problems],
    }


@router.post(PATH + "/verify", response_class=HTMLResponse, dependencies=[Depends(check_csrf)])
def verify_chain(
    request: Request,
    me: Auditor,
    platform: PlatformDep,
    head: Annotated[str, Form(max_length=400)] = "",
) -> HTMLResponse:
    del me
    filters = Filters("", "", "", "")
    given: ChainHead | PublishedHead | None = None
    text = head.strip()
    if text:
        try:
            given = parse_any_head(text)
        except ValueError:
            extra = {"head_text": text, "head_error": _(BAD_HEAD), "error_code": "invalid_head"}
            return _render(request, platform, filters, 1, extra, 422)
    try:
        report = verify(platform.unit_of_work(), platform.audit_key().verifier(), given)
    except ValueError as error:  # a stored value no longer of its column's type
        problems = [f"the audit log cannot be read, so it was altered: {error}"]
        unreadable: dict[str, object] = {"ok": False, "problems": problems}
        return _render(request, platform, filters, 1, {"head_text": text, "report": unreadable})
    return _render(request, platform, filters, 1, {"head_text": text, "report": _report(report)})
