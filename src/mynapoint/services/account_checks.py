"""A payment account as the person names it: its service, its ID and its security code,
checked against the operator's registration (hashed code, 5 wrong codes in a row lock it)."""

from __future__ import annotations

from dataclasses import dataclass, field

from mynapoint.domain.accounts import AccountLocked, InvalidAccountCredentials, PaymentAccount
from mynapoint.domain.services import PaymentService
from mynapoint.services.audit import BeforeCommit
from mynapoint.services.codes import CodeHasher
from mynapoint.services.ports import UnitOfWork


@dataclass(frozen=True)
class AccountCredentials:
    service_code: str
    payment_service_id: str
    # Several codes are joined with '-' (services.codes.CODE_SEPARATOR).
    security_code: str = field(repr=False)


def account_refusals(
    service: PaymentService, payment_service_id: str
) -> tuple[InvalidAccountCredentials, AccountLocked]:
    refused = InvalidAccountCredentials(
        f"the payment service ID and security code do not match an account of "
        f"{service.name_en}; check both in the service's app or page (5 wrong codes in a row "
        "lock the account)",
        service_code=service.code,
    )
    locked = AccountLocked(
        f"account {payment_service_id} of {service.name_en} is locked after 5 wrong "
        "security codes in a row; ask the payment service to unlock it",
        service_code=service.code,
    )
    return refused, locked


def previewed_account(
    uow: UnitOfWork, service: PaymentService, credentials: AccountCredentials
) -> PaymentAccount:
    """The account whose code was checked at the preview: still registered, not locked since."""
    refused, locked = account_refusals(service, credentials.payment_service_id)
    account = uow.accounts.get(service.code, credentials.payment_service_id)
    if account is None:
        raise refused
    if account.is_locked:
        raise locked
    return account


def checked_account(
    uow: UnitOfWork,
    hasher: CodeHasher,
    service: PaymentService,
    credentials: AccountCredentials,
    before_commit: BeforeCommit | None = None,
) -> PaymentAccount:
    """The registered account, if the security code is right; a wrong one is counted (and kept
    even though the request fails), and the 5th in a row locks the account.

    An unknown ID is refused exactly like a wrong code, after as long a check, so a guesser
    learns nothing about which IDs exist.
    """
    key = (service.code, credentials.payment_service_id)
    refused, locked = account_refusals(service, credentials.payment_service_id)
    account = uow.accounts.get(*key)
    if account is None:
        hasher.verify_decoy(credentials.security_code)
        raise refused
    if account.is_locked:
        raise locked
    correct = hasher.verify(account.security_code_hash, credentials.security_code)
    counted = uow.accounts.record_code_attempt(*key, correct=correct)
    if not correct:
        if before_commit is not None:
            code = locked.code if counted.is_locked else refused.code
            before_commit(uow, code, {"service_code": service.code})
        uow.commit()
        raise locked if counted.is_locked else refused
    if counted.is_locked:
        raise locked  # wrong codes raced this right one and locked the account first
    return counted
