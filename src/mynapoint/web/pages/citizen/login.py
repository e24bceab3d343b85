"""/login with the card, and /logout.

A real deployment reads the card through the citizen's own JPKI client; this site offers,
in demo mode only, a simulated card reader (card_reader.py). Either way the platform checks
the signed challenge with services/auth.py, as the API does, and the session token goes
into the HttpOnly cookie of session.py.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mynapoint.domain.errors import MynapointError
from mynapoint.jpki.card import InvalidPin, validate_pin
from mynapoint.jpki.revocation import RevocationListStale
from mynapoint.services.auth import log_in, log_out
from mynapoint.services.throttling import CHALLENGES, RateLimited
from mynapoint.web.csrf import check_csrf
from mynapoint.web.dependencies import ClockDep, PlatformDep, client_address
from mynapoint.web.error_messages import message_for
from mynapoint.web.errors import retry_after
from mynapoint.web.i18n import _
from mynapoint.web.inputs import Text
from mynapoint.web.pages.citizen.card_reader import (
    card_error_message,
    demo_card_files,
    read_demo_card,
    sign_with_demo_card,
)
from mynapoint.web.pages.citizen.forms import FORM, FieldErrors
from mynapoint.web.pages.citizen.session import (
    NO_STORE,
    MaybeCitizen,
    current_session,
    forget_session,
    keep_session,
    safe_next,
)
from mynapoint.web.templating import templates
from mynapoint.web.typed_input import TypedDigits

router = APIRouter(include_in_schema=False)

# Field ids of the login form (the error sentences point at them).
CARD_FIELD = "card"
PIN_FIELD = "pin"


def _page(
    request: Request,
    platform: PlatformDep,
    *,
    next_url: str | None,
    errors: FieldErrors | None = None,
    chosen: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    demo = platform.settings.demo
    return templates.TemplateResponse(
        request,
        "citizen/login.html",
        {
            "demo": demo,
            "cards": demo_card_files(platform.settings) if demo else [],
            "next_url": next_url or "",
            "errors": errors or {},
            "chosen": chosen,
            "notice": notice,
        },
        status_code=status_code,
        headers=NO_STORE,
    )


@router.get("/login", response_class=HTMLResponse)
def login_page(
    request: Request,
    platform: PlatformDep,
    me: MaybeCitizen,
    next_url: Annotated[str | None, Query(alias="next", max_length=500)] = None,
    signed_out: Annotated[bool, Query(alias="signed_out")] = False,
    ended: Annotated[bool, Query(alias="ended")] = False,
) -> Response:
    if me is not None:
        return RedirectResponse(safe_next(next_url) or "/me", status_code=303)
    back = safe_next(next_url)
    notice = None
    if signed_out:
        notice = _("ログアウトしました。")
    elif ended:
        notice = _(
            "ログインの有効期限が切れたか、ログアウトしたため、ログインし直してください。"
            "入力中の内容は送信されていません。"
        )
        if back:
            notice += _("ログインすると、元のページに戻ります。")
    return _page(request, platform, next_url=back, notice=notice)


@router.post("/login", response_class=HTMLResponse, dependencies=[Depends(check_csrf)])
def read_card_and_log_in(
    request: Request,
    platform: PlatformDep,
    clock: ClockDep,
    card: Annotated[Text, Form(max_length=200)] = "",
    pin: Annotated[TypedDigits, Form(max_length=20)] = "",
    next_url: Annotated[Text, Form(alias="next", max_length=500)] = "",
) -> Response:
    back = safe_next(next_url)
    errors: FieldErrors = {}
    if not platform.settings.demo:
        # Outside demo mode there is no simulated reader to post to: cards are read by
        # the citizen's own JPKI client.
        errors[FORM] = _("この環境では、カード読み取りのシミュレーションは使えません。")
        return _page(request, platform, next_url=back, errors=errors, status_code=403)
    if not card:
        errors[CARD_FIELD] = _("読み取るカードを選んでください。")
    try:
        validate_pin(pin)
    except InvalidPin:
        errors[PIN_FIELD] = message_for("invalid_pin")
    if errors:
        return _page(request, platform, next_url=back, errors=errors, chosen=card, status_code=422)
    try:
        virtual_card = read_demo_card(platform.settings, card)
    except MynapointError as exc:
        errors[CARD_FIELD] = card_error_message(exc)
        return _page(request, platform, next_url=back, errors=errors, status_code=422)
    try:
        # Each read stores a challenge, as POST /api/v1/auth/challenges does: the same limit.
        platform.throttle.hit(CHALLENGES, client_address(request))
    except RateLimited as exc:
        errors[FORM] = message_for(exc.code, exc.details)
        page = _page(request, platform, next_url=back, errors=errors, chosen=card, status_code=429)
        page.headers.update(retry_after(exc) or {})
        return page
    try:
        signed = sign_with_demo_card(platform, virtual_card, pin)
    except MynapointError as exc:
        errors[PIN_FIELD if exc.code in {"wrong_pin", "invalid_pin"} else CARD_FIELD] = (
            card_error_message(exc)
        )
        return _page(request, platform, next_url=back, errors=errors, chosen=card, status_code=401)
    try:
        issued = log_in(
            platform.unit_of_work(),
            platform.authority,
            platform.revocations,
            signed.challenge_id,
            signed.certificate_pem,
            signed.signature_b64,
            clock.now(),
        )
    except RevocationListStale as exc:
        # Not the card's fault: no card can be checked until the list is current again.
        errors[FORM] = message_for(exc.code, exc.details)
        return _page(request, platform, next_url=back, errors=errors, chosen=card, status_code=503)
    except MynapointError as exc:
        errors[CARD_FIELD] = message_for(exc.code, exc.details)
        return _page(request, platform, next_url=back, errors=errors, chosen=card, status_code=401)
    uow = platform.unit_of_work()
    with uow:
        has_mykey = uow.mykeys.for_person(issued.session.person) is not None
    response = RedirectResponse(back or ("/me" if has_mykey else "/mykey"), status_code=303)
    keep_session(response, issued.token, secure=platform.settings.cookie_secure)
    return response


@router.get("/logout")
def not_by_a_link(request: Request) -> Response:
    """Signing out is a form's POST (a link or an image must not sign anyone out): a GET,
    such as the language switch on a page answered by a POST, shows the login page."""
    query = f"?{request.url.query}" if request.url.query else ""
    return RedirectResponse(f"/login{query}", status_code=303)


@router.post("/logout", dependencies=[Depends(check_csrf)])
def sign_out(request: Request, platform: PlatformDep, clock: ClockDep) -> Response:
    session = current_session(request)
    if session is not None:
        log_out(platform.unit_of_work(), session, clock.now())
    response = RedirectResponse("/login?signed_out=1", status_code=303)
    forget_session(response, secure=platform.settings.cookie_secure)
    return response
