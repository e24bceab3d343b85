"""/staff/sign-in, /staff/sign-out and /staff/password: a staff member's own sign-in.

A refused sign-in says the same for a wrong name and a wrong password, so the page never
tells whether an account exists. No account locks: too many failures from one terminal make
that terminal wait (429, services/staff.py), and nobody else. A one-time password (from
`mynapoint staff add`) must be changed before any other page opens.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Annotated, Final

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from mynapoint.bootstrap import Platform
from mynapoint.domain.assist import EndReason
from mynapoint.domain.staff import (
    PASSWORD_MIN_LENGTH,
    PasswordRejected,
    SignInFailed,
    StaffAccount,
)
from mynapoint.services.counter_sessions import (
    Clerk,
    end,
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
from mynapoint.web.pages.staff.access import (
    SIGN_IN_PATH,
    STAFF_COOKIE,
    MaybeStaff,
    gate,
    page,
    redirect,
)
from mynapoint.web.typed_input import plain

router = APIRouter(include_in_schema=False)

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
_FIELD_MAX = 200


def landing(account: StaffAccount) -> str:
    if account.must_change_password:
        return "/staff/password"
    return "/counter" if account.runs_counter else "/staff/log"


def _sign_out(platform: Platform, me: SignedInStaff, now: datetime) -> None:
    """End this browser's sign-in, and the counter session it had open."""
    account = me.account
    if account.runs_counter and account.corner is not None:
        clerk = Clerk(account.name, account.role, account.corner)
        end(platform.unit_of_work(), clerk, None, EndReason.SIGNED_OUT, now)
    sign_out(platform.unit_of_work(), me, now)


@router.get("/staff")
def staff_home(me: MaybeStaff) -> Response:
    return redirect(SIGN_IN_PATH if me is None else landing(me.account))


@router.get("/staff/sign-in", response_class=HTMLResponse)
def sign_in_page(request: Request, me: MaybeStaff) -> Response:
    if me is not None:
        return redirect(landing(me.account))
    notice = N_("サインアウトしました。") if request.query_params.get("signed_out") else None
    context: dict[str, object] = {"name": "", "error": None, "errors": {}, "notice": notice}
    return page(request, "staff/sign_in.html", context)


@router.post("/staff/sign-in", dependencies=[Depends(check_csrf)])
def sign_in_post(
    request: Request,
    me: MaybeStaff,
    platform: PlatformDep,
    clock: ClockDep,
    hasher: PasswordHasherDep,
    name: Annotated[Text, Form(max_length=_FIELD_MAX)] = "",
    password: Annotated[Text, Form(max_length=_FIELD_MAX)] = "",
) -> Response:
    # The name is read as typed with the input method on (ｃｈｕｏ－ｓｔａｆｆ is chuo-staff);
    # the password never is: it is compared as typed.
    name = plain(name)
    attempt = SignInAttempt(name, password, client_address(request))
    try:
        issued = sign_in(platform.unit_of_work(), hasher, platform.throttle, attempt, clock.now())
    except SignInFailed:
        error = _(SIGN_IN_REFUSED)
        context = {"name": name, "error": error, "errors": {"password": error}, "notice": None}
        return page(request, "staff/sign_in.html", context, status_code=401)
    except RateLimited as exc:
        # Not about a field: the page's summary says it, and no input is marked.
        error = message_for(exc.code, exc.details)
        context = {"name": name, "error": error, "errors": {}, "notice": None}
        refused = page(request, "staff/sign_in.html", context, status_code=429)
        refused.headers.update(retry_after(exc) or {})
        return refused
    if me is not None:
        # Someone else (or the same person) was still signed in at this browser: not any more.
        _sign_out(platform, me, clock.now())
    account = issued.account
    if account.runs_counter and account.corner is not None:
        # A new sign-in starts afresh: a session left open on another terminal ends.
        clerk = Clerk(account.name, account.role, account.corner)
        end(platform.unit_of_work(), clerk, None, EndReason.SIGNED_IN_AGAIN, clock.now())
    response = redirect(landing(issued.account))
    response.set_cookie(
        STAFF_COOKIE,
        issued.token,
        httponly=True,
        secure=platform.settings.cookie_secure,
        samesite="strict",
        path="/",
    )
    return response


@router.post("/staff/sign-out", dependencies=[Depends(check_csrf)])
def sign_out_post(me: MaybeStaff, platform: PlatformDep, clock: ClockDep) -> Response:
    if me is not None:
        _sign_out(platform, me, clock.now())
    response = redirect(SIGN_IN_PATH + "?signed_out=1")
    response.delete_cookie(
        STAFF_COOKIE,
        path="/",
        secure=platform.settings.cookie_secure,
        httponly=True,
        samesite="strict",
    )
    return response


@router.get("/staff/password", response_class=HTMLResponse)
def password_page(request: Request, me: MaybeStaff) -> Response:
    if (sent := gate(me, changing_password=True)) is not None:
        return sent
    return page(request, "staff/password.html", {"error": None, "errors": {}})


@router.post("/staff/password", dependencies=[Depends(check_csrf)])
def password_post(
    request: Request,
    me: MaybeStaff,
    platform: PlatformDep,
    clock: ClockDep,
    hasher: PasswordHasherDep,
    current: Annotated[Text, Form(max_length=_FIELD_MAX)] = "",
    new: Annotated[Text, Form(max_length=_FIELD_MAX)] = "",
    new_again: Annotated[Text, Form(max_length=_FIELD_MAX)] = "",
) -> Response:
    if (sent := gate(me, changing_password=True)) is not None or me is None:
        return sent or redirect(SIGN_IN_PATH)
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
            refused = page(request, "staff/password.html", context, status_code=429)
            refused.headers.update(retry_after(exc) or {})
            return refused
    if refusal is not None:
        message = PASSWORD_REFUSED[refusal]
        error = _(message).format(min=PASSWORD_MIN_LENGTH)
        errors = {PASSWORD_FIELD_OF.get(refusal, "new"): error}
        context = {"error": error, "errors": errors}
        return page(request, "staff/password.html", context, status_code=422)
    return redirect(landing(replace(me.account, must_change_password=False)))
