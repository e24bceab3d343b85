"""/mykey: what the MyKey ID is, setting it up, and showing it (services/mykey.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mynapoint.domain.auth import Session
from mynapoint.domain.errors import MynapointError
from mynapoint.services.mykey import ensure_mykey, holder_of
from mynapoint.web.csrf import check_csrf
from mynapoint.web.dependencies import ClockDep, PlatformDep
from mynapoint.web.error_messages import message_for
from mynapoint.web.pages.citizen.forms import FORM
from mynapoint.web.pages.citizen.session import NO_STORE, MaybeCitizen, to_login
from mynapoint.web.pages.citizen.standing import signed_in_standing
from mynapoint.web.templating import templates

router = APIRouter(include_in_schema=False)


def _page(
    request: Request,
    platform: PlatformDep,
    me: Session,
    *,
    created: bool = False,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    uow = platform.unit_of_work()
    with uow:
        mykey = uow.mykeys.for_person(me.person)
    return templates.TemplateResponse(
        request,
        "citizen/mykey.html",
        {
            "mykey": mykey,
            "created": created,
            "errors": errors or {},
            # Right after signing in, before the first button: what this card can apply for.
            "standing": signed_in_standing(platform, me),
        },
        status_code=status_code,
        headers=NO_STORE,
    )


@router.get("/mykey", response_class=HTMLResponse)
def mykey_page(
    request: Request,
    platform: PlatformDep,
    me: MaybeCitizen,
    created: Annotated[bool, Query()] = False,
) -> Response:
    if me is None:
        return to_login(request)
    return _page(request, platform, me, created=created)


@router.post("/mykey", dependencies=[Depends(check_csrf)])
def set_up_mykey(
    request: Request, platform: PlatformDep, clock: ClockDep, me: MaybeCitizen
) -> Response:
    if me is None:
        return to_login(request)
    try:
        result = ensure_mykey(
            platform.unit_of_work(),
            me.person,
            clock.now(),
            platform.rules,
            holder=holder_of(platform.authority, me.serial),
        )
    except MynapointError as exc:
        errors = {FORM: message_for(exc.code, exc.details)}
        return _page(request, platform, me, errors=errors, status_code=409)
    return RedirectResponse("/mykey?created=true" if result.created else "/mykey", status_code=303)
