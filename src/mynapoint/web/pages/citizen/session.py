"""The page sign-in: the session token of services/auth.py, kept in an HttpOnly cookie.

The API carries the same token as a bearer header; a browser keeps it in a cookie that
scripts cannot read (HttpOnly), that travels only over HTTPS or to 127.0.0.1 (Secure), and
that another site's form cannot send with a POST (SameSite=Lax; page POSTs check CSRF too).
Only the token's hash is stored server-side, and signing out ends the session there.
"""

from __future__ import annotations

from typing import Annotated, Final, cast
from urllib.parse import urlencode

from fastapi import Depends, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy.exc import SQLAlchemyError

from mynapoint.domain.auth import SESSION_LIFETIME, Session
from mynapoint.domain.errors import MynapointError
from mynapoint.services.auth import authenticate

SESSION_COOKIE: Final = "mp_session"
# Set with the session and kept a day after it: a browser without a live session that carries
# it had one, so its session ended (timed out, or signed out in another tab) and the login
# page says so. It holds no secret and identifies nobody.
SIGNED_IN_BEFORE_COOKIE: Final = "mp_signed_in_before"
SIGNED_IN_BEFORE_SECONDS: Final = 24 * 60 * 60
_STATE_KEY: Final = "citizen_session"
_UNKNOWN: Final = object()
# Pages that show a person's MyKey ID, accounts or points are never kept in a cache.
NO_STORE: Final = {"Cache-Control": "no-store"}


def current_session(request: Request) -> Session | None:
    """The signed-in session of this browser, or None (no cookie, ended or expired)."""
    # Asked once per request: by the page, and again by the navigation of its template.
    cached = getattr(request.state, _STATE_KEY, _UNKNOWN)
    if cached is not _UNKNOWN:
        return cast("Session | None", cached)
    token = request.cookies.get(SESSION_COOKIE)
    session: Session | None = None
    if token:
        platform = request.app.state.platform
        try:
            session = authenticate(platform.unit_of_work(), token, platform.clock.now())
        except (MynapointError, SQLAlchemyError):
            # Signed out, or the database is down (an error page still renders its frame).
            session = None
    setattr(request.state, _STATE_KEY, session)
    return session


def signed_in(request: Request) -> bool:
    """For the navigation of every page: マイページ/ログアウト or ログイン."""
    return current_session(request) is not None


MaybeCitizen = Annotated[Session | None, Depends(current_session)]


def session_token(request: Request) -> str | None:
    return request.cookies.get(SESSION_COOKIE)


def keep_session(response: Response, token: str, *, secure: bool) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        httponly=True,
        secure=secure,
        samesite="lax",
        path="/",
    )
    response.set_cookie(
        SIGNED_IN_BEFORE_COOKIE,
        "1",
        max_age=SIGNED_IN_BEFORE_SECONDS,
        httponly=True,
        secure=secure,
        samesite="lax",
        path="/",
    )


def forget_session(response: Response, *, secure: bool) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", secure=secure, httponly=True, samesite="lax")


def safe_next(value: str | None) -> str | None:
    """A page of this site to go back to after signing in; anything else is dropped."""
    if value and value.startswith("/") and not value.startswith(("//", "/\\")):
        return value
    return None


def session_ended(request: Request) -> bool:
    """This browser was signed in and is not any more: the session timed out, or was ended
    in another tab (or this one)."""
    return SESSION_COOKIE in request.cookies or SIGNED_IN_BEFORE_COOKIE in request.cookies


def to_login(request: Request) -> RedirectResponse:
    """Send a signed-out visitor to the login page, and back here afterwards; say so when
    their session ended. A form's POST comes back to the page of the form: its address, read
    with GET, shows that page (the confirmation's shows the form)."""
    back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    query = {"next": back}
    if session_ended(request):
        query["ended"] = "1"
    return RedirectResponse("/login?" + urlencode(query), status_code=303)
