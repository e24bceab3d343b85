"""The counter's form fields: which field a refusal is about, and what a clerk typed.

Every refusal the counter shows lands next to the field it is about (its input marked
aria-invalid, the sentence beside it and in the summary), as on the citizen pages
(web/pages/citizen/forms.py); a refusal of no field is said on top only. A refusal that no
retyping can change (the person may not apply, the card is locked) comes with the offer to
end the session there and then.
"""

from __future__ import annotations

from typing import Final

from mynapoint.domain.errors import MynapointError
from mynapoint.domain.services import Catalog, PaymentService
from mynapoint.web.i18n import _
from mynapoint.web.pages.citizen.application_form import CodeField
from mynapoint.web.pages.citizen.forms import FORM, FieldErrors
from mynapoint.web.pages.staff.labels import error_text
from mynapoint.web.typed_input import JOINED_BY

# The ids (and names) of the counter's inputs.
CARD: Final = "card"
PIN: Final = "pin"
REPRESENTATIVE_PREFIX: Final = "representative_"
MEASURE: Final = "measure"
SERVICE: Final = "service_code"
COUNTS: Final = "counts"
PAYMENT_SERVICE_ID: Final = "payment_service_id"
SECURITY_CODE: Final = "security_code"
CONFIRMED: Final = "confirmed"

PREVIEW_FIELDS: Final = frozenset({MEASURE, SERVICE, COUNTS, PAYMENT_SERVICE_ID, SECURITY_CODE})

# Refusals about the card on the reader: the card itself, or the PIN its holder typed.
CARD_CODES: Final = frozenset(
    {
        "invalid_card_file", "not_found", "untrusted_certificate", "certificate_revoked",
        "certificate_expired", "certificate_not_yet_valid", "certificate_superseded",
        "invalid_signature", "not_legal_representative", "representative_card_required",
    }
)  # fmt: skip
PIN_CODES: Final = frozenset({"invalid_pin", "wrong_pin", "card_locked"})

# Refusals of the application form, by the field they are about.
_FIELD_OF: Final = {
    "invalid_counts": COUNTS,
    "unknown_service": SERVICE,
    "service_not_accepting": SERVICE,
    "channel_not_allowed": SERVICE,
    "not_your_service": SERVICE,
    "invalid_account_credentials": SECURITY_CODE,
    "account_locked": PAYMENT_SERVICE_ID,
    "account_taken": PAYMENT_SERVICE_ID,
    "already_applied": MEASURE,
    "not_eligible": MEASURE,
    "waiting_period": MEASURE,
    "application_window_closed": MEASURE,
    "budget_frame_reached": MEASURE,
}

# What typing again can mend; any other refusal ends what the session can do for this
# citizen now, so the terminal offers to end it.
_MENDED_BY_TYPING: Final = frozenset(
    {
        "invalid_request", "invalid_text", "invalid_counts", "invalid_account_credentials",
        "invalid_pin", "wrong_pin", "invalid_card_file", "not_found", "preview_outdated",
        "representative_card_required",
    }
)  # fmt: skip


def offers_end(error: MynapointError) -> bool:
    return error.code not in _MENDED_BY_TYPING


def card_errors(error: MynapointError, prefix: str = "") -> FieldErrors:
    """A refusal of a card read: next to the card or the PIN (a representative's: `prefix`)."""
    text = error_text(error)
    if error.code in PIN_CODES:
        return {prefix + PIN: text}
    if error.code in CARD_CODES:
        return {prefix + CARD: text}
    return {FORM: text}


def preview_errors(error: MynapointError, catalog: Catalog, service_code: str) -> FieldErrors:
    """A refusal of the application form, next to the field it is about."""
    service = catalog.services.get(service_code)
    field = _named_field(error) or _FIELD_OF.get(error.code, FORM)
    if error.code == "invalid_request" and service is not None:
        if field == PAYMENT_SERVICE_ID:
            return {field: CodeField.of(field, service.payment_service_id).format_error()}
        if field == SECURITY_CODE:
            return {field: security_code_error(service)}
    return {field: error_text(error)}


def security_code_error(service: PaymentService) -> str:
    codes = service.security_codes
    if len(codes) == 1:
        return CodeField.of(SECURITY_CODE, codes[0]).format_error()
    names = _("、").join(CodeField.of(SECURITY_CODE, c).name for c in codes)
    example = JOINED_BY.join(c.example for c in codes)
    return _("%(names)sを「-」でつないで入力してください(例: %(example)s)。") % {
        "names": names,
        "example": example,
    }


def summary_of(errors: FieldErrors) -> str:
    """The sentence on top: the first refusal (the summary lists each field's too)."""
    return next(iter(errors.values()), "")


def _named_field(error: MynapointError) -> str | None:
    """The form field a refusal names in its details (`field`, or the first of `fields`)."""
    named = error.details.get("field")
    listed = error.details.get("fields")
    if named is None and isinstance(listed, list) and listed and isinstance(listed[0], dict):
        named = listed[0].get("field")
    return named if named in PREVIEW_FIELDS else None
