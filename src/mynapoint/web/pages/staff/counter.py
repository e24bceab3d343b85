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

from dataclasses import dataclass
from typing import Annotated, Final

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from mynapoint.domain.assist import (
    AssistedSession,
    CardMismatch,
    EndReason,
    Preview,
    PreviewOutdated,
    SessionEnded,
)
from mynapoint.domain.errors import MynapointError
from mynapoint.domain.measures import Counts, EventKind, Measure
from mynapoint.domain.services import Catalog
from mynapoint.domain.staff import StaffForbidden
from mynapoint.jpki.card import CardFileError, VirtualCard, validate_pin
from mynapoint.services.applications import Applied
from mynapoint.services.assist import (
    AccountForm,
    CardReading,
    Clerk,
    Confirmation,
    Counter,
    check_session,
    citizen_view,
    clerk_of,
    commit,
    corner_services,
    current,
    end,
    open_measures,
    read_card,
    reject_preview,
    services_elsewhere,
    set_up_mykey,
    show_account,
)
from mynapoint.services.staff import SignedInStaff
from mynapoint.web.csrf import check_csrf
from mynapoint.web.dependencies import CatalogDep, ClockDep, PlatformDep
from mynapoint.web.errors import STATUS_BY_CODE
from mynapoint.web.i18n import N_, _
from mynapoint.web.pages.staff.access import (
    SIGN_IN_PATH,
    CounterDep,
    MaybeStaff,
    forbidden,
    gate,
    page,
    redirect,
)
from mynapoint.web.pages.staff.labels import (
    COUNTS_LABELS,
    END_REASON_LABELS,
    channels_text,
    error_text,
    measure_name,
    service_code_name,
    service_name,
)

router = APIRouter(include_in_schema=False)

MAX_CARD_BYTES: Final = 64 * 1024
_TEXT_MAX: Final = 64

NO_COUNTER: Final = N_(
    "窓口の手続きは、サポートコーナーに所属する職員と監督者が行います。"
    "管理者は、記録と職員アカウントの画面をお使いください。"
)
ENDED_NOTICE: Final = N_("前の方の手続きを終了しました({reason})。")
REJECTED_NOTICE: Final = N_(
    "名義がご本人のものでないため、申し込みませんでした。"
    "決済サービスIDを決済サービスのアプリ等でもう一度確認して、入力し直してください。"
)
CONFIRM_MISSING: Final = N_(
    "ご本人(または法定代理人)に名義を確認していただき、確認欄にチェックを入れてください。"
)
CHOOSE_CARD: Final = "choose the card file"
_STALE_CODES: Final = frozenset({SessionEnded.code, CardMismatch.code})


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class Entered:
    """What the staff member typed, shown again after a refusal (never the security code)."""

    measure: str = ""
    service_code: str = ""
    counts: str = ""
    payment_service_id: str = ""
    with_representative: bool = False


def _clerk(request: Request, me: SignedInStaff | None) -> Clerk | Response:
    if (sent := gate(me)) is not None or me is None:
        return sent or redirect(SIGN_IN_PATH)
    try:
        return clerk_of(me)
    except StaffForbidden:
        return forbidden(request, NO_COUNTER)


def _card(upload: UploadFile | None) -> VirtualCard:
    if upload is None or not upload.filename:
        raise CardFileError(CHOOSE_CARD)
    data = upload.file.read(MAX_CARD_BYTES + 1)
    if len(data) > MAX_CARD_BYTES:
        raise CardFileError(f"a card file is at most {MAX_CARD_BYTES} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise CardFileError("a card file is UTF-8 JSON") from None
    return VirtualCard.from_json(text)


def _reading(upload: UploadFile | None, pin: str) -> CardReading:
    card = _card(upload)
    return CardReading(card, validate_pin(pin))


def _status(error: MynapointError) -> int:
    if error.code in _STALE_CODES or isinstance(error, PreviewOutdated):
        return 409
    return STATUS_BY_CODE.get(error.code, 422)


# --- pages -----------------------------------------------------------------------------------


def _start_page(
    request: Request,
    *,
    ended: EndReason | None = None,
    notice: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    if ended is not None:
        notice = _(ENDED_NOTICE).format(reason=_(END_REASON_LABELS[ended]))
    return page(
        request,
        "staff/counter_start.html",
        {"notice": notice, "error": error},
        status_code=status_code,
    )


def _citizen_page(
    request: Request,
    counter: Counter,
    session: AssistedSession,
    *,
    entered: Entered | None = None,
    notice: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    platform = request.app.state.platform
    now = platform.clock.now()
    rules, catalog = counter.desk.rules, counter.desk.catalog
    view = citizen_view(platform.unit_of_work(), counter, session, now)
    measures = [
        Choice(r.measure.value, measure_name(rules, r.measure)) for r in open_measures(rules, now)
    ]
    services = [
        Choice(
            s.code,
            service_name(s) + (_("(チャージかお買い物を選択)") if s.counts is Counts.PICK else ""),
        )
        for s in corner_services(catalog)
    ]
    applications = [
        {
            "measure": measure_name(rules, a.measure),
            "service": service_code_name(catalog, a.service_code),
            "applied_at": a.applied_at,
            "active": a.is_active,
            "representative": a.representative is not None,
        }
        for a in view.applications
    ]
    return page(
        request,
        "staff/counter_citizen.html",
        {
            "session": session,
            "view": view,
            "applications": applications,
            "measures": measures,
            "services": services,
            "counts": [Choice(k.value, _(label)) for k, label in COUNTS_LABELS.items()],
            "elsewhere": [
                Choice(service_name(s), channels_text(s)) for s in services_elsewhere(catalog)
            ],
            "entered": entered or Entered(measure=measures[0].value if len(measures) == 1 else ""),
            "deadline": session.idle_deadline(counter.idle_limit),
            "idle_seconds": int(counter.idle_limit.total_seconds()),
            "notice": notice,
            "error": error,
        },
        status_code=status_code,
    )


def _confirm_page(
    request: Request,
    counter: Counter,
    session: AssistedSession,
    shown: Preview,
    security_code: str,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    rules, catalog = counter.desk.rules, counter.desk.catalog
    return page(
        request,
        "staff/counter_confirm.html",
        {
            "session": session,
            "preview": shown,
            "measure": measure_name(rules, shown.measure),
            "service": service_code_name(catalog, shown.service_code),
            "counts": "" if shown.counts is None else _(COUNTS_LABELS[shown.counts]),
            "security_code": security_code,
            "deadline": session.touched(shown.at).idle_deadline(counter.idle_limit),
            "idle_seconds": int(counter.idle_limit.total_seconds()),
            "error": error,
        },
        status_code=status_code,
    )


def _done_page(request: Request, counter: Counter, applied: Applied) -> HTMLResponse:
    application = applied.application
    rules, catalog = counter.desk.rules, counter.desk.catalog
    return page(
        request,
        "staff/counter_done.html",
        {
            "application_id": application.application_id,
            "measure": measure_name(rules, application.measure),
            "service": service_code_name(catalog, application.service_code),
            "holder_name_masked": applied.holder_name_masked,
            "applied_at": application.applied_at,
            "representative": application.representative is not None,
        },
    )


def _after_refusal(
    request: Request,
    counter: Counter,
    clerk: Clerk,
    error: MynapointError,
    *,
    entered: Entered | None = None,
) -> HTMLResponse:
    """The page a refused step lands on: the session's page if it is still open."""
    platform = request.app.state.platform
    session, _ended = current(platform.unit_of_work(), counter, clerk, platform.clock.now())
    if session is None or error.code in _STALE_CODES:
        return _start_page(request, error=error_text(error), status_code=_status(error))
    return _citizen_page(
        request,
        counter,
        session,
        entered=entered,
        error=error_text(error),
        status_code=_status(error),
    )


# --- routes ----------------------------------------------------------------------------------


@router.get("/counter", response_class=HTMLResponse)
def counter_page(
    request: Request, me: MaybeStaff, platform: PlatformDep, clock: ClockDep, counter: CounterDep
) -> Response:
    clerk = _clerk(request, me)
    if isinstance(clerk, Response):
        return clerk
    session, ended = current(platform.unit_of_work(), counter, clerk, clock.now())
    if session is not None:
        notice = _(REJECTED_NOTICE) if request.query_params.get("rejected") else None
        return _citizen_page(request, counter, session, notice=notice)
    asked = request.query_params.get("ended")
    if ended is None and asked in {reason.value for reason in EndReason}:
        ended = EndReason(str(asked))
    return _start_page(request, ended=ended)


@router.get("/counter/{step:path}")
def counter_step_again(step: str) -> Response:
    """A step's page answered a form: asked for by address (the language switch, a reload),
    it is the counter as it stands now."""
    del step  # whichever step it was
    return redirect("/counter")


@router.post("/counter/card", dependencies=[Depends(check_csrf)])
def card_post(
    request: Request,
    me: MaybeStaff,
    platform: PlatformDep,
    clock: ClockDep,
    counter: CounterDep,
    card: Annotated[UploadFile | None, File()] = None,
    pin: Annotated[str, Form(max_length=_TEXT_MAX)] = "",
) -> Response:
    clerk = _clerk(request, me)
    if isinstance(clerk, Response):
        return clerk
    now = clock.now()
    try:
        reading = _reading(card, pin)
    except MynapointError as exc:
        # Even a card that cannot be read ends the previous citizen's session.
        end(platform.unit_of_work(), clerk, None, EndReason.NEXT_CARD, now)
        return _start_page(request, error=error_text(exc), status_code=422)
    try:
        read_card(platform.unit_of_work(), counter, clerk, reading, now)
    except MynapointError as exc:
        return _start_page(request, error=error_text(exc), status_code=_status(exc))
    return redirect("/counter")


@router.post("/counter/mykey", dependencies=[Depends(check_csrf)])
def mykey_post(
    request: Request,
    me: MaybeStaff,
    platform: PlatformDep,
    clock: ClockDep,
    counter: CounterDep,
    session: Annotated[str, Form(max_length=_TEXT_MAX)] = "",
) -> Response:
    clerk = _clerk(request, me)
    if isinstance(clerk, Response):
        return clerk
    try:
        set_up_mykey(platform.unit_of_work(), counter, clerk, session, clock.now())
    except MynapointError as exc:
        return _after_refusal(request, counter, clerk, exc)
    return redirect("/counter")


@router.post("/counter/preview", dependencies=[Depends(check_csrf)])
def preview_post(
    request: Request,
    me: MaybeStaff,
    platform: PlatformDep,
    clock: ClockDep,
    counter: CounterDep,
    catalog: CatalogDep,
    session: Annotated[str, Form(max_length=_TEXT_MAX)] = "",
    measure: Annotated[str, Form(max_length=_TEXT_MAX)] = "",
    service_code: Annotated[str, Form(max_length=_TEXT_MAX)] = "",
    counts: Annotated[str, Form(max_length=_TEXT_MAX)] = "",
    payment_service_id: Annotated[str, Form(max_length=_TEXT_MAX)] = "",
    security_code: Annotated[str, Form(max_length=_TEXT_MAX)] = "",
    with_representative: Annotated[str, Form(max_length=_TEXT_MAX)] = "",
) -> Response:
    clerk = _clerk(request, me)
    if isinstance(clerk, Response):
        return clerk
    entered = Entered(
        measure, service_code, counts, payment_service_id.strip(), bool(with_representative)
    )
    try:
        form = _account_form(catalog, entered, security_code.strip())
        shown = show_account(platform.unit_of_work(), counter, clerk, session, form, clock.now())
    except MynapointError as exc:
        return _after_refusal(request, counter, clerk, exc, entered=entered)
    open_session, _ended = current(platform.unit_of_work(), counter, clerk, clock.now())
    if open_session is None:
        return _start_page(request, ended=_ended or EndReason.INACTIVITY, status_code=409)
    return _confirm_page(request, counter, open_session, shown, form.security_code)


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
    me: MaybeStaff,
    platform: PlatformDep,
    clock: ClockDep,
    counter: CounterDep,
    session: Annotated[str, Form(max_length=_TEXT_MAX)] = "",
    preview: Annotated[str, Form(max_length=_TEXT_MAX)] = "",
) -> Response:
    clerk = _clerk(request, me)
    if isinstance(clerk, Response):
        return clerk
    try:
        reject_preview(platform.unit_of_work(), counter, clerk, session, preview, clock.now())
    except MynapointError as exc:
        return _after_refusal(request, counter, clerk, exc)
    return redirect("/counter?rejected=1")


@router.post("/counter/apply", dependencies=[Depends(check_csrf)])
def apply_post(
    request: Request,
    me: MaybeStaff,
    platform: PlatformDep,
    clock: ClockDep,
    counter: CounterDep,
    session: Annotated[str, Form(max_length=_TEXT_MAX)] = "",
    preview: Annotated[str, Form(max_length=_TEXT_MAX)] = "",
    security_code: Annotated[str, Form(max_length=_TEXT_MAX)] = "",
    confirmed: Annotated[str, Form(max_length=_TEXT_MAX)] = "",
    card: Annotated[UploadFile | None, File()] = None,
    pin: Annotated[str, Form(max_length=_TEXT_MAX)] = "",
    representative_card: Annotated[UploadFile | None, File()] = None,
    representative_pin: Annotated[str, Form(max_length=_TEXT_MAX)] = "",
) -> Response:
    clerk = _clerk(request, me)
    if isinstance(clerk, Response):
        return clerk
    now = clock.now()
    try:
        # Another card read or the idle limit may have ended the session: then this form is
        # void, and the refused step is recorded.
        open_session = check_session(platform.unit_of_work(), counter, clerk, session, now)
    except SessionEnded as exc:
        return _start_page(request, error=error_text(exc), status_code=409)
    shown = open_session.preview
    if shown is None or shown.preview_id != preview:
        return _citizen_page(
            request,
            counter,
            open_session,
            error=error_text(PreviewOutdated("outdated")),
            status_code=409,
        )

    def again(error: MynapointError) -> HTMLResponse:
        return _confirm_page(
            request, counter, open_session, shown, security_code,
            error=error_text(error), status_code=_status(error),
        )  # fmt: skip

    if not confirmed:
        return _confirm_page(
            request, counter, open_session, shown, security_code,
            error=_(CONFIRM_MISSING), status_code=422,
        )  # fmt: skip
    try:
        holder = _reading(card, pin)
        representative = (
            _reading(representative_card, representative_pin) if shown.with_representative else None
        )
    except MynapointError as exc:
        return again(exc)
    answer = Confirmation(session, preview, security_code, holder, representative)
    try:
        applied = commit(platform.unit_of_work(), counter, clerk, answer, now)
    except MynapointError as exc:
        if exc.code in _STALE_CODES:
            return _start_page(request, error=error_text(exc), status_code=_status(exc))
        still, _ended = current(platform.unit_of_work(), counter, clerk, clock.now())
        if still is None:
            return _start_page(request, error=error_text(exc), status_code=_status(exc))
        return again(exc)
    return _done_page(request, counter, applied)


@router.post("/counter/end", dependencies=[Depends(check_csrf)])
def end_post(
    request: Request,
    me: MaybeStaff,
    platform: PlatformDep,
    clock: ClockDep,
    session: Annotated[str, Form(max_length=_TEXT_MAX)] = "",
) -> Response:
    clerk = _clerk(request, me)
    if isinstance(clerk, Response):
        return clerk
    end(platform.unit_of_work(), clerk, session or None, EndReason.ENDED_BY_STAFF, clock.now())
    return redirect(f"/counter?ended={EndReason.ENDED_BY_STAFF.value}")
