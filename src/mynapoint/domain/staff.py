"""Console accounts: support-corner staff (支援窓口), city, ministry and payment-operator
accounts; their roles, the area each signs in at, and whose accounts each may manage.

Roles (INTERFACES "Staff and administration", "Console roles"):

- staff: runs assisted sessions at their own corner and sees only their own open session;
- supervisor: also sees the corner's session log and audit entries, and lists the corner's
  staff accounts;
- admin: every corner; belongs to none, so runs no counter session; manages corner accounts;
- city_admin: one city's corners: manages the staff and supervisors of its corners;
- ministry_admin: manages the ministry's accounts and the city administrators;
- ministry_viewer, auditor: read-only ministry accounts (the auditor: the audit log);
- policy_analyst: the ministry's policy staff: the policy lab only (replays of candidate rules);
- operator_admin: manages its own payment operator's accounts; operator_staff: one operator.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from mynapoint.domain.errors import MynapointError

# A sign-in lasts a working day at most, and ends after half an hour without a page.
STAFF_SESSION_LIFETIME = timedelta(hours=8)
STAFF_IDLE_LIMIT = timedelta(minutes=30)
PASSWORD_MIN_LENGTH = 10
PASSWORD_MAX_LENGTH = 128
NAME_MAX_LENGTH = 64
_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
NAME_EXAMPLE = "chuo-tanaka"


class Area(StrEnum):
    """A console with its own sign-in page, cookie and sessions: /staff, /ministry, /operator."""

    STAFF = "staff"
    MINISTRY = "ministry"
    OPERATOR = "operator"


class Role(StrEnum):
    STAFF = "staff"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    CITY_ADMIN = "city_admin"
    MINISTRY_ADMIN = "ministry_admin"
    MINISTRY_VIEWER = "ministry_viewer"
    AUDITOR = "auditor"
    POLICY_ANALYST = "policy_analyst"
    OPERATOR_ADMIN = "operator_admin"
    OPERATOR_STAFF = "operator_staff"

    @property
    def area(self) -> Area:
        return _AREA_OF[self]


_AREA_OF: Final = {
    Role.STAFF: Area.STAFF,
    Role.SUPERVISOR: Area.STAFF,
    Role.ADMIN: Area.STAFF,
    Role.CITY_ADMIN: Area.STAFF,
    Role.MINISTRY_ADMIN: Area.MINISTRY,
    Role.MINISTRY_VIEWER: Area.MINISTRY,
    Role.AUDITOR: Area.MINISTRY,
    Role.POLICY_ANALYST: Area.MINISTRY,
    Role.OPERATOR_ADMIN: Area.OPERATOR,
    Role.OPERATOR_STAFF: Area.OPERATOR,
}
CORNER_ROLES: Final = frozenset({Role.STAFF, Role.SUPERVISOR})
OPERATOR_ROLES: Final = frozenset({Role.OPERATOR_ADMIN, Role.OPERATOR_STAFF})
# Whose accounts each role creates, disables, enables and resets (within its own scope).
MANAGES: Final[Mapping[Role, frozenset[Role]]] = {
    Role.ADMIN: frozenset({Role.STAFF, Role.SUPERVISOR, Role.ADMIN}),
    Role.CITY_ADMIN: frozenset({Role.STAFF, Role.SUPERVISOR}),
    Role.MINISTRY_ADMIN: frozenset(
        {
            Role.MINISTRY_ADMIN,
            Role.MINISTRY_VIEWER,
            Role.AUDITOR,
            Role.POLICY_ANALYST,
            Role.CITY_ADMIN,
        }
    ),
    Role.OPERATOR_ADMIN: OPERATOR_ROLES,
}


@dataclass(frozen=True)
class KnownScopes:
    """What accounts may belong to: each corner's city (the corners directory) and the
    payment operators of the service catalog."""

    corner_cities: Mapping[str, str]
    operators: Collection[str]

    @property
    def cities(self) -> frozenset[str]:
        return frozenset(self.corner_cities.values())

    def city_of(self, corner: str | None) -> str | None:
        return None if corner is None else self.corner_cities.get(corner)


@dataclass(frozen=True)
class Scope:
    """Where an account belongs: a corner, a city, a payment operator, or nowhere."""

    corner: str | None = None
    city: str | None = None
    operator: str | None = None


@dataclass(frozen=True)
class StaffAccount:
    """A sign-in name with its role; only the password's argon2id hash is kept."""

    name: str
    role: Role
    corner: str | None  # a staff member's or supervisor's corner; None for every other role
    password_hash: str
    created_at: datetime
    must_change_password: bool = True  # a one-time password is changed at first sign-in
    city: str | None = None  # a city administrator's city
    operator: str | None = None  # an operator account's payment operator code
    disabled: bool = False  # a disabled account cannot sign in

    @property
    def runs_counter(self) -> bool:
        return self.role in CORNER_ROLES and self.corner is not None

    def manages_role(self, role: Role) -> bool:
        return role in MANAGES.get(self.role, frozenset())

    @property
    def scope(self) -> Scope:
        return Scope(corner=self.corner, city=self.city, operator=self.operator)

    def may_manage(self, other: StaffAccount, known: KnownScopes) -> bool:
        """Whether this account may disable, enable or reset the other (never itself)."""
        return other.name != self.name and self.may_create(other.role, other.scope, known)

    def may_create(self, role: Role, scope: Scope, known: KnownScopes) -> bool:
        """Whether this account may hold an account of the role in that scope in its care."""
        if not self.manages_role(role):
            return False
        if self.role is Role.CITY_ADMIN:
            return self.city is not None and known.city_of(scope.corner) == self.city
        if self.role is Role.OPERATOR_ADMIN:
            return self.operator is not None and scope.operator == self.operator
        return True

    def oversees(self, corner: str) -> bool:
        """Whether this account may read the corner's session log and audit entries."""
        if self.role is Role.ADMIN:
            return True
        return self.role is Role.SUPERVISOR and self.corner == corner

    def may_list(self, other: StaffAccount, known: KnownScopes) -> bool:
        if other.name == self.name or self.may_manage(other, known):
            return True
        if self.role is Role.ADMIN:
            return other.role.area is Area.STAFF
        return (
            self.role is Role.SUPERVISOR
            and other.corner == self.corner
            and other.role in CORNER_ROLES
        )


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
    check_scope(role, Scope(corner=corner))


def check_scope(role: Role, scope: Scope) -> None:
    """Each role carries exactly the scope it needs: a corner, a city, an operator or none."""
    needs = {
        "corner": role in CORNER_ROLES,
        "city": role is Role.CITY_ADMIN,
        "operator": role in OPERATOR_ROLES,
    }
    examples = {"corner": "chuo", "city": "fukuoka", "operator": "paypay"}
    given = {"corner": scope.corner, "city": scope.city, "operator": scope.operator}
    for part, needed in needs.items():
        if needed and given[part] is None:
            raise InvalidStaffInput(
                f"{_article(role)} {role.value} belongs to one {part}; "
                f"give its code, e.g. {examples[part]}",
                field=part,
            )
        if not needed and given[part] is not None:
            whom = (
                "an administrator serves every corner"
                if role is Role.ADMIN
                else f"{_article(role)} {role.value} belongs to no {part}"
            )
            raise InvalidStaffInput(f"{whom}; leave out the {part}", field=part)


def _article(role: Role) -> str:
    return "an" if role.value[0] in "aeiou" else "a"


def check_scope_exists(scope: Scope, known: KnownScopes) -> None:
    if scope.corner is not None and scope.corner not in known.corner_cities:
        raise InvalidStaffInput(
            f"support corner '{scope.corner}' does not exist; "
            f"one of: {', '.join(sorted(known.corner_cities))}",
            field="corner",
        )
    if scope.city is not None and scope.city not in known.cities:
        raise InvalidStaffInput(
            f"city '{scope.city}' has no support corners; "
            f"one of: {', '.join(sorted(known.cities))}",
            field="city",
        )
    if scope.operator is not None and scope.operator not in known.operators:
        raise InvalidStaffInput(
            f"payment operator '{scope.operator}' is not in the service catalog; "
            f"one of: {', '.join(sorted(known.operators))}",
            field="operator",
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
