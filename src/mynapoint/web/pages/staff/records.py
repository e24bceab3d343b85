"""/staff/log: a corner's assisted sessions and audit entries, newest first.

A supervisor sees their own corner's; an administrator chooses any corner. Staff see none:
once a session has ended, nothing of the citizen is shown to them again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Final

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from mynapoint.domain.assist import AssistedSession
from mynapoint.domain.audit import SealedEntry
from mynapoint.domain.staff import Role, StaffForbidden
from mynapoint.services.counter_sessions import (
    corner_log,
)
from mynapoint.web.api.support_corners import get_corner_directory
from mynapoint.web.dependencies import CatalogDep, ClockDep, PlatformDep, RulesDep
from mynapoint.web.i18n import N_, _
from mynapoint.web.pages.staff.access import (
    ROLE_LABELS,
    CounterDep,
    Staff,
    corner_name,
    forbidden,
    page,
)
from mynapoint.web.pages.staff.labels import ACTION_LABELS, END_REASON_LABELS, entry_summary

router = APIRouter(include_in_schema=False)

NOT_YOURS: Final = N_(
    "記録は、そのコーナーの監督者と管理者だけが表示できます。"
    "職員は、手続きが終わった方の情報や他のコーナーの記録を見ることはできません。"
)


@dataclass(frozen=True)
class SessionRow:
    session: AssistedSession
    status: str


@dataclass(frozen=True)
class EntryRow:
    entry: SealedEntry
    action: str
    role: str
    summary: list[str]


def _role_label(role: str) -> str:
    if role in {known.value for known in Role}:
        return _(ROLE_LABELS[Role(role)])
    return _("システム")  # the platform itself, ending sessions left idle


@router.get("/staff/log", response_class=HTMLResponse)
def log_page(
    request: Request,
    me: Staff,
    platform: PlatformDep,
    clock: ClockDep,
    counter: CounterDep,
    rules: RulesDep,
    catalog: CatalogDep,
    corner: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    corners = get_corner_directory().corners()
    chosen = corner or me.account.corner or corners[0].code
    if not me.account.oversees(chosen):
        return forbidden(request, NOT_YOURS)
    if chosen not in {c.code for c in corners}:
        return forbidden(request, NOT_YOURS)
    try:
        log = corner_log(platform.unit_of_work(), counter, me, chosen, clock.now())
    except StaffForbidden:
        return forbidden(request, NOT_YOURS)
    sessions = [
        SessionRow(
            s,
            _("手続き中")
            if s.end_reason is None
            else _("終了: {reason}").format(reason=_(END_REASON_LABELS[s.end_reason])),
        )
        for s in log.sessions
    ]
    entries = [
        EntryRow(
            e,
            _(ACTION_LABELS.get(e.entry.action, e.entry.action)),
            _role_label(e.entry.role),
            entry_summary(e.entry.details, rules, catalog),
        )
        for e in log.entries
    ]
    return page(
        request,
        "staff/log.html",
        {
            "corner_code": chosen,
            "corner_title": corner_name(chosen),
            "corners": corners if me.account.role is Role.ADMIN else [],
            "sessions": sessions,
            "entries": entries,
        },
    )
