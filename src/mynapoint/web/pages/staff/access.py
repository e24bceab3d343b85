"""The staff console's side of web/pages/console/access.py: who is signed in at this browser,
the pages' frame, and the counter every counter page uses."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Annotated, Any, Final

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, Response

from mynapoint.services.counter_sessions import Counter
from mynapoint.services.staff import SignedInStaff
from mynapoint.web.dependencies import ApplicationDeskDep, PlatformDep
from mynapoint.web.i18n import _
from mynapoint.web.pages.console.access import (
    NO_STORE,
    ROLE_LABELS,
    corner_name,
    current_account,
    member,
    redirect,
)
from mynapoint.web.pages.console.access import forbidden as console_forbidden
from mynapoint.web.pages.console.access import gate as console_gate
from mynapoint.web.pages.console.access import page as console_page
from mynapoint.web.pages.console.areas import STAFF_CONSOLE

__all__ = [
    "NO_STORE",
    "PASSWORD_PATH",
    "ROLE_LABELS",
    "SIGN_IN_PATH",
    "STAFF_COOKIE",
    "CounterDep",
    "MaybeStaff",
    "Staff",
    "corner_name",
    "current_staff",
    "forbidden",
    "gate",
    "get_counter",
    "page",
    "redirect",
]

STAFF_COOKIE: Final = STAFF_CONSOLE.cookie
SIGN_IN_PATH: Final = STAFF_CONSOLE.sign_in_path
PASSWORD_PATH: Final = STAFF_CONSOLE.password_path


def current_staff(request: Request) -> SignedInStaff | None:
    """The staff member signed in at this browser, or None; asked once per request."""
    return current_account(request, STAFF_CONSOLE)


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
    return console_gate(STAFF_CONSOLE, me, changing_password=changing_password)


Staff = Annotated[SignedInStaff, Depends(member(STAFF_CONSOLE))]


def page(
    request: Request,
    template: str,
    context: Mapping[str, Any],
    status_code: int = 200,
) -> HTMLResponse:
    return console_page(request, STAFF_CONSOLE, template, context, status_code)


def forbidden(request: Request, text: str) -> HTMLResponse:
    return console_forbidden(request, STAFF_CONSOLE, _(text))
