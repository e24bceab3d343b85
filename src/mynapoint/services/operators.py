"""Payment operators (決済事業者): API keys, and the accounts they register for applications.

An API key is `mnp_<key_id>.<secret>`: the key ID finds the stored key, the
secret is checked against its SHA-256. The secret is 256 random bits, so a fast
hash is enough (security codes, being short, use a keyed HMAC whose secret the database
does not hold: services.codes).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from mynapoint.domain.accounts import NotYourService, PaymentAccount
from mynapoint.domain.auth import InvalidToken, NotAuthenticated
from mynapoint.domain.errors import MynapointError
from mynapoint.domain.ledger import OperatorKey
from mynapoint.domain.services import Catalog, PaymentService
from mynapoint.services.codes import CodeHasher, check_account_input
from mynapoint.services.ports import UnitOfWork

KEY_PREFIX = "mnp_"
KEY_ID_LENGTH = 12  # url-safe characters: 72 random bits, only to find the key
SECRET_BYTES = 32
HOLDER_NAME_MAX = 100


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


def issue_operator_key(uow: UnitOfWork, operator_code: str, catalog: Catalog, now: datetime) -> str:
    """A new API key for an operator of the catalog; only its hash is kept, so show it once."""
    known = sorted(operator.code for operator in catalog.operators())
    if operator_code not in known:
        raise UnknownOperator(operator_code, known)
    key_id = secrets.token_urlsafe(9)  # 9 bytes -> 12 characters
    secret = secrets.token_urlsafe(SECRET_BYTES)
    with uow:
        uow.operator_keys.add(OperatorKey(key_id, operator_code, secret_hash(secret), now))
        uow.commit()
    return f"{KEY_PREFIX}{key_id}.{secret}"


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
