"""What the counter terminal shows: the start, the citizen, the confirmation, the result."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Final

from fastapi import Depends, Request, UploadFile
from fastapi.responses import HTMLResponse

from mynapoint.domain.assist import (
    AssistedSession,
    CardMismatch,
    EndReason,
    Preview,
    PreviewOutdated,
    SessionEnded,
)
from mynapoint.domain.errors import MynapointError
from mynapoint.domain.measures import Counts
from mynapoint.domain.staff import StaffForbidden
from mynapoint.jpki.card import CardFileError, VirtualCard, validate_pin
from mynapoint.services.applications import Applied
from mynapoint.services.assist import (
    CardReading,
    citizen_view,
    corner_services,
    open_measures,
    services_elsewhere,
)
from mynapoint.services.counter_sessions import (
    Clerk,
    Counter,
    clerk_of,
    current,
)
from mynapoint.web.errors import STATUS_BY_CODE, SendInstead
from mynapoint.web.i18n import N_, _, clock_time
from mynapoint.web.pages.citizen.forms import FORM, FieldErrors
from mynapoint.web.pages.staff.access import (
    Staff,
    forbidden,
    page,
)
from mynapoint.web.pages.staff.counter_fields import (
    CONFIRMED,
    card_errors,
    offers_end,
    summary_of,
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
from mynapoint.web.typed_input import typed_digits

MAX_CARD_BYTES: Final = 64 * 1024
TEXT_MAX: Final = 64

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
IDLE_TEXT: Final = N_("%(time)s まで操作がないと、この手続きは自動的に終了します。")
# The page warns this long before the idle end (a quarter of a short limit).
WARN_SECONDS: Final = 30
CHOOSE_CARD: Final = "choose the card file"
STALE_CODES: Final = frozenset({SessionEnded.code, CardMismatch.code})


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


def clerk_at(request: Request, me: Staff) -> Clerk:
    """The signed-in staff member as a clerk of their corner's counter, or SendInstead to
    the sign-in or a forbidden page."""
    try:
        return clerk_of(me)
    except StaffForbidden:
        raise SendInstead(forbidden(request, NO_COUNTER)) from None


ClerkDep = Annotated[Clerk, Depends(clerk_at)]


def card_of(upload: UploadFile | None) -> VirtualCard:
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


def reading_of(upload: UploadFile | None, pin: str) -> CardReading:
    card = card_of(upload)
    return CardReading(card, validate_pin(typed_digits(pin)))


def idle_text(deadline: datetime) -> str:
    return _(IDLE_TEXT) % {"time": clock_time(deadline)}


def idle_bar(
    counter: Counter, session: AssistedSession, deadline: datetime, now: datetime
) -> dict[str, Any]:
    """What the page's idle watch (static/staff-counter.js) needs: the session, the seconds
    left by the platform clock, when to warn, and the sentence."""
    limit = int(counter.idle_limit.total_seconds())
    return {
        "session_id": session.session_id,
        "seconds_left": max(0, math.ceil((deadline - now).total_seconds())),
        "warn_seconds": min(WARN_SECONDS, limit // 4),
        "text": idle_text(deadline),
    }


def status_of(error: MynapointError) -> int:
    if error.code in STALE_CODES or isinstance(error, PreviewOutdated):
        return 409
    return STATUS_BY_CODE.get(error.code, 422)


# --- pages -----------------------------------------------------------------------------------


def start_page(
    request: Request,
    *,
    ended: EndReason | None = None,
    notice: str | None = None,
    error: str | None = None,
    errors: FieldErrors | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The start; `errors` are a card read's refusals by field (`error` alone: of no field)."""
    if ended is not None:
        notice = _(ENDED_NOTICE).format(reason=_(END_REASON_LABELS[ended]))
    errors = errors or ({FORM: error} if error else {})
    return page(
        request,
        "staff/counter_start.html",
        {"notice": notice, "error": summary_of(errors), "errors": errors},
        status_code=status_code,
    )


def citizen_page(
    request: Request,
    counter: Counter,
    session: AssistedSession,
    *,
    entered: Entered | None = None,
    notice: str | None = None,
    error: str | None = None,
    errors: FieldErrors | None = None,
    offer_end: bool = False,
    status_code: int = 200,
) -> HTMLResponse:
    """The citizen's session; a refusal's `errors` by field, `offer_end` to end it now."""
    platform = request.app.state.platform
    errors = errors or ({FORM: error} if error else {})
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
            "idle": idle_bar(counter, session, session.idle_deadline(counter.idle_limit), now),
            "notice": notice,
            "error": summary_of(errors),
            "errors": errors,
            "offer_end": offer_end,
        },
        status_code=status_code,
    )


def confirm_page(
    request: Request,
    counter: Counter,
    session: AssistedSession,
    shown: Preview,
    *,
    errors: FieldErrors | None = None,
    offer_end: bool = False,
    status_code: int = 200,
) -> HTMLResponse:
    rules, catalog = counter.desk.rules, counter.desk.catalog
    errors = errors or {}
    return page(
        request,
        "staff/counter_confirm.html",
        {
            "session": session,
            "preview": shown,
            "measure": measure_name(rules, shown.measure),
            "service": service_code_name(catalog, shown.service_code),
            "counts": "" if shown.counts is None else _(COUNTS_LABELS[shown.counts]),
            "idle": idle_bar(
                counter,
                session,
                session.touched(shown.at).idle_deadline(counter.idle_limit),
                request.app.state.platform.clock.now(),
            ),
            "error": summary_of(errors),
            "errors": errors,
            "offer_end": offer_end,
        },
        status_code=status_code,
    )


def done_page(request: Request, counter: Counter, applied: Applied) -> HTMLResponse:
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


def after_refusal(
    request: Request,
    counter: Counter,
    clerk: Clerk,
    error: MynapointError,
    *,
    entered: Entered | None = None,
    errors: FieldErrors | None = None,
) -> HTMLResponse:
    """The page a refused step lands on: the session's page if it is still open, with the
    refusal next to its field (`errors`; else on top) and, if typing cannot mend it, the
    offer to end the session."""
    platform = request.app.state.platform
    session, _ended = current(platform.unit_of_work(), counter, clerk, platform.clock.now())
    if session is None or error.code in STALE_CODES:
        return start_page(request, error=error_text(error), status_code=status_of(error))
    return citizen_page(
        request,
        counter,
        session,
        entered=entered,
        errors=errors or {FORM: error_text(error)},
        offer_end=offers_end(error),
        status_code=status_of(error),
    )


def confirm_refusal(
    request: Request,
    counter: Counter,
    session: AssistedSession,
    shown: Preview,
    error: MynapointError,
) -> HTMLResponse:
    """The confirmation again, the refusal next to the card or PIN it is about."""
    whose = error.details.get("card") or error.details.get("field")
    prefix = "representative_" if whose == "representative" else ""
    return confirm_page(
        request, counter, session, shown,
        errors=card_errors(error, prefix), offer_end=offers_end(error),
        status_code=status_of(error),
    )  # fmt: skip


def confirm_missing(
    request: Request, counter: Counter, session: AssistedSession, shown: Preview
) -> HTMLResponse:
    return confirm_page(
        request, counter, session, shown, errors={CONFIRMED: _(CONFIRM_MISSING)}, status_code=422
    )
