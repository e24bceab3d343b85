"""The application form's values, the checks of its shape, and each refusal's field.

Only the shape is checked here (something chosen, an ID in the catalog's format); what is
allowed is decided by services/applications.py, whose refusals land next to the field they
are about, in words (web/error_messages.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from mynapoint.domain.errors import MynapointError
from mynapoint.domain.measures import Channel, Counts, EventKind, Measure, MeasureKind
from mynapoint.domain.services import CodeFormat, PaymentService
from mynapoint.services.account_checks import AccountCredentials
from mynapoint.services.codes import CODE_SEPARATOR
from mynapoint.web.error_messages import message_for
from mynapoint.web.i18n import N_, _, current_locale
from mynapoint.web.pages.citizen.card_reader import card_error_message
from mynapoint.web.pages.citizen.forms import FORM, FieldErrors

MEASURE: Final = "measure"
COUNTS: Final = "counts"
PAYMENT_SERVICE_ID: Final = "payment_service_id"
SECURITY_CODE: Final = "security_code"
REPRESENTATIVE_CARD: Final = "representative_card"
REPRESENTATIVE_PIN: Final = "representative_pin"
CONFIRM_ACCOUNT: Final = "confirm_account"
CONFIRM_FINAL: Final = "confirm_final"

COUNTS_LABELS: Final = {
    EventKind.CHARGE: N_("チャージ"),
    EventKind.PURCHASE: N_("お買い物"),
}
CHANNEL_LABELS: Final = {
    Channel.APP: N_("決済サービスのアプリ"),
    Channel.STORE: N_("店頭"),
    Channel.ONLINE: N_("このサイト(ご自身のスマートフォン・パソコン)"),
    Channel.SUPPORT_CORNER: N_("マイナポイント・サポートコーナー"),
}

# Which field a refusal of the application service is about.
_FIELD_OF: Final = {
    "invalid_account_credentials": SECURITY_CODE,
    "account_locked": PAYMENT_SERVICE_ID,
    "account_taken": PAYMENT_SERVICE_ID,
    "invalid_counts": COUNTS,
    "already_applied": MEASURE,
    "not_eligible": MEASURE,
    "waiting_period": MEASURE,
    "application_window_closed": MEASURE,
    "service_not_accepting": MEASURE,
    "budget_frame_reached": MEASURE,
    "representative_required": REPRESENTATIVE_CARD,
}
# Refusals about the representative's card: next to the representative's PIN.
REPRESENTATIVE_CODES: Final = frozenset(
    {
        "unknown_challenge", "challenge_expired", "challenge_used", "invalid_signature",
        "untrusted_certificate", "certificate_revoked", "certificate_expired",
        "certificate_not_yet_valid", "not_legal_representative", "representative_not_allowed",
        "wrong_pin", "card_locked", "invalid_pin", "invalid_card_file", "revocation_list_stale",
    }
)  # fmt: skip


def localized(ja: str, en: str) -> str:
    return en if current_locale() == "en" and en else ja


def code_field(index: int) -> str:
    """The id of the n-th security-code input: security_code, security_code-2, …"""
    return SECURITY_CODE if index == 0 else f"{SECURITY_CODE}-{index + 1}"


@dataclass(frozen=True)
class CodeField:
    """One input of the form for a 決済サービスID or a security code, as the catalog has it."""

    field_id: str
    name: str
    description: str
    example: str
    pattern: str

    @classmethod
    def of(cls, field_id: str, code: CodeFormat) -> CodeField:
        return cls(
            field_id,
            localized(code.name_ja, code.name_en),
            localized(code.description_ja, code.description_en),
            code.example,
            code.pattern,
        )

    def format_error(self) -> str:
        if self.description:
            return _("%(name)sは、%(description)sを入力してください(例: %(example)s)。") % {
                "name": self.name,
                "description": self.description,
                "example": self.example,
            }
        return _("%(name)sの形式が違います(例: %(example)s)。") % {
            "name": self.name,
            "example": self.example,
        }

    def missing_error(self) -> str:
        return _("%(name)sを入力してください。") % {"name": self.name}


def id_field(service: PaymentService) -> CodeField:
    return CodeField.of(PAYMENT_SERVICE_ID, service.payment_service_id)


def code_fields(service: PaymentService) -> list[CodeField]:
    return [CodeField.of(code_field(i), c) for i, c in enumerate(service.security_codes)]


def offers_pick(service: PaymentService) -> bool:
    return service.counts is Counts.PICK


@dataclass(frozen=True)
class Entered:
    """What the person typed or chose; the security codes are never written back into a form
    that failed (they are secrets and must be typed again)."""

    measure: str = ""
    counts: str = ""
    payment_service_id: str = ""
    security_codes: tuple[str, ...] = ()
    representative_card: str = ""

    def measure_value(self) -> Measure | None:
        try:
            return Measure(self.measure)
        except ValueError:
            return None

    def counts_value(self) -> EventKind | None:
        try:
            kind = EventKind(self.counts)
        except ValueError:
            return None
        return kind if kind in COUNTS_LABELS else None

    def credentials(self, service: PaymentService) -> AccountCredentials:
        return AccountCredentials(
            service.code, self.payment_service_id, CODE_SEPARATOR.join(self.security_codes)
        )

    def without_codes(self) -> Entered:
        return Entered(self.measure, self.counts, self.payment_service_id, (), "")


def check_shape(
    entered: Entered,
    service: PaymentService,
    kinds: dict[Measure, MeasureKind],
    refused: dict[Measure, str],
    *,
    representative_required: bool = False,
) -> FieldErrors:
    """Something chosen for each choice and each code typed in the catalog's format.

    `kinds` are the measures open to the person now, `refused` those that are not, with why;
    `representative_required`: the holder applies through the legal representative (R14).
    """
    errors: FieldErrors = {}
    measure = entered.measure_value()
    if measure in refused:
        errors[MEASURE] = refused[measure]
    elif measure is None or measure not in kinds:
        errors[MEASURE] = _("申し込むマイナポイントを選んでください。")
    needs_pick = measure is None or kinds.get(measure) is MeasureKind.SPENDING
    if offers_pick(service) and needs_pick and entered.counts_value() is None:
        errors[COUNTS] = _("ポイントの対象を、チャージかお買い物から選んでください。")
    identifier = id_field(service)
    if not entered.payment_service_id:
        errors[identifier.field_id] = identifier.missing_error()
    elif not service.payment_service_id.matches(entered.payment_service_id):
        errors[identifier.field_id] = identifier.format_error()
    fields = code_fields(service)
    for index, field in enumerate(fields):
        typed = entered.security_codes[index] if index < len(entered.security_codes) else ""
        if not typed:
            errors[field.field_id] = field.missing_error()
        elif not service.security_codes[index].matches(typed):
            errors[field.field_id] = field.format_error()
    if representative_required and not entered.representative_card:
        errors[REPRESENTATIVE_CARD] = _("法定代理人のカードを選んでください。")
    return errors


def refusal_errors(error: MynapointError, service: PaymentService) -> FieldErrors:
    """The sentence of a refusal, keyed by the field it is about."""
    if error.code in REPRESENTATIVE_CODES:
        return {REPRESENTATIVE_PIN: card_error_message(error)}
    if error.code == "invalid_request":
        # A 決済サービスID or security code the service cannot have (services/codes.py).
        fields = error.details.get("fields")
        listed = fields if isinstance(fields, list) else []
        named = [f.get("field") for f in listed if isinstance(f, dict)]
        if SECURITY_CODE in named:
            return {SECURITY_CODE: code_fields(service)[0].format_error()}
        return {PAYMENT_SERVICE_ID: id_field(service).format_error()}
    return {_FIELD_OF.get(error.code, FORM): message_for(error.code, error.details)}
