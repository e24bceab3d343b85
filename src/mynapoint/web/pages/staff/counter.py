"""/counter: the counter terminal of a support corner, one assisted session at a time.

1. The citizen's card is read (here: its card file is chosen) and its holder types the PIN:
   a session begins, bound to that card. Reading a card always ends the previous session.
2. The terminal shows only what this citizen needs: the MyKey ID (set up if missing), their
   applications, and the services that can be applied for at a corner.
3. The staff member types the 決済サービスID and security code; the terminal shows the
   operator's masked holder name, and the citizen confirms it is theirs, or not.
4. The citizen places the card and types the PIN again (a fresh signature of the session's
   own card; a legal representative signs with theirs too); the application is committed
   and the session ends by itself.

Each form names its session; a step for a session that ended (another card, inactivity,
the end button) does nothing. The security code is never stored: between the check and the
commit it travels only in the confirmation form, which no cache keeps.
"""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from mynapoint.domain.assist import (
    EndReason,
    PreviewOutdated,
    SessionEnded,
)
from mynapoint.domain.errors import MynapointError
from mynapoint.domain.measures import Counts, EventKind, Measure
from mynapoint.domain.services import Catalog
from mynapoint.services.assist import (
    AccountForm,
    Confirmation,
    commit,
    read_card,
    reject_preview,
    set_up_mykey,
    show_account,
)
from mynapoint.services.counter_sessions import (
    check_session,
    current,
    end,
    keep_alive,
)
from mynapoint.web.csrf import check_csrf
from mynapoint.web.dependencies import CatalogDep, ClockDep, PlatformDep
from mynapoint.web.i18n import _
from mynapoint.web.inputs import NamedUpload, Text
from mynapoint.web.pages.staff.access import (
    NO_STORE,
    CounterDep,
    redirect,
)
from mynapoint.web.pages.staff.counter_fields import card_errors, preview_errors
from mynapoint.web.pages.staff.counter_views import (
    REJECTED_NOTICE,
    STALE_CODES,
    TEXT_MAX,
    ClerkDep,
    Entered,
    after_refusal,
    citizen_page,
    confirm_missing,
    confirm_page,
    confirm_refusal,
    done_page,
    idle_text,
    reading_of,
    start_page,
    status_of,
)
from mynapoint.web.pages.staff.labels import (
    code_text,
    error_text,
)
from mynapoint.web.typed_input import typed_code

router = APIRouter(include_in_schema=False)


# --- routes ----------------------------------------------------------------------------------


@router.get("/counter", response_class=HTMLResponse)
def counter_page(
    request: Request, clerk: ClerkDep, platform: PlatformDep, clock: ClockDep, counter: CounterDep
) -> Response:
    session, ended = current(platform.unit_of_work(), counter, clerk, clock.now())
    if session is not None:
        notice = _(REJECTED_NOTICE) if request.query_params.get("rejected") else None
        return citizen_page(request, counter, session, notice=notice)
    asked = request.query_params.get("ended")
    if ended is None and asked in {reason.value for reason in EndReason}:
        ended = EndReason(str(asked))
    return start_page(request, ended=ended)


@router.get("/counter/{step:path}")
def counter_step_again(step: str) -> Response:
    """A step's page answered a form: asked for by address (the language switch, a reload),
    it is the counter as it stands now."""
    del step  # whichever step it was
    return redirect("/counter")


@router.post("/counter/card", dependencies=[Depends(check_csrf)])
def card_post(
    request: Request,
    clerk: ClerkDep,
    platform: PlatformDep,
    clock: ClockDep,
    counter: CounterDep,
    card: Annotated[NamedUpload | None, File()] = None,
    pin: Annotated[Text, Form(max_length=TEXT_MAX)] = "",
) -> Response:
    now = clock.now()
    try:
        reading = reading_of(card, pin)
    except MynapointError as exc:
        # Even a card that cannot be read ends the previous citizen's session.
        end(platform.unit_of_work(), clerk, None, EndReason.NEXT_CARD, now)
        return start_page(request, errors=card_errors(exc), status_code=422)
    try:
        read_card(platform.unit_of_work(), counter, clerk, reading, now)
    except MynapointError as exc:
        return start_page(request, errors=card_errors(exc), status_code=status_of(exc))
    return redirect("/counter")


@router.post("/counter/mykey", dependencies=[Depends(check_csrf)])
def mykey_post(
    request: Request,
    clerk: ClerkDep,
    platform: PlatformDep,
    clock: ClockDep,
    counter: CounterDep,
    session: Annotated[Text, Form(max_length=TEXT_MAX)] = "",
) -> Response:
    try:
        set_up_mykey(platform.unit_of_work(), counter, clerk, session, clock.now())
    except MynapointError as exc:
        return after_refusal(request, counter, clerk, exc)
    return redirect("/counter")


@router.post("/counter/preview", dependencies=[Depends(check_csrf)])
def preview_post(
    request: Request,
    clerk: ClerkDep,
    platform: PlatformDep,
    clock: ClockDep,
    counter: CounterDep,
    catalog: CatalogDep,
    session: Annotated[Text, Form(max_length=TEXT_MAX)] = "",
    measure: Annotated[Text, Form(max_length=TEXT_MAX)] = "",
    service_code: Annotated[Text, Form(max_length=TEXT_MAX)] = "",
    counts: Annotated[Text, Form(max_length=TEXT_MAX)] = "",
    payment_service_id: Annotated[Text, Form(max_length=TEXT_MAX)] = "",
    security_code: Annotated[Text, Form(max_length=TEXT_MAX)] = "",
    with_representative: Annotated[Text, Form(max_length=TEXT_MAX)] = "",
) -> Response:
    # Read as the clerk meant it (full-width digits, groups): web/typed_input.py.
    service = catalog.services.get(service_code)
    id_formats = [] if service is None else [service.payment_service_id]
    code_formats = [] if service is None else list(service.security_codes)
    entered = Entered(
        measure,
        service_code,
        counts,
        typed_code(payment_service_id, id_formats),
        bool(with_representative),
    )
    try:
        form = _account_form(catalog, entered, typed_code(security_code, code_formats))
        shown = show_account(platform.unit_of_work(), counter, clerk, session, form, clock.now())
    except MynapointError as exc:
        errors = preview_errors(exc, catalog, service_code)
        return after_refusal(request, counter, clerk, exc, entered=entered, errors=errors)
    open_session, _ended = current(platform.unit_of_work(), counter, clerk, clock.now())
    if open_session is None:
        return start_page(request, ended=_ended or EndReason.INACTIVITY, status_code=409)
    return confirm_page(request, counter, open_session, shown)


def _account_form(catalog: Catalog, entered: Entered, security_code: str) -> AccountForm:
    """The form's shape: a measure and a service of the lists, and counts only where picked."""
    try:
        measure = Measure(entered.measure)
    except ValueError:
        raise MynapointError("choose the measure to apply for", field="measure") from None
    service = catalog.get(entered.service_code)
    counts = None
    if service.counts is Counts.PICK and entered.counts:
        try:
            counts = EventKind(entered.counts)
        except ValueError:
            raise MynapointError("choose charge or purchase", field="counts") from None
    return AccountForm(
        measure=measure,
        service_code=service.code,
        payment_service_id=entered.payment_service_id,
        security_code=security_code,
        counts=counts,
        with_representative=entered.with_representative,
    )


@router.post("/counter/preview/reject", dependencies=[Depends(check_csrf)])
def reject_post(
    request: Request,
    clerk: ClerkDep,
    platform: PlatformDep,
    clock: ClockDep,
    counter: CounterDep,
    session: Annotated[Text, Form(max_length=TEXT_MAX)] = "",
    preview: Annotated[Text, Form(max_length=TEXT_MAX)] = "",
) -> Response:
    try:
        reject_preview(platform.unit_of_work(), counter, clerk, session, preview, clock.now())
    except MynapointError as exc:
        return after_refusal(request, counter, clerk, exc)
    return redirect("/counter?rejected=1")


@router.post("/counter/apply", dependencies=[Depends(check_csrf)])
def apply_post(
    request: Request,
    clerk: ClerkDep,
    platform: PlatformDep,
    clock: ClockDep,
    counter: CounterDep,
    session: Annotated[Text, Form(max_length=TEXT_MAX)] = "",
    preview: Annotated[Text, Form(max_length=TEXT_MAX)] = "",
    confirmed: Annotated[Text, Form(max_length=TEXT_MAX)] = "",
    card: Annotated[NamedUpload | None, File()] = None,
    pin: Annotated[Text, Form(max_length=TEXT_MAX)] = "",
    representative_card: Annotated[NamedUpload | None, File()] = None,
    representative_pin: Annotated[Text, Form(max_length=TEXT_MAX)] = "",
) -> Response:
    now = clock.now()
    try:
        # Another card read or the idle limit may have ended the session: then this form is
        # void, and the refused step is recorded.
        open_session = check_session(platform.unit_of_work(), counter, clerk, session, now)
    except SessionEnded as exc:
        return start_page(request, error=error_text(exc), status_code=409)
    shown = open_session.preview
    if shown is None or shown.preview_id != preview:
        return citizen_page(
            request,
            counter,
            open_session,
            error=error_text(PreviewOutdated("outdated")),
            status_code=409,
        )

    def again(error: MynapointError) -> HTMLResponse:
        return confirm_refusal(request, counter, open_session, shown, error)

    if not confirmed:
        return confirm_missing(request, counter, open_session, shown)
    try:
        holder = reading_of(card, pin)
    except MynapointError as exc:
        return again(exc)
    try:
        representative = (
            reading_of(representative_card, representative_pin)
            if shown.with_representative
            else None
        )
    except MynapointError as exc:
        exc.details.setdefault("card", "representative")
        return again(exc)
    answer = Confirmation(session, preview, holder, representative)
    try:
        applied = commit(platform.unit_of_work(), counter, clerk, answer, now)
    except MynapointError as exc:
        if exc.code in STALE_CODES:
            return start_page(request, error=error_text(exc), status_code=status_of(exc))
        still, _ended = current(platform.unit_of_work(), counter, clerk, clock.now())
        if still is None:
            return start_page(request, error=error_text(exc), status_code=status_of(exc))
        return again(exc)
    return done_page(request, counter, applied)


@router.post("/counter/activity", dependencies=[Depends(check_csrf)])
def activity_post(
    clerk: ClerkDep,
    platform: PlatformDep,
    clock: ClockDep,
    counter: CounterDep,
    session: Annotated[Text, Form(max_length=TEXT_MAX)] = "",
) -> Response:
    """The clerk is typing into the session's page (static/staff-counter.js): the idle end
    moves, as after a step. `{"open": false, "text"}` when the session has ended: the page
    says so at once (a form of it would be refused)."""
    deadline = keep_alive(platform.unit_of_work(), counter, clerk, session, clock.now())
    if deadline is None:
        return JSONResponse({"open": False, "text": code_text("session_ended")}, headers=NO_STORE)
    left = max(0, math.ceil((deadline - clock.now()).total_seconds()))
    return JSONResponse(
        {"open": True, "seconds_left": left, "text": idle_text(deadline)}, headers=NO_STORE
    )


@router.post("/counter/end", dependencies=[Depends(check_csrf)])
def end_post(
    clerk: ClerkDep,
    platform: PlatformDep,
    clock: ClockDep,
    session: Annotated[Text, Form(max_length=TEXT_MAX)] = "",
) -> Response:
    end(platform.unit_of_work(), clerk, session or None, EndReason.ENDED_BY_STAFF, clock.now())
    return redirect(f"/counter?ended={EndReason.ENDED_BY_STAFF.value}")
