"""/apply/{service_code}: choose the measure and what counts, type the account, see whose it
is, confirm, commit (services/applications.py `preview` and `apply`, as the API calls them).

GET shows the form; POST …/confirm checks the security code (once) and keeps the account with
the sign-in session server-side (services/account_previews.py), then shows the masked holder
name for the person to confirm the account is their own; POST commits that preview, named by
its id: the confirmation page carries no security code. A legal representative
(RULES.md R14) applying for a minor or a ward signs the commit with their own card, as the
API's `representative` does; the account is then the representative's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mynapoint.bootstrap import Platform
from mynapoint.domain.account_previews import AccountPreview
from mynapoint.domain.assist import PreviewOutdated
from mynapoint.domain.auth import Session
from mynapoint.domain.calendar import jst_date
from mynapoint.domain.cards import CardFacts
from mynapoint.domain.errors import MynapointError, UnknownService
from mynapoint.domain.measures import Channel, EventKind, MeasureKind
from mynapoint.domain.representatives import Representation, represented_because
from mynapoint.domain.services import PaymentService
from mynapoint.jpki.card import InvalidPin, VirtualCard, validate_pin
from mynapoint.services.account_previews import (
    AccountChoice,
    apply_previewed,
    latest_preview,
    preview_account,
    shown_preview,
)
from mynapoint.services.applications import (
    ApplicationDesk,
    RepresentativeProof,
    applications_of,
)
from mynapoint.web.csrf import check_csrf
from mynapoint.web.dependencies import ApplicationDeskDep, PlatformDep
from mynapoint.web.error_messages import message_for
from mynapoint.web.errors import STATUS_BY_CODE, SendInstead, retry_after
from mynapoint.web.i18n import _
from mynapoint.web.inputs import Text
from mynapoint.web.pages.citizen.application_form import (
    CHANNEL_LABELS,
    CONFIRM_ACCOUNT,
    CONFIRM_FINAL,
    COUNTS_LABELS,
    MEASURE,
    REPRESENTATIVE_PIN,
    Entered,
    check_shape,
    code_fields,
    id_field,
    localized,
    offers_pick,
    refusal_errors,
)
from mynapoint.web.pages.citizen.card_reader import (
    DemoCardFile,
    card_error_message,
    demo_card_files,
    read_demo_card,
    sign_with_demo_card,
)
from mynapoint.web.pages.citizen.forms import FORM, FieldErrors
from mynapoint.web.pages.citizen.session import NO_STORE, MaybeCitizen, to_login
from mynapoint.web.pages.citizen.standing import (
    Standing,
    may_have_representative,
    measure_name,
    representation,
    standing,
)
from mynapoint.web.templating import templates
from mynapoint.web.typed_input import TypedDigits, typed_code

router = APIRouter(include_in_schema=False)

ServiceCode = Annotated[str, Path(max_length=40)]
ChoiceForm = Annotated[Text, Form(max_length=40)]
CodeForm = Annotated[Text, Form(max_length=64)]
# One `security_code` input per code the service has (services/codes.py joins them).
CodesForm = Annotated[list[Text] | None, Form(max_length=64)]
BoxForm = Annotated[Text, Form(max_length=10)]


@dataclass(frozen=True)
class Case:
    """One request's person, card and service."""

    platform: Platform
    desk: ApplicationDesk
    me: Session
    card: CardFacts
    service: PaymentService

    def standing(self) -> Standing:
        applications = applications_of(self.platform.unit_of_work(), self.me.person)
        active = {a.measure for a in applications if a.is_active}
        return standing(
            self.platform.rules, self.service, self.card, active, self.platform.clock.now()
        )

    def needs_representative(self) -> bool:
        """A holder under 15 or an adult ward: the legal representative applies (R14)."""
        return representation(self.card, self.platform.clock.now()) is Representation.REQUIRED

    def represented_because(self) -> dict[str, str]:
        """Why the representative applies, as the API's error details say it."""
        today = jst_date(self.platform.clock.now())
        because = represented_because(
            self.card.birth_date, adult_ward=self.card.adult_ward, on=today
        )
        return {"reason": because.value}

    def has_mykey(self) -> bool:
        uow = self.platform.unit_of_work()
        with uow:
            return uow.mykeys.for_person(self.me.person) is not None

    def representative_cards(self) -> list[DemoCardFile]:
        """In demo mode, for a minor or a ward: the other demo cards, one of which may be
        the legal representative's (the card authority decides at the commit)."""
        settings = self.platform.settings
        if not settings.demo or not may_have_representative(self.card, self.platform.clock.now()):
            return []
        found = []
        for choice in demo_card_files(settings):
            try:
                serial = VirtualCard.read(choice.path).serial
            except MynapointError:
                continue
            if serial != self.card.serial:
                found.append(choice)
        return found


def _case(
    request: Request,
    service_code: ServiceCode,
    platform: PlatformDep,
    desk: ApplicationDeskDep,
    me: MaybeCitizen,
) -> Case:
    """The signed-in person, their card and the service of the address; SendInstead to the
    login when nobody (or a card no longer theirs) is signed in."""
    if me is None:
        raise SendInstead(to_login(request))
    try:
        service = platform.catalog.get(service_code)
    except UnknownService:
        raise HTTPException(status_code=404) from None
    card = platform.authority.facts(me.serial)
    if card is None or card.person != me.person:
        raise SendInstead(to_login(request))
    return Case(platform, desk, me, card, service)


CaseDep = Annotated[Case, Depends(_case)]


def _counts(case: Case, entered: Entered) -> EventKind | None:
    """The pick of a service where the person picks, for a spending measure; else none."""
    measure = entered.measure_value()
    if measure is None or not offers_pick(case.service):
        return None
    if case.platform.rules.rule(measure).kind is not MeasureKind.SPENDING:
        return None
    return entered.counts_value()


def _form_page(
    request: Request,
    case: Case,
    entered: Entered,
    errors: FieldErrors | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    service = case.service
    now_standing = case.standing()
    errors = dict(errors or {})
    if not now_standing.open and MEASURE in errors:
        # No form to stand next to (nothing is open to this person any more): say it on top.
        errors[FORM] = errors.pop(MEASURE)
    chosen = entered.measure or (
        now_standing.open[0].measure.value if len(now_standing.open) == 1 else ""
    )
    context: dict[str, Any] = {
        "service": service,
        "service_name": localized(service.name, service.name_en),
        "online": Channel.ONLINE in service.channels,
        "channels": [_(CHANNEL_LABELS[c]) for c in Channel if c in service.channels],
        "channel_message": message_for("channel_not_allowed"),
        "has_mykey": case.has_mykey(),
        "mykey_message": message_for("mykey_required"),
        "standing": now_standing,
        "pick": offers_pick(service),
        "counts_choices": [(kind.value, _(label)) for kind, label in COUNTS_LABELS.items()],
        "id_field": id_field(service),
        "code_fields": code_fields(service),
        "representative_cards": case.representative_cards(),
        "needs_representative": case.needs_representative(),
        "representative_message": message_for(
            "representative_required", case.represented_because()
        ),
        "entered": entered,
        "chosen_measure": chosen,
        "errors": errors,
    }
    return templates.TemplateResponse(
        request, "citizen/apply.html", context, status_code=status_code, headers=NO_STORE
    )


def _confirm_page(
    request: Request,
    case: Case,
    shown: AccountPreview,
    errors: FieldErrors | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The previewed account, from the session's server-side record: no security code on it."""
    service = case.service
    representative = next(
        (c for c in case.representative_cards() if c.name == shown.representative_card), None
    )
    context: dict[str, Any] = {
        "service": service,
        "service_name": localized(service.name, service.name_en),
        "measure_name": measure_name(case.platform.rules, shown.measure),
        "counts_label": _(COUNTS_LABELS[shown.counts]) if shown.counts else "",
        "id_field": id_field(service),
        "masked_name": shown.holder_name_masked,
        "representative": representative,
        "preview": shown,
        "errors": errors or {},
    }
    return templates.TemplateResponse(
        request, "citizen/confirm.html", context, status_code=status_code, headers=NO_STORE
    )


def _status(error: MynapointError) -> int:
    return STATUS_BY_CODE.get(error.code, 409)


def _refused(error: MynapointError, page: HTMLResponse) -> HTMLResponse:
    """A refusal's page, with Retry-After when it says when to try again (a lock, a limit)."""
    page.headers.update(retry_after(error) or {})
    return page


def _entered(
    case: CaseDep,
    measure: ChoiceForm = "",
    counts: ChoiceForm = "",
    payment_service_id: CodeForm = "",
    security_code: CodesForm = None,
    representative_card: ChoiceForm = "",
) -> Entered:
    """What the application form sends, on the confirmation and on the commit alike: the ID
    and codes read as the person meant them (web/typed_input.py)."""
    service = case.service
    codes = security_code or []
    return Entered(
        measure=measure,
        counts=counts,
        payment_service_id=typed_code(payment_service_id, [service.payment_service_id]),
        security_codes=tuple(
            typed_code(code, service.security_codes[index : index + 1])
            for index, code in enumerate(codes)
        ),
        representative_card=representative_card,
    )


EnteredForm = Annotated[Entered, Depends(_entered)]


def _checked(case: Case, entered: Entered) -> FieldErrors:
    now_standing = case.standing()
    return check_shape(
        entered,
        case.service,
        {c.measure: c.kind for c in now_standing.open},
        {r.choice.measure: r.why for r in now_standing.refused},
        representative_required=case.needs_representative(),
    )


@router.get("/apply/{service_code}", response_class=HTMLResponse)  # noqa: FAST003 - read by the CaseDep dependency
def application_form(request: Request, case: CaseDep) -> Response:
    return _form_page(request, case, Entered())


@router.get("/apply/{service_code}/confirm", response_class=HTMLResponse)  # noqa: FAST003 - read by the CaseDep dependency
def confirmation_page(request: Request, case: CaseDep) -> Response:
    """The confirmation of the session's latest preview of this service: where the checked
    account's POST redirects (post/redirect/get), so Back and reload never send a form again.

    Without one (used by the application, replaced, or never made: a bookmark, Back after
    applying) the form is shown instead, which says what is left to apply for.
    """
    kept = latest_preview(case.platform.unit_of_work(), case.me, case.service.code)
    if kept is None:
        query = f"?{request.url.query}" if request.url.query else ""
        return RedirectResponse(f"/apply/{quote(case.service.code)}{query}", status_code=303)
    return _confirm_page(request, case, kept)


@router.post(
    "/apply/{service_code}/confirm",  # noqa: FAST003 - read by the CaseDep dependency
    response_class=HTMLResponse,
    dependencies=[Depends(check_csrf)],
)
def confirm_application(request: Request, case: CaseDep, entered: EnteredForm) -> Response:
    errors = _checked(case, entered)
    if errors:
        return _form_page(request, case, entered.without_codes(), errors, 422)
    return _confirmation(request, case, entered)


def _representative_proof(
    platform: Platform, representative_card: str, pin: str
) -> tuple[RepresentativeProof | None, FieldErrors]:
    if not representative_card:
        return None, {}
    if not platform.settings.demo:
        return None, {
            REPRESENTATIVE_PIN: _("この環境では、カード読み取りのシミュレーションは使えません。")
        }
    try:
        validate_pin(pin)
    except InvalidPin:
        return None, {REPRESENTATIVE_PIN: message_for("invalid_pin")}
    try:
        card = read_demo_card(platform.settings, representative_card)
        signed = sign_with_demo_card(platform, card, pin)
    except MynapointError as exc:
        return None, {REPRESENTATIVE_PIN: card_error_message(exc)}
    return signed, {}


def _confirmation(request: Request, case: Case, entered: Entered) -> Response:
    """The security code checked (once) and the account kept with the session, then a redirect
    to the confirmation with the holder's masked name; the form again if the check refuses."""
    measure = entered.measure_value()
    if measure is None:  # check_shape said so already; this tells the type checker
        return _form_page(request, case, entered.without_codes(), status_code=422)
    choice = AccountChoice(
        measure,
        entered.credentials(case.service),
        _counts(case, entered),
        entered.representative_card,
    )
    try:
        preview_account(
            case.platform.unit_of_work(), case.desk, case.me, choice, case.platform.clock.now()
        )
    except MynapointError as exc:
        return _refused(
            exc,
            _form_page(
                request,
                case,
                entered.without_codes(),
                refusal_errors(exc, case.service),
                _status(exc),
            ),
        )
    return RedirectResponse(f"/apply/{quote(case.service.code)}/confirm", status_code=303)


def _unconfirmed(*, confirm_account: str, confirm_final: str) -> FieldErrors:
    """Both boxes of the confirmation must be ticked: whose account it is, and that it is final."""
    errors: FieldErrors = {}
    if not confirm_account:
        errors[CONFIRM_ACCOUNT] = _(
            "表示された名義がご自身の口座であることを確認して、チェックを入れてください。"
        )
    if not confirm_final:
        errors[CONFIRM_FINAL] = _(
            "申込み後は決済サービスを変更できないことを確認して、チェックを入れてください。"
        )
    return errors


def _entered_from(shown: AccountPreview) -> Entered:
    """The form filled in again from a preview, for a refusal shown on it (codes typed anew)."""
    return Entered(
        measure=shown.measure.value,
        counts="" if shown.counts is None else shown.counts.value,
        payment_service_id=shown.payment_service_id,
    )


@router.post(
    "/apply/{service_code}",  # noqa: FAST003 - read by the CaseDep dependency
    response_class=HTMLResponse,
    dependencies=[Depends(check_csrf)],
)
def commit_application(
    request: Request,
    case: CaseDep,
    preview: Annotated[Text, Form(max_length=64)] = "",
    representative_pin: Annotated[TypedDigits, Form(max_length=20)] = "",
    confirm_account: BoxForm = "",
    confirm_final: BoxForm = "",
) -> Response:
    """Apply for the account the session's preview checked; the form carries only which
    preview it confirms, never the account's security code."""
    try:
        shown = shown_preview(case.platform.unit_of_work(), case.me, preview, case.service.code)
    except PreviewOutdated:
        return _form_page(request, case, Entered(), {FORM: _outdated()}, 409)
    errors = _unconfirmed(confirm_account=confirm_account, confirm_final=confirm_final)
    if errors:
        return _confirm_page(request, case, shown, errors, 422)
    proof, errors = _representative_proof(
        case.platform, shown.representative_card, representative_pin
    )
    if errors:
        return _confirm_page(request, case, shown, errors, 401)
    try:
        applied = apply_previewed(
            case.platform.unit_of_work(),
            case.desk,
            case.me,
            shown,
            proof,
            case.platform.clock.now(),
        )
    except PreviewOutdated:
        return _form_page(request, case, Entered(), {FORM: _outdated()}, 409)
    except MynapointError as exc:
        errors = refusal_errors(exc, case.service)
        if REPRESENTATIVE_PIN in errors:
            return _refused(exc, _confirm_page(request, case, shown, errors, _status(exc)))
        return _refused(exc, _form_page(request, case, _entered_from(shown), errors, _status(exc)))
    return RedirectResponse(
        f"/me/applications/{applied.application.application_id}", status_code=303
    )


def _outdated() -> str:
    return _(
        "この確認画面は最新ではないか、すでに使われています。何も申し込まれていません。"
        "もう一度入力してください。"
    )
