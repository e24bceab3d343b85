"""The program's enumerations, spelled as in the external contract (INTERFACES.md)."""

from __future__ import annotations

from enum import StrEnum


class Measure(StrEnum):
    PHASE1 = "phase1"
    PHASE2_SPENDING = "phase2_spending"
    PHASE2_HEALTH_INSURANCE = "phase2_health_insurance"
    PHASE2_PUBLIC_FUNDS = "phase2_public_funds"


class MeasureKind(StrEnum):
    SPENDING = "spending"  # 25 % of charges or purchases, up to a cap
    FIXED = "fixed"  # a fixed grant for a registration (measures 2 and 3)


class EventKind(StrEnum):
    CHARGE = "charge"
    PURCHASE = "purchase"
    REFUND = "refund"


class Counts(StrEnum):
    CHARGE = "charge"
    PURCHASE = "purchase"
    PICK = "pick"  # the person picks charge or purchase at application; the pick is final


class Category(StrEnum):
    E_MONEY = "e_money"
    QR_CODE = "qr_code"
    PREPAID = "prepaid"
    CREDIT_CARD = "credit_card"
    DEBIT_CARD = "debit_card"


class Channel(StrEnum):
    APP = "app"
    STORE = "store"
    ONLINE = "online"
    SUPPORT_CORNER = "support_corner"


class Rounding(StrEnum):
    CUMULATIVE = "cumulative"  # points so far = floor(rate x eligible total so far), capped
    PER_TRANSACTION = "per_transaction"  # each event's net amount floored on its own, then capped


class IgnoreReason(StrEnum):
    BEFORE_APPLICATION = "before_application"
    BEFORE_PROGRAM_START = "before_program_start"
    AFTER_DEADLINE = "after_deadline"
    NOT_COUNTED_KIND = "not_counted_kind"
    CAP_REACHED = "cap_reached"
    NOT_ELIGIBLE_CARD_DATE = "not_eligible_card_date"
    HOLDER_DECEASED = "holder_deceased"
    SERVICE_CLOSED = "service_closed"
    REFUND_OF_UNCOUNTED = "refund_of_uncounted"
    UNKNOWN_ORIGINAL = "unknown_original"


class ApplicationRefusal(StrEnum):
    """Why an application is refused; each is also the HTTP error code (409 or 403)."""

    ALREADY_APPLIED = "already_applied"
    APPLICATION_WINDOW_CLOSED = "application_window_closed"
    NOT_ELIGIBLE = "not_eligible"
    SERVICE_NOT_ACCEPTING = "service_not_accepting"
    WAITING_PERIOD = "waiting_period"
