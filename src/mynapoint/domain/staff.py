"""Support-corner staff (支援窓口): accounts, roles and what each role may see.

Roles (INTERFACES "Staff and administration"):

- staff: runs assisted sessions at their own corner and sees only their own open session;
- supervisor: also sees the corner's session log and audit entries, and lists the corner's
  staff accounts;
- admin: every corner; belongs to none, so runs no counter session.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from mynapoint.domain.errors import MynapointError

# A sign-in lasts a working day at most, and ends after half an hour without a page.
STAFF_SESSION_LIFETIME = timedelta(hours=8)
STAFF_IDLE_LIMIT = timedelta(minutes=30)
PASSWORD_MIN_LENGTH = 10
PASSWORD_MAX_LENGTH = 128
NAME_MAX_LENGTH = 64
_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
NAME_EXAMPLE = "chuo-tanaka"


class Role(StrEnum):
    STAFF = "staff"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


@dataclass(frozen=True)
class StaffAccount:
    """A sign-in name with its role; only the password's argon2id hash is kept."""

    name: str
    role: Role
    corner: str | None  # None for an administrator, who serves every corner
    password_hash: str
    created_at: datetime
    must_change_password: bool = True  # a one-time password is changed at first sign-in

    @property
    def runs_counter(self) -> bool:
        return self.role is not Role.ADMIN and self.corner is not None

    def oversees(self, corner: str) -> bool:
        """Whether this account may read the corner's session log and audit entries."""
        if self.role is Role.ADMIN:
            return True
        return self.role is Role.SUPERVISOR and self.corner == corner

    def may_list(self, other: StaffAccount) -> bool:
        if self.role is Role.ADMIN:
            return True
        return self.role is Role.SUPERVISOR and other.corner == self.corner


@dataclass(frozen=True)
class StaffSession:
    """A signed-in staff member's browser. Only the token's SHA-256 is stored."""

    token_hash: str
    staff: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    ended_at: datetime | None = None

    def is_valid_at(self, now: datetime) -> bool:
        return (
            self.ended_at is None
            and now < self.expires_at
            and now - self.last_seen_at < STAFF_IDLE_LIMIT
        )


class InvalidStaffInput(MynapointError):
    code = "invalid_request"


class StaffNameTaken(MynapointError):
    code = "staff_name_taken"


class SignInFailed(MynapointError):
    """A wrong name or a wrong password: deliberately the same to the reader."""

    code = "sign_in_failed"


class PasswordRejected(MynapointError):
    code = "password_rejected"

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message, reason=reason)
        self.reason = reason


class StaffForbidden(MynapointError):
    code = "forbidden"


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise InvalidStaffInput(
            f"staff name '{name[:NAME_MAX_LENGTH]}' is not 2-64 characters of a-z, 0-9, '.', "
            f"'_' and '-' starting with a letter or digit; e.g. {NAME_EXAMPLE}",
            field="name",
        )
    return name


def check_role_and_corner(role: Role, corner: str | None) -> None:
    if role is Role.ADMIN and corner is not None:
        raise InvalidStaffInput(
            "an administrator serves every corner; leave out the corner", field="corner"
        )
    if role is not Role.ADMIN and corner is None:
        raise InvalidStaffInput(
            f"a {role.value} belongs to one corner; give its code, e.g. chuo", field="corner"
        )


def check_new_password(name: str, current: str, new: str) -> None:
    """A new password: 10 to 128 characters, not the current one, not containing the name."""
    if len(new) < PASSWORD_MIN_LENGTH:
        raise PasswordRejected(
            "too_short",
            f"the new password has {len(new)} characters; use at least {PASSWORD_MIN_LENGTH}",
        )
    if len(new) > PASSWORD_MAX_LENGTH:
        raise PasswordRejected(
            "too_long", f"the new password is longer than {PASSWORD_MAX_LENGTH} characters"
        )
    if new == current:
        raise PasswordRejected("unchanged", "the new password is the current one; choose another")
    if name.lower() in new.lower():
        raise PasswordRejected("contains_name", "the new password contains the sign-in name")
