"""Staff accounts: creation with a one-time password, sign-in with lockout, sign-out, unlock.

Passwords are argon2id hashes (services/codes.py); a sign-in is a random token in an
HttpOnly cookie of which only the SHA-256 is stored, as for citizens (services/auth.py).
A wrong name, a wrong password and a locked account are refused alike and take as long,
so the page never tells whether an account exists. Sign-ins, lockouts, unlocks and password
changes go into the audit log with the action, in one transaction.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from mynapoint.domain.staff import (
    STAFF_SESSION_LIFETIME,
    InvalidStaffInput,
    Role,
    SignInFailed,
    StaffAccount,
    StaffForbidden,
    StaffNameTaken,
    StaffNotFound,
    StaffSession,
    check_name,
    check_new_password,
    check_role_and_corner,
)
from mynapoint.services.audit import record
from mynapoint.services.auth import token_hash
from mynapoint.services.codes import CodeHasher
from mynapoint.services.ports import UnitOfWork

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
    hasher: CodeHasher,
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


def sign_in(
    uow: UnitOfWork, hasher: CodeHasher, name: str, password: str, now: datetime
) -> IssuedStaffSession:
    refused = SignInFailed("the sign-in name or password is wrong, or the account is locked")
    with uow:
        account = uow.staff.get(name.strip().lower())
    # The hash is checked outside the transaction: it takes tens of milliseconds.
    if account is None or account.is_locked:
        hasher.verify_decoy(password)
        raise refused
    correct = hasher.verify(account.password_hash, password)
    with uow:
        counted = uow.staff.record_sign_in(account.name, correct=correct, at=now)
        if not correct:
            if counted.is_locked:
                _record(uow, counted, now, "staff_locked", {"staff": counted.name})
            uow.commit()
            raise refused
        if counted.is_locked:
            raise refused  # wrong passwords raced this right one and locked the account first
        token = secrets.token_urlsafe(32)
        uow.staff_sessions.add(
            StaffSession(
                token_hash=token_hash(token),
                staff=account.name,
                created_at=now,
                last_seen_at=now,
                expires_at=now + STAFF_SESSION_LIFETIME,
            )
        )
        _record(uow, counted, now, "staff_signed_in", {})
        uow.commit()
    return IssuedStaffSession(token, counted)


def signed_in(uow: UnitOfWork, token: str | None, now: datetime) -> SignedInStaff | None:
    """The staff member of a cookie's token, or None: unknown, ended, expired, idle or locked."""
    if not token:
        return None
    hashed = token_hash(token)
    with uow:
        session = uow.staff_sessions.get(hashed)
        if session is None or not session.is_valid_at(now):
            return None
        account = uow.staff.get(session.staff)
        if account is None or account.is_locked:
            return None
        uow.staff_sessions.touch(hashed, now)
        uow.commit()
    return SignedInStaff(account, session)


def sign_out(uow: UnitOfWork, me: SignedInStaff, now: datetime) -> None:
    with uow:
        uow.staff_sessions.end(me.session.token_hash, now)
        _record(uow, me.account, now, "staff_signed_out", {})
        uow.commit()


def change_password(
    uow: UnitOfWork,
    hasher: CodeHasher,
    me: SignedInStaff,
    current: str,
    new: str,
    now: datetime,
) -> None:
    """A wrong current password counts toward the lock, as at sign-in."""
    correct = hasher.verify(me.account.password_hash, current)
    if not correct:
        with uow:
            counted = uow.staff.record_sign_in(me.name, correct=False, at=now)
            if counted.is_locked:
                _record(uow, counted, now, "staff_locked", {"staff": counted.name})
            uow.commit()
        raise SignInFailed("the current password is wrong", field="current")
    check_new_password(me.name, current, new)
    new_hash = hasher.hash(new)
    with uow:
        uow.staff.set_password(me.name, new_hash, must_change=False, at=now)
        uow.staff.record_sign_in(me.name, correct=True, at=now)
        _record(uow, me.account, now, "staff_password_changed", {})
        uow.commit()


def visible_accounts(uow: UnitOfWork, me: SignedInStaff) -> list[StaffAccount]:
    if me.account.role is Role.STAFF:
        raise StaffForbidden("staff accounts are managed by a supervisor or an administrator")
    corner = None if me.account.role is Role.ADMIN else me.account.corner
    with uow:
        found = uow.staff.listed(corner)
    return [account for account in found if me.account.may_list(account)]


def unlock(uow: UnitOfWork, me: SignedInStaff | None, name: str, now: datetime) -> StaffAccount:
    """Unlock an account; `me` None is the command line, which may unlock any."""
    with uow:
        target = uow.staff.get(name)
        if target is None and me is None:
            raise StaffNotFound(f"there is no staff account '{name}'", staff=name)
        if target is None or (me is not None and not me.account.may_unlock(target)):
            # Someone else's corner is not this supervisor's to know of.
            raise StaffForbidden(f"you may not unlock the account '{name}'", staff=name)
        uow.staff.unlock(name, now)
        record(
            uow,
            now=now,
            actor=COMMAND_LINE_ACTOR if me is None else me.name,
            role=Role.ADMIN.value if me is None else me.account.role.value,
            corner=target.corner,
            action="staff_unlocked",
            details={"staff": name},
        )
        uow.commit()
    return target


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
