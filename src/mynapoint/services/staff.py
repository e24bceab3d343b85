"""Staff accounts: creation with a one-time password, throttled sign-in, sign-out.

Passwords are argon2id hashes (services/passwords.py); a sign-in is a random token in an
HttpOnly cookie of which only the SHA-256 is stored, as for citizens (services/auth.py).
A wrong name and a wrong password are refused alike and take as long, so the page never
tells whether an account exists; failures are throttled per name and address and per
address, and never lock an account, so nobody can lock a staff member out. Sign-ins and
password changes go into the audit log with the action, in one transaction.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime

from mynapoint.domain.staff import (
    STAFF_SESSION_LIFETIME,
    InvalidStaffInput,
    Role,
    SignInFailed,
    StaffAccount,
    StaffForbidden,
    StaffNameTaken,
    StaffSession,
    check_name,
    check_new_password,
    check_role_and_corner,
)
from mynapoint.services.audit import record
from mynapoint.services.auth import token_hash
from mynapoint.services.passwords import PasswordHasher
from mynapoint.services.ports import UnitOfWork
from mynapoint.services.throttling import SIGN_IN_ADDRESS, SIGN_IN_NAME, Throttle

# Who acts when the command line adds an account: whoever can run it administers the platform.
COMMAND_LINE_ACTOR = "command-line"
ONE_TIME_PASSWORD_BYTES = 12  # 16 characters of base64url


@dataclass(frozen=True)
class NewStaff:
    account: StaffAccount
    one_time_password: str  # shown once; only its hash is stored


@dataclass(frozen=True)
class SignedInStaff:
    account: StaffAccount
    session: StaffSession

    @property
    def name(self) -> str:
        return self.account.name


@dataclass(frozen=True)
class IssuedStaffSession:
    token: str  # for the cookie; only its hash is stored
    account: StaffAccount


def add_staff(
    uow: UnitOfWork,
    hasher: PasswordHasher,
    *,
    name: str,
    role: Role,
    corner: str | None,
    corners: Collection[str],
    now: datetime,
) -> NewStaff:
    check_name(name)
    check_role_and_corner(role, corner)
    if corner is not None and corner not in corners:
        raise InvalidStaffInput(
            f"support corner '{corner}' does not exist; one of: {', '.join(sorted(corners))}",
            field="corner",
        )
    password = secrets.token_urlsafe(ONE_TIME_PASSWORD_BYTES)
    account = StaffAccount(
        name=name,
        role=role,
        corner=corner,
        password_hash=hasher.hash(password),
        created_at=now,
        must_change_password=True,
    )
    with uow:
        if not uow.staff.add(account):
            raise StaffNameTaken(
                f"a staff account named '{name}' exists already; choose another name", name=name
            )
        record(
            uow,
            now=now,
            actor=COMMAND_LINE_ACTOR,
            role=Role.ADMIN.value,
            corner=corner,
            action="staff_added",
            details={"staff": name, "staff_role": role.value},
        )
        uow.commit()
    return NewStaff(account, password)


@dataclass(frozen=True)
class SignInAttempt:
    """A name and password typed at a terminal, and the address the terminal sends from."""

    name: str
    password: str = field(repr=False)
    client: str = "unknown"


def sign_in(
    uow: UnitOfWork,
    hasher: PasswordHasher,
    throttle: Throttle,
    attempt: SignInAttempt,
    now: datetime,
) -> IssuedStaffSession:
    """No account ever locks: failures are throttled per sign-in name and address, and per
    address (services/throttling.py), so a guesser slows down only the guesser's own terminal
    and cannot lock a staff member out (OWASP ASVS 2.2.1). A refused try is `RateLimited`
    before its password is even checked."""
    name = attempt.name.strip().lower()
    throttle.check(SIGN_IN_ADDRESS, attempt.client)
    throttle.check(SIGN_IN_NAME, name, attempt.client)
    with uow:
        account = uow.staff.get(name)
    # The hash is checked outside the transaction: it takes tens of milliseconds.
    if account is None:
        hasher.verify_decoy(attempt.password)
        correct = False
    else:
        correct = hasher.verify(account.password_hash, attempt.password)
    if account is None or not correct:
        _count_failure(throttle, name, attempt.client)
        raise SignInFailed("the sign-in name or password is wrong")
    token = secrets.token_urlsafe(32)
    with uow:
        uow.staff_sessions.add(
            StaffSession(
                token_hash=token_hash(token),
                staff=account.name,
                created_at=now,
                last_seen_at=now,
                expires_at=now + STAFF_SESSION_LIFETIME,
            )
        )
        _record(uow, account, now, "staff_signed_in", {})
        uow.commit()
    return IssuedStaffSession(token, account)


def _count_failure(throttle: Throttle, name: str, client: str) -> None:
    # Both are counted even when the first is used up by a concurrent try.
    try:
        throttle.hit(SIGN_IN_NAME, name, client)
    finally:
        throttle.hit(SIGN_IN_ADDRESS, client)


def signed_in(uow: UnitOfWork, token: str | None, now: datetime) -> SignedInStaff | None:
    """The staff member of a cookie's token, or None: unknown, ended, expired or idle."""
    if not token:
        return None
    hashed = token_hash(token)
    with uow:
        session = uow.staff_sessions.get(hashed)
        if session is None or not session.is_valid_at(now):
            return None
        account = uow.staff.get(session.staff)
        if account is None:
            return None
        uow.staff_sessions.touch(hashed, now)
        uow.commit()
    return SignedInStaff(account, session)


def sign_out(uow: UnitOfWork, me: SignedInStaff, now: datetime) -> None:
    with uow:
        uow.staff_sessions.end(me.session.token_hash, now)
        _record(uow, me.account, now, "staff_signed_out", {})
        uow.commit()


@dataclass(frozen=True)
class PasswordChange:
    current: str = field(repr=False)
    new: str = field(repr=False)
    client: str = "unknown"


def change_password(
    uow: UnitOfWork,
    hasher: PasswordHasher,
    throttle: Throttle,
    me: SignedInStaff,
    attempt: PasswordChange,
    now: datetime,
) -> None:
    """A wrong current password is counted as a failed sign-in of the name at that address."""
    throttle.check(SIGN_IN_ADDRESS, attempt.client)
    throttle.check(SIGN_IN_NAME, me.name, attempt.client)
    if not hasher.verify(me.account.password_hash, attempt.current):
        _count_failure(throttle, me.name, attempt.client)
        raise SignInFailed("the current password is wrong", field="current")
    check_new_password(me.name, attempt.current, attempt.new)
    new_hash = hasher.hash(attempt.new)
    with uow:
        uow.staff.set_password(me.name, new_hash, must_change=False, at=now)
        _record(uow, me.account, now, "staff_password_changed", {})
        uow.commit()


def visible_accounts(uow: UnitOfWork, me: SignedInStaff) -> list[StaffAccount]:
    if me.account.role is Role.STAFF:
        raise StaffForbidden("staff accounts are managed by a supervisor or an administrator")
    corner = None if me.account.role is Role.ADMIN else me.account.corner
    with uow:
        found = uow.staff.listed(corner)
    return [account for account in found if me.account.may_list(account)]


def _record(
    uow: UnitOfWork, account: StaffAccount, now: datetime, action: str, details: dict[str, str]
) -> None:
    record(
        uow,
        now=now,
        actor=account.name,
        role=account.role.value,
        corner=account.corner,
        action=action,
        details=details,
    )
