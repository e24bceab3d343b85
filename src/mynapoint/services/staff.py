"""Console accounts: creation with a one-time password, throttled sign-in, sign-out, and
their management by the accounts that have them in their care (disable, enable, reset).

Passwords are argon2id hashes (services/passwords.py); a sign-in is a random token in an
HttpOnly cookie of which only the SHA-256 is stored, as for citizens (services/auth.py).
A wrong name and a wrong password are refused alike and take as long, so the page never
tells whether an account exists; failures are throttled per name and address and per
address, and never lock an account, so nobody can lock a staff member out. Sign-ins and
password changes go into the audit log with the action, in one transaction.

Each role signs in at one area (domain/staff.py `Area`): an account tried at another area,
or a disabled one, is refused as a wrong password is, so no page tells that it exists.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime

from mynapoint.domain.services import Catalog
from mynapoint.domain.staff import (
    STAFF_SESSION_LIFETIME,
    Area,
    KnownScopes,
    Role,
    Scope,
    SignInFailed,
    StaffAccount,
    StaffForbidden,
    StaffNameTaken,
    StaffSession,
    check_name,
    check_new_password,
    check_scope,
    check_scope_exists,
)
from mynapoint.rules.corners import CornerDirectory
from mynapoint.services.audit import record
from mynapoint.services.auth import token_hash
from mynapoint.services.passwords import PasswordHasher
from mynapoint.services.ports import UnitOfWork
from mynapoint.services.throttling import SIGN_IN_ADDRESS, SIGN_IN_NAME, Throttle

# Who acts when the command line adds an account: whoever can run it administers the platform.
COMMAND_LINE_ACTOR = "command-line"
ONE_TIME_PASSWORD_BYTES = 12  # 16 characters of base64url
# Who sees an accounts page: those who manage accounts, and supervisors (their corner's).
MANAGES_OR_LISTS = frozenset(
    {Role.ADMIN, Role.SUPERVISOR, Role.CITY_ADMIN, Role.MINISTRY_ADMIN, Role.OPERATOR_ADMIN}
)


def known_scopes(directory: CornerDirectory, catalog: Catalog) -> KnownScopes:
    """The corners (with their cities) and payment operators accounts may belong to."""
    return KnownScopes(
        corner_cities={corner.code: corner.city for corner in directory.corners()},
        operators=frozenset(operator.code for operator in catalog.operators()),
    )


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
    scope: Scope,
    known: KnownScopes,
    now: datetime,
    by: StaffAccount | None = None,
) -> NewStaff:
    """A new account with a one-time password; `by` is the account creating it on a page
    (None: the command line, which administers the platform)."""
    check_name(name)
    check_scope(role, scope)
    check_scope_exists(scope, known)
    if by is not None and not by.may_create(role, scope, known):
        raise StaffForbidden(
            f"a {by.role.value} cannot create a {role.value} account there", role=role.value
        )
    password = secrets.token_urlsafe(ONE_TIME_PASSWORD_BYTES)
    account = StaffAccount(
        name=name,
        role=role,
        corner=scope.corner,
        password_hash=hasher.hash(password),
        created_at=now,
        must_change_password=True,
        city=scope.city,
        operator=scope.operator,
    )
    with uow:
        if not uow.staff.add(account):
            raise StaffNameTaken(
                f"an account named '{name}' exists already; choose another name", name=name
            )
        _record_by(uow, by, now, "staff_added", account)
        uow.commit()
    return NewStaff(account, password)


def _in_my_care(uow: UnitOfWork, me: SignedInStaff, name: str, known: KnownScopes) -> StaffAccount:
    """The account, if `me` may manage it; an unknown name is refused the same way, so that
    nobody learns of accounts outside their care."""
    account = uow.staff.get(name)
    if account is None or not me.account.may_manage(account, known):
        raise StaffForbidden(
            f"'{name[:64]}' is not an account you manage"
            + ("; nobody disables or resets themselves" if name == me.name else ""),
            name=name[:64],
        )
    return account


def set_disabled(
    uow: UnitOfWork,
    me: SignedInStaff,
    name: str,
    *,
    disabled: bool,
    known: KnownScopes,
    now: datetime,
) -> StaffAccount:
    """Disable an account (it cannot sign in and its sessions end) or enable it again."""
    with uow:
        account = _in_my_care(uow, me, name, known)
        uow.staff.set_disabled(name, disabled=disabled, at=now)
        if disabled:
            uow.staff_sessions.end_all(name, now)
        action = "staff_disabled" if disabled else "staff_enabled"
        _record_by(uow, me.account, now, action, account)
        uow.commit()
    return replace(account, disabled=disabled)


def reset_password(
    uow: UnitOfWork,
    hasher: PasswordHasher,
    me: SignedInStaff,
    name: str,
    *,
    known: KnownScopes,
    now: datetime,
) -> NewStaff:
    """A new one-time password for the account, to be changed at its next sign-in; the
    account's sessions end."""
    with uow:
        _in_my_care(uow, me, name, known)
    password = secrets.token_urlsafe(ONE_TIME_PASSWORD_BYTES)
    password_hash = hasher.hash(password)  # outside the transaction: it takes a while
    with uow:
        account = _in_my_care(uow, me, name, known)
        uow.staff.set_password(name, password_hash, must_change=True, at=now)
        uow.staff_sessions.end_all(name, now)
        _record_by(uow, me.account, now, "staff_password_reset", account)
        uow.commit()
    return NewStaff(
        replace(account, password_hash=password_hash, must_change_password=True), password
    )


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
    area: Area = Area.STAFF,
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
    if account is None or not correct or account.disabled or account.role.area is not area:
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


def signed_in(
    uow: UnitOfWork, token: str | None, now: datetime, area: Area = Area.STAFF
) -> SignedInStaff | None:
    """The account of a cookie's token at the area, or None: unknown, ended, expired, idle,
    disabled, or an account of another area."""
    if not token:
        return None
    hashed = token_hash(token)
    with uow:
        session = uow.staff_sessions.get(hashed)
        if session is None or not session.is_valid_at(now):
            return None
        account = uow.staff.get(session.staff)
        if account is None or account.disabled or account.role.area is not area:
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


def visible_accounts(uow: UnitOfWork, me: SignedInStaff, known: KnownScopes) -> list[StaffAccount]:
    """The accounts `me` manages (and a supervisor's corner's), by name; `me` among them."""
    if me.account.role not in MANAGES_OR_LISTS:
        raise StaffForbidden("accounts are managed by an administrator")
    with uow:
        found = uow.staff.listed(None)
    return [account for account in found if me.account.may_list(account, known)]


def _record_by(
    uow: UnitOfWork, by: StaffAccount | None, now: datetime, action: str, whom: StaffAccount
) -> None:
    """Who did it (the command line when nobody signed in), what, and to whom."""
    details = {"staff": whom.name, "staff_role": whom.role.value}
    for part, value in (("city", whom.city), ("operator", whom.operator)):
        if value is not None:
            details[f"staff_{part}"] = value
    record(
        uow,
        now=now,
        actor=COMMAND_LINE_ACTOR if by is None else by.name,
        role=Role.ADMIN.value if by is None else by.role.value,
        # The account's corner when it has one, so that its corner's log shows the change.
        corner=whom.corner or (None if by is None else by.corner),
        action=action,
        details=details,
    )


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
