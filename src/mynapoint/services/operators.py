"""Payment operators (決済事業者): API keys, and the accounts they register for applications.

An API key is `mnp_<key_id>.<secret>`: the key ID finds the stored key, the
secret is checked against its SHA-256. The secret is 256 random bits, so a fast
hash is enough (security codes, being short, use a keyed HMAC whose secret the database
does not hold: services.codes).
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from mynapoint.domain.accounts import NotYourService, PaymentAccount
from mynapoint.domain.auth import InvalidToken, NotAuthenticated
from mynapoint.domain.errors import MynapointError
from mynapoint.domain.ledger import LinkageNotice, OperatorKey
from mynapoint.domain.services import Catalog, PaymentService
from mynapoint.domain.staff import StaffAccount
from mynapoint.services.audit import record
from mynapoint.services.codes import CodeHasher, check_account_input
from mynapoint.services.ports import UnitOfWork

KEY_PREFIX = "mnp_"
KEY_ID_LENGTH = 12  # url-safe characters: 72 random bits, only to find the key
SECRET_BYTES = 32
HOLDER_NAME_MAX = 100
# How long a rotated key keeps working beside its successor (Settings.operator_key_overlap_days).
KEY_ROTATION_OVERLAP = timedelta(days=7)


class UnknownOperator(MynapointError):
    code = "not_found"

    def __init__(self, operator_code: str, known: list[str]) -> None:
        super().__init__(
            f"operator '{operator_code}' is not in the service catalog; "
            f"known operators: {', '.join(known)}",
            operator_code=operator_code,
            known=known,
        )


class AccountNotFound(MynapointError):
    code = "not_found"

    def __init__(self, service_code: str, payment_service_id: str) -> None:
        super().__init__(
            f"no account {payment_service_id} is registered for service '{service_code}'",
            service_code=service_code,
            payment_service_id=payment_service_id,
        )


class InvalidHolderName(MynapointError):
    code = "invalid_request"


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class KeyNotFound(MynapointError):
    """No such key of the reader's operator (another operator's key is not found either)."""

    code = "not_found"

    def __init__(self, key_id: str) -> None:
        super().__init__(f"no API key {key_id} of your operator", key_id=key_id)


class KeyStopped(MynapointError):
    """A revoked key, or one past the end of its overlap, is neither rotated nor revoked."""

    code = "conflict"

    def __init__(self, key_id: str) -> None:
        super().__init__(f"the API key {key_id} has stopped working already", key_id=key_id)


@dataclass(frozen=True)
class IssuedKey:
    key: OperatorKey
    api_key: str  # `mnp_<key_id>.<secret>`: shown once, never stored


def _check_operator(catalog: Catalog, operator_code: str) -> None:
    known = sorted(operator.code for operator in catalog.operators())
    if operator_code not in known:
        raise UnknownOperator(operator_code, known)


def _new_key(operator_code: str, now: datetime) -> IssuedKey:
    key_id = secrets.token_urlsafe(9)  # 9 bytes -> 12 characters
    secret = secrets.token_urlsafe(SECRET_BYTES)
    key = OperatorKey(key_id, operator_code, secret_hash(secret), now)
    return IssuedKey(key, f"{KEY_PREFIX}{key_id}.{secret}")


def issue_operator_key(uow: UnitOfWork, operator_code: str, catalog: Catalog, now: datetime) -> str:
    """A new API key for an operator of the catalog; only its hash is kept, so show it once."""
    _check_operator(catalog, operator_code)
    issued = _new_key(operator_code, now)
    with uow:
        uow.operator_keys.add(issued.key)
        uow.commit()
    return issued.api_key


def is_working(key: OperatorKey, now: datetime) -> bool:
    return key.revoked_at is None or key.revoked_at > now


def _operator_of(me: StaffAccount) -> str:
    if me.operator is None:
        raise KeyNotFound("-")
    return me.operator


def operator_keys_of(uow: UnitOfWork, me: StaffAccount) -> list[OperatorKey]:
    """The keys of the signed-in account's operator (never another's), newest first."""
    operator_code = _operator_of(me)
    with uow:
        return uow.operator_keys.of_operator(operator_code)


def _record_change(
    uow: UnitOfWork, me: StaffAccount, now: datetime, action: str, details: dict[str, str]
) -> None:
    record(
        uow,
        now=now,
        actor=me.name,
        role=me.role.value,
        corner=None,
        action=action,
        details={"operator": _operator_of(me), **details},
    )


def create_operator_key(
    uow: UnitOfWork, me: StaffAccount, catalog: Catalog, now: datetime
) -> IssuedKey:
    """A new key of the account's operator, written in the audit log; show it once."""
    operator_code = _operator_of(me)
    _check_operator(catalog, operator_code)
    issued = _new_key(operator_code, now)
    with uow:
        uow.operator_keys.add(issued.key)
        _record_change(uow, me, now, "operator_key_created", {"key_id": issued.key.key_id})
        uow.commit()
    return issued


def _working_key_of(uow: UnitOfWork, me: StaffAccount, key_id: str, now: datetime) -> OperatorKey:
    key = uow.operator_keys.get(key_id)
    if key is None or key.operator_code != _operator_of(me):
        raise KeyNotFound(key_id)
    if not is_working(key, now):
        raise KeyStopped(key_id)
    return key


def rotate_operator_key(
    uow: UnitOfWork,
    me: StaffAccount,
    key_id: str,
    catalog: Catalog,
    now: datetime,
    overlap: timedelta = KEY_ROTATION_OVERLAP,
) -> IssuedKey:
    """A successor to a working key; the old one keeps working until `now + overlap` (or
    its earlier end), then stops, so that the operator's systems can change over."""
    operator_code = _operator_of(me)
    _check_operator(catalog, operator_code)
    issued = _new_key(operator_code, now)
    with uow:
        old = _working_key_of(uow, me, key_id, now)
        ends = now + overlap
        if old.revoked_at is not None:
            ends = min(ends, old.revoked_at)
        uow.operator_keys.add(issued.key)
        uow.operator_keys.set_revoked_at(old.key_id, ends)
        details = {"key_id": old.key_id, "new_key_id": issued.key.key_id,
                   "old_key_stops_at": ends.isoformat()}  # fmt: skip
        _record_change(uow, me, now, "operator_key_rotated", details)
        uow.commit()
    return issued


def revoke_operator_key(uow: UnitOfWork, me: StaffAccount, key_id: str, now: datetime) -> None:
    """The key stops working now (during an overlap too)."""
    with uow:
        key = _working_key_of(uow, me, key_id, now)
        uow.operator_keys.set_revoked_at(key.key_id, now)
        _record_change(uow, me, now, "operator_key_revoked", {"key_id": key.key_id})
        uow.commit()


def authenticate_operator(uow: UnitOfWork, key: str | None, now: datetime) -> str:
    """The operator code the API key acts for."""
    if not key:
        raise NotAuthenticated(
            "send Authorization: Bearer <operator API key> (issued by `mynapoint operator key`)"
        )
    invalid = InvalidToken("the operator API key is not valid")
    key_id, dot, secret = key.removeprefix(KEY_PREFIX).partition(".")
    if not key.startswith(KEY_PREFIX) or not dot or len(key_id) != KEY_ID_LENGTH or not secret:
        raise invalid
    with uow:
        stored = uow.operator_keys.get(key_id)
    if stored is None:
        # Spend the same hashing and comparison as for a known key.
        hmac.compare_digest(secret_hash(secret), secret_hash(""))
        raise invalid
    matches = hmac.compare_digest(stored.secret_hash, secret_hash(secret))
    if not matches or (stored.revoked_at is not None and stored.revoked_at <= now):
        raise invalid
    return stored.operator_code


def own_service(catalog: Catalog, operator_code: str, service_code: str) -> PaymentService:
    service = catalog.get(service_code)
    if service.operator.code != operator_code:
        raise NotYourService(
            f"service '{service_code}' belongs to operator '{service.operator.code}'; "
            f"this key acts for '{operator_code}' only",
            service_code=service_code,
        )
    return service


def check_holder_name(holder_name: str) -> str:
    name = holder_name.strip()
    if not 1 <= len(name) <= HOLDER_NAME_MAX or not name.isprintable():
        message = (
            f"holder_name must be 1 to {HOLDER_NAME_MAX} printable characters, "
            "e.g. ヤマダ タロウ (family name, a space, given name)"
        )
        raise InvalidHolderName(
            message, fields=[{"field": "holder_name", "message": message, "type": "format"}]
        )
    return name


def register_account(
    uow: UnitOfWork,
    hasher: CodeHasher,
    operator_code: str,
    catalog: Catalog,
    service_code: str,
    payment_service_id: str,
    security_code: str,
    holder_name: str,
    now: datetime,
) -> bool:
    """Register or replace an account the platform accepts at application; True if new.

    A service with several security codes takes them joined with '-' in the catalog's
    order (services.codes.CODE_SEPARATOR). Replacing an account forgets every person's wrong
    codes for it.
    """
    service = own_service(catalog, operator_code, service_code)
    check_account_input(service, payment_service_id, security_code)
    account = PaymentAccount(
        service_code=service_code,
        payment_service_id=payment_service_id,
        operator_code=operator_code,
        holder_name=check_holder_name(holder_name),
        security_code_hash=hasher.hash(security_code),
        registered_at=now,
    )
    with uow:
        created = uow.accounts.save(account, now)
        uow.commit()
    return created


def unlock_account(
    uow: UnitOfWork,
    operator_code: str,
    catalog: Catalog,
    service_code: str,
    payment_service_id: str,
) -> None:
    """Forget every person's wrong security codes for the account, lifting their locks (the
    operator has checked with the holder); a lock also ends by itself."""
    own_service(catalog, operator_code, service_code)
    with uow:
        if uow.accounts.get(service_code, payment_service_id) is None:
            raise AccountNotFound(service_code, payment_service_id)
        uow.accounts.unlock(service_code, payment_service_id)
        uow.commit()


# A registration file: CSV in UTF-8, this header first, then one account a line (the fields
# of PUT /api/v1/operator/services/{code}/accounts/{payment_service_id}).
REGISTRATION_HEADER = ("service_code", "payment_service_id", "security_code", "holder_name")
REGISTRATION_MAX_LINES = 5000


class InvalidRegistrationFile(MynapointError):
    code = "invalid_request"


@dataclass(frozen=True)
class RegistrationLine:
    line: int  # in the file; the header is line 1
    service_code: str
    payment_service_id: str
    outcome: str  # registered | replaced | refused
    code: str | None = None  # the error's code when refused
    message: str | None = None
    field: str | None = None


def register_accounts_file(
    make_uow: Callable[[], UnitOfWork],
    hasher: CodeHasher,
    me: StaffAccount,
    catalog: Catalog,
    lines: Iterable[str],
    now: datetime,
) -> list[RegistrationLine]:
    """Register or replace each line's account (each line on its own, as the API's PUT does)
    for the account's operator; a line refused says why. One audit entry for the file."""
    operator_code = _operator_of(me)
    reader = csv.reader(lines)
    header = next(reader, None)
    if header is None or tuple(cell.strip() for cell in header) != REGISTRATION_HEADER:
        message = f"the first line must be the header {','.join(REGISTRATION_HEADER)}"
        raise InvalidRegistrationFile(message, field="file")
    report: list[RegistrationLine] = []
    for number, row in enumerate(reader, start=2):
        if len(report) >= REGISTRATION_MAX_LINES:
            message = f"a file holds at most {REGISTRATION_MAX_LINES:,} accounts; split it"
            raise InvalidRegistrationFile(message, field="file")
        if not any(cell.strip() for cell in row):
            continue
        report.append(_register_line(make_uow(), hasher, operator_code, catalog, number, row, now))
    uow = make_uow()
    with uow:
        counts = {o: sum(r.outcome == o for r in report) for o in ("registered", "replaced")}
        refused = sum(r.outcome == "refused" for r in report)
        details = {"lines": str(len(report)), "refused": str(refused)}
        _record_change(uow, me, now, "operator_accounts_uploaded",
                    {**details, **{k: str(v) for k, v in counts.items()}})  # fmt: skip
        uow.commit()
    return report


def _register_line(
    uow: UnitOfWork,
    hasher: CodeHasher,
    operator_code: str,
    catalog: Catalog,
    number: int,
    row: list[str],
    now: datetime,
) -> RegistrationLine:
    cells = [cell.strip() for cell in row]
    service_code, payment_service_id = [*cells, "", ""][:2]
    if len(cells) != len(REGISTRATION_HEADER):
        message = f"a line has {len(REGISTRATION_HEADER)} fields: {','.join(REGISTRATION_HEADER)}"
        return RegistrationLine(number, service_code, payment_service_id, "refused",
                                "invalid_request", message, "(line)")  # fmt: skip
    try:
        created = register_account(
            uow, hasher, operator_code, catalog, service_code, payment_service_id,
            cells[2], cells[3], now,
        )  # fmt: skip
    except MynapointError as exc:
        fields = exc.details.get("fields")
        field = exc.details.get("field")
        if isinstance(fields, list) and fields and isinstance(fields[0], dict):
            field = fields[0].get("field")
        named = None if field is None else str(field)
        return RegistrationLine(number, service_code, payment_service_id, "refused",
                                exc.code, str(exc), named)  # fmt: skip
    outcome = "registered" if created else "replaced"
    return RegistrationLine(number, service_code, payment_service_id, outcome)


def account_counts(uow: UnitOfWork, me: StaffAccount) -> dict[str, int]:
    """How many accounts the account's operator registered, per service."""
    operator_code = _operator_of(me)
    with uow:
        return uow.accounts.count_by_service(operator_code)


def notices_of(uow: UnitOfWork, me: StaffAccount) -> list[LinkageNotice]:
    """The stopped linkages the account's operator must act on, the newest first."""
    operator_code = _operator_of(me)
    with uow:
        found = uow.notices.for_operator(operator_code)
    return sorted(found, key=lambda n: (n.created_at, n.notice_id), reverse=True)
