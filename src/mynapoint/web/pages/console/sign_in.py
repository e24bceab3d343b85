"""{prefix}, {prefix}/sign-in, {prefix}/sign-out and {prefix}/password of every console.

A refused sign-in says the same for a wrong name, a wrong password, a disabled account and
an account of another area, so the page never tells whether an account exists. No account
locks: too many failures from one terminal make that terminal wait (429,
services/staff.py), and nobody else. A one-time password must be changed before any other
page opens. The staff console adds what its counter needs through `SignInHooks`.
"""

# No `from __future__ import annotations`: the routes are made inside a function, and FastAPI
# reads their parameters' local `Annotated` types when the route is added.

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Annotated, Final

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from mynapoint.bootstrap import Platform
from mynapoint.domain.staff import (
    PASSWORD_MIN_LENGTH,
    PasswordRejected,
    SignInFailed,
    StaffAccount,
)
from mynapoint.services.staff import (
    PasswordChange,
    SignedInStaff,
    SignInAttempt,
    change_password,
    sign_in,
    sign_out,
)
from mynapoint.services.throttling import RateLimited
from mynapoint.web.csrf import check_csrf
from mynapoint.web.dependencies import ClockDep, PasswordHasherDep, PlatformDep, client_address
from mynapoint.web.error_messages import message_for
from mynapoint.web.errors import retry_after
from mynapoint.web.i18n import N_, _
from mynapoint.web.inputs import Text
from mynapoint.web.pages.console.access import current_account, gate, page, redirect
from mynapoint.web.pages.console.areas import Console
from mynapoint.web.typed_input import plain

SIGN_IN_REFUSED: Final = N_(
    "サインイン名またはパスワードが違います。"
    "続けて間違えると、この端末からはしばらくサインインできなくなります。"
)
PASSWORD_REFUSED: Final = {
    "too_short": N_("新しいパスワードは{min}文字以上にしてください。"),
    "too_long": N_("新しいパスワードは128文字以内にしてください。"),
    "unchanged": N_("新しいパスワードが今のパスワードと同じです。別のパスワードにしてください。"),
    "contains_name": N_("新しいパスワードにサインイン名を含めないでください。"),
    "mismatch": N_("確認のために入力した新しいパスワードが一致しません。"),
    "current": N_(
        "今のパスワードが違います。続けて間違えると、この端末からはしばらく変更できなくなります。"
    ),
}
# Which field each refusal of the password change is about.
PASSWORD_FIELD_OF: Final = {"mismatch": "new_again", "current": "current"}
FIELD_MAX: Final = 200


def _nothing(platform: Platform, me: SignedInStaff, now: datetime) -> None:
    del platform, me, now


def _nobody(platform: Platform, account: StaffAccount, now: datetime) -> None:
    del platform, account, now


@dataclass(frozen=True)
class SignInHooks:
    """What a console does besides the sign-in itself (the staff console: end the counter
    session left open). Doing nothing is the default, not a missing hook."""

    before_sign_out: Callable[[Platform, SignedInStaff, datetime], None] = _nothing
    after_sign_in: Callable[[Platform, StaffAccount, datetime], None] = _nobody


def _end(platform: Platform, hooks: SignInHooks, me: SignedInStaff, now: datetime) -> None:
    hooks.before_sign_out(platform, me, now)
    sign_out(platform.unit_of_work(), me, now)


def sign_in_routes(console: Console, hooks: SignInHooks | None = None) -> APIRouter:  # noqa: C901, PLR0915 - one closure per route of the area
    """The home, sign-in, sign-out and password routes of one console."""
    hooks = hooks or SignInHooks()
    router = APIRouter(include_in_schema=False)

    def maybe(request: Request) -> SignedInStaff | None:
        return current_account(request, console)

    maybe_me = Annotated[SignedInStaff | None, Depends(maybe)]

    @router.get(console.prefix, response_class=HTMLResponse, name=f"{console.area}_home")
    def home(request: Request, me: maybe_me) -> Response:
        if (sent := gate(console, me)) is not None or me is None:
            return sent or redirect(console.sign_in_path)
        if (landing := console.landing(me.account)) != console.prefix:
            return redirect(landing)
        return page(request, console, "console/home.html", {})

    @router.get(console.sign_in_path, response_class=HTMLResponse)
    def sign_in_page(request: Request, me: maybe_me) -> Response:
        if me is not None:
            return redirect(console.landing(me.account))
        notice = N_("サインアウトしました。") if request.query_params.get("signed_out") else None
        context: dict[str, object] = {"name": "", "error": None, "errors": {}, "notice": notice}
        return page(request, console, "console/sign_in.html", context)

    @router.post(console.sign_in_path, dependencies=[Depends(check_csrf)])
    def sign_in_post(
        request: Request,
        me: maybe_me,
        platform: PlatformDep,
        clock: ClockDep,
        hasher: PasswordHasherDep,
        name: Annotated[Text, Form(max_length=FIELD_MAX)] = "",
        password: Annotated[Text, Form(max_length=FIELD_MAX)] = "",
    ) -> Response:
        # The name is read as typed with the input method on (ｃｈｕｏ－ｓｔａｆｆ is
        # chuo-staff); the password never is: it is compared as typed.
        name = plain(name)
        attempt = SignInAttempt(name, password, client_address(request))
        try:
            issued = sign_in(
                platform.unit_of_work(),
                hasher,
                platform.throttle,
                attempt,
                clock.now(),
                console.area,
            )
        except SignInFailed:
            error = _(SIGN_IN_REFUSED)
            context = {"name": name, "error": error, "errors": {"password": error}, "notice": None}
            return page(request, console, "console/sign_in.html", context, status_code=401)
        except RateLimited as exc:
            # Not about a field: the page's summary says it, and no input is marked.
            error = message_for(exc.code, exc.details)
            context = {"name": name, "error": error, "errors": {}, "notice": None}
            refused = page(request, console, "console/sign_in.html", context, status_code=429)
            refused.headers.update(retry_after(exc) or {})
            return refused
        if me is not None:
            # Someone else (or the same person) was still signed in at this browser: not now.
            _end(platform, hooks, me, clock.now())
        hooks.after_sign_in(platform, issued.account, clock.now())
        response = redirect(console.landing(issued.account))
        response.set_cookie(
            console.cookie,
            issued.token,
            httponly=True,
            secure=platform.settings.cookie_secure,
            samesite="strict",
            path="/",
        )
        return response

    @router.post(console.sign_out_path, dependencies=[Depends(check_csrf)])
    def sign_out_post(me: maybe_me, platform: PlatformDep, clock: ClockDep) -> Response:
        if me is not None:
            _end(platform, hooks, me, clock.now())
        response = redirect(console.sign_in_path + "?signed_out=1")
        response.delete_cookie(
            console.cookie,
            path="/",
            secure=platform.settings.cookie_secure,
            httponly=True,
            samesite="strict",
        )
        return response

    @router.get(console.password_path, response_class=HTMLResponse)
    def password_page(request: Request, me: maybe_me) -> Response:
        if (sent := gate(console, me, changing_password=True)) is not None:
            return sent
        return page(request, console, "console/password.html", {"error": None, "errors": {}})

    @router.post(console.password_path, dependencies=[Depends(check_csrf)])
    def password_post(
        request: Request,
        me: maybe_me,
        platform: PlatformDep,
        clock: ClockDep,
        hasher: PasswordHasherDep,
        current: Annotated[Text, Form(max_length=FIELD_MAX)] = "",
        new: Annotated[Text, Form(max_length=FIELD_MAX)] = "",
        new_again: Annotated[Text, Form(max_length=FIELD_MAX)] = "",
    ) -> Response:
        if (sent := gate(console, me, changing_password=True)) is not None or me is None:
            return sent or redirect(console.sign_in_path)
        refusal: str | None = None
        if new != new_again:
            refusal = "mismatch"
        else:
            change = PasswordChange(current, new, client_address(request))
            try:
                change_password(
                    platform.unit_of_work(), hasher, platform.throttle, me, change, clock.now()
                )
            except SignInFailed:
                refusal = "current"
            except PasswordRejected as rejected:
                refusal = rejected.reason
            except RateLimited as exc:
                error = message_for(exc.code, exc.details)
                context = {"error": error, "errors": {}}
                refused = page(request, console, "console/password.html", context, 429)
                refused.headers.update(retry_after(exc) or {})
                return refused
        if refusal is not None:
            error = _(PASSWORD_REFUSED[refusal]).format(min=PASSWORD_MIN_LENGTH)
            errors = {PASSWORD_FIELD_OF.get(refusal, "new"): error}
            context = {"error": error, "errors": errors}
            return page(request, console, "console/password.html", context, status_code=422)
        return redirect(console.landing(replace(me.account, must_change_password=False)))

    return router
