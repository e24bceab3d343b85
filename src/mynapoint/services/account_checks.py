"""A payment account as the person names it: its service, its ID and its security code,
checked against the operator's registration (the code is kept as a keyed HMAC, services/codes.py).

Wrong codes are counted for the person trying together with the account ID: the 5th in a row
locks that person out of that ID for a while (MYNAPOINT_ACCOUNT_LOCK_SECONDS), and nobody
else. An ID the operator never registered is counted and locked exactly like a registered one,
so the answers never tell which IDs exist. On top of that, one person may check only so many
accounts an hour (services/throttling.py ACCOUNT_CHECKS).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from mynapoint.domain.accounts import (
    ACCOUNT_CODE_TRIES,
    AccountLocked,
    CodeTries,
    InvalidAccountCredentials,
    PaymentAccount,
)
from mynapoint.domain.calendar import to_jst
from mynapoint.domain.services import PaymentService
from mynapoint.services.audit import BeforeCommit
from mynapoint.services.codes import CodeHasher
from mynapoint.services.ports import UnitOfWork
from mynapoint.services.throttling import ACCOUNT_CHECKS, NullThrottle, Throttle

DEFAULT_ACCOUNT_LOCK = timedelta(minutes=15)


@dataclass(frozen=True)
class AccountCredentials:
    service_code: str
    payment_service_id: str
    # Several codes are joined with '-' (services.codes.CODE_SEPARATOR).
    security_code: str = field(repr=False)


@dataclass(frozen=True)
class CodeRules:
    """How security codes are checked: the hash, how often a person may check, how long the
    5th wrong code in a row keeps the person from the account."""

    hasher: CodeHasher
    throttle: Throttle = field(default_factory=NullThrottle)
    lock: timedelta = DEFAULT_ACCOUNT_LOCK


def refused(service: PaymentService) -> InvalidAccountCredentials:
    return InvalidAccountCredentials(
        f"the payment service ID and security code do not match an account of "
        f"{service.name_en}; check both in the service's app or page (after "
        f"{ACCOUNT_CODE_TRIES} wrong codes in a row you must wait before trying again)",
        service_code=service.code,
    )


def locked(
    service: PaymentService, payment_service_id: str, tries: CodeTries, now: datetime
) -> AccountLocked:
    """The same answer whether the ID is registered or not: it speaks of the person's tries."""
    wait = tries.seconds_locked(now)
    until = to_jst(tries.locked_until or now).isoformat(timespec="seconds")
    return AccountLocked(
        f"{ACCOUNT_CODE_TRIES} wrong security codes in a row for account {payment_service_id} "
        f"of {service.name_en}: you may try it again in {math.ceil(wait / 60)} min, from {until}",
        service_code=service.code,
        retry_after_seconds=wait,
        locked_until=until,
    )


def previewed_account(
    uow: UnitOfWork,
    service: PaymentService,
    person: str,
    credentials: AccountCredentials,
    now: datetime,
) -> PaymentAccount:
    """The account whose code this person had checked at the preview: still registered, and the
    person not locked out of it since (by wrong codes of their own, in another tab)."""
    payment_service_id = credentials.payment_service_id
    tries = uow.accounts.code_tries(person, service.code, payment_service_id)
    if tries is not None and tries.is_locked_at(now):
        raise locked(service, payment_service_id, tries, now)
    account = uow.accounts.get(service.code, payment_service_id)
    if account is None:
        raise refused(service)
    return account


def checked_account(
    uow: UnitOfWork,
    rules: CodeRules,
    service: PaymentService,
    person: str,
    credentials: AccountCredentials,
    now: datetime,
    before_commit: BeforeCommit | None = None,
) -> PaymentAccount:
    """The registered account, if the security code is right. A wrong one is counted for this
    person (and kept even though the request fails); the 5th in a row locks this person out of
    the ID for `rules.lock`.

    An unknown ID is refused, counted and locked exactly like a wrong code, after as long a
    check, so a guesser learns nothing about which IDs exist.
    """
    rules.throttle.hit(ACCOUNT_CHECKS, person)
    key = (person, service.code, credentials.payment_service_id)
    tries = uow.accounts.code_tries(*key)
    if tries is not None and tries.is_locked_at(now):
        raise locked(service, credentials.payment_service_id, tries, now)
    account = uow.accounts.get(service.code, credentials.payment_service_id)
    if account is None:
        rules.hasher.verify_decoy(credentials.security_code)
        correct = False
    else:
        correct = rules.hasher.verify(account.security_code_hash, credentials.security_code)
    if account is None or not correct:
        counted = uow.accounts.record_wrong_code(*key, at=now, lock_until=now + rules.lock)
        refusal = (
            locked(service, credentials.payment_service_id, counted, now)
            if counted.is_locked_at(now)
            else refused(service)
        )
        if before_commit is not None:
            before_commit(uow, refusal.code, {"service_code": service.code})
        uow.commit()
        raise refusal
    if rules.hasher.needs_rehash(account.security_code_hash):
        # A hash of before the keyed HMAC (argon2id): kept in the HMAC form from now on.
        uow.accounts.replace_code_hash(
            service.code,
            credentials.payment_service_id,
            account.security_code_hash,
            rules.hasher.hash(credentials.security_code),
        )
    if tries is not None:
        # Nothing to forget otherwise (a statement saved on the usual path): wrong codes that
        # come in at this very moment are ordered after this right one and still count.
        uow.accounts.forget_code_tries(*key, now)
    raced = uow.accounts.code_tries(*key)
    if raced is not None and raced.is_locked_at(now):
        # The person's own wrong codes, sent at the same moment, locked the ID first.
        raise locked(service, credentials.payment_service_id, raced, now)
    return account
