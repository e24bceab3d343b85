"""Console roles: the scope each role carries, whose accounts each manages, and the account
use cases (create, disable, enable, reset, sign in at an area) over the in-memory unit of
work."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from fakes import FakeDatabase, FakeUnitOfWork
from mynapoint.domain.calendar import JST
from mynapoint.domain.staff import (
    Area,
    InvalidStaffInput,
    KnownScopes,
    Role,
    Scope,
    SignInFailed,
    StaffAccount,
    StaffForbidden,
    StaffSession,
    check_scope,
    check_scope_exists,
)
from mynapoint.services.passwords import PasswordHasher
from mynapoint.services.staff import (
    SignedInStaff,
    SignInAttempt,
    add_staff,
    reset_password,
    set_disabled,
    sign_in,
    signed_in,
    visible_accounts,
)
from mynapoint.services.throttling import NullThrottle

NOW = datetime(2021, 7, 19, 10, 0, tzinfo=JST)
KNOWN = KnownScopes(
    {"chuo": "fukuoka", "hakata": "fukuoka", "kita": "kitakyushu"}, {"paypay", "rakuten"}
)
# Cheap argon2 parameters: these tests are about who, not about the hash.
HASHER = PasswordHasher(time_cost=1, memory_cost_kib=8, parallelism=1)


def account(name: str, role: Role, **scope: str) -> StaffAccount:
    return StaffAccount(
        name, role, scope.get("corner"), "", NOW, must_change_password=False,
        city=scope.get("city"), operator=scope.get("operator"),
    )  # fmt: skip


CHUO_STAFF = account("chuo-staff", Role.STAFF, corner="chuo")
CHUO_SUPERVISOR = account("chuo-boss", Role.SUPERVISOR, corner="chuo")
KITA_STAFF = account("kita-staff", Role.STAFF, corner="kita")
ADMIN = account("root", Role.ADMIN)
FUKUOKA = account("fukuoka-admin", Role.CITY_ADMIN, city="fukuoka")
KITAKYUSHU = account("kitakyushu-admin", Role.CITY_ADMIN, city="kitakyushu")
MINISTRY = account("mic-admin", Role.MINISTRY_ADMIN)
VIEWER = account("mic-viewer", Role.MINISTRY_VIEWER)
AUDITOR = account("mic-auditor", Role.AUDITOR)
PAYPAY = account("paypay-admin", Role.OPERATOR_ADMIN, operator="paypay")
PAYPAY_STAFF = account("paypay-staff", Role.OPERATOR_STAFF, operator="paypay")
RAKUTEN_STAFF = account("rakuten-staff", Role.OPERATOR_STAFF, operator="rakuten")
EVERYONE = (
    CHUO_STAFF, CHUO_SUPERVISOR, KITA_STAFF, ADMIN, FUKUOKA, KITAKYUSHU, MINISTRY, VIEWER,
    AUDITOR, PAYPAY, PAYPAY_STAFF, RAKUTEN_STAFF,
)  # fmt: skip
# Who manages whom; every pair not listed is refused.
MANAGED = {
    ADMIN: {CHUO_STAFF, CHUO_SUPERVISOR, KITA_STAFF},
    FUKUOKA: {CHUO_STAFF, CHUO_SUPERVISOR},
    KITAKYUSHU: {KITA_STAFF},
    MINISTRY: {FUKUOKA, KITAKYUSHU, VIEWER, AUDITOR},
    PAYPAY: {PAYPAY_STAFF},
}


@pytest.mark.parametrize("manager", EVERYONE, ids=lambda a: a.name)
@pytest.mark.parametrize("other", EVERYONE, ids=lambda a: a.name)
def test_each_role_manages_only_the_accounts_in_its_scope_and_never_itself(manager, other):
    assert manager.may_manage(other, KNOWN) is (other in MANAGED.get(manager, set()))


@pytest.mark.parametrize(
    ("role", "area"),
    [
        (Role.STAFF, Area.STAFF), (Role.SUPERVISOR, Area.STAFF), (Role.ADMIN, Area.STAFF),
        (Role.CITY_ADMIN, Area.STAFF), (Role.MINISTRY_ADMIN, Area.MINISTRY),
        (Role.MINISTRY_VIEWER, Area.MINISTRY), (Role.AUDITOR, Area.MINISTRY),
        (Role.OPERATOR_ADMIN, Area.OPERATOR), (Role.OPERATOR_STAFF, Area.OPERATOR),
    ],
)  # fmt: skip
def test_every_role_signs_in_at_one_area(role, area):
    assert role.area is area


@pytest.mark.parametrize(
    ("role", "scope", "says"),
    [
        (Role.CITY_ADMIN, Scope(), "a city_admin belongs to one city; give its code"),
        (Role.CITY_ADMIN, Scope(corner="chuo", city="fukuoka"), "belongs to no corner"),
        (Role.OPERATOR_ADMIN, Scope(), "belongs to one operator; give its code, e.g. paypay"),
        (Role.OPERATOR_STAFF, Scope(city="fukuoka", operator="paypay"), "belongs to no city"),
        (Role.MINISTRY_ADMIN, Scope(city="fukuoka"), "a ministry_admin belongs to no city"),
        (Role.AUDITOR, Scope(operator="paypay"), "an auditor belongs to no operator"),
        (Role.MINISTRY_VIEWER, Scope(corner="chuo"), "belongs to no corner"),
        (Role.STAFF, Scope(), "belongs to one corner"),
        (Role.ADMIN, Scope(corner="chuo"), "an administrator serves every corner"),
    ],
)
def test_each_role_carries_exactly_the_scope_it_needs(role, scope, says):
    with pytest.raises(InvalidStaffInput, match=says):
        check_scope(role, scope)


@pytest.mark.parametrize(
    ("role", "scope"),
    [
        (Role.CITY_ADMIN, Scope(city="fukuoka")),
        (Role.OPERATOR_STAFF, Scope(operator="paypay")),
        (Role.MINISTRY_ADMIN, Scope()),
        (Role.AUDITOR, Scope()),
        (Role.SUPERVISOR, Scope(corner="hakata")),
    ],
)
def test_a_role_with_its_scope_is_accepted(role, scope):
    check_scope(role, scope)
    check_scope_exists(scope, KNOWN)


@pytest.mark.parametrize(
    ("scope", "says"),
    [
        (Scope(city="osaka"), "city 'osaka' has no support corners; one of: fukuoka, kitakyushu"),
        (Scope(operator="nopay"), "payment operator 'nopay' is not in the service catalog"),
        (Scope(corner="nowhere"), "support corner 'nowhere' does not exist"),
    ],
)
def test_a_scope_that_does_not_exist_is_refused_with_the_known_ones(scope, says):
    with pytest.raises(InvalidStaffInput, match=says):
        check_scope_exists(scope, KNOWN)


def stored(*accounts: StaffAccount) -> FakeDatabase:
    database = FakeDatabase()
    uow = FakeUnitOfWork(database)
    with uow:
        for one in accounts:
            uow.staff.add(one)
        uow.commit()
    return database


def me(who: StaffAccount) -> SignedInStaff:
    session = StaffSession("t" * 64, who.name, NOW, NOW, NOW + timedelta(hours=8))
    return SignedInStaff(who, session)


def audit(database: FakeDatabase) -> list[tuple[str, str, dict[str, str]]]:
    uow = FakeUnitOfWork(database)
    with uow:
        return [(s.entry.actor, s.entry.action, s.entry.details) for s in uow.audit.entries()]


def test_a_city_administrator_creates_a_supervisor_in_its_city_and_the_log_says_who():
    database = stored(FUKUOKA)
    added = add_staff(
        FakeUnitOfWork(database), HASHER, name="hakata-boss", role=Role.SUPERVISOR,
        scope=Scope(corner="hakata"), known=KNOWN, now=NOW, by=FUKUOKA,
    )  # fmt: skip
    assert added.account.must_change_password
    assert HASHER.verify(added.account.password_hash, added.one_time_password)
    assert audit(database) == [
        ("fukuoka-admin", "staff_added", {"staff": "hakata-boss", "staff_role": "supervisor"})
    ]


@pytest.mark.parametrize(
    ("by", "role", "scope"),
    [
        (FUKUOKA, Role.STAFF, Scope(corner="kita")),  # another city's corner
        (FUKUOKA, Role.CITY_ADMIN, Scope(city="fukuoka")),
        (PAYPAY, Role.OPERATOR_STAFF, Scope(operator="rakuten")),
        (MINISTRY, Role.STAFF, Scope(corner="chuo")),
        (VIEWER, Role.MINISTRY_VIEWER, Scope()),
        (CHUO_SUPERVISOR, Role.STAFF, Scope(corner="chuo")),
        (ADMIN, Role.MINISTRY_ADMIN, Scope()),
    ],
)
def test_nobody_creates_an_account_outside_their_scope(by, role, scope):
    database = stored(by)
    with pytest.raises(StaffForbidden):
        add_staff(
            FakeUnitOfWork(database), HASHER, name="new-one", role=role, scope=scope,
            known=KNOWN, now=NOW, by=by,
        )  # fmt: skip
    assert audit(database) == []


def test_a_disabled_account_cannot_sign_in_and_its_sessions_end():
    database = stored(PAYPAY, PAYPAY_STAFF)
    password = reset_password(
        FakeUnitOfWork(database), HASHER, me(PAYPAY), "paypay-staff", known=KNOWN, now=NOW
    ).one_time_password
    attempt = SignInAttempt("paypay-staff", password)
    issued = sign_in(FakeUnitOfWork(database), HASHER, NullThrottle(), attempt, NOW, Area.OPERATOR)
    assert signed_in(FakeUnitOfWork(database), issued.token, NOW, Area.OPERATOR) is not None

    set_disabled(
        FakeUnitOfWork(database), me(PAYPAY), "paypay-staff", disabled=True, known=KNOWN, now=NOW
    )
    assert signed_in(FakeUnitOfWork(database), issued.token, NOW, Area.OPERATOR) is None
    with pytest.raises(SignInFailed):
        sign_in(FakeUnitOfWork(database), HASHER, NullThrottle(), attempt, NOW, Area.OPERATOR)

    set_disabled(
        FakeUnitOfWork(database), me(PAYPAY), "paypay-staff", disabled=False, known=KNOWN, now=NOW
    )
    assert sign_in(FakeUnitOfWork(database), HASHER, NullThrottle(), attempt, NOW, Area.OPERATOR)
    actions = [(actor, action) for actor, action, _ in audit(database)]
    assert actions == [
        ("paypay-admin", "staff_password_reset"),
        ("paypay-staff", "staff_signed_in"),
        ("paypay-admin", "staff_disabled"),
        ("paypay-admin", "staff_enabled"),
        ("paypay-staff", "staff_signed_in"),
    ]
    assert audit(database)[2][2] == {
        "staff": "paypay-staff", "staff_role": "operator_staff", "staff_operator": "paypay"
    }  # fmt: skip


@pytest.mark.parametrize("area", [Area.STAFF, Area.OPERATOR])
def test_an_account_signs_in_only_at_its_own_area_refused_as_a_wrong_password(area):
    database = stored(MINISTRY)
    password = add_staff(
        FakeUnitOfWork(database), HASHER, name="mic-new", role=Role.MINISTRY_VIEWER,
        scope=Scope(), known=KNOWN, now=NOW, by=MINISTRY,
    ).one_time_password  # fmt: skip
    attempt = SignInAttempt("mic-new", password)
    with pytest.raises(SignInFailed, match="the sign-in name or password is wrong"):
        sign_in(FakeUnitOfWork(database), HASHER, NullThrottle(), attempt, NOW, area)
    issued = sign_in(FakeUnitOfWork(database), HASHER, NullThrottle(), attempt, NOW, Area.MINISTRY)
    # The token of one area is nobody at another.
    assert signed_in(FakeUnitOfWork(database), issued.token, NOW, area) is None


@pytest.mark.parametrize("who", [MINISTRY, PAYPAY, FUKUOKA, ADMIN], ids=lambda a: a.name)
def test_nobody_disables_or_resets_themselves(who):
    database = stored(who)
    with pytest.raises(StaffForbidden, match="nobody disables or resets themselves"):
        set_disabled(
            FakeUnitOfWork(database), me(who), who.name, disabled=True, known=KNOWN, now=NOW
        )
    with pytest.raises(StaffForbidden):
        reset_password(FakeUnitOfWork(database), HASHER, me(who), who.name, known=KNOWN, now=NOW)
    assert audit(database) == []


def test_an_account_outside_the_scope_is_refused_like_an_unknown_name():
    database = stored(PAYPAY, RAKUTEN_STAFF)
    refusals = []
    for name in ("rakuten-staff", "nobody-here"):
        with pytest.raises(StaffForbidden) as refused:
            set_disabled(
                FakeUnitOfWork(database), me(PAYPAY), name, disabled=True, known=KNOWN, now=NOW
            )
        refusals.append(refused.value.message.replace(name, "NAME"))
    assert refusals[0] == refusals[1]
    uow = FakeUnitOfWork(database)
    with uow:
        still = uow.staff.get("rakuten-staff")
    assert still is not None
    assert not still.disabled


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        (MINISTRY, ["fukuoka-admin", "kitakyushu-admin", "mic-admin", "mic-auditor", "mic-viewer"]),
        (FUKUOKA, ["chuo-boss", "chuo-staff", "fukuoka-admin"]),
        (PAYPAY, ["paypay-admin", "paypay-staff"]),
        (CHUO_SUPERVISOR, ["chuo-boss", "chuo-staff"]),
        (
            ADMIN,
            ["chuo-boss", "chuo-staff", "fukuoka-admin", "kita-staff", "kitakyushu-admin", "root"],
        ),
    ],
)
def test_the_accounts_page_lists_the_accounts_in_the_readers_care(who, sees):
    database = stored(*EVERYONE)
    listed = visible_accounts(FakeUnitOfWork(database), me(who), KNOWN)
    assert [one.name for one in listed] == sees


@pytest.mark.parametrize("who", [CHUO_STAFF, VIEWER, AUDITOR, PAYPAY_STAFF], ids=lambda a: a.name)
def test_read_only_roles_have_no_accounts_page(who):
    with pytest.raises(StaffForbidden):
        visible_accounts(FakeUnitOfWork(stored(*EVERYONE)), me(who), KNOWN)
