"""Who is signed in at this browser, the pages' shared frame, and what each role may open."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Annotated, Any, Final, cast

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.exc import SQLAlchemyError

from mynapoint.domain.staff import Role
from mynapoint.rules.corners import UnknownCorner
from mynapoint.services.counter_sessions import (
    Counter,
)
from mynapoint.services.staff import SignedInStaff, signed_in
from mynapoint.web.api.support_corners import get_corner_directory
from mynapoint.web.dependencies import ApplicationDeskDep, PlatformDep
from mynapoint.web.errors import SendInstead
from mynapoint.web.i18n import N_, _, current_locale
from mynapoint.web.templating import templates

STAFF_COOKIE: Final = "mp_staff"
SIGN_IN_PATH: Final = "/staff/sign-in"
PASSWORD_PATH: Final = "/staff/password"  # noqa: S105 - a page, not a password
# No page of the console is kept by the browser: the back button cannot bring back a
# citizen's page once their session has ended.
NO_STORE: Final = {"Cache-Control": "no-store"}
_STATE_KEY: Final = "signed_in_staff"
_UNKNOWN: Final = object()

ROLE_LABELS: Final = {
    Role.STAFF: N_("職員"),
    Role.SUPERVISOR: N_("監督者"),
    Role.ADMIN: N_("管理者"),
}


def corner_name(code: str | None) -> str:
    if code is None:
        return _("全コーナー")
    try:
        corner = get_corner_directory().get(code)
    except UnknownCorner:
        return code
    return corner.name_en if current_locale() == "en" and corner.name_en else corner.name


def current_staff(request: Request) -> SignedInStaff | None:
    """The staff member signed in at this browser, or None; asked once per request."""
    cached = getattr(request.state, _STATE_KEY, _UNKNOWN)
    if cached is not _UNKNOWN:
        return cast("SignedInStaff | None", cached)
    platform = request.app.state.platform
    try:
        me = signed_in(
            platform.unit_of_work(), request.cookies.get(STAFF_COOKIE), platform.clock.now()
        )
    except SQLAlchemyError:
        me = None  # the database is down: the error page still renders its frame
    setattr(request.state, _STATE_KEY, me)
    return me


MaybeStaff = Annotated[SignedInStaff | None, Depends(current_staff)]


def get_counter(platform: PlatformDep, desk: ApplicationDeskDep) -> Counter:
    return Counter(
        desk=desk,
        reader=platform.authority,
        idle_limit=timedelta(seconds=platform.settings.counter_idle_seconds),
    )


CounterDep = Annotated[Counter, Depends(get_counter)]


def gate(me: SignedInStaff | None, *, changing_password: bool = False) -> Response | None:
    """Where to send a visitor who may not use the page yet: the sign-in, or the password."""
    if me is None:
        return RedirectResponse(SIGN_IN_PATH, status_code=303, headers=NO_STORE)
    if me.account.must_change_password and not changing_password:
        return RedirectResponse(PASSWORD_PATH, status_code=303, headers=NO_STORE)
    return None


def signed_in_staff(me: MaybeStaff) -> SignedInStaff:
    """The signed-in staff member who may use the pages (password changed), or SendInstead
    to the sign-in or the password page."""
    if (sent := gate(me)) is not None or me is None:
        raise SendInstead(sent or redirect(SIGN_IN_PATH))
    return me


Staff = Annotated[SignedInStaff, Depends(signed_in_staff)]


def redirect(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303, headers=NO_STORE)


def page(
    request: Request,
    template: str,
    context: Mapping[str, Any],
    status_code: int = 200,
) -> HTMLResponse:
    me = current_staff(request)
    frame = {
        "corner_name": corner_name,
        "me": me,
        "role_label": "" if me is None else _(ROLE_LABELS[me.account.role]),
        "corner_label": "" if me is None else corner_name(me.account.corner),
    }
    return templates.TemplateResponse(
        request, template, {**frame, **context}, status_code=status_code, headers=NO_STORE
    )


def forbidden(request: Request, text: str) -> HTMLResponse:
    return page(
        request,
        "staff/forbidden.html",
        {"title": N_("このページを表示する権限がありません"), "text": text},
        status_code=403,
    )
